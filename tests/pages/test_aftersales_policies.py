"""保单登记簿 in the page: a file with one bad row refused with its row, column and reason and nothing
saved; a good file imported with its counts; a policy changed with its version checked."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from portal.persistence.models import Event, Policy, PolicyPerson
from tests.pages.conftest import app_as, page_path, texts

HEADER = "保单号,承保公司,产品代码,产品名称,申请时效,时效单位,保险金额,起保日期,终止日期,保障风险,角色,姓名,身份证号,电话\n"
GOOD = (HEADER
        + "PG-1001,中国人寿,ACC,意外伤害保险,2,年,200000,2025/01/01,2025/12/31,accident_death;accident_medical,投保人,王大明,,13911112222\n"
        + "PG-1001,中国人寿,ACC,意外伤害保险,2,年,200000,2025/01/01,2025/12/31,accident_death;accident_medical,被保险人,王小明,11010519491231002X,\n"
        + "PG-1002,中国人寿,ACC,意外伤害保险,2,年,80000,2025/03/01,2026/02/28,accident_death,被保险人,赵敏,440304199002153452,\n")
BAD = GOOD.replace("accident_death;accident_medical,被保险人", "accident_death;meteor_strike,被保险人")


def _import(at, content: bytes):  # noqa: ANN001, ANN202
    at.file_uploader(key="policies_file").set_value(("policies.csv", content, "text/csv"))
    at.run()
    at.button(key="policies_import").click().run()
    assert not at.exception, at.exception
    return at


def _counts(uow) -> tuple[int, int]:  # noqa: ANN001
    with uow.read() as session:
        return (session.scalar(select(func.count()).select_from(Policy)),
                session.scalar(select(func.count()).select_from(PolicyPerson)))


def test_a_file_with_one_bad_row_shows_its_row_column_and_reason_and_saves_nothing(page_db):
    at = _import(app_as("admin", page_path("policies")), BAD.encode("utf-8-sig"))
    assert "有 1 处错误，文件未导入，未保存任何内容。" in texts(at)
    refusal = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert list(refusal["行"]) == ["3"] and list(refusal["列"]) == ["保障风险"]
    assert "meteor_strike" in refusal.iloc[0]["原因"] and "现行风险清单" in refusal.iloc[0]["原因"]
    assert _counts(page_db) == (0, 0)
    with page_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "policies.import")) == 0


def test_a_good_file_is_imported_with_its_counts_and_listed_masked_for_the_administrator(page_db):
    at = _import(app_as("admin", page_path("policies")), GOOD.encode("gb18030"))
    assert "已导入 3 行：新增保单 2 份，替换保单 0 份，人员 3 人。" in texts(at)
    assert _counts(page_db) == (2, 3)
    register = next(df.value for df in at.dataframe if "保险期间" in df.value.columns)
    assert len(register) == 2
    # the seeded masking table masks every personal field for an administrator
    assert "PG-1001" not in register.to_csv() and "王小明" not in register.to_csv()
    assert "王**" in set(register["被保险人"])


def test_the_administrator_changes_a_policy_and_a_stale_form_is_refused(page_db):
    at = _import(app_as("admin", page_path("policies")), GOOD.encode("utf-8"))
    with page_db.read() as session:
        policy = session.scalar(select(Policy).where(Policy.policy_number == "PG-1002"))
    at.selectbox(key="policies_pick").set_value(policy.id).run()
    assert not at.exception, at.exception
    form_inputs = [w for w in at.text_input if w.label == "保险金额"]
    form_inputs[0].set_value("90000")
    at.date_input[1].set_value(date(2026, 3, 31))
    next(b for b in at.button if b.label == "保存修改").click().run()
    assert not at.exception, at.exception
    assert "保单已保存（版本 2）。" in texts(at)
    with page_db.read() as session:
        saved = session.get(Policy, policy.id)
        assert saved.sum_insured == Decimal("90000") and saved.end_date == date(2026, 3, 31) and saved.version == 2
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "policies.update")) == 1
    # someone saves the policy meanwhile: the form the administrator still has open is refused
    with page_db.write() as session:
        session.get(Policy, policy.id).insurer = "中国人寿（上海）"
    at.selectbox(key="policies_pick").set_value(policy.id).run()
    next(w for w in at.text_input if w.label == "保险金额").set_value("95000")
    with page_db.write() as session:
        session.get(Policy, policy.id).insurer = "中国人寿（北京）"
    next(b for b in at.button if b.label == "保存修改").click().run()
    assert "该保单已被他人修改" in texts(at)
    with page_db.read() as session:
        assert session.get(Policy, policy.id).sum_insured == Decimal("90000")


def test_only_the_administrator_opens_the_register(page_db):
    at = app_as("clerk")
    at._page_hash = next(h for h, info in at._registered_pages.items() if info.get("url_pathname") == "policies")
    at.run()
    assert "您没有访问“保单登记簿”的权限" in texts(at)


def test_an_excel_file_of_two_sheets_is_imported_in_the_page(page_db):
    import io

    from openpyxl import Workbook
    book = Workbook()
    policies_sheet = book.active
    policies_sheet.title = "保单"
    for row in (HEADER.strip().split(",")[:10],
                ["PX-7", "太平洋", "CAR", "机动车辆保险", 30, "天", 300000, date(2025, 5, 1), date(2026, 4, 30),
                 "vehicle_damage"]):
        policies_sheet.append(row)
    persons_sheet = book.create_sheet("人员")
    for row in (["保单号", "角色", "姓名", "身份证号", "电话"], ["PX-7", "被保险人", "周杰", "310115197511205679", ""]):
        persons_sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    at = app_as("admin", page_path("policies"))
    at.file_uploader(key="policies_file").set_value(
        ("policies.xlsx", data.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    at.run()
    at.button(key="policies_import").click().run()
    assert not at.exception, at.exception
    assert "已导入 1 行：新增保单 1 份，替换保单 0 份，人员 1 人。" in texts(at)
    assert _counts(page_db) == (1, 1)


def test_the_page_speaks_chinese_in_its_labels(page_db):
    import re
    at = _import(app_as("admin", page_path("policies")), GOOD.encode("utf-8"))
    at.selectbox(key="policies_pick").set_value(at.selectbox(key="policies_pick").options[0]).run()
    labels = [w.label for kind in ("button", "text_input", "selectbox", "multiselect", "date_input", "number_input")
              for w in getattr(at, kind)] + [at.file_uploader(key="policies_file").label]
    words = set(re.findall(r"[A-Za-z]{2,}", " ".join(labels + [texts(at)])))
    assert words <= {"Language", "YYYY", "MM", "DD", "CSV", "Excel", "xlsx"}, words     # (the language switch)
