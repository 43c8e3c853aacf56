"""Rectification items chased and verified (issue 18), on SQLite and PostgreSQL: a named owner and a sub-cause,
completion with evidence, the GM office's effect confirmation (effective; not effective → reopened for a second
round or followed by a new item), exactly one 催办单 per overdue item and round, the lists and the KPIs."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.errors import PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.persistence.models import ComplaintMeeting, Event, Rectification, Reminder, User
from portal.services import followthrough, rectification, reminders
from tests.conftest import T0
from tests.services.test_handling import to_approval

AT = T0 + timedelta(days=2)                      # 2025-10-02 10:00


def user_id(uow, username):
    with uow.read() as session:
        return session.scalar(select(User.id).where(User.username == username))


def an_item(uow, people, case_id, owner="opshandler", deadline=date(2025, 10, 10), **extra):
    return rectification.add_rectification(uow, actor=people.gmo, complaint_id=case_id, cause="审核积压无人提醒",
                                           cause_code="process.execution", description="建立审核时效提醒",
                                           owner_id=user_id(uow, owner), deadline=deadline, now=AT, **extra)


def item(uow, item_id) -> Rectification:
    with uow.read() as session:
        row = session.get(Rectification, item_id)
        session.expunge(row)
        return row


def count(uow, model, *conditions) -> int:
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_the_gm_office_adds_an_item_with_a_named_owner_and_a_sub_cause(uow, people):
    case_id, _ = to_approval(uow, people)
    item_id = an_item(uow, people, case_id, owner_department="operations")
    row = item(uow, item_id)
    assert (row.owner_id, row.cause_code, row.cause, row.status, row.round, row.kind, row.created_by_id) == (
        user_id(uow, "opshandler"), "process.execution", "审核积压无人提醒", "open", 1, "rectification",
        user_id(uow, "gmo"))
    assert row.owner_department_id is not None and row.deadline == date(2025, 10, 10)
    mine = rectification.list_items(uow, actor=people.opshandler, which="mine")
    assert [(i.id, i.owner_name, i.cause_code) for i in mine] == [(item_id, "运营丁", "process.execution")]
    assert rectification.list_items(uow, actor=people.opslead, which="mine") == []
    assert [i.id for i in rectification.list_items(uow, actor=people.gmo, which="open")] == [item_id]


def test_a_meeting_may_open_an_item_and_a_missing_meeting_is_refused(uow, people):
    case_id, _ = to_approval(uow, people)
    with uow.write() as session:
        meeting = ComplaintMeeting(held_on=date(2025, 10, 2), title="十月立会", attendees="甲、乙", decisions="建立提醒",
                                   recorded_by_id=user_id(uow, "gmo"), recorded_at=AT)
        session.add(meeting)
        session.flush()
        meeting_id = meeting.id
    assert item(uow, an_item(uow, people, case_id, meeting_id=meeting_id)).meeting_id == meeting_id
    with pytest.raises(ValidationFailed) as refused:
        an_item(uow, people, case_id, meeting_id=meeting_id + 99)
    assert refused.value.errors["meeting"].key == "rectification.no_meeting"
    assert count(uow, Rectification) == 1


@pytest.mark.parametrize("changes, field, key", [
    (dict(cause_code=None), "cause_code", "form.required"),
    (dict(cause_code="process"), "cause_code", "rectification.bad_cause"),        # a class alone says too little
    (dict(cause_code="process.nonsense"), "cause_code", "rectification.bad_cause"),
    (dict(owner="clerk"), "owner", "rectification.bad_owner"),                    # not a handler nor a lead
    (dict(owner="techhandler", owner_department="operations"), "owner", "rectification.owner_elsewhere"),
    (dict(owner=None), "owner", "form.required"),
    (dict(deadline=date(2025, 9, 1)), "deadline", "rectification.past_deadline"),
    (dict(deadline=None), "deadline", "form.required"),
    (dict(description="  "), "description", "form.required"),
    (dict(kind="corrective"), "kind", "rectification.corrective_from_check"),
])
def test_bad_input_is_refused_and_nothing_is_saved(uow, people, changes, field, key):
    case_id, _ = to_approval(uow, people)
    values = dict(cause="原因", cause_code="process.execution", description="整改", owner="opshandler",
                  deadline=date(2025, 10, 10))
    values.update(changes)
    owner = values.pop("owner")
    events = count(uow, Event)
    with pytest.raises(ValidationFailed) as refused:
        rectification.add_rectification(uow, actor=people.gmo, complaint_id=case_id, now=AT,
                                        owner_id=user_id(uow, owner) if owner else None, **values)
    assert refused.value.errors[field].key == key
    assert count(uow, Rectification) == 0 and count(uow, Event) == events


def test_an_inactive_cause_is_refused(uow, people):
    from portal.persistence.models import CauseClass
    case_id, _ = to_approval(uow, people)
    with uow.write() as session:
        session.scalar(select(CauseClass).where(CauseClass.code == "process")).active = False
    with pytest.raises(ValidationFailed) as refused:
        an_item(uow, people, case_id)
    assert refused.value.errors["cause_code"].key == "rectification.bad_cause"


def test_only_the_gm_office_adds_and_only_the_owner_or_the_gm_office_completes(uow, people):
    case_id, _ = to_approval(uow, people)
    with pytest.raises(TransitionNotAllowed):
        rectification.add_rectification(uow, actor=people.opshandler, complaint_id=case_id, cause="c",
                                        cause_code="process.execution", description="d",
                                        owner_id=user_id(uow, "opshandler"), deadline=date(2025, 10, 10), now=AT)
    item_id = an_item(uow, people, case_id)
    for other in (people.opslead, people.techhandler):               # same department or not: not the owner
        with pytest.raises(PermissionDenied):
            rectification.complete_rectification(uow, actor=other, rectification_id=item_id, evidence="已上线",
                                                  now=AT + timedelta(days=1))
    with pytest.raises(ValidationFailed) as refused:                  # evidence is required
        rectification.complete_rectification(uow, actor=people.opshandler, rectification_id=item_id, evidence=" ",
                                              now=AT + timedelta(days=1))
    assert refused.value.errors["evidence"].key == "form.required" and item(uow, item_id).status == "open"
    with pytest.raises(ValidationFailed):                             # "done" only with evidence
        followthrough.set_rectification_status(uow, actor=people.opshandler, rectification_id=item_id, status="done",
                                               now=AT)
    followthrough.set_rectification_status(uow, actor=people.opshandler, rectification_id=item_id,
                                           status="in_progress", now=AT)
    assert item(uow, item_id).status == "in_progress"


def test_completion_sets_the_effect_day_and_the_gm_office_confirms_it_effective(uow, people):
    case_id, _ = to_approval(uow, people)
    item_id = an_item(uow, people, case_id)
    done = AT + timedelta(days=3)
    assert rectification.complete_rectification(uow, actor=people.opshandler, rectification_id=item_id,
                                                evidence="提醒功能已上线，截图存档", now=done) == date(2025, 11, 4)
    row = item(uow, item_id)
    assert (row.status, row.done_at, row.evidence, row.effect_due_on) == ("done", done, "提醒功能已上线，截图存档",
                                                                          date(2025, 11, 4))
    early = datetime(2025, 11, 3, 17, 0)
    assert rectification.list_items(uow, actor=people.gmo, which="effect_due", now=early) == []
    with pytest.raises(TransitionNotAllowed) as refused:
        rectification.confirm_effect(uow, actor=people.gmo, rectification_id=item_id, result="effective", now=early)
    assert refused.value.message.key == "rectification.effect_not_due"
    on_day = datetime(2025, 11, 4, 9, 0)
    assert [i.id for i in rectification.list_items(uow, actor=people.gmo, which="effect_due", now=on_day)] == [item_id]
    with pytest.raises(PermissionDenied):
        rectification.confirm_effect(uow, actor=people.opshandler, rectification_id=item_id, result="effective",
                                     now=on_day)
    with pytest.raises(ValidationFailed) as refused:
        rectification.confirm_effect(uow, actor=people.gmo, rectification_id=item_id, result=None, now=on_day)
    assert refused.value.errors["result"].key == "form.required"
    rectification.confirm_effect(uow, actor=people.gmo, rectification_id=item_id, result="effective", now=on_day)
    row = item(uow, item_id)
    assert (row.effect_result, row.effect_confirmed_at, row.effect_confirmed_by_id) == (
        "effective", on_day, user_id(uow, "gmo"))
    with pytest.raises(TransitionNotAllowed):                          # confirmed once
        rectification.confirm_effect(uow, actor=people.gmo, rectification_id=item_id, result="effective", now=on_day)


def test_not_effective_reopens_the_same_item_for_a_second_round(uow, people):
    case_id, _ = to_approval(uow, people)
    item_id = an_item(uow, people, case_id)
    rectification.complete_rectification(uow, actor=people.opshandler, rectification_id=item_id, evidence="已培训",
                                          now=AT)
    on_day = datetime(2025, 11, 2, 9, 0)
    with pytest.raises(ValidationFailed) as refused:
        rectification.confirm_effect(uow, actor=people.gmo, rectification_id=item_id, result="not_effective",
                                     reason="", after=None, now=on_day)
    assert {f: m.key for f, m in refused.value.errors.items()} == {"reason": "form.required", "after": "form.required"}
    with pytest.raises(ValidationFailed) as refused:
        rectification.confirm_effect(uow, actor=people.gmo, rectification_id=item_id, result="not_effective",
                                     reason="同类投诉仍在发生", after="reopen", now=on_day)
    assert refused.value.errors["new_deadline"].key == "form.required" and item(uow, item_id).effect_result is None
    assert rectification.confirm_effect(uow, actor=people.gmo, rectification_id=item_id, result="not_effective",
                                        reason="同类投诉仍在发生", after="reopen", new_deadline=date(2025, 11, 20),
                                        now=on_day) == item_id
    row = item(uow, item_id)
    assert (row.status, row.round, row.deadline, row.done_at, row.effect_due_on, row.effect_result, row.evidence) == (
        "open", 2, date(2025, 11, 20), None, None, None, "")
    with uow.read() as session:                     # the not-effective confirmation stays in the history
        event = session.scalars(select(Event).where(Event.action == "confirm_effect")).one()
        assert event.comment == "同类投诉仍在发生"
        assert event.changes["result"] == "not_effective" and event.changes["after"] == "reopen"
        assert event.changes["round"] == 1 and event.changes["evidence"] == "已培训"
    assert [i.id for i in rectification.list_items(uow, actor=people.opshandler, which="mine")] == [item_id]


def test_not_effective_with_a_follow_up_item(uow, people):
    case_id, _ = to_approval(uow, people)
    item_id = an_item(uow, people, case_id)
    rectification.complete_rectification(uow, actor=people.gmo, rectification_id=item_id, evidence="已上线", now=AT)
    on_day = datetime(2025, 11, 2, 9, 0)
    with pytest.raises(ValidationFailed) as refused:
        rectification.confirm_effect(uow, actor=people.gmo, rectification_id=item_id, result="not_effective",
                                     reason="仍有积压", after="follow", new_deadline=date(2025, 12, 1), now=on_day)
    assert set(refused.value.errors) == {"new_description", "new_owner"} and count(uow, Rectification) == 1
    follower = rectification.confirm_effect(
        uow, actor=people.gmo, rectification_id=item_id, result="not_effective", reason="仍有积压", after="follow",
        new_deadline=date(2025, 12, 1), new_owner_id=user_id(uow, "techlead"), new_description="系统自动派单",
        now=on_day)
    old, new = item(uow, item_id), item(uow, follower)
    assert (old.status, old.effect_result, old.effect_reason, old.round) == ("done", "not_effective", "仍有积压", 1)
    assert (new.follows_id, new.owner_id, new.deadline, new.description, new.status, new.cause_code) == (
        item_id, user_id(uow, "techlead"), date(2025, 12, 1), "系统自动派单", "open", "process.execution")
    assert [i.id for i in rectification.list_items(uow, actor=people.techlead, which="mine")] == [follower]


def test_an_overdue_item_gets_exactly_one_reminder_and_a_reopened_one_its_own(uow, people):
    case_id, _ = to_approval(uow, people)
    item_id = an_item(uow, people, case_id, deadline=date(2025, 10, 10))
    on_time = an_item(uow, people, case_id, deadline=date(2025, 10, 30))
    key = f"rect:{item_id}:1"
    reminders.issue_reminders(uow, now=datetime(2025, 10, 10, 23, 59))            # due by the end of the day
    assert count(uow, Reminder, Reminder.clock_key.like("rect:%")) == 0
    reminders.issue_reminders(uow, now=datetime(2025, 10, 11, 8, 0))
    reminders.issue_reminders(uow, now=datetime(2025, 10, 12, 8, 0))                # a second sweep: nothing more
    assert rectification.issue_rectification_reminders(uow, now=datetime(2025, 10, 13, 8, 0)) == 0
    with uow.read() as session:
        rows = session.scalars(select(Reminder).where(Reminder.clock_key.like("rect:%"))).all()
        assert [(r.clock_key, r.complaint_id, r.kind, r.due_at) for r in rows] == [
            (key, case_id, "reminder", datetime(2025, 10, 11))]
        assert rows[0].department_id == session.get(Rectification, item_id).owner_department_id
    listed = reminders.list_reminders(uow, actor=people.opshandler, open_only=True)   # the department's list
    assert [r.clock_key for r in listed if r.clock_key == key] == [key]
    reminders.answer_reminder(uow, actor=people.opshandler, reminder_id=rows[0].id, answer="正在开发",
                              now=datetime(2025, 10, 12, 9, 0))
    rectification.complete_rectification(uow, actor=people.opshandler, rectification_id=on_time, evidence="完成",
                                         now=datetime(2025, 10, 12, 9, 0))
    rectification.complete_rectification(uow, actor=people.opshandler, rectification_id=item_id, evidence="完成",
                                         now=datetime(2025, 10, 12, 9, 0))
    rectification.confirm_effect(uow, actor=people.gmo, rectification_id=item_id, result="not_effective",
                                 reason="无效", after="reopen", new_deadline=date(2025, 11, 15),
                                 now=datetime(2025, 11, 11, 9, 0))
    reminders.issue_reminders(uow, now=datetime(2025, 11, 16, 8, 0))
    reminders.issue_reminders(uow, now=datetime(2025, 11, 17, 8, 0))
    with uow.read() as session:
        assert sorted(session.scalars(select(Reminder.clock_key).where(Reminder.clock_key.like("rect:%")))) == [
            key, f"rect:{item_id}:2"]


def test_badges_follow_the_deadline(uow, people):
    from portal.domain.clocks import Badge
    case_id, _ = to_approval(uow, people)
    an_item(uow, people, case_id, deadline=date(2025, 10, 10))
    view = rectification.list_items(uow, actor=people.opshandler, which="mine")[0]
    assert view.badge(datetime(2025, 10, 3), 0.2) is Badge.ON_TRACK
    assert view.badge(datetime(2025, 10, 10, 12), 0.2) is Badge.DUE_SOON
    assert view.badge(datetime(2025, 10, 11, 0, 1), 0.2) is Badge.OVERDUE


def test_lists_are_limited_and_refused_to_the_wrong_people(uow, people):
    case_id, _ = to_approval(uow, people)
    late = an_item(uow, people, case_id, deadline=date(2025, 10, 5))
    an_item(uow, people, case_id, deadline=date(2025, 10, 20))
    first = an_item(uow, people, case_id, deadline=date(2025, 10, 3))
    assert [i.id for i in rectification.list_items(uow, actor=people.opshandler, which="mine", limit=2)] == [first, late]
    assert rectification.count_items(uow, actor=people.opshandler, which="mine") == 3
    assert rectification.count_overdue_mine(uow, actor=people.opshandler, now=datetime(2025, 10, 6)) == 2
    for which in ("open", "effect_due"):
        with pytest.raises(PermissionDenied):
            rectification.list_items(uow, actor=people.opshandler, which=which, now=AT)
    with pytest.raises(PermissionDenied):
        rectification.list_items(uow, actor=people.clerk, which="mine")


def test_kpis_count_completion_by_the_deadline_and_effectiveness(uow, people):
    case_id, _ = to_approval(uow, people)
    on_time = an_item(uow, people, case_id, deadline=date(2025, 10, 10))
    late = an_item(uow, people, case_id, deadline=date(2025, 10, 12))
    an_item(uow, people, case_id, deadline=date(2025, 10, 20))                     # due in the period, not done
    an_item(uow, people, case_id, deadline=date(2025, 11, 20))                     # due after it
    rectification.complete_rectification(uow, actor=people.opshandler, rectification_id=on_time, evidence="e",
                                         now=datetime(2025, 10, 10, 23, 0))
    rectification.complete_rectification(uow, actor=people.opshandler, rectification_id=late, evidence="e",
                                         now=datetime(2025, 10, 13, 9, 0))
    rectification.confirm_effect(uow, actor=people.gmo, rectification_id=on_time, result="effective",
                                 now=datetime(2025, 11, 10, 9, 0))
    rectification.confirm_effect(uow, actor=people.gmo, rectification_id=late, result="not_effective", reason="r",
                                 after="reopen", new_deadline=date(2025, 11, 28), now=datetime(2025, 11, 12, 9, 0))
    with uow.read() as session:
        october = rectification.rectification_kpis(session, date(2025, 10, 1), date(2025, 10, 31))
        november = rectification.rectification_kpis(session, date(2025, 11, 1), date(2025, 11, 30))
    assert october == {"due": 2, "done_on_time": 1, "confirmed": 0, "effective": 0}   # the late one was reopened
    # November: the reopened item (deadline now 11-28) and the one due 11-20; one effective of two confirmations
    assert november == {"due": 2, "done_on_time": 0, "confirmed": 2, "effective": 1}
