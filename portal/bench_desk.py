"""The benchmark's service desk (issue 17): as many policies (with their persons and covered risks) and as
many requests as complaints, loaded in bulk as the complaints are — numpy-built columns, executemany on
SQLite, COPY on PostgreSQL — with each request's stored clock computed from the working calendar the way
`services/desk_clocks.py` computes one (`desk_due`, `desk_soon`), its history and its number series.

Policies are numbered like the complaints' policy numbers (P + 10 digits), so a lookup finds the complaints
naming a policy too; insured people's names come from a pool (a name is shared by about ten people, as
common names are), each with an ID number of their own.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Table

from portal.demo_desk import EVENTS, INSURERS, PRODUCTS
from portal.domain.aftersales import NUMBER_PREFIX, RequestKind
from portal.domain.calendar import WorkingCalendar
from portal.persistence.models import ServiceRequest

S = 1_000_000_000
HOUR, DAY = 3600 * S, 86400 * S
NAT = np.iinfo(np.int64).min
YEARS = 3
TABLES = ("policies", "policy_persons", "policy_risks", "service_requests", "request_events")
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文辉力")
MATERIALS = ["policy_original", "premium_receipt", "identity_documents", "application_form"]


@dataclass
class DeskSeeded:
    policies: int
    persons: int
    requests: int
    events: int
    seconds: float


def _stamp(ns: np.ndarray) -> np.ndarray:
    from portal.bench import _stamp as stamp
    return stamp(ns)


def _days(ns: np.ndarray) -> np.ndarray:
    return pd.to_datetime(ns).strftime("%Y-%m-%d").to_numpy(dtype=object)


def _defaults(table: Table, given: pd.DataFrame) -> pd.DataFrame:
    """The columns the frame leaves out, at the model's Python default (a list or dict as JSON text)."""
    out = given.copy()
    for column in table.columns:
        if column.name in out or column.primary_key:
            continue
        default = None if column.default is None else column.default.arg
        if callable(default):
            default = default(None)
        if isinstance(default, (list, dict)):
            default = json.dumps(default)
        out[column.name] = default
    return out


def _id_numbers(ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Resident ID numbers of the right form: a region, a birth date, a serial and the ISO 7064 check digit."""
    region = 110101 + (ids // 1000) % 500
    born = np.datetime64("1950-01-01") + rng.integers(0, 365 * 55, ids.size).astype("timedelta64[D]")
    body = np.char.add(np.char.add(region.astype(str), pd.to_datetime(born).strftime("%Y%m%d").to_numpy(dtype=str)),
                       np.char.zfill((ids % 1000).astype(str), 3))
    body = body.astype("<U17")
    digits = body.view(np.uint32).reshape(ids.size, 17).astype(np.int64) - ord("0")
    weights = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2))
    check = np.array(list("10X98765432"))[(digits * weights).sum(axis=1) % 11]
    return np.char.add(body, check).astype(object)


def _clock(start: np.ndarray, stop: np.ndarray, unit: str, target: int, calendar: WorkingCalendar,
           fraction: float) -> dict[str, np.ndarray]:
    """The stored clock of each request (NAT start: none), as `desk_clocks.start` and `stop` store it."""
    started = start != NAT
    if unit == "hours":
        due, missing = start + target * HOUR, np.zeros(start.size, bool)
    elif unit == "days":                                  # calendar days: to the end of the last one
        due, missing = (np.where(started, start, 0) // DAY + target + 1) * DAY, np.zeros(start.size, bool)
    else:
        last, missing = calendar.add_working_days_many(np.where(started, start, 0) // DAY, target)
        due = (last + 1) * DAY
    soon = due - ((due - start) * fraction).astype(np.int64)
    missing = missing & started
    due = np.where(started & ~missing, due, NAT)
    soon = np.where(started & ~missing, soon, NAT)
    stopped = started & (stop != NAT)
    late = np.where(stopped & ~missing, stop > due, None).astype(object)
    late[~stopped | missing] = None
    return {"clock_started_at": np.where(started, start, NAT), "clock_due_at": due, "clock_soon_at": soon,
            "clock_stopped_at": np.where(stopped, stop, NAT), "clock_late": late, "clock_calendar_missing": missing}


def seed(engine: Engine, bulk, size: int, now_ns: int, rng: np.random.Generator, calendar: WorkingCalendar,  # noqa: ANN001
         fraction: float, clerk: int, handler: int, clocks: dict[str, tuple[str, int]]) -> DeskSeeded:
    """Load `size` policies and `size` requests (`bulk(engine, table, frame)` appends rows)."""
    began = time.perf_counter()
    n = size
    # products and policies
    products = pd.DataFrame({"id": np.arange(1, len(PRODUCTS) + 1), "code": [p.code for p in PRODUCTS],
                             "name": [p.name for p in PRODUCTS], "claim_limit": [p.limit for p in PRODUCTS],
                             "claim_limit_unit": [p.unit for p in PRODUCTS], "active": True})
    bulk(engine, "products", products)
    ids = np.arange(1, n + 1)
    product = rng.integers(0, len(PRODUCTS), n)
    years = np.array([p.years for p in PRODUCTS])[product]
    start = now_ns - rng.integers(0, (YEARS + 1) * 365, n) * DAY
    start = start - start % DAY
    end = start + (years * 365 - 1) * DAY
    sums = np.array([max(p.sums) for p in PRODUCTS])[product] // rng.choice([1, 2, 4], n)
    numbers = np.char.add("P", np.char.zfill(ids.astype(str), 10)).astype(object)
    stamp = _stamp(np.full(n, now_ns - 30 * DAY))
    policies = pd.DataFrame({"id": ids, "policy_number": numbers, "insurer": np.array(INSURERS, dtype=object)[
        rng.integers(0, len(INSURERS), n)], "product_id": product + 1, "sum_insured": sums.astype(np.int64),
        "start_date": _days(start), "end_date": _days(end), "created_at": stamp, "updated_at": stamp, "version": 1})
    bulk(engine, "policies", policies)
    risk_rows = [pd.DataFrame({"policy_id": ids[product == k], "risk_code": code})
                 for k, p in enumerate(PRODUCTS) for code in p.risks]
    bulk(engine, "policy_risks", pd.concat(risk_rows, ignore_index=True))
    # persons: the insured, the policyholder (half the time the insured again), a beneficiary of life cover
    names = np.array([s + a + b for s in SURNAMES for a in GIVEN for b in GIVEN], dtype=object)
    pool = max(1, n // 10)
    insured_name = names[rng.integers(0, min(pool, names.size), n)]
    insured_id = _id_numbers(ids, rng)
    phone = np.char.add("139", np.char.zfill((ids % 100_000_000).astype(str), 8)).astype(object)
    same = rng.random(n) < 0.5
    holder_name = np.where(same, insured_name, names[rng.integers(0, names.size, n)])
    holder_id = np.where(same, insured_id, _id_numbers(ids + n, rng))
    life = np.isin(product, [k for k, p in enumerate(PRODUCTS) if p.code in ("ACC-01", "CI-01", "LIFE-01")])
    persons = pd.concat([
        pd.DataFrame({"policy_id": ids, "role": "insured", "name": insured_name, "id_number": insured_id,
                      "phone": phone}),
        pd.DataFrame({"policy_id": ids, "role": "policyholder", "name": holder_name, "id_number": holder_id,
                      "phone": phone}),
        pd.DataFrame({"policy_id": ids[life], "role": "beneficiary", "name": names[rng.integers(0, names.size,
                                                                                             int(life.sum()))],
                      "id_number": "", "phone": ""})], ignore_index=True)
    persons.insert(0, "id", np.arange(1, len(persons) + 1))
    bulk(engine, "policy_persons", persons)
    # requests over three years, each carried as far as its steps' times allow
    kind = rng.choice(np.array([k.value for k in RequestKind], dtype=object), n, p=[0.4, 0.3, 0.15, 0.15])
    received = np.sort(rng.integers(now_ns - YEARS * 365 * DAY, now_ns - HOUR, n))
    received = received - received % (60 * S)
    rid = np.arange(1, n + 1)
    policy = rng.integers(1, n + 1, n)
    report, application = kind == "claim_report", kind == "claim_application"
    desk = ~report & ~application
    step1 = received + np.where(report, rng.integers(HOUR // 5, 6 * HOUR, n),          # report decided
                                np.where(application, np.where(rng.random(n) < 0.3, rng.integers(DAY, 4 * DAY, n), 0),
                                         rng.integers(HOUR, 30 * HOUR, n)))             # complete / guided
    step2 = step1 + np.where(application, rng.integers(4 * HOUR, 5 * DAY, n), rng.integers(4 * HOUR, 5 * DAY, n))
    step3 = step2 + rng.integers(2 * DAY, 20 * DAY, n)                                    # the insurer decides
    stuck = (rng.random(n) < 0.01) & (received < now_ns - 30 * DAY)                       # a few never moved on
    reached1 = (step1 <= now_ns) & ~(stuck & ~application)          # a stuck report or request: never taken up
    reached2 = reached1 & (step2 <= now_ns) & ~report & ~(stuck & application)   # an application never handed over
    reached3 = reached2 & (step3 <= now_ns) & application
    refused = report & (rng.random(n) < 0.08)
    major = report & ~refused & (rng.random(n) < 0.02)
    state = np.full(n, "received", dtype=object)
    state[report & reached1] = "reported"
    state[refused & reached1] = "refused"
    state[application] = "incomplete"
    state[application & reached1] = "complete"
    state[application & reached2] = "handed_over"
    state[application & reached3] = "decided"
    state[desk & reached1] = "guided"
    state[desk & reached2] = "done"
    # the one running clock of each: a major report's 24 hours, the hand-over, a surrender or endorsement
    clock_key = np.full(n, None, dtype=object)
    clock_key[major] = "major_report"
    clock_key[application & reached1] = "handover"
    clock_key[kind == "surrender"] = "surrender"
    clock_key[kind == "endorsement"] = "endorsement"
    clock_start = np.full(n, NAT)
    clock_stop = np.full(n, NAT)
    major_stop = received + rng.integers(HOUR, 30 * HOUR, n)
    clock_start[major] = received[major]
    clock_stop[major] = np.where(major_stop[major] <= now_ns, major_stop[major], NAT)
    handover = application & reached1
    clock_start[handover] = step1[handover]
    clock_stop[handover] = np.where(reached2[handover], step2[handover], NAT)
    clock_start[desk] = received[desk]
    clock_stop[desk] = np.where(reached2[desk], step2[desk], NAT)
    columns: dict[str, np.ndarray] = {}
    for key in ("clock_started_at", "clock_due_at", "clock_soon_at", "clock_stopped_at"):
        columns[key] = np.full(n, NAT)
    columns["clock_late"] = np.full(n, None, dtype=object)
    columns["clock_calendar_missing"] = np.zeros(n, bool)
    columns["clock_unit"] = np.full(n, None, dtype=object)            # the rule each clock started with
    columns["clock_target"] = np.full(n, None, dtype=object)
    for key, (unit, target) in clocks.items():
        where = clock_key == key
        columns["clock_unit"][where], columns["clock_target"][where] = unit, target
        if where.any():
            for name, values in _clock(clock_start[where], clock_stop[where], unit, target, calendar,
                                       fraction).items():
                columns[name][where] = values
    # numbers: each kind's monthly series, in the order received
    month = pd.to_datetime(received).strftime("%y%m").to_numpy(dtype=object)
    prefix = pd.Series(kind).map({k.value: NUMBER_PREFIX[k] for k in RequestKind}).to_numpy(dtype=object)
    period = prefix + month
    serial = pd.Series(period).groupby(period).cumcount().to_numpy() + 1
    number = period + "-" + np.char.zfill(serial.astype(str), 4).astype(object)
    causes = np.array(list(EVENTS), dtype=object)
    cause = causes[rng.integers(0, causes.size, n)]
    failures = np.where(refused, json.dumps(["outside_period", "not_covered"]), "[]").astype(object)
    materials = np.where(application, json.dumps(MATERIALS + ["medical_history"]), "[]").astype(object)
    requests = pd.DataFrame({
        "id": rid, "kind": kind, "number": number, "state": state, "version": 1, "policy_id": policy,
        "policy_number": numbers[policy - 1], "insured_name": insured_name[policy - 1],
        "channel": rng.choice(np.array(["phone", "visit", "fax", "letter"], dtype=object), n, p=[0.6, 0.3, 0.05, 0.05]),
        "received_at": received, "registered_by_id": clerk,
        "event_at": np.where(report, received - rng.integers(HOUR, 10 * DAY, n), NAT),
        "event_place": np.where(report, "基准数据：事故地点", "").astype(object),
        "cause_code": np.where(report, cause, "").astype(object),
        "event_description": np.where(report, "基准数据：被保险人发生保险事故。", "").astype(object),
        "contact_name": insured_name[policy - 1], "contact_phone": phone[policy - 1],
        "contact_relation": "self", "contact_id_number": np.where(application, insured_id[policy - 1], "").astype(object),
        "check_failures": failures, "refused_at": np.where(refused & reached1, step1, NAT),
        "copies_archived": refused & reached1, "originals_returned": refused & reached1,
        "estimated_amount": np.where(major, 800000, np.where(report, 20000, 0)),
        "major_reasons": np.where(major, json.dumps(["amount"]), "[]").astype(object),
        "major_reported_at": np.where(major, columns["clock_stopped_at"], NAT),
        "right_verified": application, "claim_kinds": np.where(application, json.dumps(["medical"]), "[]").astype(object),
        "materials_received": materials,
        "complete_at": np.where(application & reached1, step1, NAT),
        "handed_over_at": np.where(application & reached2, step2, NAT),
        "handover_insurer": np.where(application & reached2, INSURERS[0], "").astype(object),
        "handover_items": np.where(application & reached2, materials, "[]").astype(object),
        "handover_receipt": np.where(application & reached2, "基准数据：签收回执", "").astype(object),
        "insurer_decision": np.where(reached3, "保险公司核定予以赔付。", "").astype(object),
        "decided_at": np.where(reached3, step3, NAT),
        "reason_code": np.where(kind == "surrender", "financial", "").astype(object),
        "change_requested": np.where(kind == "endorsement", "变更投保人联系地址。", "").astype(object),
        "guidance": np.where(desk & reached1, "已告知客户所需材料。", "").astype(object),
        "guided_at": np.where(desk & reached1, step1, NAT), "done_at": np.where(desk & reached2, step2, NAT),
        "clock_key": clock_key, **columns})
    requests["estimated_amount"] = requests["estimated_amount"].where(report, None)
    times = [c for c in requests.columns if c.endswith("_at")]
    for column in times:
        requests[column] = _stamp(requests[column].to_numpy(dtype=np.int64))
    requests = _defaults(ServiceRequest.__table__, requests.drop(columns=[          # a schema without them
        c for c in ("clock_unit", "clock_target") if c not in ServiceRequest.__table__.columns]))
    for part in range(0, n, 250_000):
        bulk(engine, "service_requests", requests.iloc[part:part + 250_000])
    counters = pd.DataFrame({"period": period, "serial": serial}).groupby("period")["serial"].max()
    bulk(engine, "number_counters", pd.DataFrame({"period": counters.index.to_numpy(dtype=object),
                                                  "last_serial": counters.to_numpy()}))
    # history: registered, then each step taken
    actions = [
        (np.ones(n, bool), received, "desk.register", None,
         np.where(application, np.where(reached1 & (step1 == received), "complete", "incomplete"),
                  "received").astype(object), clerk),
        (report & reached1, step1, np.where(refused, "desk.refuse_report", "desk.accept_report").astype(object),
         "received", state, clerk),
        (application & reached1 & (step1 > received), step1, "desk.materials", "incomplete", "complete", clerk),
        (application & reached2, step2, "desk.hand_over", "complete", "handed_over", handler),
        (reached3, step3, "desk.decision", "handed_over", "decided", handler),
        (desk & reached1, step1, "desk.guided", "received", "guided", clerk),
        (desk & reached2, step2, "desk.done", "guided", "done", clerk)]
    events = []
    for mask, at, action, before, after, actor in actions:
        where = np.flatnonzero(mask)
        pick = lambda v: (v[where] if isinstance(v, np.ndarray) else v)  # noqa: E731
        events.append(pd.DataFrame({"request_id": rid[where], "actor_id": actor, "actor_label": "bench",
                                    "at": at[where], "action": pick(action), "from_state": pick(before),
                                    "to_state": pick(after), "comment": "", "changes": "{}"}))
    history = pd.concat(events, ignore_index=True).sort_values(["request_id", "at"], kind="stable")
    history.insert(0, "id", np.arange(1, len(history) + 1))
    history["at"] = _stamp(history["at"].to_numpy(dtype=np.int64))
    for part in range(0, len(history), 500_000):
        bulk(engine, "request_events", history.iloc[part:part + 500_000])
    return DeskSeeded(n, len(persons), n, len(history), time.perf_counter() - began)

