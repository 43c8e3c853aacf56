"""The service desk's papers (002 ch.2), as the complaint form is printed: titled sections of labelled values
rendered to self-contained, print-ready HTML, every value escaped. The request page shows the same sections.

- 不予受理通知书 (4.(二)4): a letter to the customer giving each reason the report failed its check, that
  copies were archived and the originals returned, signed with the company's sign-off;
- 理赔申请书 (4.(四)1): prefilled with the policy, the insured, the event, the applicant and the materials
  checklist (ticked as received), for the applicant to check and sign;
- 批改申请单 (art.6): prefilled with the policy and its policyholder and insured, and the change asked for.

Pure: values in, a document out. The caller has loaded and masked the values for its reader."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from html import escape

from portal.domain.notices import customer_date
from portal.i18n import translate
from portal.printing.decision_letter import _STYLE as _LETTER_STYLE, _paragraphs
from portal.printing.form_sections import EMPTY, Section, show
from portal.printing.handling_form import _STYLE as _FORM_STYLE, _section

TICKED, UNTICKED = "☑", "☐"


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str = ""
    phone: str = ""


@dataclass(frozen=True)
class PolicyFacts:
    """A policy of the register as its reader may see it (personal data masked by the caller)."""

    number: str
    insurer: str
    product: str
    start: date
    end: date
    sum_insured: Decimal | None
    covered: list[str] = field(default_factory=list)          # the covered risks' names
    policyholders: list[Person] = field(default_factory=list)
    insured: list[Person] = field(default_factory=list)
    beneficiaries: list[Person] = field(default_factory=list)


@dataclass(frozen=True)
class Reason:
    """A failed preliminary check, with what its words name: the policy period, the last day to claim."""

    code: str
    start: date | None = None
    end: date | None = None
    last: date | None = None


def _tr(lang: str):  # noqa: ANN202
    return lambda key, **kw: translate(key, lang, **kw)


def day_text(value: date | datetime | None, lang: str) -> str:
    """A day as the reader writes it (a Chinese letter: 2025年9月30日)."""
    if value is None:
        return EMPTY
    return customer_date(value) if lang == "zh" else f"{value:%Y-%m-%d}"


def reason_text(reason: Reason, lang: str) -> str:
    return translate(f"desk.check.{reason.code}", lang, start=day_text(reason.start, lang),
                     end=day_text(reason.end, lang), last=day_text(reason.last, lang))


def _name(names: dict[str, dict[str, str]], kind: str, code: object) -> str:
    return names.get(kind, {}).get(code, code) if isinstance(code, str) and code else ""


def _people(people: list[Person], *, with_id: bool = False) -> str:
    return "、".join(f"{p.name}（{p.id_number}）" if with_id and p.id_number else p.name for p in people)


def _period(policy: PolicyFacts | None, lang: str) -> str:
    return "" if policy is None else translate("deskdoc.period", lang, start=day_text(policy.start, lang),
                                              end=day_text(policy.end, lang))


def _rows(pairs: list[tuple[str, object]]) -> list[tuple[str, str]]:
    return [(label, show(value)) for label, value in pairs]


def _yes(flag: object, lang: str) -> str:
    return translate("yes" if flag else "no", lang)


# -- the request as its page shows it -------------------------------------------------------------------


def request_sections(request: dict, *, lang: str, names: dict[str, dict[str, str]], policy: PolicyFacts | None,
                     reasons: list[Reason], required: list[str], missing: list[str], report_number: str | None,
                     threshold: str = "") -> list[Section]:
    """A request's fields by group, the groups its kind has: the request and its policy; a report's event,
    reporter, check, scene and major claim; an application's applicant, materials, hand-over and the insurer's
    decision; a surrender's or endorsement's reason or change and the guidance given."""
    t = _tr(lang)
    kind = request["kind"]
    report, application = kind == "claim_report", kind == "claim_application"
    sections = [Section("request", t("deskdoc.section.request"), _rows([
        (t("deskdoc.field.number"), request["number"]), (t("deskdoc.field.kind"), t(f"desk.kind.{kind}")),
        (t("deskdoc.field.state"), t(f"desk.state.{request['state']}")),
        (t("deskdoc.field.channel"), _name(names, "channel", request["channel"])),
        (t("deskdoc.field.received_at"), request["received_at"])]
        + ([(t("deskdoc.field.insurer_report_number"), request["insurer_report_number"])] if report else [])
        + ([(t("deskdoc.field.report_number"), report_number)] if application else [])))]
    sections.append(Section("policy", t("deskdoc.section.policy"), _rows([
        (t("deskdoc.field.policy_number"), request["policy_number"]),
        (t("deskdoc.field.insured_name"), request["insured_name"]),
        (t("deskdoc.field.in_register"), _yes(policy is not None, lang)),
        (t("deskdoc.field.insurer"), policy.insurer if policy else ""),
        (t("deskdoc.field.product"), policy.product if policy else ""),
        (t("deskdoc.field.period"), _period(policy, lang)),
        (t("deskdoc.field.sum_insured"), policy.sum_insured if policy else None),
        (t("deskdoc.field.policyholder"), _people(policy.policyholders) if policy else ""),
        (t("deskdoc.field.covered"), "、".join(policy.covered) if policy else "")])))
    if report:
        sections.append(Section("event", t("deskdoc.section.event"), _rows([
            (t("deskdoc.field.event_at"), request["event_at"]), (t("deskdoc.field.event_place"), request["event_place"]),
            (t("deskdoc.field.cause"), _name(names, "risk", request["cause_code"])),
            (t("deskdoc.field.event_description"), request["event_description"]),
            (t("deskdoc.field.injury"), request["injury"]), (t("deskdoc.field.measures_taken"), request["measures_taken"]),
            (t("deskdoc.field.present_condition"), request["present_condition"]),
            (t("deskdoc.field.hospital"), request["hospital"])])))
    who = "reporter" if report else "applicant" if application else "requester"
    sections.append(Section("contact", t(f"deskdoc.section.{who}"), _rows([
        (t("deskdoc.field.contact_name"), request["contact_name"]),
        (t("deskdoc.field.contact_phone"), request["contact_phone"])]
        + ([(t("deskdoc.field.contact_id_number"), request["contact_id_number"])] if application else [])
        + ([(t("deskdoc.field.contact_address"), request["contact_address"]),
            (t("deskdoc.field.contact_relation"), _name(names, "relation", request["contact_relation"]))]
           if report or application else [])
        + ([(t("deskdoc.field.right_verified"), _yes(request["right_verified"], lang))] if application else []))))
    if report:
        sections.append(Section("check", t("deskdoc.section.check"), _rows([
            (t("deskdoc.field.check_result"),
             "\n".join(reason_text(r, lang) for r in reasons) if reasons else t("desk.check.passed")),
            (t("deskdoc.field.check_override"), request["check_override"]),
            (t("deskdoc.field.refused_at"), request["refused_at"])]
            + ([(t("deskdoc.field.copies_archived"), _yes(request["copies_archived"], lang)),
                (t("deskdoc.field.originals_returned"), _yes(request["originals_returned"], lang))]
               if request["refused_at"] else []))))
        if request["scene_needed"]:
            sections.append(Section("scene", t("deskdoc.section.scene"), _rows([
                (t("deskdoc.field.scene_told_at"), request["scene_told_at"]),
                (t("deskdoc.field.survey_requested_at"), request["survey_requested_at"])])))
        if request["major_reasons"]:
            sections.append(Section("major", t("deskdoc.section.major"), _rows([
                (t("deskdoc.field.major_reasons"),
                 "\n".join(t(f"desk.major.{r}", threshold=threshold) for r in request["major_reasons"])),
                (t("deskdoc.field.deaths"), request["deaths"]),
                (t("deskdoc.field.estimated_amount"), request["estimated_amount"]),
                (t("deskdoc.field.disputes"), "、".join(t(f"desk.dispute.{d}") for d in request["disputes"] or [])),
                (t("deskdoc.field.litigation"), _yes(request["litigation"], lang)),
                (t("deskdoc.field.major_reported_at"), request["major_reported_at"]),
                (t("deskdoc.field.key_survey_at"), request["key_survey_at"])])))
    if application:
        sections.append(Section("materials", t("deskdoc.section.materials"), _rows([
            (t("deskdoc.field.claim_kinds"), "、".join(_name(names, "claim_kind", k) for k in request["claim_kinds"] or [])),
            (t("deskdoc.field.missing"), "、".join(missing)),
            (t("deskdoc.field.complete_at"), request["complete_at"])]),
            [{t("deskdoc.col.item"): item, t("deskdoc.col.received"): UNTICKED if item in missing else TICKED}
             for item in required]))
        sections.append(Section("handover", t("deskdoc.section.handover"), _rows([
            (t("deskdoc.field.handed_over_at"), request["handed_over_at"]),
            (t("deskdoc.field.handover_insurer"), request["handover_insurer"]),
            (t("deskdoc.field.handover_items"),
             "、".join(_name(names, "material", i) for i in request["handover_items"] or [])),
            (t("deskdoc.field.handover_receipt"), request["handover_receipt"])])))
        sections.append(Section("decision", t("deskdoc.section.decision"), _rows([
            (t("deskdoc.field.insurer_decision"), request["insurer_decision"]),
            (t("deskdoc.field.decided_at"), request["decided_at"])])))
    if kind in ("surrender", "endorsement"):
        sections.append(Section("policy_request", t(f"deskdoc.section.{kind}"), _rows(
            ([(t("deskdoc.field.reason"), _name(names, "surrender_reason", request["reason_code"])),
              (t("deskdoc.field.reason_text"), request["reason_text"])] if kind == "surrender" else
             [(t("deskdoc.field.change_requested"), request["change_requested"])])
            + [(t("deskdoc.field.guidance"), request["guidance"]),
               (t("deskdoc.field.insurer_address"), request["insurer_address"]),
               (t("deskdoc.field.guided_at"), request["guided_at"]), (t("deskdoc.field.done_at"), request["done_at"])])))
    return sections


# -- the printed papers ---------------------------------------------------------------------------------


def _form_html(*, title: str, number: str, sections: list[Section], signatures: list[str], printed_at: datetime,
               lang: str, note: str = "") -> str:
    t = _tr(lang)
    sign = ("<table class='sign'><tr>" + "".join(f"<th>{escape(label)}</th>" for label in signatures) + "</tr><tr>"
            + "".join("<td></td>" for _ in signatures) + "</tr></table>")
    body = "".join(_section(s) for s in sections)
    note_html = f"<p>{escape(note)}</p>" if note else ""
    return (f"<!DOCTYPE html><html lang='{'en' if lang == 'en' else 'zh-CN'}'><head><meta charset='utf-8'>"
            f"<title>{escape(title)} {escape(number)}</title><style>{_FORM_STYLE}</style></head><body>"
            f"<section class='copy'><h1>{escape(title)}</h1><div class='meta'>"
            f"{escape(t('deskdoc.field.number'))}: {escape(number)} · "
            f"{escape(t('print.printed', at=show(printed_at)))}</div>{body}{note_html}"
            f"<h2>{escape(t('deskdoc.signatures'))}</h2>{sign}</section></body></html>")


def refusal_notice_html(*, request: dict, policy: PolicyFacts | None, reasons: list[Reason],
                        names: dict[str, dict[str, str]], signature: str, dated: datetime, lang: str = "zh") -> str:
    """不予受理通知书: to the customer who reported, each reason with the dates it names, the papers kept and
    returned, the company's sign-off. Laid out as the decision letter is."""
    t = _tr(lang)
    lines = [t("deskdoc.refusal.greeting", name=request["contact_name"]),
             t("deskdoc.refusal.opening", reported=day_text(request["received_at"], lang),
               insured=request["insured_name"], policy=request["policy_number"],
               event=day_text(request["event_at"], lang), place=request["event_place"] or EMPTY,
               cause=_name(names, "risk", request["cause_code"]) or EMPTY),
             t("deskdoc.refusal.reasons") + "\n"
             + "\n".join(f"{n}. {reason_text(r, lang)}" for n, r in enumerate(reasons, 1))]
    if policy is not None:
        lines.append(t("deskdoc.refusal.policy", insurer=policy.insurer, product=policy.product,
                       period=_period(policy, lang)))
    lines += [t("deskdoc.refusal.papers"), t("deskdoc.refusal.closing")]
    if signature.strip():
        lines.append(signature.strip())
    body = "\n\n".join(lines)         # a blank line parts the letter's paragraphs
    title = t("deskdoc.refusal.title")
    reference = t("deskdoc.refusal.reference", number=request["number"])
    return (f"<!DOCTYPE html><html lang='{'en' if lang == 'en' else 'zh-CN'}'><head><meta charset='utf-8'>"
            f"<title>{escape(title)} {escape(request['number'])}</title><style>{_LETTER_STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1><div class='reference'>{escape(reference)}</div>"
            f"<section class='letter'>{_paragraphs(body)}</section>"
            f"<div class='dated'>{escape(day_text(dated, lang))}</div></body></html>")


def _policy_rows(t, policy: PolicyFacts | None, request: dict, lang: str) -> list[tuple[str, object]]:  # noqa: ANN001
    return [(t("deskdoc.field.policy_number"), request["policy_number"]),
            (t("deskdoc.field.insurer"), policy.insurer if policy else ""),
            (t("deskdoc.field.product"), policy.product if policy else ""),
            (t("deskdoc.field.period"), _period(policy, lang)),
            (t("deskdoc.field.sum_insured"), policy.sum_insured if policy else None)]


def claim_application_html(*, request: dict, event: dict | None, policy: PolicyFacts | None,
                           checklist: list[tuple[str, str, bool]], names: dict[str, dict[str, str]],
                           printed_at: datetime, lang: str = "zh") -> str:
    """理赔申请书: `request` is the application (or the report in hand it will follow), `event` the report
    whose event it claims for, `checklist` (kind of claim, material, received) in the checklist's order."""
    t = _tr(lang)
    event = event or {}
    application = request["kind"] == "claim_application"
    insured = (policy.insured if policy and policy.insured else [])
    sections = [
        Section("policy", t("deskdoc.section.policy"), _rows(_policy_rows(t, policy, request, lang) + [
            (t("deskdoc.field.policyholder"), _people(policy.policyholders) if policy else "")])),
        Section("insured", t("deskdoc.section.insured"), _rows([
            (t("deskdoc.field.insured_name"), request["insured_name"]),
            (t("deskdoc.field.contact_id_number"), _people(insured, with_id=True) if insured else ""),
            (t("deskdoc.field.beneficiaries"), _people(policy.beneficiaries) if policy else "")])),
        Section("event", t("deskdoc.section.event"), _rows([
            (t("deskdoc.field.report_number"), event.get("number")),
            (t("deskdoc.field.event_at"), event.get("event_at")),
            (t("deskdoc.field.event_place"), event.get("event_place")),
            (t("deskdoc.field.cause"), _name(names, "risk", event.get("cause_code"))),
            (t("deskdoc.field.event_description"), event.get("event_description")),
            (t("deskdoc.field.injury"), event.get("injury")), (t("deskdoc.field.hospital"), event.get("hospital"))])),
        Section("applicant", t("deskdoc.section.applicant"), _rows([
            (t("deskdoc.field.contact_name"), request["contact_name"]),
            (t("deskdoc.field.contact_id_number"), request["contact_id_number"]),
            (t("deskdoc.field.contact_phone"), request["contact_phone"]),
            (t("deskdoc.field.contact_address"), request["contact_address"]),
            (t("deskdoc.field.contact_relation"), _name(names, "relation", request["contact_relation"])),
            (t("deskdoc.field.claim_kinds"),
             "、".join(_name(names, "claim_kind", k) for k in request.get("claim_kinds") or []) if application else "")])),
        Section("materials", t("deskdoc.section.materials"), [], [
            {t("deskdoc.col.kind"): kind, t("deskdoc.col.item"): item,
             t("deskdoc.col.received"): TICKED if received else UNTICKED} for kind, item, received in checklist]),
    ]
    return _form_html(title=t("deskdoc.application.title"), number=request["number"], sections=sections,
                      signatures=[t("deskdoc.sign.applicant"), t("deskdoc.sign.date"), t("deskdoc.sign.clerk")],
                      printed_at=printed_at, lang=lang, note=t("deskdoc.application.declaration"))


def endorsement_form_html(*, request: dict, policy: PolicyFacts | None, printed_at: datetime,
                          lang: str = "zh") -> str:
    """批改申请单: the policy and its people from the register, the change asked for, lines to sign."""
    t = _tr(lang)
    sections = [
        Section("policy", t("deskdoc.section.policy"), _rows(_policy_rows(t, policy, request, lang))),
        Section("people", t("deskdoc.section.people"), _rows([
            (t("deskdoc.field.policyholder"), _people(policy.policyholders, with_id=True) if policy else ""),
            (t("deskdoc.field.insured_name"),
             _people(policy.insured, with_id=True) if policy and policy.insured else request["insured_name"]),
            (t("deskdoc.field.requester"), request["contact_name"]),
            (t("deskdoc.field.contact_phone"), request["contact_phone"])])),
        Section("change", t("deskdoc.section.change"), _rows([
            (t("deskdoc.field.change_requested"), request["change_requested"])])),
    ]
    return _form_html(title=t("deskdoc.endorsement.title"), number=request["number"], sections=sections,
                      signatures=[t("deskdoc.sign.policyholder"), t("deskdoc.sign.insured"), t("deskdoc.sign.date"),
                                  t("deskdoc.sign.clerk")],
                      printed_at=printed_at, lang=lang, note=t("deskdoc.endorsement.declaration"))
