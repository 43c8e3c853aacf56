"""理赔移交 and 受理记录 under AppTest: 运营部's queue with its badge, a hand-over refused beside its field and
then saved, the insurer's decision recorded; a handler of another department refused; a request's page with
its history and the refusal notice of a refused report; no English on either page in Chinese mode."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from portal.i18n import translate
from portal.persistence.models import ServiceRequest
from portal.services import aftersales, aftersales_claims, aftersales_queries
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from tests.pages.conftest import app_as, page_path, texts
from tests.services.test_aftersales import BASIC, MEDICAL, add_policy, application, report_form, version


def _report(uow, *, covered: bool = True) -> tuple[int, str]:  # noqa: ANN001
    """A claim report received three hours ago on a policy running this year (or one not covering it)."""
    today = wall_now().date()
    add_policy(uow, start=today - timedelta(days=200), end=today + timedelta(days=200),
               risks=("illness_hospital",) if covered else ("accident_death",))
    received = wall_now() - timedelta(hours=3)
    done = aftersales.register_claim_report(uow, actor=load_actor(uow, "clerk"), now=received,
                                            form=report_form(received_at=received,
                                                             event_at=received - timedelta(hours=20)))
    return done.id, done.number


def _complete_application(uow) -> tuple[int, str]:  # noqa: ANN001
    report, _ = _report(uow)
    clerk = load_actor(uow, "clerk")
    at = wall_now() - timedelta(hours=2)
    aftersales.accept_report(uow, actor=clerk, request_id=report, expected_version=version(uow, report), now=at)
    done = aftersales_claims.record_application(uow, actor=clerk, now=at, form=application(report, [*BASIC, *MEDICAL]))
    assert done.state == "complete"
    return done.id, done.number


def _state(uow, request_id: int) -> str:  # noqa: ANN001
    with uow.read() as session:
        return session.scalar(select(ServiceRequest.state).where(ServiceRequest.id == request_id))


def _queue_table(at):  # noqa: ANN001, ANN201
    return next(df.value for df in at.dataframe if "移交截止" in df.value.columns)


def _submit(at, label: str):  # noqa: ANN001, ANN202
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def test_the_queue_shows_a_complete_application_with_its_badge_and_due_time(page_db):
    request_id, number = _complete_application(page_db)
    badge = aftersales_queries.handover_queue(page_db, actor=load_actor(page_db, "opshandler"),
                                              now=wall_now()).frame["badge"][0]
    at = app_as("opshandler", page_path("handover"))
    assert not at.exception, at.exception
    table = _queue_table(at)
    assert [n.split("#")[-1] for n in table["申请编号"]] == [number]
    assert list(table["状态"]) == ["材料齐全待移交"]
    assert list(table["移交时限"]) == [translate(f"desk.badge.{badge}")] and table["移交截止"][0] != "—"
    assert f"{number} · 材料齐全待移交" in texts(at)
    gm = app_as("gmo", page_path("handover"))            # the GM office reads it, with no form
    assert not gm.exception and number in "".join(_queue_table(gm)["申请编号"])
    assert not [b for b in gm.button if b.label == "记录移交"]


def test_a_hand_over_without_its_receipt_is_refused_beside_the_field_and_saves_nothing(page_db):
    request_id, _ = _complete_application(page_db)
    at = app_as("opshandler", page_path("handover"))
    form = f"handover_{request_id}"
    assert at.text_input(key=f"{form}_insurer").value == "" and at.date_input(key=f"{form}_on").value is None
    assert not any(at.checkbox(key=f"{form}_item_{code}").value for code in BASIC)   # nothing ticked for them
    at.text_input(key=f"{form}_insurer").input("华安人寿保险股份有限公司")
    at.date_input(key=f"{form}_on").set_value(wall_now().date())
    at.checkbox(key=f"{form}_item_policy_original").check()
    _submit(at, "记录移交")
    assert "此项为必填项。" in texts(at)
    assert _state(page_db, request_id) == "complete"


def test_a_hand_over_is_saved_with_the_items_ticked(page_db):
    request_id, number = _complete_application(page_db)
    at = app_as("opshandler", page_path("handover"))
    form = f"handover_{request_id}"
    at.button(key=f"{form}_all").click().run()                      # 全部勾选: every received item
    assert all(at.checkbox(key=f"{form}_item_{code}").value for code in [*BASIC, *MEDICAL])
    at.text_input(key=f"{form}_insurer").input("华安人寿保险股份有限公司")
    at.date_input(key=f"{form}_on").set_value(wall_now().date())
    at.checkbox(key=f"{form}_item_pathology_report").uncheck()
    at.text_input(key=f"{form}_receipt").input("交接单 HA-1203-01")
    _submit(at, "记录移交")
    assert f"已记录 {number} 移交保险公司。" in texts(at)
    with page_db.read() as session:
        stored = session.get(ServiceRequest, request_id)
    assert stored.state == "handed_over" and stored.handover_receipt == "交接单 HA-1203-01"
    assert stored.handover_items == [*BASIC, *MEDICAL[:-1]] and stored.clock_late is False


def test_the_insurers_decision_is_recorded_and_told(page_db):
    request_id, number = _complete_application(page_db)
    aftersales_claims.hand_over(page_db, actor=load_actor(page_db, "opshandler"), request_id=request_id,
                                expected_version=version(page_db, request_id), insurer="华安人寿",
                                handed_on=wall_now().date(), items=BASIC, receipt="HA-1", now=wall_now())
    at = app_as("opshandler", page_path("handover"))
    form = f"decision_{request_id}"
    assert at.selectbox(key=f"{form}_channel").value is None
    at.text_area(key=f"{form}_text").input("保险公司同意赔付住院医疗费用 8,640 元。")
    _submit(at, "记录决定并告知客户")
    assert "请选择" in texts(at) and _state(page_db, request_id) == "handed_over"     # the channel is needed
    at.selectbox(key=f"{form}_channel").set_value("phone")
    _submit(at, "记录决定并告知客户")
    assert f"已记录 {number} 的保险公司决定。" in texts(at)
    assert _state(page_db, request_id) == "decided"


def test_a_handler_of_another_department_is_refused(page_db):
    _complete_application(page_db)
    at = app_as("techhandler", page_path("handover"))
    assert not at.exception
    assert "理赔移交由运营部办理" in texts(at) and not at.dataframe
    request = app_as("techhandler", page_path("request"))
    assert "无权查看受理记录" in texts(request) and not request.text_input


def test_the_request_page_shows_the_history_and_offers_the_refusal_notice(page_db):
    report, number = _report(page_db, covered=False)
    aftersales.refuse_report(page_db, actor=load_actor(page_db, "clerk"), request_id=report,
                             expected_version=version(page_db, report), copies_archived=True,
                             originals_returned=True, now=wall_now())
    at = app_as("clerk", page_path("request"))
    at.text_input(key="request_number").input(number.lower()).run()
    assert not at.exception, at.exception
    assert f"报案 {number} · 不予受理" in texts(at)
    history = next(df.value for df in at.dataframe if "操作" in df.value.columns)
    assert list(history["操作"]) == ["登记", "不予受理"] and list(history["新状态"]) == ["已登记", "不予受理"]
    assert [b.proto.label for b in at.get("download_button")] == ["下载不予受理通知书"]
    shown = "\n".join(str(v) for table in at.table for v in table.value.to_numpy().ravel())
    assert "出险原因不属于保单保障范围" in shown


def _english(at) -> list[str]:  # noqa: ANN001
    """Words of three or more Latin letters anywhere on the page (numbers like LP2512-0001 have two)."""
    parts = [texts(at)]
    parts += [str(v) for df in at.dataframe for v in [*df.value.columns, *df.value.to_numpy().ravel()]]
    parts += [str(v) for table in at.table for v in [*table.value.columns, *table.value.to_numpy().ravel()]]
    for kind in ("button", "text_input", "text_area", "date_input", "checkbox", "selectbox"):
        parts += [w.label for w in getattr(at, kind) if w.key != "lang"]    # the language switch is the app's
    parts += [w.proto.label for w in at.get("download_button")]
    parts += [w.placeholder or "" for w in at.selectbox if w.key != "lang"]
    parts += [str(o) for w in at.selectbox if w.key != "lang" for o in w.options]
    cells = [re.sub(r"request\?number=\S+#", "", p) for p in parts]
    return [w for p in cells for w in re.findall(r"[A-Za-z]{3,}", p)]


def test_no_english_reaches_either_page_in_chinese_mode(page_db):
    request_id, number = _complete_application(page_db)
    at = app_as("opshandler", page_path("handover"))
    assert _english(at) == []
    page = app_as("gmo", page_path("request"))
    page.text_input(key="request_number").input(number).run()
    assert not page.exception, page.exception
    assert _english(page) == []
