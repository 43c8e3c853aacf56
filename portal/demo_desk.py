"""The demo's service desk (issue 17): a policy register imported as an administrator would import it, and
requests in every state of every kind made through the desk's own use cases with a moving clock — so their
numbers, histories, notices and stored clocks are exactly what the portal makes.

A fixed core of requests always comes (each state of each kind; a report refused with its reasons, one
overridden, one with scene preservation, a major claim reported and one overdue; applications incomplete
with the customer's notice, complete with a hand-over overdue and one due soon, handed over and decided;
surrenders and endorsements received, guided and done); more requests, drawn from the seed, come on top
when asked for. Two complaints name a claim report of the desk (their 报案号), so the lookup shows both.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from faker import Faker
from sqlalchemy import select

from portal.domain.aftersales import DeskClock, desk_due, desk_soon
from portal.domain.validation import MOBILE, RegistrationForm, id_number_is_valid
from portal.persistence.database import UnitOfWork
from portal.persistence.models import ServiceRequest
from portal.services import (aftersales, aftersales_claims, aftersales_requests, complaints, desk_clocks, dues, policies,
                             rules)
from portal.services.actors import load_actor
from portal.services.aftersales import ClaimReportForm
from portal.services.aftersales_claims import ApplicationForm
from portal.services.aftersales_requests import PolicyRequestForm

CORE_REQUESTS = 18          # the scripted requests: every state of every kind, and the cases the issue names
MIN_POLICIES = 12           # the core needs each product active, a lapsed policy and two people of one name


@dataclass(frozen=True)
class DemoProduct:
    code: str
    name: str
    limit: int
    unit: str
    risks: tuple[str, ...]
    years: int                      # the policy's term
    sums: tuple[int, ...]


PRODUCTS = (
    DemoProduct("ACC-01", "意外伤害保险", 2, "years", ("accident_death", "accident_disability", "accident_medical",
                                                      "burns"), 1, (200_000, 500_000, 1_000_000)),
    DemoProduct("MED-01", "百万医疗险", 180, "days", ("illness_hospital", "accident_medical"), 1, (2_000_000,)),
    DemoProduct("CI-01", "重大疾病保险", 2, "years", ("critical_illness", "illness_death"), 20, (300_000, 500_000)),
    DemoProduct("CAR-01", "机动车辆保险", 2, "years", ("vehicle_damage", "third_party"), 1, (1_000_000, 1_500_000)),
    DemoProduct("HOME-01", "家庭财产保险", 30, "days", ("property_damage",), 1, (100_000, 300_000)),
    DemoProduct("LIFE-01", "终身寿险", 5, "years", ("illness_death", "accident_death"), 30, (500_000, 800_000)),
)
INSURERS = ("中国人民财产保险股份有限公司", "中国平安人寿保险股份有限公司", "中国太平洋财产保险股份有限公司",
            "泰康人寿保险有限责任公司", "新华人寿保险股份有限公司")
INSURER_ADDRESS = "上海市浦东新区银城中路 {n} 号 {insurer} 客户服务中心"
# cause → (place, what happened, injury, measures taken, present condition, hospital, claim kinds)
EVENTS = {
    "accident_death": ("沪昆高速 K132 处", "被保险人驾驶车辆与货车追尾，经抢救无效身亡。", "颅脑损伤", "已报警，交警到场处理",
                       "遗体暂存殡仪馆", "市第一人民医院", ("accident", "death")),
    "accident_disability": ("建筑工地", "被保险人在工地高处坠落，左手致残。", "左手掌骨粉碎性骨折", "送医手术",
                            "住院治疗中", "市第六人民医院", ("accident", "disability")),
    "accident_medical": ("小区楼梯", "下楼时踏空摔倒，右腿骨折。", "右胫骨骨折", "送医急诊", "已出院休养",
                         "区中心医院", ("accident", "medical")),
    "burns": ("家中厨房", "做饭时热油溅出，手臂烫伤。", "二度烫伤", "冷水冲洗后就医", "门诊换药中", "烧伤专科医院",
              ("burns", "medical")),
    "illness_hospital": ("家中", "因急性阑尾炎住院手术。", "", "住院手术", "已出院", "市第二人民医院", ("medical",)),
    "critical_illness": ("体检中心", "体检发现肺部占位，确诊为恶性肿瘤。", "", "住院治疗", "化疗中", "肿瘤医院",
                         ("medical",)),
    "illness_death": ("家中", "因突发心肌梗死抢救无效身故。", "", "拨打 120 急救", "已办理后事", "市第一人民医院",
                      ("death",)),
    "vehicle_damage": ("商场地下停车场", "车辆被倒车车辆剐蹭，左前门及翼子板受损。", "", "现场拍照并报警", "车辆已送修",
                       "", ("property",)),
    "third_party": ("城区十字路口", "驾车追尾前车，造成对方车辆受损、司机受伤。", "对方司机颈部扭伤", "报警并送伤者就医",
                    "对方车辆送修", "区中心医院", ("property", "medical")),
    "property_damage": ("被保险人住所", "家中水管爆裂，地板和家具被水浸泡。", "", "关闭总阀并清理积水", "等待查勘定损",
                        "", ("property",)),
}
SURRENDER_REASONS = ("financial", "product_unsuitable", "service", "misunderstood", "switching", "other")
CHANGES = ("变更投保人联系地址为新住址。", "变更受益人为被保险人配偶。", "变更缴费账户为新开立的银行账户。",
           "更正被保险人联系电话。")


def _valid_id(fake: Faker, today: date) -> str:
    while True:
        value = fake.ssn()
        if id_number_is_valid(value, today):
            return value


def _mobile(fake: Faker) -> str:
    while True:
        value = fake.phone_number()
        if MOBILE.match(value):
            return value


def _policies(rng: random.Random, fake: Faker, today: date, count: int) -> tuple[list[dict], list[dict]]:
    """The register: (import rows, one per person; the policies as the seed's requests pick them). Policy 0
    and 1 insure two different people of one name; every seventh policy has lapsed."""
    rows, out = [], []
    shared_name = None
    for i in range(max(count, MIN_POLICIES)):
        product = PRODUCTS[i % len(PRODUCTS)]
        lapsed = i % 7 == 6
        if lapsed:
            start = today - timedelta(days=rng.randint(420, 700))
            end = start + timedelta(days=365 - 1)
        else:
            start = today - timedelta(days=rng.randint(230, 330) if i < len(PRODUCTS) else rng.randint(20, 330))
            end = date(start.year + product.years, start.month, min(start.day, 28)) - timedelta(days=1)
        insurer = INSURERS[rng.randrange(len(INSURERS))]
        number = f"P{start:%Y}{rng.randint(10**7, 10**8 - 1)}"
        insured = {"role": "insured", "name": fake.name(), "id_number": _valid_id(fake, today), "phone": _mobile(fake)}
        if i == 0:
            shared_name = insured["name"]
        elif i == 1:
            insured["name"] = shared_name              # another person of the same name: the lookup asks for the ID
        persons = [insured]
        if rng.random() < 0.5:
            persons.append({**insured, "role": "policyholder"})
        else:
            persons.append({"role": "policyholder", "name": fake.name(), "id_number": _valid_id(fake, today),
                            "phone": _mobile(fake)})
        beneficiary = None
        if product.code in ("ACC-01", "CI-01", "LIFE-01"):
            beneficiary = {"role": "beneficiary", "name": fake.name(), "id_number": _valid_id(fake, today),
                           "phone": _mobile(fake)}
            persons.append(beneficiary)
        risks = list(product.risks)
        if i >= len(PRODUCTS) and len(risks) > 2 and rng.random() < 0.3:
            risks.pop()                                     # a cheaper plan leaves the last risk out
        fields = {"policy_number": number, "insurer": insurer, "product_code": product.code,
                  "product_name": product.name, "claim_limit": str(product.limit), "claim_limit_unit": product.unit,
                  "sum_insured": str(rng.choice(product.sums)), "start_date": start.isoformat(),
                  "end_date": end.isoformat(), "risks": ";".join(risks)}
        rows.extend({**fields, **person} for person in persons)
        out.append({"number": number, "insurer": insurer, "product": product, "start": start, "end": end,
                    "risks": tuple(risks), "insured": insured, "beneficiary": beneficiary, "lapsed": lapsed})
    return rows, out


class _Desk:
    """The seed's clerks and handler acting on requests, each step at its own time (never after `now`)."""

    def __init__(self, uow: UnitOfWork, rng: random.Random, fake: Faker, now: datetime, register: list[dict]) -> None:
        self.uow, self.rng, self.fake, self.now, self.register = uow, rng, fake, now, register
        self.clerk, self.lead = load_actor(uow, "intake"), load_actor(uow, "intakelead")
        self.handler = load_actor(uow, "handler")
        with uow.read() as session:
            self.rule = desk_clocks.clock_rules(session)[DeskClock.HANDOVER]
            self.fraction = rules.due_soon_fraction(rules.settings(session))
            pinned = session.info.get(dues.PINNED_CALENDAR)      # the sandbox's build pins it
        self.calendar = pinned or rules.load_calendar(uow)

    # -- helpers ----------------------------------------------------------------------------------

    def ago(self, hours: float) -> datetime:
        return (self.now - timedelta(hours=hours)).replace(second=0, microsecond=0)

    def who(self):  # noqa: ANN201
        return self.clerk if self.rng.random() < 0.75 else self.lead

    def version(self, request_id: int) -> int:
        with self.uow.read() as session:
            return session.scalar(select(ServiceRequest.version).where(ServiceRequest.id == request_id))

    def policy(self, cause: str | None = None, day: date | None = None, *, lapsed: bool = False) -> dict:
        day = day or self.now.date()
        fits = [p for p in self.register if (cause is None or cause in p["risks"])
                and ((p["end"] < day) if lapsed else (p["start"] <= day <= p["end"]))] or self.register
        return fits[self.rng.randrange(len(fits))]

    def soon_start(self) -> datetime:
        """A start of the 3-working-day hand-over clock that is due soon (临期) now, whatever the weekday."""
        for hours in range(2, 24 * 14):
            start = self.ago(hours)
            due = desk_due(self.rule, start, self.calendar)
            if desk_soon(start, due, self.fraction) <= self.now < due - timedelta(hours=1):
                return start
        return self.ago(60)

    def overdue_start(self) -> datetime:
        for hours in range(24 * 5, 24 * 30, 6):
            start = self.ago(hours)
            if desk_due(self.rule, start, self.calendar) < self.now - timedelta(hours=12):
                return start
        return self.ago(24 * 20)

    # -- the use cases ----------------------------------------------------------------------------

    def report(self, at: datetime, policy: dict | None, cause: str, *, event_hours: float, number: str = "",
               deaths: int = 0, estimated: str = "", uncertain: bool = False, disputes: tuple[str, ...] = (),
               litigation: bool = False, with_insurer_number: bool = False) -> aftersales.Registered:
        place, story, injury, measures, condition, hospital, _ = EVENTS[cause]
        insured = policy["insured"]["name"] if policy else self.fake.name()
        relation = self.rng.choice(["self", "self", "spouse", "child", "parent"])
        reporter = insured if relation == "self" else self.fake.name()
        form = ClaimReportForm(
            policy_number=policy["number"] if policy else number, insured_name=insured,
            channel=self.rng.choice(["phone", "phone", "phone", "visit", "fax", "letter"]), received_at=at,
            event_at=at - timedelta(hours=event_hours), event_place=place, cause_code=cause,
            event_description=story, injury=injury, measures_taken=measures, present_condition=condition,
            hospital=hospital, reporter_name=reporter, reporter_address=self.fake.address()[:200],
            reporter_phone=_mobile(self.fake), reporter_relation=relation,
            insurer_report_number=f"{self.rng.randint(10**11, 10**12 - 1)}" if with_insurer_number else "",
            deaths=deaths, estimated_amount=estimated, outcome_uncertain=uncertain, disputes=list(disputes),
            litigation=litigation)
        return aftersales.register_claim_report(self.uow, actor=self.who(), form=form, now=at)

    def accept(self, request_id: int, at: datetime, override: str = "") -> None:
        aftersales.accept_report(self.uow, actor=self.lead if override else self.who(), request_id=request_id,
                                 expected_version=self.version(request_id), override=override, now=at)

    def refuse(self, request_id: int, at: datetime) -> None:
        aftersales.refuse_report(self.uow, actor=self.who(), request_id=request_id,
                                 expected_version=self.version(request_id), copies_archived=True,
                                 originals_returned=True, now=at)

    def scene(self, request_id: int, at: datetime) -> None:
        aftersales.record_scene_preservation(self.uow, actor=self.clerk, request_id=request_id,
                                             expected_version=self.version(request_id), reporter_told=True,
                                             survey_requested=False, now=at)
        aftersales.record_scene_preservation(self.uow, actor=self.clerk, request_id=request_id,
                                             expected_version=self.version(request_id), reporter_told=False,
                                             survey_requested=True, now=at + timedelta(minutes=25))

    def major(self, request_id: int, at: datetime) -> None:
        aftersales.report_major_claim(self.uow, actor=self.lead, request_id=request_id,
                                      expected_version=self.version(request_id), key_survey=True, now=at,
                                      comment="已电话并书面报告总部，并通知保险公司重点查勘。")

    def tell(self, request_id: int, at: datetime, content: str) -> None:
        aftersales.tell_caller(self.uow, actor=self.clerk, request_id=request_id, channel="phone", content=content,
                               now=at)

    def application(self, at: datetime, *, report: aftersales.Registered | None = None, policy: dict | None = None,
                    cause: str, missing: int = 0) -> aftersales.Registered:
        """A claim application with its checklist's materials, the last `missing` of them not brought."""
        policy = policy or self.policy(cause)
        kinds = list(EVENTS[cause][-1])
        death = "death" in kinds
        person = policy["beneficiary"] if death and policy["beneficiary"] else policy["insured"]
        with self.uow.read() as session:
            lists = aftersales.checklists(session)
        from portal.domain.aftersales import required_materials
        needed = required_materials(lists, kinds)
        form = ApplicationForm(
            report_id=report.id if report else None, policy_number="" if report else policy["number"],
            insured_name="" if report else policy["insured"]["name"],
            channel=self.rng.choice(["visit", "visit", "letter", "phone"]), applicant_name=person["name"],
            applicant_id_number=person["id_number"], applicant_phone=person["phone"],
            applicant_address=self.fake.address()[:200],
            applicant_relation="beneficiary" if death and policy["beneficiary"] else "self", right_verified=True,
            claim_kinds=kinds, materials=needed[:len(needed) - missing])
        return aftersales_claims.record_application(self.uow, actor=self.who(), form=form, now=at)

    def complete(self, request_id: int, at: datetime) -> None:
        with self.uow.read() as session:
            request = session.get(ServiceRequest, request_id)
            lists = aftersales.checklists(session)
            kinds, have = list(request.claim_kinds or []), set(request.materials_received or [])
        from portal.domain.aftersales import required_materials
        aftersales_claims.add_materials(self.uow, actor=self.who(), request_id=request_id,
                                        expected_version=self.version(request_id),
                                        materials=[m for m in required_materials(lists, kinds) if m not in have],
                                        now=at)

    def hand_over(self, request_id: int, at: datetime, policy: dict) -> None:
        with self.uow.read() as session:
            items = list(session.get(ServiceRequest, request_id).materials_received or [])
        aftersales_claims.hand_over(self.uow, actor=self.handler, request_id=request_id,
                                    expected_version=self.version(request_id), insurer=policy["insurer"],
                                    handed_on=at.date(), items=items,
                                    receipt=f"保险公司签收回执 HS{at:%Y%m%d}{request_id:04d}", now=at)

    def decide(self, request_id: int, at: datetime) -> None:
        decision = self.rng.choice(["保险公司核定予以赔付，赔款将于 10 个工作日内支付至申请人账户。",
                                    "保险公司核定部分赔付，自费药品部分不予赔付，已书面说明依据。"])
        aftersales_claims.record_insurer_decision(self.uow, actor=self.handler, request_id=request_id,
                                                  expected_version=self.version(request_id), decision=decision,
                                                  told_channel="phone", now=at)

    def policy_request(self, at: datetime, kind: str, policy: dict | None = None) -> aftersales.Registered:
        policy = policy or self.policy()
        reason = self.rng.choice(SURRENDER_REASONS) if kind == "surrender" else None
        form = PolicyRequestForm(
            kind=kind, policy_number=policy["number"], insured_name=policy["insured"]["name"],
            channel=self.rng.choice(["phone", "visit", "visit", "letter"]), requester_name=policy["insured"]["name"],
            requester_phone=policy["insured"]["phone"], reason_code=reason,
            reason_text="客户家庭支出增加，无力继续缴费。" if reason == "other" else "",
            change_requested=self.rng.choice(CHANGES) if kind == "endorsement" else "")
        return aftersales_requests.register_policy_request(self.uow, actor=self.who(), form=form, now=at)

    def guide(self, request_id: int, at: datetime, kind: str, policy: dict) -> None:
        guidance = ("已告知客户退保所需材料：保险单、身份证件、银行账户信息及退保申请书。" if kind == "surrender"
                    else "已指导客户填写批改申请单，并核对需提供的证明材料。")
        address = INSURER_ADDRESS.format(n=self.rng.randint(1, 999), insurer=policy["insurer"]) \
            if kind == "surrender" else ""
        aftersales_requests.guide_request(self.uow, actor=self.who(), request_id=request_id,
                                          expected_version=self.version(request_id), guidance=guidance,
                                          insurer_address=address, now=at)

    def finish(self, request_id: int, at: datetime) -> None:
        aftersales_requests.finish_request(self.uow, actor=self.who(), request_id=request_id,
                                           expected_version=self.version(request_id),
                                           comment="保险公司已办理完毕，电话告知客户。", now=at)


def seed_desk(uow: UnitOfWork, *, rng: random.Random, fake: Faker, now: datetime, policies: int,
              requests: int) -> dict[str, int]:
    """Import `policies` policies (at least MIN_POLICIES) and make `requests` requests (at least the
    CORE_REQUESTS scripted ones) over the last four weeks. Returns counts by kind and state."""
    rows, register = _policies(rng, fake, now.date() - timedelta(days=29), policies)
    imported = _import(uow, rows, now - timedelta(days=29))
    desk = _Desk(uow, rng, fake, now, register)
    made: dict = {}
    plans = _core(desk, made) + [_extra(desk) for _ in range(max(0, requests - CORE_REQUESTS))]
    for at, carry in sorted(plans, key=lambda plan: plan[0]):   # numbered in the order they came in
        carry(at)
    _complaints_naming(uow, desk, [made["overridden"], made["major_overdue"]])
    counts = {"policies": imported}
    with uow.read() as session:
        for kind, state in session.execute(select(ServiceRequest.kind, ServiceRequest.state)):
            counts[f"{kind}.{state}"] = counts.get(f"{kind}.{state}", 0) + 1
    return counts


def _import(uow: UnitOfWork, rows: list[dict], at: datetime) -> int:
    """The register imported by the demo administrator, as from a file: the number of policies made."""
    result = policies.import_policies(uow, actor=load_actor(uow, "admin"), rows=rows, now=at,
                                      source="演示数据 保单登记簿.xlsx")
    if not result.saved:
        raise RuntimeError(f"the demo's policy register was refused: {result.refused[:3]}")
    return result.created + result.replaced


Plan = tuple[datetime, Callable[[datetime], None]]


def _core(d: _Desk, made: dict[str, aftersales.Registered]) -> list[Plan]:
    """The scripted requests, each a registration time and what happens to it from then on; `made` keeps
    the reports that applications follow and complaints name."""
    def received(at: datetime) -> None:                      # a report that awaits the clerk's decision
        d.report(at, d.policy("accident_medical"), "accident_medical", event_hours=20)

    def refused(at: datetime) -> None:                       # a lapsed policy, a cause it never covered
        lapsed = d.policy(None, at.date(), lapsed=True)
        cause = next(c for c in EVENTS if c not in lapsed["risks"])
        done = d.report(at, lapsed, cause, event_hours=24 * 4)
        d.refuse(done.id, at + timedelta(minutes=25))

    def too_late(at: datetime) -> None:                      # after the product's 30-day claim limit
        done = d.report(at, d.policy("property_damage", (at - timedelta(days=45)).date()), "property_damage",
                        event_hours=24 * 45)
        d.refuse(done.id, at + timedelta(minutes=30))

    def overridden(at: datetime) -> None:                    # after the limit too, taken in hand with a reason
        policy = d.policy("illness_hospital", (at - timedelta(days=195)).date())
        made["overridden"] = done = d.report(at, policy, "illness_hospital", event_hours=24 * 195)
        made["overridden_policy"] = policy
        d.accept(done.id, at + timedelta(hours=1), override="被保险人出院后即来报案，住院期间无法办理，经主管同意受理。")
        d.tell(done.id, d.ago(24 * 3), "客户来电询问进度，告知报案已受理，请尽快提交理赔申请材料。")

    def scene(at: datetime) -> None:                         # an accidental death reported within hours
        policy = d.policy("accident_death", at.date())
        made["scene"], made["scene_policy"] = d.report(at, policy, "accident_death", event_hours=5,
                                                       with_insurer_number=True), policy
        d.accept(made["scene"].id, at + timedelta(minutes=20))
        d.scene(made["scene"].id, at + timedelta(minutes=30))

    def major(at: datetime) -> None:                         # a major claim reported to headquarters in time
        policy = d.policy("third_party", at.date())
        made["major"], made["major_policy"] = d.report(at, policy, "third_party", event_hours=6, estimated="800000",
                                                       with_insurer_number=True), policy
        d.accept(made["major"].id, at + timedelta(minutes=30))
        d.major(made["major"].id, at + timedelta(hours=3))

    def major_overdue(at: datetime) -> None:                 # a major claim not yet reported: overdue
        made["major_overdue"] = done = d.report(at, d.policy("accident_disability", at.date()), "accident_disability",
                                                event_hours=30, disputes=("media",), litigation=True)
        d.accept(done.id, at + timedelta(hours=1))

    def incomplete(at: datetime) -> None:                    # two items missing: the customer's notice queued
        d.application(at, report=made["overridden"], policy=made["overridden_policy"], cause="illness_hospital",
                      missing=2)

    handover_overdue = d.overdue_start()

    def overdue(at: datetime) -> None:                       # completed later; not handed over in time
        waiting = d.application(at, policy=d.policy("vehicle_damage", at.date()), cause="vehicle_damage", missing=1)
        d.complete(waiting.id, handover_overdue)

    def due_soon(at: datetime) -> None:
        d.application(at, policy=d.policy("illness_hospital", at.date()), cause="illness_hospital")

    def handed(at: datetime) -> None:                        # with the insurer, awaiting its decision
        done = d.application(at, report=made["major"], policy=made["major_policy"], cause="third_party")
        d.hand_over(done.id, at + timedelta(hours=20), made["major_policy"])

    def decided(at: datetime) -> None:
        done = d.application(at, report=made["scene"], policy=made["scene_policy"], cause="accident_death")
        d.hand_over(done.id, at + timedelta(days=2), made["scene_policy"])
        d.decide(done.id, at + timedelta(days=7))

    def policy_requests(kind: str) -> list[Plan]:
        def received(at: datetime) -> None:
            d.policy_request(at, kind)

        def guided(at: datetime) -> None:
            policy = d.policy(None, at.date())
            done = d.policy_request(at, kind, policy)
            d.guide(done.id, at + timedelta(hours=2), kind, policy)

        def finished(at: datetime) -> None:
            policy = d.policy(None, at.date())
            done = d.policy_request(at, kind, policy)
            d.guide(done.id, at + timedelta(hours=1), kind, policy)
            d.finish(done.id, at + timedelta(days=2))
        return [(d.ago(2), received), (d.ago(24 * 3), guided), (d.ago(24 * 10), finished)]

    return [(d.ago(1.5), received), (d.ago(24 * 6), refused), (d.ago(24 * 5 + 3), too_late),
            (d.ago(24 * 9), overridden), (d.ago(24 * 12), scene), (d.ago(24 * 4), major), (d.ago(40), major_overdue),
            (d.ago(24 * 2), incomplete), (handover_overdue - timedelta(hours=26), overdue), (d.soon_start(), due_soon),
            (d.ago(24 * 3), handed), (d.ago(24 * 11), decided), *policy_requests("surrender"),
            *policy_requests("endorsement")]


def _extra(d: _Desk) -> Plan:
    """One more request drawn from the seed: a kind, a start in the last four weeks, each step some hours
    after the last; a step that would fall after `now` is not taken."""
    rng = d.rng
    kind = rng.choice(["claim_report", "claim_report", "claim_application", "claim_application", "surrender",
                       "endorsement"])
    return d.ago(rng.uniform(1, 24 * 27)), lambda start: _carry(d, kind, start)


def _carry(d: _Desk, kind: str, start: datetime) -> None:
    rng = d.rng
    at = start

    def later(low: float, high: float) -> datetime | None:
        nonlocal at
        at = (at + timedelta(hours=rng.uniform(low, high))).replace(second=0, microsecond=0)
        return at if at < d.now else None

    if kind == "claim_report":
        cause = rng.choice(list(EVENTS))
        failing = rng.random() < 0.2
        policy = d.policy(None, at.date(), lapsed=True) if failing else d.policy(cause, at.date())
        done = d.report(at, policy, cause, event_hours=rng.uniform(2, 24 * 10), with_insurer_number=rng.random() < 0.4,
                        estimated=str(rng.choice([5000, 20000, 80000, 300000])))
        if later(0.2, 6):
            if done.check is not None and not done.check.passed:
                d.refuse(done.id, at)
            else:
                d.accept(done.id, at)
        return
    if kind == "claim_application":
        cause = rng.choice(list(EVENTS))
        policy = d.policy(cause, at.date())
        done = d.application(at, policy=policy, cause=cause, missing=1 if rng.random() < 0.3 else 0)
        if done.missing:
            if not later(24, 24 * 4):
                return
            d.complete(done.id, at)
        if not later(4, 24 * 4) or rng.random() < 0.25:
            return
        d.hand_over(done.id, at, policy)
        if later(24 * 2, 24 * 8) and rng.random() < 0.6:
            d.decide(done.id, at)
        return
    policy = d.policy(None, at.date())
    done = d.policy_request(at, kind, policy)
    if later(1, 30):
        d.guide(done.id, at, kind, policy)
        if later(4, 24 * 5):
            d.finish(done.id, at)


def _complaints_naming(uow: UnitOfWork, d: _Desk, reports: list[aftersales.Registered]) -> None:
    """Customers who complain about a claim report still in hand: the complaint names its 报案号."""
    products = {p["number"]: p["product"].name for p in d.register}
    for report in reports:
        with uow.read() as session:
            request = session.get(ServiceRequest, report.id)
            received = min(d.now - timedelta(hours=2), request.received_at + timedelta(hours=30))
            form = RegistrationForm(
                customer_name=request.insured_name, customer_gender="female", customer_age_band="45_54",
                customer_occupation="职员", customer_phone=request.contact_phone, customer_id_number="",
                customer_address=request.contact_address, customer_email="", policy_number=request.policy_number,
                product=products.get(request.policy_number, ""), insured_name=request.insured_name, claim_report_number=request.number,
                received_at=received, channel="phone", category="claim_speed",
                description="报案后迟迟没有收到理赔进度的答复，客户多次来电未果。", product_involved="",
                expected_resolution="尽快告知理赔进度并完成理赔。", severity="general",
                clerk_opinion="已在售后受理查得报案记录，建议核实进度并答复客户。", urgency="normal",
                preferred_contact="phone")
        complaints.register_complaint(uow, actor=d.clerk, form=form, attachments=[], now=received + timedelta(minutes=10))
