"""The masking table applied where case data leaves the database (issue 16), on both backends: the
ledger and queues, one case, exports, the case search; the table edited in 系统配置."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain.errors import PermissionDenied
from portal.domain.privacy import default_rows
from portal.persistence.models import Event, MaskingRule
from portal.services import case_search, configuration, exports, queries, rules
from portal.services.configuration import ConfigurationRefused
from tests.conftest import T0
from tests.services.test_handling import accepted

NAME, PHONE, POLICY, ID_NUMBER = "欧阳明珠", "13911223344", "P990011223344", "11010519491231002X"
NOW = T0 + timedelta(hours=2)


@pytest.fixture
def ops_case(uow, people):
    return accepted(uow, people, customer_name=NAME, customer_phone=PHONE, policy_number=POLICY,
                    customer_id_number=ID_NUMBER, insured_name=NAME)


def _detail(uow, actor, case_id):
    return queries.case_detail(uow, actor=actor, complaint_id=case_id, now=NOW, calendar=rules.load_calendar(uow))


def _ledger(uow, actor, text=""):
    return queries.tracking_ledger(uow, actor=actor, filters=queries.LedgerFilter(text=text), now=NOW,
                                   calendar=rules.load_calendar(uow)).frame


def test_the_manager_sees_names_and_policy_numbers_masked_in_the_ledger(uow, people, ops_case):
    frame = _ledger(uow, people.boss)
    assert list(frame["customer_name"]) == ["欧***"] and list(frame["policy_number"]) == ["*********3344"]
    frame = _ledger(uow, people.gmo)
    assert list(frame["customer_name"]) == [NAME] and list(frame["policy_number"]) == [POLICY]


def test_the_ledgers_search_never_confirms_a_name_the_reader_does_not_see(uow, people, ops_case):
    assert _ledger(uow, people.boss, text=NAME).empty
    assert _ledger(uow, people.boss, text=POLICY).empty
    assert len(_ledger(uow, people.gmo, text=NAME)) == 1


def test_a_handler_sees_the_phone_of_their_departments_case_and_an_approver_does_not(uow, people, ops_case):
    mine = _detail(uow, people.opshandler, ops_case)
    assert mine.fields["customer_phone"] == PHONE and not mine.masked
    approver = _detail(uow, people.approver, ops_case)
    assert approver.fields["customer_phone"] == "139****3344"
    assert approver.fields["customer_name"] == NAME and approver.fields["policy_number"] == POLICY
    boss = _detail(uow, people.boss, ops_case)
    assert {boss.fields[k] for k in ("customer_name", "insured_name")} == {"欧***"}
    assert boss.fields["customer_id_number"] == "1101**********002X" and boss.masked
    assert NAME not in repr(boss) and PHONE not in repr(boss) and POLICY not in repr(boss)


def test_the_queues_mask_for_their_reader(uow, people, ops_case):
    frame = queries.department_queue(uow, actor=people.opshandler, now=NOW, calendar=rules.load_calendar(uow)).frame
    assert list(frame["customer_name"]) == [NAME]


def _save(uow, admin, change: dict, basis=None):
    rows = [{**r, **change.get(r["audience"], {})} for r in default_rows()]
    return configuration.save_table(uow, actor=admin, table="masking_rules", rows=rows, now=NOW, basis=basis)


def test_an_administrators_change_applies_at_once_and_is_audited(uow, people, ops_case):
    assert _save(uow, people.admin, {"handler": {"phone": "masked"}, "manager": {"name": "shown"}}) == 2
    assert _detail(uow, people.opshandler, ops_case).fields["customer_phone"] == "139****3344"
    assert list(_ledger(uow, people.boss)["customer_name"]) == [NAME]
    log = configuration.change_log(uow, actor=people.admin, table="masking_rules")
    assert {c.key: c.after["phone"] for c in log}["handler"] == "masked"
    assert {c.key: c.before["name"] for c in log}["manager"] == "masked"


def test_a_bad_visibility_is_refused_and_nothing_is_saved(uow, people, ops_case):
    with uow.read() as session:
        before = {r.audience: r.phone for r in session.scalars(select(MaskingRule))}
    with pytest.raises(ConfigurationRefused) as refused:
        _save(uow, people.admin, {"manager": {"phone": "visible"}, "handler": {"name": "shown"}})
    assert [(r.field, r.message.key) for r in refused.value.refusals] == [("phone", "masking.bad_visibility")]
    with pytest.raises(ConfigurationRefused):
        _save(uow, people.admin, {a: {"email": "masked"} for a in ("intake", "intake_lead", "gm_office")})
    with uow.read() as session:
        assert {r.audience: r.phone for r in session.scalars(select(MaskingRule))} == before
        assert session.scalar(select(MaskingRule.name).where(MaskingRule.audience == "handler")) == "own_department"
        assert not session.scalars(select(Event).where(Event.action == "config.save")).all()
    with pytest.raises(PermissionDenied):
        _save(uow, people.gmo, {})


def _csv(uow, actor, **kw):
    return exports.ledger_csv(uow, actor=actor, filters=queries.LedgerFilter(), now=NOW,
                              calendar=rules.load_calendar(uow), lang="zh", **kw).decode("utf-8-sig")


def test_exports_hold_only_what_the_export_row_and_the_exporting_user_show(uow, people, ops_case):
    gm = _csv(uow, people.gmo)
    assert NAME in gm and POLICY in gm and PHONE not in gm and ID_NUMBER not in gm and "139****3344" in gm
    boss = _csv(uow, people.boss)
    assert NAME not in boss and POLICY not in boss and PHONE not in boss and "欧***" in boss
    _save(uow, people.admin, {"export": {"phone": "shown"}})
    assert PHONE in _csv(uow, people.gmo) and PHONE not in _csv(uow, people.boss)
    assert PHONE in _csv(uow, people.admin, unmasked=True)


def test_everyone_finds_a_case_by_number_and_the_recent_cases_are_masked_for_them(uow, people, ops_case):
    number = queries.case_detail(uow, actor=people.gmo, complaint_id=ops_case, now=NOW,
                                 calendar=rules.load_calendar(uow)).number
    for actor in (people.clerk, people.gmo, people.opshandler, people.approver, people.boss):
        found = case_search.find_cases(uow, actor=actor, by="number", text=number, now=NOW)
        assert [c.id for c in found] == [ops_case]
    assert case_search.find_cases(uow, actor=people.techhandler, by="number", text=number, now=NOW) == []
    assert [c.customer_name for c in case_search.recent_cases(uow, actor=people.boss)] == ["欧***"]
    assert case_search.recent_cases(uow, actor=people.techhandler) == []
    with uow.read() as session:     # a search by number is not one by personal data
        assert not session.scalars(select(Event).where(Event.action == "case.search")).all()


def test_a_search_by_personal_data_only_where_the_table_shows_the_field_and_audited(uow, people, ops_case):
    assert case_search.search_options(uow, actor=people.boss) == ["number"]
    assert case_search.search_options(uow, actor=people.approver) == ["number", "policy_number", "name"]
    assert case_search.search_options(uow, actor=people.gmo) == ["number", "policy_number", "name", "phone"]
    with pytest.raises(PermissionDenied):
        case_search.find_cases(uow, actor=people.boss, by="phone", text=PHONE, now=NOW)
    with pytest.raises(PermissionDenied):
        case_search.find_cases(uow, actor=people.approver, by="phone", text=PHONE, now=NOW)
    assert [c.id for c in case_search.find_cases(uow, actor=people.gmo, by="phone", text=PHONE, now=NOW)] == [ops_case]
    assert [c.id for c in case_search.find_cases(uow, actor=people.approver, by="name", text="阳明", now=NOW)] == [ops_case]
    # a handler searches by phone among their own department's cases only
    assert [c.id for c in case_search.find_cases(uow, actor=people.opshandler, by="phone", text=PHONE, now=NOW)] \
        == [ops_case]
    assert case_search.find_cases(uow, actor=people.techhandler, by="phone", text=PHONE, now=NOW) == []
    with uow.read() as session:
        events = session.scalars(select(Event).where(Event.action == "case.search").order_by(Event.id)).all()
    assert [(e.actor_label, e.changes["by"], e.changes["matches"]) for e in events] == [
        ("gmo", "phone", 1), ("approver", "name", 1), ("opshandler", "phone", 1), ("techhandler", "phone", 0)]
    assert all(PHONE not in str(e.changes) for e in events)
    assert events[0].changes["value"] == "139****3344"


def test_what_the_customer_said_is_redacted_where_it_repeats_masked_data(uow, people):
    case_id = accepted(uow, people, customer_name=NAME, customer_phone=PHONE, policy_number=POLICY,
                       description=f"{NAME}来电（{PHONE}）称保单{POLICY}理赔未到账。")
    assert list(_ledger(uow, people.boss)["summary"]) == ["欧***来电（139****3344）称保单*********3344理赔未到账。"]
    assert list(_ledger(uow, people.gmo)["summary"]) == [f"{NAME}来电（{PHONE}）称保单{POLICY}理赔未到账。"]
    approver = _detail(uow, people.approver, case_id)
    assert approver.fields["description"] == f"{NAME}来电（139****3344）称保单{POLICY}理赔未到账。"


def test_the_duplicate_prompt_names_earlier_cases_as_the_table_shows_them_to_the_clerk(uow, people, ops_case):
    from portal.services import complaints
    from tests.helpers import a_form
    form = a_form(customer_name="另一位", customer_phone=PHONE, policy_number="P-OTHER-1", received_at=T0)
    with pytest.raises(complaints.PossibleDuplicate) as shown:
        complaints.register_complaint(uow, actor=people.clerk, form=form, attachments=[], now=NOW, confirmed_new=False)
    assert [c.customer_name for c in shown.value.cases] == [NAME]
    _save(uow, people.admin, {"intake": {"name": "masked"}})
    with pytest.raises(complaints.PossibleDuplicate) as masked:
        complaints.register_complaint(uow, actor=people.clerk, form=form, attachments=[], now=NOW, confirmed_new=False)
    assert [c.customer_name for c in masked.value.cases] == ["欧***"]
