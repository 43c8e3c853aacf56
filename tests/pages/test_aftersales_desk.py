"""售后受理 under Streamlit's AppTest, as 市场部's clerks use it (002 ch.2): the lookup before anything is
registered, a claim report checked and refused, an application waiting for its materials and completed, a
surrender guided and finished — and nothing in English on any tab in Chinese mode."""
from __future__ import annotations

import re
from datetime import time, timedelta

from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from portal.persistence.models import Notice, RequestContact, ServiceRequest
from portal.services import aftersales, aftersales_claims, aftersales_requests
from portal.services.actors import load_actor
from portal.ui.auth import TOKEN
from portal.ui.context import now as wall_now
from tests.pages.conftest import app_as, open_tab, page_path, session_token, texts
from tests.pages.test_literal_text import PAYLOAD, SHORT, _assert_literal
from tests.services.test_aftersales import add_policy, report_form, version

TABS = "desk_tabs"
NUMBER = "880120250001"            # policy numbers of the register: data, never words
ID_NUMBER = "110101198001010010"


def current_policy(uow, number: str = NUMBER, **changes) -> int:  # noqa: ANN001, ANN003
    today = wall_now().date()
    values = dict(insured="林晓东", id_number=ID_NUMBER, start=today - timedelta(days=100),
                  end=today + timedelta(days=200))
    values.update(changes)
    return add_policy(uow, number, **values)


def requests(uow) -> list[ServiceRequest]:  # noqa: ANN001
    with uow.read() as session:
        return list(session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)))


def register_report(uow, **changes) -> aftersales.Registered:  # noqa: ANN001, ANN003
    at = wall_now()
    values = dict(policy_number=NUMBER, received_at=at - timedelta(hours=1), event_at=at - timedelta(days=1))
    values.update(changes)
    return aftersales.register_claim_report(uow, actor=load_actor(uow, "clerk"), form=report_form(**values), now=at)


def desk(username: str = "clerk", tab: str | None = None) -> AppTest:
    at = app_as(username, page_path("desk"))
    assert not at.exception, at.exception
    return open_tab(at, TABS, tab) if tab else at


def look_up(at: AppTest, **fields: str) -> AppTest:
    for name, value in fields.items():
        at.text_input(key=f"desk_lookup_{name}").input(value)
    at.button(key="FormSubmitter:desk_lookup-查询").click().run()
    assert not at.exception, at.exception
    return at


def frames(at: AppTest) -> str:
    return "\n".join(str(df.value.to_dict()) for df in at.dataframe)


def test_a_policy_found_by_number_shows_its_reports_the_caller_is_told_and_a_report_starts_prefilled(page_db):
    policy_id = current_policy(page_db)
    report = register_report(page_db)
    at = look_up(desk(), number=NUMBER)
    assert "查到 1 份保单。" in texts(at)
    shown = frames(at)
    assert "华安人寿保险股份有限公司" in shown and "林晓东" in shown and "疾病住院" in shown
    assert report.number in shown and "已登记" in shown              # the report on the policy, with its state

    at.selectbox(key="desk_tell_request").select(report.id)
    at.selectbox(key="desk_tell_channel").select("phone")
    at.text_area(key="desk_tell_content").input("已告知报案人：报案已登记，正在初审。")
    at.button(key="FormSubmitter:desk_tell-记录告知").click().run()
    assert not at.exception, at.exception
    assert f"已记录告知来电人 {report.number} 的进展。" in texts(at)
    with page_db.read() as session:
        told = session.scalars(select(RequestContact).where(RequestContact.request_id == report.id)).one()
    assert (told.channel, told.content) == ("phone", "已告知报案人：报案已登记，正在初审。")

    at.button(key=f"desk_start_report_{policy_id}").click().run()
    assert not at.exception, at.exception
    assert at.session_state[TABS] == "报案登记"
    assert at.text_input(key="desk_report0_policy_number").value == NUMBER
    assert at.text_input(key="desk_report0_insured_name").value == "林晓东"


def test_no_policy_tells_the_clerk_to_check_and_a_shared_name_needs_the_id_number(page_db):
    current_policy(page_db)
    current_policy(page_db, "880120250002", id_number="11010119900307002X")     # another 林晓东
    at = look_up(desk(), number="990000000000")
    assert "未查到相关保单：请与来电人核实其是否在我司投保" in texts(at)

    at = look_up(desk(), name="林晓东")
    assert "有 2 位同名人员：请向来电人询问身份证号后再查询" in texts(at)
    assert NUMBER not in frames(at) and "880120250002" not in frames(at)          # no policy before the ID number
    at = look_up(at, id_number="11010119900307002X")
    assert "查到 1 份保单。" in texts(at) and "880120250002" in frames(at) and NUMBER not in frames(at)


def fill_report(at: AppTest, **values) -> None:  # noqa: ANN003
    today = wall_now().date()
    fields = dict(policy_number=NUMBER, insured_name="林晓东", event_place="杭州市西湖区文三路",
                  event_description="骑车摔倒，手部烫伤。", reporter_name="林晓东", reporter_phone="13900001111")
    fields.update(values)
    for name, value in fields.items():
        widget = at.text_area(key=f"desk_report0_{name}") if name == "event_description" else \
            at.text_input(key=f"desk_report0_{name}")
        widget.input(value)
    at.selectbox(key="desk_report0_channel").select("phone")
    at.selectbox(key="desk_report0_cause_code").select("burns")
    at.selectbox(key="desk_report0_reporter_relation").select("self")
    at.date_input(key="desk_report0_event_date").set_value(today - timedelta(days=1))
    at.time_input(key="desk_report0_event_time").set_value(time(20, 0))


def test_a_report_failing_its_check_shows_each_reason_and_is_refused_with_both_confirmations(page_db):
    today = wall_now().date()
    current_policy(page_db, start=today - timedelta(days=400), end=today - timedelta(days=35))   # lapsed
    at = desk(tab="desk.tab.report")
    fill_report(at)
    at.button(key="FormSubmitter:desk_report-登记报案").click().run()
    assert not at.exception, at.exception
    [report] = requests(page_db)
    shown = texts(at)
    assert f"报案已登记，编号 {report.number}。" in shown
    assert "初步审核未通过" in shown
    start, end = today - timedelta(days=400), today - timedelta(days=35)
    assert f"出险日期不在保险期间内（保险期间 {start:%Y/%m/%d} 至 {end:%Y/%m/%d}）" in shown
    assert "出险原因不属于保单保障范围" in shown
    assert at.text_input(key="desk_report1_policy_number").value == ""             # the form drawn empty again

    at.checkbox(key=f"desk_copies_{report.id}").check()
    at.button(key=f"FormSubmitter:desk_refuse_{report.id}-不予受理").click().run()
    assert not at.exception, at.exception
    assert "请确认已完成此项。" in texts(at)
    assert requests(page_db)[0].state == "received"

    at.checkbox(key=f"desk_copies_{report.id}").check()
    at.checkbox(key=f"desk_originals_{report.id}").check()
    at.button(key=f"FormSubmitter:desk_refuse_{report.id}-不予受理").click().run()
    assert not at.exception, at.exception
    assert f"报案 {report.number} 已不予受理。" in texts(at)
    refused = requests(page_db)[0]
    assert (refused.state, refused.copies_archived, refused.originals_returned) == ("refused", True, True)
    # the written refusal is printed here, or from the request's record
    assert "下载不予受理通知书" in [button.proto.label for button in at.get("download_button")]
    link = next(link for link in at.get("page_link") if report.number in link.proto.label)
    assert "受理记录" in link.proto.label and f"number={report.number}" in str(link.proto)


def test_a_failed_check_is_taken_in_hand_only_with_a_reason(page_db):
    current_policy(page_db, risks=("accident_death",))
    report = register_report(page_db)                         # illness: not covered
    at = desk(tab="desk.tab.queue")
    assert "出险原因不属于保单保障范围" in texts(at)
    at.button(key=f"FormSubmitter:desk_accept_{report.id}-受理报案").click().run()
    assert "此项为必填项。" in texts(at) and requests(page_db)[0].state == "received"
    at.text_area(key=f"desk_override_{report.id}").input("客户提供补充病历，疑为意外所致，先行受理。")
    at.button(key=f"FormSubmitter:desk_accept_{report.id}-受理报案").click().run()
    assert not at.exception, at.exception
    taken = requests(page_db)[0]
    assert (taken.state, taken.check_override) == ("reported", "客户提供补充病历，疑为意外所致，先行受理。")


def test_a_major_claim_prompts_the_24_hour_report_and_records_it(page_db):
    current_policy(page_db)
    report = register_report(page_db, deaths=2, cause_code="accident_death", litigation=True)
    at = desk(tab="desk.tab.queue")
    shown = texts(at)
    assert "重大案件：须于" in shown and "一次事故导致2人及以上死亡" in shown and "可能引起诉讼或已涉及诉讼" in shown
    at.text_area(key=f"desk_major_comment_{report.id}").input("已电话呈报总部理赔管理处。")
    at.checkbox(key=f"desk_major_survey_{report.id}").check()
    at.button(key=f"FormSubmitter:desk_major_{report.id}-已向总部呈报").click().run()
    assert not at.exception, at.exception
    done = requests(page_db)[0]
    assert done.major_reported_at is not None and done.key_survey_at is not None


def test_bad_input_shows_messages_beside_the_fields_and_saves_nothing(page_db):
    at = desk(tab="desk.tab.report")
    at.text_input(key="desk_report0_reporter_phone").input("电话号码")
    at.button(key="FormSubmitter:desk_report-登记报案").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "未保存任何内容" in shown and "此项为必填项。" in shown and "请选择。" in shown
    assert "请输入有效的电话号码" in shown
    assert at.text_input(key="desk_report0_reporter_phone").value == "电话号码"      # what was typed stays
    assert requests(page_db) == []


def test_an_incomplete_application_shows_the_missing_items_and_the_notice_then_is_completed_from_the_queue(page_db):
    current_policy(page_db)
    at = desk(tab="desk.tab.application")
    k = "desk_application0_"
    at.text_input(key=k + "policy_number").input(NUMBER)
    at.text_input(key=k + "insured_name").input("林晓东")
    at.selectbox(key=k + "channel").select("visit")
    at.text_input(key=k + "applicant_name").input("林晓东")
    at.text_input(key=k + "applicant_id_number").input(ID_NUMBER)
    at.text_input(key=k + "applicant_phone").input("13900001111")
    at.selectbox(key=k + "applicant_relation").select("self")
    assert at.checkbox(key=k + "right_verified").value is False                    # verified by the clerk, not assumed
    at.checkbox(key=k + "right_verified").check()
    at.multiselect(key=k + "claim_kinds").select("medical").run()
    for code in ("policy_original", "premium_receipt", "identity_documents", "application_form", "medical_history",
                 "test_reports", "outpatient_receipts", "inpatient_receipts"):            # all but the pathology report
        at.checkbox(key=f"{k}material_{code}").check()
    at.button(key=k + "submit").click().run()
    assert not at.exception, at.exception
    [application] = requests(page_db)
    shown = texts(at)
    assert f"材料不全，理赔申请 {application.number} 暂不受理" in shown
    assert "病理报告" in frames(at)
    assert "已向客户发送补齐材料通知。" in shown
    with page_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Notice).where(Notice.request_id == application.id)) == 1

    open_tab(at, TABS, "desk.tab.queue")
    assert at.selectbox(key="desk_pick").value == application.id
    assert "材料不全，尚缺 1 项" in texts(at)
    at.multiselect(key=f"desk_brought_{application.id}").select("pathology_report")
    at.button(key=f"FormSubmitter:desk_materials_{application.id}-记录补交材料").click().run()
    assert not at.exception, at.exception
    assert f"材料已齐全，理赔申请 {application.number} 已受理" in texts(at)
    assert requests(page_db)[0].state == "complete" and requests(page_db)[0].complete_at is not None


def test_an_application_follows_a_report_in_hand_and_needs_the_right_to_claim_verified(page_db):
    current_policy(page_db)
    report = register_report(page_db)
    aftersales.accept_report(page_db, actor=load_actor(page_db, "clerk"), request_id=report.id, expected_version=1,
                             now=wall_now())
    at = desk(tab="desk.tab.application")
    k = "desk_application0_"
    at.selectbox(key=k + "report_id").select(report.id).run()
    assert not any(w.key == k + "policy_number" for w in at.text_input)        # the report names the policy
    at.selectbox(key=k + "channel").select("visit")
    at.text_input(key=k + "applicant_name").input("林晓东")
    at.text_input(key=k + "applicant_id_number").input(ID_NUMBER)
    at.text_input(key=k + "applicant_phone").input("13900001111")
    at.selectbox(key=k + "applicant_relation").select("self")
    at.multiselect(key=k + "claim_kinds").select("property").run()
    for code in ("policy_original", "premium_receipt", "identity_documents", "application_form", "repair_invoices"):
        at.checkbox(key=f"{k}material_{code}").check()
    at.button(key=k + "submit").click().run()
    assert "须先核验申请人身份证明及与被保险人关系证明" in texts(at)
    assert len(requests(page_db)) == 1
    at.checkbox(key=k + "right_verified").check()
    at.button(key=k + "submit").click().run()
    assert not at.exception, at.exception
    application = requests(page_db)[1]
    assert "材料齐全，理赔申请" in texts(at)
    assert (application.state, application.report_id) == ("complete", report.id)


def test_a_surrender_is_registered_guided_with_the_insurers_address_and_finished(page_db):
    current_policy(page_db)
    at = desk(tab="desk.tab.request")
    k = "desk_request0_"
    assert at.radio(key=k + "kind").value is None                                 # the clerk chooses
    at.radio(key=k + "kind").set_value("surrender").run()
    at.text_input(key=k + "policy_number").input(NUMBER)
    at.text_input(key=k + "insured_name").input("林晓东")
    at.selectbox(key=k + "channel").select("visit")
    at.text_input(key=k + "requester_name").input("林晓东")
    at.text_input(key=k + "requester_phone").input("13900001111")
    at.selectbox(key=k + "reason_code").select("financial")
    at.button(key=k + "submit").click().run()
    assert not at.exception, at.exception
    [surrender] = requests(page_db)
    assert f"已登记，编号 {surrender.number}。" in texts(at) and surrender.kind == "surrender"

    open_tab(at, TABS, "desk.tab.queue")
    at.text_area(key=f"desk_guidance_{surrender.id}").input("请携带保单正本、身份证到保险公司柜面办理。")
    at.button(key=f"FormSubmitter:desk_guide_{surrender.id}-记录指导").click().run()
    assert "此项为必填项。" in texts(at) and requests(page_db)[0].state == "received"
    at.text_input(key=f"desk_insurer_address_{surrender.id}").input("杭州市上城区解放路100号")
    at.button(key=f"FormSubmitter:desk_guide_{surrender.id}-记录指导").click().run()
    assert not at.exception, at.exception
    assert requests(page_db)[0].state == "guided"
    at.button(key=f"FormSubmitter:desk_finish_{surrender.id}-办结").click().run()
    assert not at.exception, at.exception
    assert f"{surrender.number} 已办结。" in texts(at)
    assert requests(page_db)[0].state == "done"


def test_the_kind_of_a_policy_request_must_be_chosen(page_db):
    at = desk(tab="desk.tab.request")
    at.button(key="desk_request0_submit").click().run()
    assert not at.exception, at.exception
    assert "请选择。" in texts(at) and requests(page_db) == []


def test_a_handler_cannot_open_the_desk_and_the_supervisor_can(page_db):
    at = AppTest.from_file(page_path("desk"), default_timeout=60)
    at.session_state[TOKEN] = session_token("opshandler")
    at.run()
    assert "没有访问" in texts(at)
    assert not at.text_input and not at.dataframe
    assert "售后受理" in texts(desk("lead", tab="desk.tab.queue"))


def test_the_home_page_counts_what_waits_at_the_desk_and_opens_its_queue(page_db):
    current_policy(page_db)
    register_report(page_db)
    at = app_as("clerk")
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["待受理报案"] == "1" and metrics["待补材料的理赔申请"] == "0"
    link = next(link for link in at.get("page_link") if link.label == "售后受理 › 待办")
    assert "tab=queue" in str(link.proto)
    assert "待受理报案" not in {m.label for m in app_as("gmo").metric}


def test_user_text_reaches_no_markdown_element_on_the_desk(page_db):
    current_policy(page_db)
    report = register_report(page_db, event_description=PAYLOAD, reporter_name=SHORT, event_place=SHORT,
                             hospital=SHORT)
    at = desk(tab="desk.tab.queue")
    _assert_literal(at)
    assert PAYLOAD in frames(at) and SHORT in frames(at)          # tables show the text as typed
    at = look_up(desk(), number=NUMBER)
    at.selectbox(key="desk_tell_request").select(report.id)
    at.selectbox(key="desk_tell_channel").select("phone")
    at.text_area(key="desk_tell_content").input(PAYLOAD)
    at.button(key="FormSubmitter:desk_tell-记录告知").click().run()
    _assert_literal(at)


# -- Chinese mode: nothing in English on any tab ------------------------------------------------------

LATIN = re.compile(r"[A-Za-z]{2,}")
# the desk's numbers: data, not words
REQUEST_NUMBER = re.compile(r"(?<![A-Za-z0-9])(?:BA|LP|TB|PG)\d{4}-\d{4,}(?![0-9])")
# the sidebar's language switch names English on purpose; a product's code is the register's data
ALLOWED = {"Language", "English", "life", "plus"}
WIDGETS = ("text_input", "text_area", "selectbox", "multiselect", "checkbox", "radio", "button", "date_input",
           "time_input", "number_input", "metric")


def on_screen(at: AppTest) -> list[str]:
    out = [texts(at)] + [str(tab.label) for tab in at.tabs] + [str(e.label) for e in at.expander]
    out += [str(link.proto.label) for link in at.get("page_link")]
    for kind in WIDGETS:
        for widget in getattr(at, kind):
            out.append(str(widget.label))
            out += [str(o) for o in getattr(widget, "options", [])]
            placeholder = getattr(widget.proto, "placeholder", "")
            out.append(str(placeholder))
    for frame in at.dataframe:
        out += [str(c) for c in frame.value.columns] + [str(v) for v in frame.value.to_numpy().ravel()]
    return out


def english(at: AppTest) -> set[str]:
    assert not at.exception, at.exception
    return {word for text in on_screen(at) for word in LATIN.findall(REQUEST_NUMBER.sub(" ", text.replace("\\", "")))
            if word not in ALLOWED}


def test_chinese_mode_shows_no_english_on_any_tab(page_db):
    current_policy(page_db)
    register_report(page_db, deaths=2, cause_code="accident_death")        # a major claim with scene preservation
    seen = {}
    at = look_up(desk(), number=NUMBER)
    seen["lookup"] = english(at)
    for tab in ("desk.tab.report", "desk.tab.queue", "desk.tab.application", "desk.tab.request"):
        open_tab(at, TABS, tab)
        seen[tab] = english(at)
    open_tab(at, TABS, "desk.tab.application")
    at.multiselect(key="desk_application0_claim_kinds").select("medical").run()
    seen["checklist"] = english(at)
    open_tab(at, TABS, "desk.tab.request")
    at.radio(key="desk_request0_kind").set_value("surrender").run()
    seen["surrender"] = english(at)
    # each kind of request in the queue, with its actions: a failed check, an incomplete application, a surrender
    clerk = load_actor(page_db, "clerk")
    register_report(page_db, policy_number="990000000000")
    aftersales_claims.record_application(page_db, actor=clerk, now=wall_now(), form=aftersales_claims.ApplicationForm(
        policy_number=NUMBER, insured_name="林晓东", channel="visit", applicant_name="林晓东",
        applicant_id_number=ID_NUMBER, applicant_phone="13900001111", applicant_relation="self", right_verified=True,
        claim_kinds=["death"], materials=["policy_original"]))
    aftersales_requests.register_policy_request(page_db, actor=clerk, now=wall_now(),
                                                form=aftersales_requests.PolicyRequestForm(
                                                    kind="endorsement", policy_number=NUMBER, insured_name="林晓东",
                                                    channel="phone", requester_name="林晓东",
                                                    requester_phone="13900001111", change_requested="变更联系电话"))
    open_tab(at, TABS, "desk.tab.queue")
    for request in requests(page_db):
        at.selectbox(key="desk_pick").select(request.id).run()
        seen[request.number] = english(at)
    assert not any(seen.values()), {k: v for k, v in seen.items() if v}


def test_a_request_changed_by_someone_else_meanwhile_is_not_overwritten(page_db):
    current_policy(page_db)
    report = register_report(page_db, cause_code="accident_death")           # reported at once: the scene is kept
    at = desk(tab="desk.tab.queue")                              # the clerk sees it …
    aftersales.record_scene_preservation(page_db, actor=load_actor(page_db, "lead"), request_id=report.id,
                                         expected_version=version(page_db, report.id), reporter_told=True,
                                         survey_requested=True, now=wall_now())    # … while the supervisor acts
    at.button(key=f"FormSubmitter:desk_accept_{report.id}-受理报案").click().run()
    assert not at.exception, at.exception
    assert "已被他人修改，请刷新后重试" in texts(at)
    assert requests(page_db)[0].state == "received"
    at.run()                                                     # shown anew, it can be taken in hand
    at.button(key=f"FormSubmitter:desk_accept_{report.id}-受理报案").click().run()
    assert requests(page_db)[0].state == "reported"


def test_a_request_guided_meanwhile_leaves_the_clerks_form_and_keeps_the_guidance_given(page_db):
    current_policy(page_db)
    surrender = aftersales_requests.register_policy_request(
        page_db, actor=load_actor(page_db, "clerk"), now=wall_now(),
        form=aftersales_requests.PolicyRequestForm(kind="surrender", policy_number=NUMBER, insured_name="林晓东",
                                                   channel="visit", requester_name="林晓东",
                                                   requester_phone="13900001111", reason_code="financial"))
    at = desk(tab="desk.tab.queue")
    aftersales_requests.guide_request(page_db, actor=load_actor(page_db, "lead"), request_id=surrender.id,
                                      expected_version=version(page_db, surrender.id), guidance="已电话指导。",
                                      insurer_address="杭州市解放路100号", now=wall_now())
    at.text_area(key=f"desk_guidance_{surrender.id}").input("请携带保单正本到保险公司柜面办理。")
    at.text_input(key=f"desk_insurer_address_{surrender.id}").input("杭州市上城区解放路100号")
    at.button(key=f"FormSubmitter:desk_guide_{surrender.id}-记录指导").click().run()
    assert not at.exception, at.exception
    assert "退保 · 已指导" in texts(at)                          # the request as it is now: to finish
    assert any(b.key == f"FormSubmitter:desk_finish_{surrender.id}-办结" for b in at.button)
    assert requests(page_db)[0].guidance == "已电话指导。"


def test_a_refusal_names_the_requests_state_in_the_desks_words():
    from portal.domain.errors import Message
    from portal.ui.context import say      # the shared renderer names a desk state in the desk's words
    assert say(Message("desk.not_now", {"desk_state": "handed_over"})) == \
        "该记录当前状态（已移交保险公司）不能进行此操作，请刷新后查看。"


def test_an_application_started_from_a_policy_follows_its_report_in_hand(page_db):
    policy_id = current_policy(page_db)
    report = register_report(page_db)
    aftersales.accept_report(page_db, actor=load_actor(page_db, "clerk"), request_id=report.id,
                             expected_version=version(page_db, report.id), now=wall_now())
    at = look_up(desk(), number=NUMBER)
    at.button(key=f"desk_start_application_{policy_id}").click().run()
    assert not at.exception, at.exception
    assert at.session_state[TABS] == "理赔申请"
    assert at.selectbox(key="desk_application0_report_id").value == report.id
