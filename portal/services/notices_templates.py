"""Notice templates (通知模板, SPEC §11): edited by an administrator in 系统配置 like the other rule
tables (validated as a whole, one audit event with each changed row before and after, a save made on an
older version refused), and filled in with a case's customer-facing data — including the decision
letter (决定告知书, 002 art.13.10), which the negotiator prints or the decision e-mail carries."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import notices as rules_of
from portal.domain.errors import DomainError, NotFound, PermissionDenied
from portal.domain.notices import NoticeKind, TemplateChannel
from portal.domain.recusal import check_not_named
from portal.domain.regulatory import REMEDIES, Decision
from portal.domain.roles import Role
from portal.i18n import translate
from portal.persistence.database import UnitOfWork
from portal.persistence.models import CaseClock, Complaint, NoticeTemplate
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import jsonable, record_event
from portal.services.configuration import ConfigurationRefused, latest_change, refuse_if_saved_since

TABLE = "notice_templates"              # its name in the change log (config.save events)
COLUMNS = ("kind", "channel", *rules_of.ROW_FIELDS)
CLOSURE_CLOCK = "closure"               # the 13-day closure clock: its due date is the expected completion
CUSTOMER_LANG = "zh"                    # notices speak the customer's language


def _key(kind: str, channel: str) -> str:
    return f"{kind}.{channel}"


def _require_admin(actor: Actor) -> None:
    if not actor.has(Role.ADMIN):
        raise PermissionDenied("auth.missing_role")


def template_rows(session: Session) -> dict[tuple[str, str], NoticeTemplate]:
    return {(row.kind, row.channel): row for row in session.scalars(select(NoticeTemplate))}


def _as_dicts(session: Session) -> list[dict]:
    rows = template_rows(session)
    return [{c: getattr(rows[slot], c) for c in COLUMNS} for slot in rules_of.SLOTS if slot in rows]


def load_templates(uow: UnitOfWork, *, actor: Actor) -> list[dict]:
    """Every template row in the editor's order (kind by kind: e-mail, SMS; the letter; the sign-off)."""
    _require_admin(actor)
    with uow.read() as session:
        return _as_dicts(session)


def templates_version(uow: UnitOfWork, *, actor: Actor) -> int:
    """The version an editor opens on (the last save's audit event; 0 as seeded)."""
    _require_admin(actor)
    with uow.read() as session:
        return latest_change(session, ("config.save",), comment=TABLE)


def _clean(row: dict) -> dict:
    out = {}
    for column in COLUMNS:
        value = row.get(column)
        value = "" if value is None or (isinstance(value, float) and value != value) else value
        if isinstance(value, str):
            value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        out[column] = value
    if out["channel"] in (TemplateChannel.SMS, TemplateChannel.TEXT):
        out["subject"] = ""
    if out["channel"] == TemplateChannel.SMS:      # the mapping as stored: one spelling
        out["gateway_params"] = "; ".join(f"{n}={v}" for n, v in rules_of.parse_gateway_params(out["gateway_params"]))
    return out


def save_templates(uow: UnitOfWork, *, actor: Actor, rows: list[dict], now: datetime,
                   basis: int | None = None) -> int:
    """Validate every template (unknown placeholders, the letter's art. 19 parts, the SMS parameters…),
    then write what changed: one transaction, one audit event. Returns how many rows changed. `basis`:
    the version the editor opened on; refused (ConfigurationStale) if the templates were saved since."""
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.ADMIN)
        session.execute(select(NoticeTemplate).with_for_update(of=NoticeTemplate)).all()   # saves take turns
        refuse_if_saved_since(session, basis, latest_change(session, ("config.save",), comment=TABLE))
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DomainError("form.bad_value")
        refusals = rules_of.validate_templates(rows)
        if refusals:
            raise ConfigurationRefused(refusals)
        stored = template_rows(session)
        before, after = {}, {}
        for row in map(_clean, rows):
            target = stored[(row["kind"], row["channel"])]
            old = {c: getattr(target, c) for c in rules_of.ROW_FIELDS}
            new = {c: row[c] for c in rules_of.ROW_FIELDS}
            if old == new:
                continue
            for column, value in new.items():
                setattr(target, column, value)
            key = _key(row["kind"], row["channel"])
            before[key], after[key] = old, new
        if not after:
            return 0
        record_event(session, actor=user, at=now, action="config.save", comment=TABLE,
                     changes={"table": TABLE, "before": jsonable(before), "after": jsonable(after)})
        return len(after)


# -- the customer-facing values of a case --

def _remedies(codes: list[str]) -> str:
    """The remedies open to the customer (art. 19), one numbered line each, in their words."""
    chosen = [c for c in REMEDIES if c in codes]
    return "\n".join(f"{n}. {translate(f'notices.remedy.{code}', CUSTOMER_LANG)}"
                     for n, code in enumerate(chosen, start=1))


def _stage(state: str) -> str:
    stage = "received" if state == "registered" else "closed" if state in ("closed", "archived") else "handling"
    return translate(f"notices.stage.{stage}", CUSTOMER_LANG)


def _expected_completion(session: Session, complaint: Complaint) -> date | None:
    """The due date of the case's running closure clock (an end-of-day deadline is stored as the next
    midnight: the day before it)."""
    due = session.scalar(select(CaseClock.due_at).where(CaseClock.complaint_id == complaint.id,
                                                        CaseClock.clock_key == CLOSURE_CLOCK))
    return (due - timedelta(microseconds=1)).date() if due is not None else None


def _shown(value: object) -> str:
    if isinstance(value, (datetime, date)):
        return rules_of.customer_date(value)
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, (list, tuple)):
        return _remedies([str(v) for v in value])
    return "" if value is None else str(value)


def notice_values(session: Session, complaint: Complaint, kind: NoticeKind | str, *, now: datetime,
                  extra: Mapping[str, object] | None = None, decision: Decision | None = None) -> dict[str, str]:
    """What the placeholders of a `kind` notice stand for on this case: only customer-facing data (the
    placeholders themselves are the whitelist, `domain.notices`). `extra` gives values the caller knows
    (e.g. `expected_completion_date`); `decision`, a decision being written and not yet saved."""
    kind = NoticeKind(kind)
    templates = template_rows(session)
    signature = templates.get((rules_of.SIGNATURE, TemplateChannel.TEXT.value))
    values: dict[str, str] = {
        "case_reference": rules_of.case_reference(complaint.number, complaint.id),
        "customer_name": complaint.customer_name,
        "received_date": rules_of.customer_date(complaint.received_at),
        "company_contact": signature.body if signature is not None else "",
    }
    if kind in (NoticeKind.PROGRESS, NoticeKind.EXPECTED_COMPLETION):
        values["case_stage"] = _stage(complaint.state)
        expected = _expected_completion(session, complaint)
        if expected is not None:
            values["expected_completion_date"] = rules_of.customer_date(expected)
    if kind in (NoticeKind.CLOSURE, NoticeKind.FOLLOW_UP_INVITATION):
        values["closed_date"] = rules_of.customer_date(complaint.closed_at or now)
    if kind == NoticeKind.DECISION:
        if decision is not None:
            checked, basis, remedies = decision.checked, decision.basis, list(decision.remedies)
        else:
            checked, basis = complaint.decision_checked, complaint.decision_basis
            remedies = [c for c in (complaint.decision_remedies or "").split(",") if c]
        values.update(approved_instructions=complaint.approval_instructions or "", decision_checked=checked or "",
                      decision_basis=basis or "", decision_remedies=_remedies(remedies))
    allowed = set(rules_of.PLACEHOLDERS) - {"letter_text", "company_contact"}
    for name, value in (extra or {}).items():
        if name not in allowed:
            raise ValueError(f"not a notice placeholder: {name}")
        values[name] = _shown(value)
    if kind == NoticeKind.DECISION:
        letter = templates.get((NoticeKind.DECISION.value, TemplateChannel.LETTER.value))
        values["letter_text"] = _filled(letter.subject, values) + "\n\n" + _filled(letter.body, values) \
            if letter is not None else ""
    return values


def _filled(text: str, values: Mapping[str, str]) -> str:
    try:
        return rules_of.render(text, values)
    except rules_of.MissingValue as missing:
        raise DomainError("notices.missing_value", name=missing.args[0]) from missing
    except rules_of.TemplateSyntax as wrong:
        raise DomainError("notices.bad_braces") from wrong


def fill(template: NoticeTemplate, values: Mapping[str, str]) -> tuple[str, str, dict[str, str]]:
    """A template filled in: (subject, body, SMS parameters)."""
    params = {name: _filled(value, values) for name, value in rules_of.parse_gateway_params(template.gateway_params)}
    return _filled(template.subject, values), _filled(template.body, values), params


# -- the decision letter --

LETTER_ROLES = (Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE)


def decision_letter(uow: UnitOfWork, *, actor: Actor, complaint_id: int, now: datetime,
                    decision: Decision | None = None) -> str:
    """The decision letter of a case as printable HTML (002 art.13.10: the customer gets a letter or a
    call, never a copy of the 客户抱怨处理表): the letter template filled with the customer-facing data
    only. `decision`: what the negotiator is writing now (else the decision as recorded). Refused before
    the approver's decision exists, and while what art. 19 requires is missing."""
    from portal.printing.decision_letter import decision_letter_html
    if not actor.has(*LETTER_ROLES):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        fresh_actor(session, actor, *LETTER_ROLES)
        complaint = session.get(Complaint, complaint_id)
        if complaint is None:
            raise NotFound("case.not_found")
        check_not_named(actor.id, [link.user_id for link in complaint.staff_links])
        if complaint.approved_by_id is None and not complaint.approval_instructions:
            raise DomainError("notices.letter_no_decision")
        values = notice_values(session, complaint, NoticeKind.DECISION, now=now, decision=decision)
        if not all(values[part].strip() for part in rules_of.ART19_PARTS):
            raise DomainError("notices.letter_incomplete")
        from portal.services.privacy import case_masker     # as the masking table shows the case to its reader
        values = case_masker(session, actor, [complaint_id])(complaint_id, values)
        letter = template_rows(session)[(NoticeKind.DECISION.value, TemplateChannel.LETTER.value)]
        return decision_letter_html(title=_filled(letter.subject, values), body=_filled(letter.body, values),
                                    reference=values["case_reference"], dated=now)
