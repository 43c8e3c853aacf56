"""The 客户抱怨处理表 (002 art.13) as titled sections of labelled values, every field in full: what
the case page shows and the printable form prints, in the reader's language.

From registration to the follow-up visit: the customer, the complaint and the clerk's 签注意见, the
acceptance, each department's investigation, the consolidated opinion and the approver's decision,
the negotiation and the decision told to the customer, the supervisor's review, closure with the
responsible departments, losses and penalties, reminders, and the follow-up survey.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from portal.domain.satisfaction import DIMENSIONS
from portal.i18n import translate
from portal.i18n.format import fmt_time

EMPTY = "—"


@dataclass(frozen=True)
class Section:
    key: str                                   # stable name (tests, anchors)
    title: str
    rows: list[tuple[str, str]]
    grid: list[dict[str, str]] = field(default_factory=list)   # a small table (survey scores)


def show(value: object) -> str:
    """A value as the form prints it: empty ones as a dash, times to the minute, amounts with cents."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, datetime):
        return fmt_time(value)
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _review(case) -> tuple[str, str, str]:  # noqa: ANN001
    """The intake supervisor's last review of the negotiation: who, when, what they said."""
    for event in reversed(case.events):
        if event.action in ("review_negotiation", "return_negotiation"):
            return event.actor, fmt_time(event.at), event.comment
    return "", "", ""


def _closer(case) -> str:  # noqa: ANN001
    for event in reversed(case.events):
        if event.action == "close":
            return event.actor
    return ""


def handling_form_sections(case, *, lang: str, names: dict[str, dict[str, str]]) -> list[Section]:  # noqa: ANN001
    """`names` gives the reader's words for codes: {"category": …, "channel": …, "department": …}."""
    t = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    code = lambda prefix, value: t(f"{prefix}.{value}") if value else ""  # noqa: E731
    f, h = case.fields, case.handling
    departments = names.get("department", {})
    yes_no = lambda flag: t("yes") if flag else t("no")  # noqa: E731

    def rows(pairs: list[tuple[str, object]]) -> list[tuple[str, str]]:
        return [(label, show(value)) for label, value in pairs]

    sections = [Section("customer", t("register.section.customer"), rows([
        (t("field.customer_name"), f["customer_name"]), (t("field.customer_gender"), code("gender", f["customer_gender"])),
        (t("field.customer_age_band"), code("age", f["customer_age_band"])),
        (t("field.customer_occupation"), f["customer_occupation"]), (t("field.customer_phone"), f["customer_phone"]),
        (t("field.customer_id_number"), f["customer_id_number"]), (t("field.customer_address"), f["customer_address"]),
        (t("field.customer_email"), f["customer_email"]), (t("field.policy_number"), f["policy_number"]),
        (t("field.product"), f["product"]), (t("field.insured_name"), f["insured_name"]),
        (t("field.claim_report_number"), f["claim_report_number"])]))]
    sections.append(Section("complaint", t("register.section.complaint"), rows([
        (t("field.number"), case.number or t("case.unnumbered", id=case.id)),
        (t("field.received_at"), f["received_at"]),
        (t("field.channel"), names.get("channel", {}).get(case.channel, case.channel)),
        (t("field.category"), names.get("category", {}).get(case.category, case.category)),
        (t("field.severity"), code("severity", f["severity"])), (t("field.urgency"), code("urgency", f["urgency"])),
        (t("field.description"), f["description"]), (t("field.product_involved"), f["product_involved"]),
        (t("field.expected_resolution"), f["expected_resolution"]),
        (t("field.complained_staff"), "、".join(case.complained_staff)),
        (t("field.complained_staff_other"), f["complained_staff_other"]),
        (t("field.amount_at_stake"), f["amount_at_stake"]), (t("field.joint_complainants"), f["joint_complainants"]),
        (t("field.flag_media"), yes_no(f["flag_media"])), (t("field.flag_regulator"), yes_no(f["flag_regulator"])),
        (t("field.flag_litigation"), yes_no(f["flag_litigation"])),
        (t("field.flag_deaths"), yes_no(f.get("flag_deaths"))),
        (t("field.flag_association"), yes_no(f.get("flag_association"))),
        (t("field.receiving_clerk"), f["receiving_clerk"]), (t("field.clerk_opinion"), f["clerk_opinion"])])))
    sections.append(Section("acceptance", t("form.section.acceptance"), rows([
        (t("field.accepted_at"), f["accepted_at"]), (t("form.accepted_by"), h.get("accepted_by")),
        (t("field.departments"), "、".join(departments.get(d["code"], d["code"]) for d in case.departments))])))
    # who works on the case by name: each department's handlers (000 §5), the working group (000 §8)
    group = h.get("working_group", [])
    sections.append(Section("people", t("form.section.people"), rows(
        [(t("form.assignees_of", department=departments.get(d["code"], d["code"])),
          "、".join(h.get("assignees", {}).get(d["code"], []))) for d in case.departments]
        + [(t("form.group_leader"), "、".join(m["name"] for m in group if m["leader"])),
           (t("form.group_members"), "、".join(m["name"] for m in group if not m["leader"]))]),
        [{t("field.member"): m["name"], t("field.departments"): departments.get(m["department"], m["department"] or ""),
          t("field.role_in_group"): t("people.leader") if m["leader"] else t("people.member")} for m in group]))
    for d in case.departments:
        sections.append(Section(f"department.{d['code']}",
                                t("form.section.department", department=departments.get(d["code"], d["code"])), rows([
            (t("case.routed_at"), d["routed_at"]), (t("field.initial_plan"), d["initial_plan"]),
            (t("field.evidence"), d["evidence"]), (t("field.cause"), d["cause"]),
            (t("field.finding"), code("finding", d["finding"])), (t("field.responsible_unit"), d["responsible_unit"]),
            (t("field.responsible_persons"), d["responsible_persons"]), (t("field.measures"), d["measures"]),
            (t("field.proposed_amount"), d["proposed_amount"]),
            (t("case.report_submitted_at"), d["report_submitted_at"])] +
            # the department lead's 批示 on the analysis (技术部, 002 art.13.3)
            ([(t("form.lead_instruction"), d.get("lead_instruction")),
              (t("form.lead_instructed_by"), d.get("lead_instructed_by")),
              (t("form.lead_instructed_at"), d.get("lead_instructed_at"))] if d.get("lead_instructs") else []))))
    sections.append(Section("approval", t("form.section.approval"), rows([
        (t("field.gm_report"), h.get("gm_report")), (t("form.reported_at"), h.get("reported_to_gm_at")),
        (t("form.gm_instruction"), h.get("gm_instruction")), (t("form.gm_instructed_by"), h.get("gm_instructed_by")),
        (t("form.gm_instructed_at"), h.get("gm_instructed_at")),
        (t("field.opinion"), h["consolidated_opinion"]), (t("form.proposed_amount_gm"), h["proposed_amount"]),
        (t("form.required_level"), code("level", h["required_level"])), (t("form.approver"), h.get("approved_by")),
        (t("field.instructions"), h["approval_instructions"]), (t("field.amount_limit"), h["amount_limit"])])))
    reviewer, reviewed_at, review = _review(case)
    sections.append(Section("negotiation", t("form.section.negotiation"), rows([
        (t("field.result"), code("result", h["negotiation_result"])), (t("field.note"), h["negotiation_note"]),
        (t("field.agreed_amount"), h["negotiated_amount"]), (t("field.decision_checked"), h["decision_checked"]),
        (t("field.decision_basis"), h["decision_basis"]),
        (t("field.decision_remedies"), "、".join(t(f"remedy.{r}") for r in h["decision_remedies"])),
        (t("field.decision_told_via"), code("via", h["decision_told_via"])),
        (t("field.decision_proof"), h["decision_proof"]), (t("form.told_at"), h["decision_told_at"]),
        (t("form.reviewer"), reviewer), (t("form.reviewed_at"), reviewed_at), (t("form.review_opinion"), review)])))
    sections.append(Section("closure", t("form.section.closure"), rows([
        (t("field.final_opinion"), h["closure_note"]),
        (t("form.responsibility_shares"), "、".join(f"{departments.get(code, code)} {ratio}%"
                                                   for code, ratio in h.get("shares", []))),
        (t("field.responsibility_level"), code("resp", h["responsibility_level"])),
        (t("form.department_loss"), h["department_loss"]), (t("form.penalty_type"), code("penalty", h["penalty_type"])),
        (t("field.penalty_persons"), h["penalty_persons"]), (t("field.other_company"), h["other_company"]),
        (t("form.closed_by"), _closer(case)),
        (t("form.final_required_level"), code("level", h.get("final_required_level"))),
        (t("form.final_approved_by"), h.get("final_approved_by")),
        (t("form.final_approved_at"), h.get("final_approved_at")), (t("form.final_comment"), h.get("final_comment")),
        (t("form.penalty_confirmed_by"), h.get("penalty_confirmed_by")),
        (t("form.penalty_confirmed_at"), h.get("penalty_confirmed_at")),
        (t("form.sanction_referred_to"), h.get("sanction_referred_to")),
        (t("form.sanction_referred_at"), h.get("sanction_referred_at")),
        (t("form.sanction_outcome"), h.get("sanction_outcome")),
        (t("form.reminders"), h.get("reminders", 0)), (t("form.late_inquiries"), h.get("late_inquiries", 0))])))
    visits = h.get("follow_ups", [])
    sections.append(Section("follow_up", t("form.section.follow_up"), rows(
        [(t("form.follow_up_count"), len(visits))] +
        [(t("form.follow_up_outcome", n=i), v["outcome"]) for i, v in enumerate(visits, 1)]),
        [{t("form.visited_at"): fmt_time(v["visited_at"]), t("form.visited_by"): v["by"],
          t("field.follow_up_method"): t(f"method.{v['method']}") if v.get("method") else EMPTY,
          **{t(f"survey.{d}"): t(f"survey.scale.{v[d]}") for d in DIMENSIONS}} for v in visits]))
    return sections
