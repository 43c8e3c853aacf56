"""The policy register (issue 17) on both backends: files imported (CSV; Excel of one sheet or of two
sheets), all or nothing with each refused cell's reason, a re-import replacing a policy; one policy edited;
the one lookup by policy number, name or ID number with every request and complaint, an ambiguous name,
no policy, the masking table and the audit trail."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, update

from portal.adapters.policy_files import PolicyFileRefused, read_policy_file
from portal.domain.aftersales import ClaimLimit, LimitUnit, PolicyTerms
from portal.domain.errors import ConcurrentChange, DomainError, PermissionDenied, ValidationFailed
from portal.persistence.models import (Complaint, DeskChoice, Event, MaskingRule, Policy, PolicyPerson, PolicyRisk, Product,
                                       ServiceRequest)
from portal.services import policies
from tests.conftest import T0
from tests.services.test_handling import accepted

NOW = T0 + timedelta(days=1)
HOLDER_ID, INSURED_ID, OTHER_ID, THIRD_ID = ("11010519491231002X", "110105198001011238", "440304199002153452",
                                             "310115197511205679")
HEADER = ["保单号", "承保公司", "产品代码", "产品名称", "申请时效", "时效单位", "保险金额", "起保日期", "终止日期",
          "保障风险", "角色", "姓名", "身份证号", "电话"]
POLICY_A = ["PA-0001", "中国人寿", "ACC", "意外伤害保险", "2", "年", "200,000", "2025/01/01", "2025/12/31",
            "accident_death;accident_medical"]
POLICY_B = ["PB-0002", "平安财险", "CAR", "机动车辆保险", "30", "天", "500000", "2025-03-01", "2026-02-28",
            "vehicle_damage、third_party"]
ROWS = [POLICY_A + ["投保人", "王大明", HOLDER_ID, "13911112222"],
        POLICY_A + ["被保险人", "王小明", INSURED_ID, ""],
        POLICY_A + ["受益人", "王大明", "", ""],
        POLICY_B + ["被保险人", "赵敏", OTHER_ID, "13800001111"]]


def csv_bytes(rows, header=HEADER, encoding="gb18030") -> bytes:  # noqa: ANN001
    lines = [",".join(f'"{c}"' if "," in c else c for c in row) for row in [header, *rows]]
    return ("\n".join(lines) + "\n").encode(encoding)


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def imported(uow, people, rows=ROWS, now=NOW):  # noqa: ANN001, ANN201
    result = policies.import_policies(uow, actor=people.admin, rows=read_policy_file("p.csv", csv_bytes(rows)),
                                      now=now, source="p.csv")
    assert result.saved, result.refused
    return result


def counts(uow) -> tuple[int, int, int]:  # noqa: ANN001
    with uow.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Policy, PolicyPerson, PolicyRisk))


def events(uow, action: str) -> list[Event]:  # noqa: ANN001
    with uow.read() as session:
        return list(session.scalars(select(Event).where(Event.action == action).order_by(Event.id)))


def policy_id(uow, number: str) -> int:  # noqa: ANN001
    with uow.read() as session:
        return session.scalar(select(Policy.id).where(Policy.policy_number == number))


# -- the import -----------------------------------------------------------------------------------------


def test_a_gb18030_csv_is_imported_with_its_policies_persons_risks_products_and_one_audit_event(uow, people):
    result = imported(uow, people)
    assert (result.rows, result.created, result.replaced, result.persons) == (4, 2, 0, 4)
    assert result.products_created == ("ACC", "CAR") and result.products_updated == ()
    assert counts(uow) == (2, 4, 4)
    with uow.read() as session:
        terms = policies.policy_terms(session, policy_id(uow, "PA-0001"))
        car = session.scalar(select(Product).where(Product.code == "CAR"))
        assert (car.name, car.claim_limit, car.claim_limit_unit) == ("机动车辆保险", 30, "days")
        persons = session.execute(select(PolicyPerson.role, PolicyPerson.name).join(Policy)
                                  .where(Policy.policy_number == "PA-0001").order_by(PolicyPerson.id)).all()
        assert [tuple(p) for p in persons] == [("policyholder", "王大明"), ("insured", "王小明"), ("beneficiary", "王大明")]
        assert session.scalar(select(Policy.sum_insured).where(Policy.policy_number == "PA-0001")) == Decimal("200000")
    assert terms == PolicyTerms(date(2025, 1, 1), date(2025, 12, 31), frozenset({"accident_death", "accident_medical"}),
                                ClaimLimit(2, LimitUnit.YEARS))
    [event] = events(uow, "policies.import")
    assert event.changes["created"] == 2 and event.changes["persons"] == 4 and event.changes["source"] == "p.csv"
    assert event.changes["products_created"] == ["ACC", "CAR"]


def test_a_utf8_csv_with_english_keys_and_a_bom_is_read_like_the_chinese_one():
    keys = ["policy_number", "insurer", "product_code", "product_name", "claim_limit", "claim_limit_unit",
            "sum_insured", "start_date", "end_date", "risks", "role", "name", "id_number", "phone"]
    rows = read_policy_file("p.csv", csv_bytes([POLICY_B[:4] + ["1", "years"] + POLICY_B[6:]
                                                + ["insured", "赵敏", OTHER_ID, ""]], header=keys,
                                               encoding="utf-8-sig"))
    assert rows[0]["policy_number"] == "PB-0002" and rows[0]["claim_limit_unit"] == "years"
    assert rows[0]["role"] == "insured" and rows[0]["row"] == 2


def test_an_excel_file_of_one_sheet_is_imported(uow, people):
    sheet = [HEADER, *[[*row[:6], 200000 if i < 3 else 500000.0, date(2025, 1, 1) if i < 3 else "2025-03-01",
                        date(2025, 12, 31) if i < 3 else "2026-02-28", *row[9:]] for i, row in enumerate(ROWS)]]
    rows = read_policy_file("p.xlsx", xlsx_bytes({"Sheet1": sheet}))
    result = policies.import_policies(uow, actor=people.admin, rows=rows, now=NOW)
    assert result.saved, result.refused
    assert (result.created, result.persons) == (2, 4) and counts(uow) == (2, 4, 4)


def test_an_excel_file_of_two_sheets_保单_and_人员_is_joined_by_policy_number(uow, people):
    book = {"保单": [HEADER[:10], POLICY_A, POLICY_B],
            "人员": [["保单号", "角色", "姓名", "身份证号", "电话"], ["PA-0001", "投保人", "王大明", HOLDER_ID, ""],
                   ["PA-0001", "被保险人", "王小明", INSURED_ID, ""], ["PB-0002", "被保险人", "赵敏", OTHER_ID, ""]]}
    result = policies.import_policies(uow, actor=people.admin, rows=read_policy_file("p.xlsx", xlsx_bytes(book)),
                                      now=NOW)
    assert result.saved, result.refused
    assert (result.created, result.persons) == (2, 3) and counts(uow) == (2, 3, 4)


def test_two_sheets_name_the_sheet_and_line_of_each_refusal(uow, people):
    book = {"policies": [HEADER[:10], POLICY_A, [*POLICY_B[:7], "2025-03-01", "2025-02-01", POLICY_B[9]]],
            "persons": [["policy_number", "role", "name", "id_number", "phone"], ["PA-0001", "insured", "王小明", INSURED_ID, ""],
                        ["PX-9999", "insured", "无名", THIRD_ID, ""], ["PB-0002", "insured", "赵敏", OTHER_ID, ""]]}
    result = policies.import_policies(uow, actor=people.admin, rows=read_policy_file("p.xlsx", xlsx_bytes(book)),
                                      now=NOW)
    assert [(r.sheet, r.row, r.column, r.message.key) for r in result.refused] == [
        ("persons", 3, "policy_number", "policies.file.not_on_policies_sheet"),
        ("policies", 3, "end_date", "policies.end_before_start")]
    assert counts(uow) == (0, 0, 0)


def test_a_file_with_refused_rows_saves_nothing_and_lists_each_row_column_and_reason(uow, people):
    bad = [POLICY_A + ["投保人", "王大明", HOLDER_ID, "13911112222"],
           POLICY_A + ["被保险人", "王小明", "110105198001011239", ""],                  # wrong check digit
           [*POLICY_A[:1], "中国人保", *POLICY_A[2:]] + ["受益人", "王大明", "", ""],     # disagrees with line 2
           [*POLICY_B[:6], "-5", "2025/02/30", *POLICY_B[8:]] + ["被保险人", "赵敏", OTHER_ID, "12345"],
           ["PC-0003", "平安", "HEALTH", "", "", "", "1000", "2025/01/01", "2025/12/31", "illness_hospital",
            "投保人", "钱多多", THIRD_ID, ""],
           ["PD-0004", "平安", "ACC", "意外伤害保险", "2", "月", "1000", "2025/01/01", "2025/12/31", "burns",
            "舅舅", "孙", "", ""]]
    result = policies.import_policies(uow, actor=people.admin, rows=read_policy_file("p.csv", csv_bytes(bad)), now=NOW)
    assert not result.saved
    assert [(r.row, r.column, r.message.key) for r in result.refused] == [
        (3, "id_number", "form.bad_id_number"),
        (4, "insurer", "policies.disagrees"),
        (5, "sum_insured", "policies.bad_sum_insured"),
        (5, "start_date", "policies.bad_date"),
        (5, "phone", "form.bad_mobile"),
        (6, "product_name", "policies.new_product_needs_name"),
        (6, "role", "policies.no_insured"),
        (7, "claim_limit_unit", "policies.bad_limit_unit"),
        (7, "role", "policies.bad_role")]
    assert result.refused[1].message.params == {"row": 2}
    assert counts(uow) == (0, 0, 0) and events(uow, "policies.import") == []
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 0


def test_an_unknown_or_retired_risk_code_is_refused_and_a_risk_name_is_not_a_code(uow, people):
    with uow.write() as session:
        session.execute(update(DeskChoice).where(DeskChoice.list_key == "risk", DeskChoice.code == "burns")
                        .values(active=False))
    rows = [[*POLICY_A[:9], "accident_death;meteor"] + ["被保险人", "王小明", INSURED_ID, ""],
            [*POLICY_B[:9], "burns"] + ["被保险人", "赵敏", OTHER_ID, ""],
            ["PC-0003", "平安", "ACC", "意外伤害保险", "2", "年", "1000", "2025/01/01", "2025/12/31", "意外身故",
             "被保险人", "钱多多", THIRD_ID, ""]]
    result = policies.import_policies(uow, actor=people.admin, rows=read_policy_file("p.csv", csv_bytes(rows)), now=NOW)
    assert [(r.row, r.column, r.message.key, r.message.params) for r in result.refused] == [
        (2, "risks", "policies.unknown_risk", {"codes": "meteor"}),
        (3, "risks", "policies.unknown_risk", {"codes": "burns"}),
        (4, "risks", "policies.unknown_risk", {"codes": "意外身故"})]
    assert counts(uow) == (0, 0, 0)


def test_a_file_that_is_no_policy_file_is_refused_before_any_row_is_read():
    with pytest.raises(PolicyFileRefused) as missing:
        read_policy_file("p.csv", "姓名,电话\n王,139\n".encode())
    assert missing.value.message.key == "policies.file.missing_columns" and "policy_number" in missing.value.missing
    with pytest.raises(PolicyFileRefused):
        read_policy_file("p.xlsx", b"not a workbook")
    with pytest.raises(PolicyFileRefused):
        read_policy_file("p.pdf", b"%PDF")


def test_a_reimport_replaces_the_policy_its_risks_and_persons_keeps_its_id_and_updates_the_product(uow, people):
    imported(uow, people)
    first = policy_id(uow, "PA-0001")
    with uow.write() as session:       # a request registered on the policy stays with it
        session.add(ServiceRequest(kind="claim_report", number="BA2510-0001", state="received", policy_id=first,
                                   policy_number="PA-0001", channel="phone", received_at=NOW))
    again = [["PA-0001", "中国人寿", "ACC", "意外伤害保险", "3", "年", "300000", "2025/01/01", "2026/06/30",
              "accident_disability"] + ["被保险人", "王小明", INSURED_ID, "13700002222"]]
    result = imported(uow, people, again, now=NOW + timedelta(hours=1))
    assert (result.created, result.replaced, result.persons) == (0, 1, 1)
    assert [(c.code, c.before["claim_limit"], c.after["claim_limit"]) for c in result.products_updated] == [("ACC", 2, 3)]
    assert policy_id(uow, "PA-0001") == first
    with uow.read() as session:
        policy = session.get(Policy, first)
        assert (policy.sum_insured, policy.end_date, policy.version) == (Decimal("300000"), date(2026, 6, 30), 2)
        assert set(session.scalars(select(PolicyRisk.risk_code).where(PolicyRisk.policy_id == first))) == {
            "accident_disability"}
        assert list(session.scalars(select(PolicyPerson.name).where(PolicyPerson.policy_id == first))) == ["王小明"]
        assert session.scalar(select(ServiceRequest.policy_id)) == first
    assert counts(uow) == (2, 2, 3)
    assert events(uow, "policies.import")[-1].changes["products_updated"][0]["after"]["claim_limit"] == 3


def test_only_an_administrator_imports(uow, people):
    with pytest.raises(PermissionDenied):
        policies.import_policies(uow, actor=people.clerk, rows=read_policy_file("p.csv", csv_bytes(ROWS)), now=NOW)
    assert counts(uow) == (0, 0, 0)


# -- editing one policy ---------------------------------------------------------------------------------


def test_the_administrator_edits_a_policy_checked_versioned_and_audited(uow, people):
    imported(uow, people)
    pid = policy_id(uow, "PB-0002")
    with pytest.raises(ValidationFailed) as refused:
        policies.update_policy(uow, actor=people.admin, policy_id=pid, expected_version=1, insurer="",
                               product_code="CAR", sum_insured="0", start_date=date(2025, 3, 1),
                               end_date=date(2025, 2, 1), risks=["vehicle_damage", "meteor"], now=NOW)
    assert set(refused.value.errors) == {"insurer", "sum_insured", "end_date", "risks"}
    version = policies.update_policy(uow, actor=people.admin, policy_id=pid, expected_version=1, insurer="平安财险",
                                     product_code="CAR", sum_insured="600000", start_date=date(2025, 3, 1),
                                     end_date=date(2026, 2, 28), risks=["vehicle_damage"], now=NOW)
    assert version == 2
    with uow.read() as session:
        assert policies.policy_terms(session, pid).covered == frozenset({"vehicle_damage"})
    [event] = events(uow, "policies.update")
    assert event.changes["before"] == {"sum_insured": "500000.00", "risks": ["third_party", "vehicle_damage"]}
    assert event.changes["after"] == {"sum_insured": "600000.00", "risks": ["vehicle_damage"]}
    assert "PB-0002" not in str(event.changes)
    with pytest.raises(ConcurrentChange):
        policies.update_policy(uow, actor=people.admin, policy_id=pid, expected_version=1, insurer="平安财险",
                               product_code="CAR", sum_insured="1", start_date=date(2025, 3, 1),
                               end_date=date(2026, 2, 28), risks=["vehicle_damage"], now=NOW)


def test_persons_are_edited_only_by_an_administrator_who_sees_them(uow, people):
    imported(uow, people)
    pid = policy_id(uow, "PB-0002")
    kwargs = dict(policy_id=pid, expected_version=1, insurer="平安财险", product_code="CAR", sum_insured="500000",
                  start_date="2025-03-01", end_date="2026-02-28", risks="vehicle_damage;third_party", now=NOW,
                  persons=[{"role": "insured", "name": "赵敏", "id_number": OTHER_ID, "phone": "13800002222"}])
    with pytest.raises(PermissionDenied):
        policies.update_policy(uow, actor=people.admin, **kwargs)
    with uow.write() as session:
        session.execute(update(MaskingRule).where(MaskingRule.audience == "admin")
                        .values(name="shown", phone="shown", id_number="shown"))
    with pytest.raises(ValidationFailed) as refused:
        policies.update_policy(uow, actor=people.admin, **{**kwargs, "persons": [{"role": "policyholder", "name": "赵敏"}]})
    assert set(refused.value.errors) == {"persons"}
    assert policies.update_policy(uow, actor=people.admin, **kwargs) == 2
    with uow.read() as session:
        assert session.scalar(select(PolicyPerson.phone).where(PolicyPerson.policy_id == pid)) == "13800002222"


def test_policy_terms_of_no_policy_is_none_and_a_product_without_limit_has_none(uow, people):
    imported(uow, people, [["PC-0003", "平安", "HEALTH", "健康险", "", "", "1000", "2025/01/01", "2025/12/31",
                            "illness_hospital", "被保险人", "钱多多", THIRD_ID, ""]])
    with uow.read() as session:
        assert policies.policy_terms(session, None) is None and policies.policy_terms(session, 999_999) is None
        assert policies.policy_terms(session, policy_id(uow, "PC-0003")).limit is None


# -- the one lookup before anything is registered ---------------------------------------------------------


@pytest.fixture
def register(uow, people):  # noqa: ANN201
    imported(uow, people)
    pid = policy_id(uow, "PA-0001")
    with uow.write() as session:
        session.add_all([ServiceRequest(kind="claim_report", number="BA2510-0001", state="reported", policy_id=pid,
                                        policy_number="PA-0001", channel="phone", received_at=NOW),
                         ServiceRequest(kind="surrender", number="TB2510-0001", state="done", policy_id=pid,
                                        policy_number="PA-0001", channel="visit", received_at=NOW - timedelta(days=1))])
    complaint = accepted(uow, people, policy_number="PA-0001", customer_name="王大明")
    return pid, complaint


def test_a_lookup_by_policy_number_shows_the_policy_its_persons_requests_and_complaints(uow, people, register):
    pid, complaint = register
    found = policies.lookup(uow, actor=people.clerk, policy_number="PA-0001", now=NOW)
    assert not found.no_policy and not found.ambiguous
    [policy] = found.policies
    assert (policy.id, policy.policy_number, policy.insurer, policy.product_name) == (pid, "PA-0001", "中国人寿",
                                                                                      "意外伤害保险")
    assert (policy.start_date, policy.end_date, policy.sum_insured) == (date(2025, 1, 1), date(2025, 12, 31),
                                                                       Decimal("200000"))
    assert policy.risks == ("accident_death", "accident_medical")
    assert [(p.role, p.name, p.id_number) for p in policy.persons] == [
        ("policyholder", "王大明", HOLDER_ID), ("insured", "王小明", INSURED_ID), ("beneficiary", "王大明", "")]
    assert [(r.number, r.kind, r.state) for r in policy.requests] == [("BA2510-0001", "claim_report", "reported"),
                                                                     ("TB2510-0001", "surrender", "done")]
    with uow.read() as session:
        stored = session.get(Complaint, complaint)
    assert [(c.id, c.number, c.state, c.received_at) for c in policy.complaints] == [
        (complaint, stored.number, stored.state, stored.received_at)]


def test_a_lookup_by_name_or_id_number_finds_the_persons_policies(uow, people, register):
    by_name = policies.lookup(uow, actor=people.lead, name="王小明", now=NOW)
    assert [p.policy_number for p in by_name.policies] == ["PA-0001"]
    by_holder = policies.lookup(uow, actor=people.gmo, name=" 王大明 ", now=NOW)     # the policyholder counts too
    assert [p.policy_number for p in by_holder.policies] == ["PA-0001"]
    by_id = policies.lookup(uow, actor=people.opshandler, id_number=OTHER_ID, now=NOW)
    assert [p.policy_number for p in by_id.policies] == ["PB-0002"] and by_id.policies[0].requests == ()


def test_a_name_several_people_share_asks_for_the_id_number_before_any_policy(uow, people, register):
    imported(uow, people, [["PE-0005", "太平洋", "ACC", "意外伤害保险", "2", "年", "1000", "2025/01/01", "2025/12/31",
                            "burns", "被保险人", "王小明", THIRD_ID, ""]])
    found = policies.lookup(uow, actor=people.clerk, name="王小明", now=NOW)
    assert found.ambiguous and found.policies == ()
    assert [(c.name, c.id_number, c.policies) for c in found.candidates] == [
        ("王**", "1101**********1238", 1), ("王**", "3101**********5679", 1)]
    narrowed = policies.lookup(uow, actor=people.clerk, name="王小明", id_number=THIRD_ID, now=NOW)
    assert not narrowed.ambiguous and [p.policy_number for p in narrowed.policies] == ["PE-0005"]


def test_nothing_found_tells_the_clerk_to_check_whether_the_person_is_insured_with_us(uow, people, register):
    for query in ({"policy_number": "PZ-404"}, {"name": "查无此人"}, {"id_number": "110105194912310038"},
                  {"policy_number": "PA-0001", "name": "赵敏"}):
        found = policies.lookup(uow, actor=people.clerk, now=NOW, **query)
        assert found.no_policy and found.policies == () and not found.ambiguous, query
    with pytest.raises(DomainError):
        policies.lookup(uow, actor=people.clerk, name="  ", now=NOW)


def test_the_masking_table_masks_the_persons_and_decides_what_may_be_looked_up(uow, people, register):
    with pytest.raises(PermissionDenied):           # the seeded table masks every field for an administrator
        policies.lookup(uow, actor=people.admin, name="王小明", now=NOW)
    for outsider in (people.boss, people.techhandler, people.approver):
        with pytest.raises(PermissionDenied):
            policies.lookup(uow, actor=outsider, policy_number="PA-0001", now=NOW)
    with uow.write() as session:                    # a lead who may read policy numbers but not who is on them
        session.execute(update(MaskingRule).where(MaskingRule.audience == "intake_lead")
                        .values(name="masked", phone="masked", id_number="masked"))
    [policy] = policies.lookup(uow, actor=people.lead, policy_number="PA-0001", now=NOW).policies
    assert [(p.name, p.id_number, p.phone) for p in policy.persons] == [
        ("王**", "1101**********002X", "139****2222"), ("王**", "1101**********1238", ""), ("王**", "", "")]
    assert "王小明" not in repr(policy) and INSURED_ID not in repr(policy)
    with pytest.raises(PermissionDenied):
        policies.lookup(uow, actor=people.lead, id_number=INSURED_ID, now=NOW)
    # "own department": shown to the desk's departments (运营部's handler), the clerk's 市场部 too
    [mine] = policies.lookup(uow, actor=people.opshandler, policy_number="PA-0001", now=NOW).policies
    assert mine.persons[1].name == "王小明"


def test_every_lookup_is_audited_with_its_values_masked(uow, people, register):
    policies.lookup(uow, actor=people.clerk, name="王小明", id_number=INSURED_ID, now=NOW)
    policies.lookup(uow, actor=people.clerk, policy_number="PZ-404", now=NOW)
    first, second = events(uow, "policies.lookup")
    assert first.actor_label == "clerk" and first.changes["by"] == ["name", "id_number"]
    assert first.changes["value"] == {"name": "王**", "id_number": "1101**********1238"}
    assert first.changes["matches"] == 1 and second.changes["matches"] == 0
    assert "王小明" not in str(first.changes) and INSURED_ID not in str(first.changes)


def test_a_csv_separated_by_semicolons_or_tabs_is_read_by_its_header_line():
    for separator in (";", "\t"):
        text = separator.join(HEADER) + "\n" + separator.join(
            [*POLICY_B[:6], "500000", *POLICY_B[7:9], "vehicle_damage|third_party", "被保险人", "赵敏", OTHER_ID, ""])
        [row] = read_policy_file("p.csv", text.encode("utf-8"))
        assert (row["policy_number"], row["risks"], row["id_number"]) == ("PB-0002", "vehicle_damage|third_party",
                                                                          OTHER_ID)
