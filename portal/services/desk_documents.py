"""A request as its page shows it, and the desk's printable papers (002 ch.2): the 不予受理通知书 of a refused
report, the 理赔申请书 of a report in hand or an application, the 批改申请单 of an endorsement. Each checks the
reader may see the request, loads it with its policy from the register and masks personal data as the
masking table shows it to the reader (as the request page does); the layout is `printing.desk_forms`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.aftersales import BASIC_KIND, CheckFailure, RequestKind, RequestState
from portal.domain.errors import DomainError, NotFound, PermissionDenied
from portal.domain.notices import SIGNATURE
from portal.domain.privacy import MASKS, PersonalField
from portal.i18n import translate
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (DeskChoice, DeskMaterial, Policy, PolicyPerson, PolicyRisk, Product, RequestEvent,
                                       ServiceRequest)
from portal.printing import desk_forms
from portal.printing.desk_forms import Person, PolicyFacts, Reason
from portal.services import aftersales_queries, rules
from portal.services.actors import Actor
from portal.services.aftersales import checklists, terms_of
from portal.services.aftersales_queries import RequestView, mask_row, may_read

REFUSAL, APPLICATION_FORM, ENDORSEMENT_FORM = "refusal_notice", "claim_application_form", "endorsement_form"
PERSON_FIELDS = {"name": PersonalField.NAME, "id_number": PersonalField.ID_NUMBER, "phone": PersonalField.PHONE}


@dataclass
class RequestRecord:
    """One request for its page: the service's view (masked), the words of the desk's lists, its policy in
    the register and the reasons its check failed with the dates they name."""

    view: RequestView
    names: dict[str, dict[str, str]]
    policy: PolicyFacts | None
    reasons: list[Reason]
    threshold: str

    def sections(self, lang: str) -> list[desk_forms.Section]:
        return desk_forms.request_sections(self.view.request, lang=lang, names=self.names, policy=self.policy,
                                           reasons=self.reasons, required=self.view.required,
                                           missing=self.view.missing, report_number=self.view.report_number,
                                           threshold=self.threshold)


def documents_of(request: dict) -> list[str]:
    """The papers a request has: a refused report its refusal notice; a report in hand or an application
    the claim application form; an endorsement its 批改申请单."""
    kind, state = request["kind"], request["state"]
    if kind == RequestKind.CLAIM_REPORT:
        return [REFUSAL] if state == RequestState.REFUSED else [APPLICATION_FORM] if state == RequestState.REPORTED \
            else []
    if kind == RequestKind.CLAIM_APPLICATION:
        return [APPLICATION_FORM]
    return [ENDORSEMENT_FORM] if kind == RequestKind.ENDORSEMENT else []


def find_request_id(uow: UnitOfWork, *, actor: Actor, number: str, now: datetime) -> int | None:
    """The request with this number (as the register finds it for the reader), or None."""
    found = aftersales_queries.request_register(uow, actor=actor, now=now, page_size=1,
                                                filters=aftersales_queries.RequestFilter(text=number.strip()))
    numbers = dict(zip(found.frame["number"], found.frame["id"]))
    return int(numbers[number.strip().upper()]) if number.strip().upper() in numbers else None


def _names(session: Session, lang: str) -> dict[str, dict[str, str]]:
    pick = (lambda row: row.name_en) if lang == "en" else (lambda row: row.name_zh)
    out: dict[str, dict[str, str]] = {}
    for row in session.scalars(select(DeskChoice)):
        out.setdefault(row.list_key, {})[row.code] = pick(row)
    out["material"] = {row.code: pick(row) for row in session.scalars(select(DeskMaterial))}
    return out


def list_names(uow: UnitOfWork, *, lang: str = "zh") -> dict[str, dict[str, str]]:
    """The words of the desk's lists (risk, channel, claim_kind, surrender_reason, relation) and of the
    materials (`material`), code → name in `lang`."""
    with uow.read() as session:
        return _names(session, lang)


def _facts(session: Session, policy: Policy, shown: frozenset[PersonalField], names: dict[str, dict[str, str]]
           ) -> PolicyFacts:
    def masked(value: str, field: PersonalField) -> str:
        return value if field in shown or not value else MASKS[field](value)

    people: dict[str, list[Person]] = {"policyholder": [], "insured": [], "beneficiary": []}
    for person in session.scalars(select(PolicyPerson).where(PolicyPerson.policy_id == policy.id)
                                  .order_by(PolicyPerson.id)):
        people.setdefault(person.role, []).append(Person(*(masked(getattr(person, k), f)
                                                           for k, f in PERSON_FIELDS.items())))
    product = session.get(Product, policy.product_id)
    covered = session.scalars(select(PolicyRisk.risk_code).where(PolicyRisk.policy_id == policy.id)
                              .order_by(PolicyRisk.risk_code)).all()
    return PolicyFacts(masked(policy.policy_number, PersonalField.POLICY_NUMBER), policy.insurer,
                       product.name if product else "", policy.start_date, policy.end_date, policy.sum_insured,
                       [names.get("risk", {}).get(c, c) for c in covered], people["policyholder"],
                       people["insured"], people["beneficiary"])


def _reasons(session: Session, request: ServiceRequest, policy: Policy | None) -> list[Reason]:
    """The failed checks with the dates their words name, as the check was made at registration (kept in
    its history); from the register as it is now only for a report registered before they were kept."""
    made = session.scalar(select(RequestEvent.changes).where(RequestEvent.request_id == request.id,
                                                             RequestEvent.action == "desk.register")
                          .order_by(RequestEvent.id).limit(1)) or {}
    terms = terms_of(session, policy) if policy is not None else None
    period = (tuple(date.fromisoformat(d) for d in made["period"]) if made.get("period")
              else (terms.start, terms.end) if terms is not None and "period" not in made else None)
    if made.get("last_claim_day"):
        last = date.fromisoformat(made["last_claim_day"])
    else:
        last = (terms.limit.last_day(request.event_at.date()) if "last_claim_day" not in made and terms is not None
                and terms.limit is not None and request.event_at is not None else None)
    out = []
    for code in request.check_failures or []:
        if code == CheckFailure.OUTSIDE_PERIOD and period is not None:
            out.append(Reason(code, start=period[0], end=period[1]))
        elif code == CheckFailure.TIME_LIMIT:
            out.append(Reason(code, last=last))
        else:
            out.append(Reason(code))
    return out


def request_record(uow: UnitOfWork, *, actor: Actor, request_id: int, now: datetime, lang: str = "zh"
                   ) -> RequestRecord:
    view = aftersales_queries.request_detail(uow, actor=actor, request_id=request_id, now=now, lang=lang)
    with uow.read() as session:
        request = session.get(ServiceRequest, request_id)
        names = _names(session, lang)
        policy = session.get(Policy, request.policy_id) if request.policy_id else None
        shown = aftersales_queries._shown(session, actor)
        facts = _facts(session, policy, shown, names) if policy is not None else None
        return RequestRecord(view, names, facts, _reasons(session, request, policy),
                             rules.settings(session).get("desk.major_threshold", ""))


def _load(session: Session, actor: Actor, request_id: int) -> tuple[dict, ServiceRequest]:
    if not may_read(actor):
        raise PermissionDenied("auth.missing_role")
    request = session.get(ServiceRequest, request_id)
    if request is None:
        raise NotFound("desk.not_found")
    row = {c.key: getattr(request, c.key) for c in ServiceRequest.__table__.columns}
    return mask_row(row, aftersales_queries._shown(session, actor)), request


def refusal_notice(uow: UnitOfWork, *, actor: Actor, request_id: int, now: datetime, lang: str = "zh") -> str:
    """不予受理通知书 of a refused report (4.(二)4), dated the day it was refused."""
    with uow.read() as session:
        values, request = _load(session, actor, request_id)
        if request.kind != RequestKind.CLAIM_REPORT or request.state != RequestState.REFUSED:
            raise DomainError("deskdoc.only_refused")
        policy = session.get(Policy, request.policy_id) if request.policy_id else None
        names = _names(session, lang)
        shown = aftersales_queries._shown(session, actor)
        sign = _signature(session)
        return desk_forms.refusal_notice_html(
            request=values, policy=_facts(session, policy, shown, names) if policy else None,
            reasons=_reasons(session, request, policy), names=names, signature=sign,
            dated=request.refused_at or now, lang=lang)


def _signature(session: Session) -> str:
    from portal.services.notices_templates import template_rows
    row = template_rows(session).get((SIGNATURE, "text"))
    return row.body if row is not None else ""


def claim_application_form(uow: UnitOfWork, *, actor: Actor, request_id: int, now: datetime,
                           lang: str = "zh") -> str:
    """理赔申请书 (4.(四)1) prefilled: for an application, its materials ticked as received; for a report in
    hand, the whole checklist by kind of claim to tick when the materials come."""
    with uow.read() as session:
        values, request = _load(session, actor, request_id)
        application = request.kind == RequestKind.CLAIM_APPLICATION
        if not application and not (request.kind == RequestKind.CLAIM_REPORT
                                    and request.state == RequestState.REPORTED):
            raise DomainError("deskdoc.only_in_hand")
        shown = aftersales_queries._shown(session, actor)
        names = _names(session, lang)
        kinds = names.get("claim_kind", {})
        lists = checklists(session)
        if application:
            wanted = [BASIC_KIND, *[k for k in lists if k != BASIC_KIND and k in (request.claim_kinds or [])]]
        else:
            wanted = list(lists)
        received = set(request.materials_received or []) if application else set()
        checklist, seen = [], set()
        for kind in wanted:
            for code in lists.get(kind, []):
                if code not in seen:
                    seen.add(code)
                    checklist.append((translate("deskdoc.kind.basic", lang) if kind == BASIC_KIND
                                      else kinds.get(kind, kind), names["material"].get(code, code), code in received))
        event = values if not application else None
        report = session.get(ServiceRequest, request.report_id) if application and request.report_id else None
        if report is not None:
            event = mask_row({c.key: getattr(report, c.key) for c in ServiceRequest.__table__.columns}, shown)
        policy = session.get(Policy, request.policy_id) if request.policy_id else None
        return desk_forms.claim_application_html(
            request=values, event=event, policy=_facts(session, policy, shown, names) if policy else None,
            checklist=checklist, names=names, printed_at=now, lang=lang)


def endorsement_form(uow: UnitOfWork, *, actor: Actor, request_id: int, now: datetime, lang: str = "zh") -> str:
    """批改申请单 (art.6) prefilled from the register and the request."""
    with uow.read() as session:
        values, request = _load(session, actor, request_id)
        if request.kind != RequestKind.ENDORSEMENT:
            raise DomainError("deskdoc.only_endorsement")
        policy = session.get(Policy, request.policy_id) if request.policy_id else None
        facts = _facts(session, policy, aftersales_queries._shown(session, actor), _names(session, lang)) \
            if policy else None
        return desk_forms.endorsement_form_html(request=values, policy=facts, printed_at=now, lang=lang)


BUILDERS = {REFUSAL: refusal_notice, APPLICATION_FORM: claim_application_form, ENDORSEMENT_FORM: endorsement_form}
