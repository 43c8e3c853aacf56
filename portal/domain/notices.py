"""Notices to the customer (通知, SPEC §11): which notices there are, which the customer may decline,
what a template may say, how it is filled in, when an SMS may go out, and what becomes of a notice
whose sending failed or was interrupted.

The seeds require telling the customer at acknowledgement (000 §6, within 24 h), with progress and the
expected completion date (000 §6, 001), with the decision (002 art.13.4/13.10: by letter or phone, never
a copy of the internal 客户抱怨处理表), at closure and for the follow-up. A template may use only the
placeholders listed for its kind and channel: the customer's own data, dates, the case reference and
the decision told to the customer (what was checked, the basis and reasons, the remedies — CBIRC 2020
No.3 art.19 — and the approved instructions). Internal opinions (the consolidated opinion, department
reports, responsibility, penalties, the clerk's note) have no placeholder at all.

The after-sales desk (issue 17) has one notice of its own: a claim application found incomplete is not
accepted, and the applicant is told exactly which materials are missing (002 ch.2 4.(四)).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Mapping

from portal.domain.configuration import TABLE, Refusal
from portal.domain.contacts import ContactStep
from portal.domain.errors import Message


class NoticeKind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"            # 受理告知: within 24 h of receipt (000 §6)
    PROGRESS = "progress"                          # 进展告知 (001 处理/反馈)
    EXPECTED_COMPLETION = "expected_completion"    # 预计完成时间告知: before a limit slips (000 §6)
    DECISION = "decision"                          # 处理决定告知 (002 art.13.4, 13.10; art.19)
    CLOSURE = "closure"                            # 结案告知: after the final 核决
    FOLLOW_UP_INVITATION = "follow_up_invitation"  # 回访邀请
    MATERIALS_MISSING = "materials_missing"        # 补齐理赔材料通知: a claim application is incomplete (002 4.(四))
    WARNING = "warning"                            # 投诉预警: a breached early warning, to staff (004 ch.9)


class NoticeState(StrEnum):
    QUEUED = "queued"              # 待发送: waits for its next attempt
    SENDING = "sending"            # 发送中: claimed by a sender, which talks to the server now
    SENT = "sent"                  # 已发送: the server (or the folder) accepted it
    FAILED = "failed"              # 失败: refused for good, or out of attempts — shown to the GM office
    UNCONFIRMED = "unconfirmed"    # 待确认: the sender died not knowing whether the server took it


class TemplateChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"       # the decision letter (决定告知书), printed or carried by the decision e-mail
    TEXT = "text"           # the company's sign-off and contact line, used by other templates


OUTBOX_CHANNELS = (TemplateChannel.EMAIL.value, TemplateChannel.SMS.value)   # what the sender delivers
SIGNATURE = "signature"     # the (signature, text) row: what {company_contact} stands for

# Notices about a request to the after-sales desk (售后服务, issue 17), not about a complaint: no contact
# step of a complaint applies to them (their contact is a RequestContact of the request), so they have no
# entry in STEP_OF_KIND and `queue_notice` (complaints) refuses them; `services.desk_notices` queues them.
REQUEST_KINDS = frozenset({NoticeKind.MATERIALS_MISSING})
# Notices to the portal's own staff, about no case and no request (`services.warning_alerts` queues them).
STAFF_KINDS = frozenset({NoticeKind.WARNING})
COMPLAINT_KINDS = frozenset(NoticeKind) - REQUEST_KINDS - STAFF_KINDS

STEP_OF_KIND = {
    NoticeKind.ACKNOWLEDGEMENT: ContactStep.ACKNOWLEDGEMENT,
    NoticeKind.PROGRESS: ContactStep.PROGRESS,
    NoticeKind.EXPECTED_COMPLETION: ContactStep.EXPECTED_COMPLETION,
    NoticeKind.DECISION: ContactStep.DECISION,
    NoticeKind.CLOSURE: ContactStep.CLOSURE,
    NoticeKind.FOLLOW_UP_INVITATION: ContactStep.FOLLOW_UP,
}

# Required notices go out whatever the customer chose; the others only to a customer who takes them.
REQUIRED_KINDS = frozenset({NoticeKind.ACKNOWLEDGEMENT, NoticeKind.DECISION, NoticeKind.CLOSURE,
                            NoticeKind.MATERIALS_MISSING, NoticeKind.WARNING})


def is_optional(kind: NoticeKind | str) -> bool:
    return NoticeKind(kind) not in REQUIRED_KINDS


# Every template row, in the order the editor shows them: e-mail and SMS for each kind, the decision
# letter, and the sign-off. The rows are fixed; their texts change.
SLOTS: tuple[tuple[str, str], ...] = tuple(
    (kind.value, channel) for kind in NoticeKind for channel in OUTBOX_CHANNELS
) + ((NoticeKind.DECISION.value, TemplateChannel.LETTER.value), (SIGNATURE, TemplateChannel.TEXT.value))

# -- placeholders --

COMMON = ("case_reference", "customer_name", "received_date")
BY_KIND: dict[NoticeKind, tuple[str, ...]] = {
    NoticeKind.ACKNOWLEDGEMENT: (),
    NoticeKind.PROGRESS: ("case_stage", "expected_completion_date"),
    NoticeKind.EXPECTED_COMPLETION: ("case_stage", "expected_completion_date"),
    NoticeKind.DECISION: ("approved_instructions", "decision_checked", "decision_basis", "decision_remedies"),
    NoticeKind.CLOSURE: ("closed_date",),
    NoticeKind.FOLLOW_UP_INVITATION: ("closed_date",),
    # for a request: case_reference is its number, customer_name the applicant, received_date its receipt
    NoticeKind.MATERIALS_MISSING: ("missing_materials",),
    # to staff: what was breached, no customer's data at all
    NoticeKind.WARNING: ("warning_indicator", "warning_value", "warning_threshold", "warning_period"),
}
# What the decision says: in a letter or an e-mail carrying it, never in an SMS (it only points to the
# letter or asks the customer to call).
DECISION_CONTENT = frozenset(BY_KIND[NoticeKind.DECISION]) | {"letter_text"}
ART19_PARTS = ("decision_checked", "decision_basis", "decision_remedies")   # checked; basis and reasons; remedies
PLACEHOLDERS = (*COMMON, "company_contact", "case_stage", "expected_completion_date", "closed_date",
                *BY_KIND[NoticeKind.DECISION], "letter_text", "missing_materials", *BY_KIND[NoticeKind.WARNING])
MATERIALS_SEPARATOR = "、"      # {missing_materials}: the missing items in one line, as a Chinese list reads
# Internal records a template might try to name: refused with a reason of their own (002 art.13.10).
INTERNAL_FIELDS = frozenset({
    "consolidated_opinion", "final_opinion", "clerk_opinion", "gm_report", "department_report", "report",
    "investigation_report", "evidence", "cause", "finding", "measures", "responsible_unit",
    "responsible_persons", "responsibility", "responsibility_level", "responsible_department",
    "department_loss", "penalty", "penalty_type", "penalty_persons", "negotiation_note", "closure_note",
    "amount_limit", "proposed_amount", "required_level", "approved_by", "complained_staff",
})


def allowed_placeholders(kind: str, channel: str) -> tuple[str, ...]:
    """The placeholders a template of this kind and channel may use (empty for the sign-off)."""
    if channel == TemplateChannel.TEXT:
        return ()
    kind = NoticeKind(kind)
    if kind in STAFF_KINDS:                 # about no customer: only its own values
        return BY_KIND[kind]
    if channel == TemplateChannel.SMS:      # short, parameters only: no decision content, no sign-off block
        return (*COMMON, *(n for n in BY_KIND[kind] if n not in DECISION_CONTENT))
    names = (*COMMON, "company_contact", *BY_KIND[kind])
    if kind == NoticeKind.DECISION and channel == TemplateChannel.EMAIL:
        names = (*names, "letter_text")
    return names


_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class TemplateSyntax(ValueError):
    """A single `{` or `}` that opens or closes no placeholder (write `{{` / `}}` for a brace)."""


def placeholders_in(text: str) -> list[str]:
    """The placeholders `{name}` of a template text, in order; `{{` and `}}` are literal braces."""
    names = []
    for match in _TOKEN.finditer(text or ""):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if match.group(1) is None:
            raise TemplateSyntax(token)
        names.append(match.group(1).strip())
    return names


class MissingValue(KeyError):
    """The template names a placeholder the notice has no value for."""


def render(text: str, values: Mapping[str, str]) -> str:
    """The template text with each `{name}` replaced by its value (values are inserted as they are:
    a value holding braces is not read again)."""
    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        if match.group(1) is None:
            raise TemplateSyntax(token)
        name = match.group(1).strip()
        if name not in values:
            raise MissingValue(name)
        return str(values[name])
    return _TOKEN.sub(replace, text or "")


_PARAM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
_GATEWAY_TEMPLATE = re.compile(r"[A-Za-z0-9_.\-]{1,60}")


def parse_gateway_params(text: str) -> list[tuple[str, str]]:
    """An SMS template's parameter mapping, `name={placeholder}` entries separated by `;` or lines
    (full-width `；` and `＝` read as well): the gateway's variable name and what fills it."""
    out = []
    for part in re.split(r"[;\n；]", (text or "").replace("＝", "=")):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition("=")
        out.append((name.strip(), value.strip()))
    return out


LIMITS = {TemplateChannel.EMAIL: 4000, TemplateChannel.SMS: 300, TemplateChannel.LETTER: 8000,
          TemplateChannel.TEXT: 500}
SUBJECT_LIMIT = 120
ROW_FIELDS = ("subject", "body", "gateway_template", "gateway_params")


def _text(row: dict, field: str) -> str | None:
    value = row.get(field)
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return value if isinstance(value, str) else None


def _check_names(names: list[str], kind: str, channel: str, field: str, index: int, out: list[Refusal]) -> None:
    allowed = allowed_placeholders(kind, channel)
    for name in dict.fromkeys(names):
        if name in allowed:
            continue
        if name in INTERNAL_FIELDS:
            out.append(Refusal(index, field, Message("notices.internal_placeholder", {"name": name})))
        elif name in PLACEHOLDERS:
            out.append(Refusal(index, field, Message("notices.placeholder_not_here", {"name": name})))
        else:
            out.append(Refusal(index, field, Message("notices.unknown_placeholder", {"name": name})))


def _names(text: str, field: str, index: int, out: list[Refusal]) -> list[str] | None:
    try:
        return placeholders_in(text)
    except TemplateSyntax:
        out.append(Refusal(index, field, Message("notices.bad_braces")))
        return None


def validate_templates(rows: list[dict]) -> list[Refusal]:
    """通知模板: each row's texts; a table with any reason is not saved. Placeholders must be the ones
    of the row's kind and channel (an unknown one is named); the decision letter must carry what
    art. 19 requires (what was checked, the basis and reasons, the remedies); the decision e-mail
    carries the letter ({letter_text}); an SMS template is the gateway's registered template: its
    parameters each fill one placeholder, and cover every placeholder of its text."""
    out: list[Refusal] = []
    slots = [(row.get("kind"), row.get("channel")) if isinstance(row, dict) else None for row in rows]
    if sorted(map(str, slots)) != sorted(map(str, SLOTS)):
        out.append(Refusal(TABLE, "body", Message("config.fixed_keys")))
        return out
    for index, row in enumerate(rows):
        kind, channel = row["kind"], row["channel"]
        texts = {field: _text(row, field) for field in ROW_FIELDS}
        for field, value in texts.items():
            if value is None:
                out.append(Refusal(index, field, Message("form.bad_value")))
        if any(value is None for value in texts.values()):
            continue
        subject, body = texts["subject"].strip(), texts["body"].strip()
        if not body:
            out.append(Refusal(index, "body", Message("form.required")))
        elif len(body) > LIMITS[TemplateChannel(channel)]:
            out.append(Refusal(index, "body", Message("form.too_long", {"max": LIMITS[TemplateChannel(channel)]})))
        body_names = _names(body, "body", index, out)
        if body_names is not None:
            _check_names(body_names, kind, channel, "body", index, out)
        if channel in (TemplateChannel.EMAIL, TemplateChannel.LETTER):
            if not subject:
                out.append(Refusal(index, "subject", Message("form.required")))
            elif len(subject) > SUBJECT_LIMIT or "\n" in subject:
                out.append(Refusal(index, "subject", Message("notices.subject_one_line", {"max": SUBJECT_LIMIT})))
            subject_names = _names(subject, "subject", index, out)
            if subject_names is not None:
                _check_names(subject_names, kind, channel, "subject", index, out)
        if (kind, channel) == (NoticeKind.DECISION, TemplateChannel.LETTER) and body_names is not None:
            for part in ART19_PARTS:          # each missing part named: 核查情况 / 依据和理由 / 救济途径
                if part not in body_names:
                    out.append(Refusal(index, "body", Message(f"notices.art19_missing.{part}")))
        if (kind, channel) == (NoticeKind.DECISION, TemplateChannel.EMAIL) and body_names is not None \
                and "letter_text" not in body_names:
            out.append(Refusal(index, "body", Message("notices.letter_text_missing")))
        if channel == TemplateChannel.SMS:
            _check_sms(row, texts, body_names, index, out)
        elif texts["gateway_template"].strip() or texts["gateway_params"].strip():
            out.append(Refusal(index, "gateway_template", Message("notices.sms_only")))
    return out


def _check_sms(row: dict, texts: dict, body_names: list[str] | None, index: int, out: list[Refusal]) -> None:
    template = texts["gateway_template"].strip()
    if template and not _GATEWAY_TEMPLATE.fullmatch(template):
        out.append(Refusal(index, "gateway_template", Message("notices.bad_gateway_template")))
    mapped: set[str] = set()
    seen: set[str] = set()
    for name, value in parse_gateway_params(texts["gateway_params"]):
        if not _PARAM_NAME.fullmatch(name) or name in seen:
            out.append(Refusal(index, "gateway_params", Message("notices.bad_param_name", {"name": name})))
            continue
        seen.add(name)
        names = _names(value, "gateway_params", index, out)
        if names is None:
            continue
        if len(names) != 1 or value != "{" + names[0] + "}":
            out.append(Refusal(index, "gateway_params", Message("notices.param_one_placeholder", {"name": name})))
            continue
        _check_names(names, row["kind"], row["channel"], "gateway_params", index, out)
        mapped.add(names[0])
    for name in dict.fromkeys(body_names or []):
        if name not in mapped and name in allowed_placeholders(row["kind"], row["channel"]):
            out.append(Refusal(index, "gateway_params", Message("notices.param_unmapped", {"name": name})))


# -- the customer's words for dates and stages --

def customer_date(value: date | datetime) -> str:
    """A date as a Chinese letter writes it: 2025年9月30日."""
    return f"{value.year}年{value.month}月{value.day}日"


def materials_line(missing: list[str] | tuple[str, ...]) -> str:
    """{missing_materials}: the missing items as the customer reads them, each once, in the order given,
    joined with 、 (死亡证明、户籍注销证明)."""
    items = dict.fromkeys(" ".join(str(item).split()) for item in missing)
    return MATERIALS_SEPARATOR.join(item for item in items if item)


def case_reference(number: str | None, complaint_id: int) -> str:
    """What the customer quotes: the case number, or before acceptance the registration reference
    (the internal id, which the case page also finds)."""
    return number if number else f"登记号 {complaint_id}"


MESSAGE_ID_DOMAIN = "complaints.portal"


def new_message_id() -> str:
    """A notice's key and Message-ID: globally unique, the same on every attempt to send it."""
    return f"<notice-{uuid.uuid4().hex}@{MESSAGE_ID_DOMAIN}>"


# -- when and how often the sender tries --

@dataclass(frozen=True)
class OutboxRules:
    """The sender's settings (业务参数 `notices.*`)."""

    quiet_start: time = time(21)        # SMS held from 21:00 …
    quiet_end: time = time(8)           # … until 08:00
    max_attempts: int = 6
    retry_minutes: int = 5              # first retry after 5 minutes, doubling …
    retry_max_minutes: int = 240        # … up to 4 hours
    lease_minutes: int = 10             # a notice `sending` for longer was interrupted

    @classmethod
    def from_settings(cls, values: Mapping[str, str]) -> "OutboxRules":
        def whole(key: str, default: int) -> int:
            try:
                return int(float(values.get(key, default)))
            except (TypeError, ValueError):
                return default
        d = cls()
        return cls(time(whole("notices.quiet_start_hour", d.quiet_start.hour) % 24),
                   time(whole("notices.quiet_end_hour", d.quiet_end.hour) % 24),
                   max(1, whole("notices.max_attempts", d.max_attempts)),
                   max(1, whole("notices.retry_minutes", d.retry_minutes)),
                   max(1, whole("notices.retry_max_minutes", d.retry_max_minutes)),
                   max(1, whole("notices.lease_minutes", d.lease_minutes)))


def is_quiet(now: datetime, start: time, end: time) -> bool:
    """Inside the quiet hours [start, end): a span over midnight when start is after end (21:00–08:00);
    none at all when they are equal."""
    moment = now.time()
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def quiet_until(now: datetime, start: time, end: time) -> datetime:
    """The first moment an SMS may go at or after `now`: `now` itself outside the quiet hours, else
    the end of the quiet period (the next morning for an evening)."""
    if not is_quiet(now, start, end):
        return now
    ends = datetime.combine(now.date(), end)
    return ends if ends > now else ends + timedelta(days=1)


def retry_delay(attempts: int, rules: OutboxRules) -> timedelta:
    """How long after its `attempts`-th failed attempt a notice is tried again: doubling, capped."""
    minutes = rules.retry_minutes * 2 ** max(0, min(attempts - 1, 20))
    return timedelta(minutes=min(minutes, rules.retry_max_minutes))


def after_failure(*, attempts: int, rules: OutboxRules, permanent: bool, in_doubt: bool,
                  resend_recognised: bool) -> NoticeState:
    """What a failed attempt leaves: refused for good → failed; the server may have taken it (no
    answer after the message went out) and a second copy could not be told from a new message →
    unconfirmed; otherwise tried again until the attempts run out (then failed)."""
    if permanent:
        return NoticeState.FAILED
    if in_doubt and not resend_recognised:
        return NoticeState.UNCONFIRMED
    return NoticeState.QUEUED if attempts < rules.max_attempts else NoticeState.FAILED


def after_interruption(*, attempts: int, rules: OutboxRules, resend_recognised: bool) -> NoticeState:
    """A notice found `sending` past its lease: its sender died, and nobody knows whether the server
    accepted it. Sent again — the same content, the same Message-ID — where the receiver recognises a
    second copy as the same message; else (or when its attempts are used up) 待确认, for the GM office
    to check and then confirm or resend by hand."""
    if resend_recognised and attempts < rules.max_attempts:
        return NoticeState.QUEUED
    return NoticeState.UNCONFIRMED
