"""Demo sandbox (SPEC §9): demo users, one per role, and realistic complaints from a fixed seed.

Cases are made through the real services with a moving clock, so their events, numbers and
badges are exactly what the portal would have produced; some are left overdue on purpose.
"""
from __future__ import annotations

from collections.abc import Callable

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from faker import Faker
from sqlalchemy import func, select

from portal.domain.validation import RegistrationForm
from portal.persistence.database import UnitOfWork
from portal.persistence.models import User
from portal.services import complaints, users
from portal.services.queries import current_version
from portal.services.actors import load_actor


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str | None
    approval_level: str | None = None

    @property
    def password(self) -> str:
        return f"{self.username}-demo"   # documented in the README; demo only


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("intake", "王芳", ("intake",), "marketing"),
    DemoUser("intakelead", "刘洋", ("intake_lead",), "marketing"),
    DemoUser("handler", "陈静", ("handler",), "operations"),
    DemoUser("techhandler", "赵磊", ("handler",), "technical"),
    DemoUser("claimshandler", "何欣", ("handler",), "claims"),
    DemoUser("techlead", "钱伟", ("handler", "dept_lead"), "technical"),
    DemoUser("opslead", "冯洁", ("handler", "dept_lead"), "operations"),
    DemoUser("gmoffice", "李娜", ("gm_office",), "gm_office"),
    DemoUser("approver", "张伟", ("approver",), "operations", "dept_manager"),
    DemoUser("deputygm", "孙敏", ("approver",), "gm_office", "deputy_gm"),
    DemoUser("generalmgr", "周强", ("approver",), "gm_office", "gm"),
    DemoUser("manager", "吴婷", ("manager",), "gm_office"),
    DemoUser("admin", "郑军", ("admin",), None),
    DemoUser("trainer", "黄丽", ("trainer",), None),
)

PRODUCTS = ["机动车辆保险", "重大疾病保险", "百万医疗险", "意外伤害保险", "家庭财产保险",
            "终身寿险", "年金保险", "团体医疗保险"]
CATEGORY_STORIES = {
    "claim": ("理赔申请材料已交齐，但被告知仍需补充多份证明，客户认为要求不合理。",
              "按保险合同约定赔付，并书面说明所需材料清单。"),
    "claim_speed": ("报案后已超过一个月仍未收到赔款，多次致电客服均答复正在审核。",
                    "尽快完成审核并支付赔款，说明延误原因。"),
    "claim_amount": ("核定的赔付金额明显低于维修发票金额，客户对定损结果不认可。",
                     "重新核定损失，按实际损失赔付。"),
    "service_attitude": ("客户来电咨询保单条款时，坐席人员语气生硬并中途挂断电话。",
                         "相关人员道歉，并改进服务态度。"),
    "product_quality": ("客户认为产品说明中保障范围表述含糊，出险后才得知属于免责情形。",
                        "解释条款依据，并对产品说明材料进行修订。"),
    "process": ("线上理赔系统多次上传资料失败，只能到柜台办理，往返多次。",
                "提供上门收取材料服务并修复系统问题。"),
    "sales_dispute": ("客户称销售人员承诺的收益与合同约定不符，要求退保并退还全部保费。",
                      "全额退还保费，或按承诺收益补偿差额。"),
    "other": ("客户未收到保单年度对账单，担心个人信息被泄露。", "补寄对账单并说明信息保护措施。"),
}


def ensure_demo_users(uow: UnitOfWork, now: datetime) -> int:
    with uow.read() as session:
        existing = set(session.scalars(select(User.username)))
    missing = [demo for demo in DEMO_USERS if demo.username not in existing]
    for demo in missing:
        users.add_user(uow, actor=None, username=demo.username, display_name=demo.display_name,
                       password=demo.password, roles=list(demo.roles), department=demo.department,
                       approval_level=demo.approval_level, now=now)
    return len(missing)


def has_users(uow: UnitOfWork) -> bool:
    with uow.read() as session:
        return bool(session.scalar(select(func.count(User.id))))


DESK_POLICIES, DESK_REQUESTS = 60, 40      # the service desk's register and requests (portal/demo_desk.py)


def seed(uow: UnitOfWork, *, complaints_count: int, seed_value: int, now: datetime,
         progress: Callable[[int, int], None] | None = None, desk_policies: int = DESK_POLICIES,
         desk_requests: int = DESK_REQUESTS) -> dict[str, int]:
    """Add demo users (if missing) and `complaints_count` cases received over the last three weeks;
    `progress(done, total)` is told after each case (the trainer's progress bar). Then the service desk:
    `desk_policies` policies imported and `desk_requests` requests in every state of every kind (at least
    the scripted core of `demo_desk`; none with `desk_requests=0`)."""
    rng = random.Random(seed_value)
    fake = Faker("zh_CN")
    fake.seed_instance(seed_value)
    ensure_demo_users(uow, now - timedelta(days=30))
    clerk = load_actor(uow, "intake")
    lead = load_actor(uow, "intakelead")
    gm = load_actor(uow, "gmoffice")
    departments = ["operations", "operations", "claims"]
    counts = {"registered": 0, "major_reported": 0}
    plans = []
    for _ in range(complaints_count):
        received = now - timedelta(minutes=rng.randint(30, 21 * 24 * 60))
        plans.append(received)
    for done_count, received in enumerate(sorted(plans)):
        if progress is not None:
            progress(done_count, complaints_count)
        category = rng.choice(list(CATEGORY_STORIES))
        story, wish = CATEGORY_STORIES[category]
        major = rng.random() < 0.08
        form = RegistrationForm(
            customer_name=fake.name(), customer_gender=rng.choice(["male", "female"]),
            customer_age_band=rng.choice(["25_34", "35_44", "45_54", "55_64", "65_plus"]),
            customer_occupation=fake.job()[:50], customer_phone=fake.phone_number(),
            customer_id_number=fake.ssn() if rng.random() < 0.6 else "",
            customer_address=fake.address()[:200], customer_email=fake.free_email(),
            policy_number=f"P{rng.randint(10**11, 10**12 - 1)}", product=rng.choice(PRODUCTS),
            insured_name=fake.name(),
            claim_report_number=f"R{rng.randint(10**9, 10**10 - 1)}" if category.startswith("claim") else "",
            received_at=received, channel=rng.choice(["phone", "phone", "wechat", "counter", "email",
                                                      "website", "letter", "regulator"]),
            category=category, description=story, product_involved=rng.choice(PRODUCTS),
            expected_resolution=wish, severity=rng.choice(["general", "general", "important"]),
            clerk_opinion=CLERK_OPINIONS[category],
            urgency=rng.choice(["normal", "normal", "urgent"]),
            flag_media=major and rng.random() < 0.5, flag_regulator=major,
            amount_at_stake=str(rng.choice([2000, 8000, 30000, 120000, 600000])) if category.startswith("claim") else "",
        )
        # the customer's preferred channel follows the way they came in (no draw: the seed's cases stay as they were)
        form.preferred_contact = {"email": "email", "wechat": "wechat", "letter": "letter"}.get(form.channel, "phone")
        registered_at = received + timedelta(minutes=rng.randint(5, 90))
        actor = clerk if rng.random() < 0.8 else lead
        done = complaints.register_complaint(uow, actor=actor, form=form, attachments=[],
                                             now=min(registered_at, now))
        _acknowledge(uow, actor, done.id, form.preferred_contact, min(registered_at + timedelta(minutes=20), now))
        accept_at = registered_at + timedelta(hours=rng.choice([2, 5, 20, 30, 60]))
        if accept_at >= now or rng.random() < 0.15:
            counts["registered"] += 1
            continue
        routed = [rng.choice(departments)]
        if rng.random() < 0.25:
            routed.append("technical")
        accepted = complaints.accept_complaint(uow, actor=gm, complaint_id=done.id, category=category,
                                               severity=done.severity, departments=routed, now=accept_at,
                                               comment="请按时限调查并提交报告。")
        _name_people(uow, done.id, routed, accepted.severity, accept_at + timedelta(hours=1), now)
        if done.severity == "major" and rng.random() < 0.6:
            complaints.report_major_case(uow, actor=gm, complaint_id=done.id,
                                         comment="已电话并书面报告总部客户服务管理部。",
                                         now=min(accept_at + timedelta(hours=rng.randint(1, 30)), now))
            counts["major_reported"] += 1
        state = _advance(uow, rng, done.id, routed, accept_at, now, story, counts)
        counts[state] = counts.get(state, 0) + 1
    counts.update(_close_the_loop(uow, now))
    if desk_requests > 0:
        from portal.demo_desk import seed_desk
        desk_rng = random.Random(f"desk-{seed_value}")      # its own draws: the complaints stay as they were
        fake.seed_instance(f"desk-{seed_value}")
        for key, value in seed_desk(uow, rng=desk_rng, fake=fake, now=now, policies=desk_policies,
                                    requests=desk_requests).items():
            counts[f"desk.{key}"] = value
    from portal.services.reminders import issue_reminders
    counts["reminders"] = issue_reminders(uow, now=now)
    if progress is not None:
        progress(complaints_count, complaints_count)
    return counts


def _close_the_loop(uow: UnitOfWork, now: datetime) -> dict[str, int]:
    """What the company learns from the closed cases (issue 18), no random draw: a 客户投诉立会 held three days
    ago on the last closed cases, with an item it decided (owned by 运营部's lead); on the cases closed longest
    ago an item already past its deadline (运营部's handler, so the badge, the 催办单 and the KPIs show) and one done
    with its evidence, its effect to be confirmed after `rectification.effect_days`."""
    from portal.persistence.models import Complaint
    from portal.services import meetings, rectification
    gm, owners = load_actor(uow, "gmoffice"), {name: load_actor(uow, name) for name in ("opslead", "handler")}
    with uow.read() as session:
        closed = session.execute(select(Complaint.id, Complaint.number, Complaint.closed_at)
                                 .where(Complaint.closed_at.is_not(None), Complaint.closed_at <= now)
                                 .order_by(Complaint.closed_at.desc(), Complaint.id.desc()).limit(6)).all()
    made = {"rectifications": 0, "meetings": 0}
    held = now - timedelta(days=3)
    discussed = [c for c in closed if c.closed_at < held][:3]
    if discussed:
        meeting_id = meetings.record_meeting(
            uow, actor=gm, held_on=held.date(), title="客户投诉立会", now=held,
            attendees="总经理室、市场部、运营部、技术部负责人", case_numbers=[c.number for c in discussed],
            decisions="理赔材料一次性告知执行不到位，运营部牵头修订告知清单并培训。")
        meetings.open_rectification(uow, actor=gm, meeting_id=meeting_id, complaint_id=discussed[0].id, now=held,
                                    cause="材料告知不一次到位", description="修订理赔材料一次性告知清单并组织培训",
                                    cause_code="process.execution", owner_id=owners["opslead"].id,
                                    deadline=(now + timedelta(days=10)).date())
        made["meetings"] += 1
        made["rectifications"] += 1
    oldest = closed[::-1]             # an item of each kind on the cases closed longest ago
    for case, (owner, days_ago, done) in zip(oldest, (("handler", 12, False), ("handler", 9, True))):
        opened = max(case.closed_at, now - timedelta(days=days_ago))
        item = rectification.add_rectification(
            uow, actor=gm, complaint_id=case.id, cause=REPORT_TEXT["cause"], description=REPORT_TEXT["measures"],
            cause_code=_cause(case.id), owner_id=owners[owner].id, deadline=(opened + timedelta(days=5)).date(),
            now=opened)
        if done:
            rectification.complete_rectification(uow, actor=owners[owner], rectification_id=item,
                                                 evidence="已增派审核人员，告知清单已上线。",
                                                 now=opened + timedelta(days=2))
        made["rectifications"] += 1
    return made


# the receiving clerk's 签注意见 (002 art.13.1), by kind of complaint
CLERK_OPINIONS = {
    "claim": "客户材料基本齐全，建议理赔部门核实补充材料要求是否必要。",
    "claim_speed": "已超出理赔时效，建议优先调查延误原因并尽快答复客户。",
    "claim_amount": "客户对定损结果有异议，建议复核定损依据。",
    "service_attitude": "建议调取通话录音核实服务过程。",
    "product_quality": "建议核对产品说明与条款表述是否一致。",
    "process": "建议技术部门排查线上系统故障。",
    "sales_dispute": "涉及销售承诺，建议调取销售录音录像核实。",
    "other": "建议核实对账单寄送记录。",
}
# who names the handlers of each department: its lead; 理赔部 has no lead in the demo, so the GM office
# does (the fallback), with the department's handler
DEMO_ASSIGNERS = {"operations": ("opslead", "handler"), "technical": ("techlead", "techhandler"),
                  "claims": ("gmoffice", "claimshandler")}


def _name_people(uow: UnitOfWork, case_id: int, routed: list[str], severity: str, at: datetime,
                 now: datetime) -> None:
    """An hour after routing each department's handler is named (one case in five is left without,
    so the 超时未指派 flag shows), and a major case gets its working group (000 §5, §8). No random
    draw: the seed's cases stay as they were."""
    from portal.services import assignment
    if at >= now:
        return
    if case_id % 5:
        for code in routed:
            lead, handler = DEMO_ASSIGNERS[code]
            assignment.assign_handlers(uow, actor=load_actor(uow, lead), complaint_id=case_id, department=code,
                                       handlers=[handler], now=at)
    if severity == "major":
        assignment.set_working_group(uow, actor=load_actor(uow, "gmoffice"), complaint_id=case_id, leader="deputygm",
                                     members=["opslead", "techlead", "intakelead"], now=at,
                                     comment="重大案件成立专项工作组，统一指挥处理。")


# the taxonomy's sub-cause a demo report and closure choose, by case (no draw: the seed's cases stay as they were)
DEMO_CAUSES = ("process.execution", "people.attitude", "product.explanation", "process.handover", "system.function",
               "external.misunderstanding")


def _cause(case_id: int) -> str:
    return DEMO_CAUSES[case_id % len(DEMO_CAUSES)]


REPORT_TEXT = {
    "evidence": "调取保单、报案记录、通话录音及经办人员说明。",
    "cause": "审核环节积压，未按时效提醒客户补充材料。",
    "measures": "增派审核人员，建立材料缺失一次性告知机制。",
}


def _acknowledge(uow: UnitOfWork, clerk, case_id: int, preferred: str, at: datetime) -> None:  # noqa: ANN001
    """Most customers are told at once that their complaint is in hand (000 §6): by the outbox when they
    prefer e-mail, else by the clerk (one case in eight is left for the 待联系客户 list)."""
    from portal.services.contacts import record_contact
    if preferred == "email" or case_id % 8 == 0:
        return
    proof = {"letter": f"挂号信 XA{case_id:06d}", "wechat": f"微信消息 W{case_id:06d}"}.get(preferred, f"录音 A{case_id:06d}")
    record_contact(uow, actor=clerk, complaint_id=case_id, channel=preferred, step="acknowledgement",
                   content="告知客户投诉已登记受理，将在 15 日内答复处理结果。", proof=proof, at=at, now=at)


def _tell_closure(uow: UnitOfWork, clerk, case_id: int, at: datetime) -> None:  # noqa: ANN001
    """The closure told by phone unless the outbox already told it."""
    from portal.persistence.models import Complaint
    from portal.services.contacts import record_contact
    with uow.read() as session:
        if session.get(Complaint, case_id).closure_notified_at is not None:
            return
    record_contact(uow, actor=clerk, complaint_id=case_id, channel="phone", step="closure",
                   content="电话告知客户案件已结案及处理结果。", proof=f"录音 C{case_id:06d}", at=at, now=at)


def _advance(uow: UnitOfWork, rng: random.Random, case_id: int, routed: list[str], start: datetime,
             now: datetime, story: str, counts: dict[str, int]) -> str:
    """Carry an accepted case some way along the process, each step a few hours after the last;
    a step that would fall after `now` is not taken. Returns the state the case ends in."""
    from portal.domain.regulatory import Decision
    from portal.domain.satisfaction import Survey
    from portal.services import handling
    people = {name: load_actor(uow, name) for name in
              ("intake", "intakelead", "handler", "techhandler", "claimshandler", "gmoffice", "approver",
               "deputygm", "generalmgr", "techlead", "opslead")}
    handlers = {"operations": people["handler"], "technical": people["techhandler"],
                "claims": people["claimshandler"]}
    goal = rng.choice(["investigating", "investigating", "awaiting_report", "awaiting_consolidation",
                       "awaiting_gm_instruction", "awaiting_approval", "negotiating", "awaiting_review",
                       "awaiting_closure", "awaiting_penalty",
                       "closed", "archived", "archived"])
    at = start
    state = "investigating"

    def later(hours: tuple[int, int]) -> datetime | None:
        nonlocal at
        at = at + timedelta(hours=rng.randint(*hours))
        return at if at < now else None

    def seen() -> int:          # each step acts on the case as just read, as a page would
        return current_version(uow, case_id)

    if rng.random() < 0.1 and later((2, 20)):
        handling.hold(uow, actor=people["gmoffice"], complaint_id=case_id, reason="等待客户补充就诊材料。", now=at,
                      expected_version=seen())
        if goal == "investigating" or not later((24, 72)):
            return state
        handling.resume(uow, actor=people["intake"], complaint_id=case_id, comment="客户已补齐材料。", now=at,
                        expected_version=seen())
    if goal == "investigating" or not later((3, 30)):
        return state
    for code in routed:
        actor = handlers.get(code)
        if actor is None:            # no demo handler in that department: the GM office's sandbox
            continue                 # stays in investigation, as a real unstaffed queue would
        if not later((4, 40)):
            return state
        handling.submit_report(uow, actor=actor, complaint_id=case_id, now=at, report=handling.InvestigationReport(
            finding=rng.choice(["company_fault", "misunderstanding"]), responsible_unit="理赔部",
            proposed_amount=str(rng.choice([0, 800, 3000, 12000, 80000])), cause_code=_cause(case_id), **REPORT_TEXT),
            expected_version=seen())
        if code == "technical" and people["techlead"] is not None:     # 技术部's analysis instructed (13.3)
            handling.instruct_analysis(uow, actor=people["techlead"], complaint_id=case_id, now=at,
                                       instruction="同意分析结论，请总经理室综合。", expected_version=seen())
    from portal.persistence.models import Complaint
    with uow.read() as session:
        state = session.get(Complaint, case_id).state
    if state != "awaiting_report" or goal == "awaiting_report" or not later((4, 48)):
        return state
    reporter = next(handlers[code] for code in routed if code in handlers)
    handling.report_to_gm(uow, actor=reporter, complaint_id=case_id, now=at,
                          report="调查完毕：原因、证据与责任建议见各部门报告，呈总经理批示。", expected_version=seen())
    if goal == "awaiting_gm_instruction" or not later((2, 20)):
        return "awaiting_gm_instruction"
    handling.instruct_report(uow, actor=people["generalmgr"], complaint_id=case_id, now=at,
                             instruction="同意调查结论，请总经理室综合意见后按权限核决。", expected_version=seen())
    state = "awaiting_consolidation"
    if goal == "awaiting_consolidation" or not later((2, 20)):
        return state
    amount = rng.choice(["500", "3000", "20000", "90000"])
    level = handling.consolidate(uow, actor=people["gmoffice"], complaint_id=case_id, now=at,
                                 opinion="综合各部门意见，建议按合同约定给予赔付并致歉。", proposed_amount=amount, expected_version=seen())
    if goal == "awaiting_approval" or not later((4, 30)):
        return "awaiting_approval"
    approver = {"dept_manager": people["approver"], "deputy_gm": people["deputygm"]}.get(level, people["generalmgr"])
    handling.approve(uow, actor=approver, complaint_id=case_id, instructions="同意按建议金额赔付，向客户说明依据。",
                     amount_limit=amount, now=at, expected_version=seen())
    if goal == "negotiating" or not later((4, 30)):
        return "negotiating"
    result = rng.choice(["accepted", "accepted", "partly", "rejected"])
    handling.record_negotiation(uow, decision=Decision(
        checked="核对保单、报案及查勘记录。", basis="依据保险合同条款及核决意见。", remedies=["review", "mediation", "litigation"],
        told_via=rng.choice(["phone", "email", "written"]), proof=f"回执 {case_id:06d}"), actor=people["intake"], complaint_id=case_id, result=result,
                                note="已电话告知客户核决结论及依据。", agreed_amount=amount if result != "rejected" else None,
                                now=at, expected_version=seen())
    if result == "rejected":
        from portal.services.complaints import register_repeat
        register_repeat(uow, actor=people["intake"], original_id=case_id, now=at,
                        description=f"客户不接受原结论：{story}", expected_resolution="要求重新核定。")
        counts["repeats"] = counts.get("repeats", 0) + 1
    if goal == "awaiting_review" or not later((2, 20)):
        return "awaiting_review"
    handling.review_negotiation(uow, actor=people["intakelead"], complaint_id=case_id, approve=True, comment="", now=at,
                                expected_version=seen())
    if goal == "awaiting_closure" or not later((2, 30)):
        return "awaiting_closure"
    level_of_fault = rng.choice(["none", "none", "minor", "general"])
    staffed = [code for code in routed if code in handlers]
    shares = ({} if level_of_fault == "none" else {staffed[0]: 70, staffed[1]: 30} if len(staffed) > 1
              else {staffed[0]: 100})
    final_level = handling.close_case(uow, actor=people["gmoffice"], complaint_id=case_id, shares=shares,
                                      final_opinion="责任明确，按基准处理后结案。", responsibility_level=level_of_fault,
                                      penalty_persons="", cause_code=_cause(case_id), now=at,
                                      expected_version=seen())
    if goal == "awaiting_penalty" or not later((2, 24)):
        return "awaiting_penalty"
    final_approver = {"dept_manager": people["approver"], "deputy_gm": people["deputygm"]}.get(
        final_level, people["generalmgr"])
    handling.final_approve(uow, actor=final_approver, complaint_id=case_id, approve=True,
                           comment="同意综合意见，核签结案。", now=at, expected_version=seen())
    closed_at = at
    if goal in ("closed", "awaiting_penalty") or not later((24, 72)):
        return "closed"
    _tell_closure(uow, people["intake"], case_id, closed_at + timedelta(hours=3))
    overall = rng.choice([5, 5, 4, 4, 3, 2])
    state = handling.record_follow_up(uow, actor=people["intake"], complaint_id=case_id, now=at,
                                      outcome="回访客户，了解处理结果满意度。", method=("phone", "visit")[case_id % 2],
                                      survey=Survey(min(5, overall + 1), overall, overall, overall, overall),
                                      expected_version=seen()).value
    if overall <= 2 or at + timedelta(hours=4) >= now:    # dissatisfied: the GM office's task, the departments'
        return state                                       # actions and the second visit wait
    return _archive(uow, people, case_id, at + timedelta(hours=2))


def _archive(uow: UnitOfWork, people: dict, case_id: int, at: datetime) -> str:
    """After a satisfied follow-up: the agreed payment recorded as made, 运营部's quality check (by its lead, who
    took no part in the case), the GM office's 总结 — the archive as the portal now requires it (issue 18)."""
    from portal.persistence.models import Complaint
    from portal.services import closing, quality
    from portal.domain.closing import remedy_agreed
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        agreed = remedy_agreed(case.negotiation_result, case.negotiated_amount)
        amount = case.negotiated_amount
    if agreed:
        closing.record_remedy(uow, actor=people["intake"], complaint_id=case_id, paid_on=at.date(), amount=amount,
                              reference=f"ZF{case_id:08d}", note="已按约定转账至客户账户。", now=at,
                              expected_version=current_version(uow, case_id))
    quality.record_quality_check(uow, actor=people["opslead"], complaint_id=case_id,
                                 answers={item.code: True for item in quality.checklist(uow)},
                                 note="处理规范，记录完整。", now=at + timedelta(minutes=30))
    closing.archive(uow, actor=people["gmoffice"], complaint_id=case_id, cause_code=_cause(case_id),
                    lessons="时效提醒与一次性告知需落实到每个经办环节。", now=at + timedelta(hours=1),
                    expected_version=current_version(uow, case_id))
    return "archived"
