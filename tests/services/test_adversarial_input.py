"""Arbitrary values through the registration and every handling form (Hypothesis, a fixed
example budget): each call ends in a ValidationFailed with messages, or in a saved case whose
text reads back exactly as the form normalised it. Never another exception, never a partial row.
On SQLite and PostgreSQL (which refuses NUL and lone surrogates outright)."""
from __future__ import annotations

import unicodedata
from dataclasses import fields
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.domain.errors import NotFound, ValidationFailed
from portal.domain.regulatory import Decision
from portal.domain.satisfaction import Survey
from portal.domain.validation import Attachment, RegistrationForm
from portal.persistence.models import (AttachmentRow, Complaint, ComplaintDepartment, Event, FollowUp,
                                       Rectification)
from portal.services import complaints, followthrough, handling, regulatory, reminders
from portal.services.actors import load_actor
from portal.services.queries import current_version
from tests.conftest import BACKENDS, T0, module_database
from tests.helpers import a_form

BUDGET = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

NASTY = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\x1b[31m红\x1b[0m", "\x07", "\u202e反转\u202c", "\u200b\u200b",
         "\ufeff", "１３８１２３４５６７８", "١٣٨١٢٣٤٥٦٧٨", "１１０１０５１９４９１２３１００２Ｘ", "11010520991231001X",
         "11010518991231001X", "**粗体** :red[红] <b>x</b> [a](javascript:alert(1))", "'; DROP TABLE complaints; --",
         "𠀀𠀁😀", " \t\n ", "x" * 5000, "", "0.001", "1e12", "-5", "NaN", "999999999999.99", "1,000.50",
         "１２３．４５", "Infinity"]
TEXTS = st.one_of(st.sampled_from(NASTY),
                  st.text(st.characters(blacklist_categories=()), max_size=60),
                  st.text(max_size=300))
ANYTHING = st.one_of(TEXTS, st.none(), st.integers(-10**15, 10**15), st.booleans(), st.floats(allow_nan=True),
                     st.binary(max_size=20), st.lists(st.text(max_size=5), max_size=3), st.dates(), st.datetimes(),
                     st.decimals(allow_nan=True, allow_infinity=True), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                                      max_size=2))
VALUES = st.one_of(TEXTS, TEXTS, ANYTHING)
MOMENTS = st.one_of(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(2025, 9, 30)),
                    st.datetimes(timezones=st.just(timezone(timedelta(hours=-5)))), st.dates(), st.none(),
                    st.sampled_from([datetime(1900, 1, 1), datetime(1, 1, 1), T0]))
TABLES = (Complaint, Event, ComplaintDepartment, AttachmentRow, FollowUp, Rectification)


@pytest.fixture(scope="module", params=BACKENDS)
def db(request, tmp_path_factory):
    with module_database(request, tmp_path_factory, lambda unit: None) as unit:
        yield unit


def counts(uow) -> tuple:  # noqa: ANN001
    with uow.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(table)) for table in TABLES)


def clean_stored(text: str) -> bool:
    """No control character (but line breaks and tabs), no surrogate, no bidi override."""
    return not any(unicodedata.category(c) in ("Cs", "Co") or (unicodedata.category(c) == "Cc" and c not in "\n\t")
                   or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069" for c in text)


FORM_FIELDS = [f.name for f in fields(RegistrationForm)]


@BUDGET
@given(overrides=st.dictionaries(st.sampled_from(FORM_FIELDS), VALUES, min_size=1, max_size=5),
       received=MOMENTS, file_name=st.one_of(st.none(), TEXTS))
@example(overrides={"customer_name": "陈\x00小明\u202e", "customer_phone": "１３８１２３４５６７８",
                    "description": "**粗体**\x1b[31m\ud800 <b>x</b>\n第二行"},
         received=datetime(2025, 9, 1, 9, 0, tzinfo=timezone(timedelta(hours=-5))), file_name="报告\x00.pdf")
def test_registration_refuses_or_saves_exactly(db, overrides, received, file_name):
    form = a_form(**overrides)
    if "received_at" not in overrides:
        form.received_at = received
    attachments = [] if file_name is None else [Attachment(file_name, "application/pdf", b"%PDF-1.4")]
    before = counts(db)
    try:
        done = complaints.register_complaint(db, actor=load_actor(db, "clerk"), form=form, attachments=attachments,
                                             now=T0)
    except ValidationFailed as refused:
        assert refused.errors and all(m.key for m in refused.errors.values())
        assert counts(db) == before
        event("refused")
        return
    event("saved")
    expected, problems = form.normalised()
    assert not problems
    with db.read() as session:
        stored = session.get(Complaint, done.id)
        for name in FORM_FIELDS:
            value = getattr(expected, name)
            if isinstance(value, str) and hasattr(stored, name):
                saved = getattr(stored, name)
                assert saved == (value.upper() if name == "customer_id_number" else value), name
                assert clean_stored(saved), name
        assert stored.received_at == expected.received_at and stored.received_at >= datetime(2000, 1, 1)
        names = list(session.scalars(select(AttachmentRow.filename).where(AttachmentRow.complaint_id == done.id)))
        assert all(clean_stored(n) and 0 < len(n) <= 200 for n in names)
    assert stored.customer_phone.isascii() and (not stored.customer_id_number or stored.customer_id_number.isascii())


def _case_at(uow, until: str, **form) -> int:  # noqa: ANN001, ANN003
    who = lambda name: load_actor(uow, name)  # noqa: E731
    case_id = complaints.register_complaint(uow, actor=who("clerk"), form=a_form(**form), attachments=[], now=T0).id
    complaints.accept_complaint(uow, actor=who("gmo"), complaint_id=case_id, category="claim", severity="general",
                                departments=["operations"], now=T0)
    steps = [
        ("consolidate", lambda: handling.submit_report(
            uow, actor=who("opshandler"), complaint_id=case_id, now=T0,
            report=handling.InvestigationReport(cause_code="process.execution", evidence="录音", cause="积压", finding="company_fault",
                                                measures="增派人员", proposed_amount="3000"),
                                                    expected_version=current_version(uow, case_id))),
        ("gm_report", lambda: handling.report_to_gm(uow, actor=who("opshandler"), complaint_id=case_id,
                                                    report="调查完毕", now=T0,
                                                        expected_version=current_version(uow, case_id))),
        ("instruct", lambda: handling.instruct_report(uow, actor=who("genmgr"), complaint_id=case_id,
                                                      instruction="同意", now=T0,
                                                          expected_version=current_version(uow, case_id))),
        ("approve", lambda: handling.consolidate(uow, actor=who("gmo"), complaint_id=case_id, opinion="同意",
                                                 proposed_amount="3000", now=T0,
                                                     expected_version=current_version(uow, case_id))),
        ("negotiate", lambda: handling.approve(uow, actor=who("approver"), complaint_id=case_id,
                                               instructions="按3000元赔付", amount_limit="3000", now=T0,
                                                   expected_version=current_version(uow, case_id))),
    ]
    for name, step in steps:          # the case stops at the step named `until`, before doing it
        if name == until:
            break
        step()
    return case_id


def _attempt(db, call) -> None:  # noqa: ANN001
    """The form either saves or is refused whole."""
    before = counts(db)
    try:
        call()
    except ValidationFailed as refused:
        assert refused.errors and all(m.key for m in refused.errors.values())
        assert counts(db) == before
        event("refused")
        return
    event("saved")
    with db.read() as session:                               # what was saved reads back clean
        for comment, changes in session.execute(select(Event.comment, Event.changes)
                                                .order_by(Event.id.desc()).limit(1)):
            assert clean_stored(comment)
            assert all(clean_stored(v) for v in changes.values() if isinstance(v, str))


FORMS = {
    "report": ("consolidate", lambda db, c, a, b, d: handling.submit_report(
        db, actor=load_actor(db, "opshandler"), complaint_id=c, now=T0,
        report=handling.InvestigationReport(cause_code="process.execution", evidence=a, cause=b, finding="company_fault", measures=a,
                                            responsible_unit=b, proposed_amount=d),
                                                expected_version=current_version(db, c))),
    "gm_report": ("gm_report", lambda db, c, a, b, d: handling.report_to_gm(
        db, actor=load_actor(db, "opshandler"), complaint_id=c, report=a, now=T0,
                             expected_version=current_version(db, c))),
    "instruct": ("instruct", lambda db, c, a, b, d: handling.instruct_report(
        db, actor=load_actor(db, "genmgr"), complaint_id=c, instruction=a, now=T0,
                             expected_version=current_version(db, c))),
    "consolidate": ("approve", lambda db, c, a, b, d: handling.consolidate(
        db, actor=load_actor(db, "gmo"), complaint_id=c, opinion=a, proposed_amount=d, now=T0,
                             expected_version=current_version(db, c))),
    "approve": ("negotiate", lambda db, c, a, b, d: handling.approve(
        db, actor=load_actor(db, "approver"), complaint_id=c, instructions=a, amount_limit=d, now=T0,
                             expected_version=current_version(db, c))),
    "negotiate": ("review", lambda db, c, a, b, d: handling.record_negotiation(
        db, actor=load_actor(db, "clerk"), complaint_id=c, result="accepted", note=a, agreed_amount=d, now=T0,
        decision=Decision(checked=b, basis=a, remedies=["review"], told_via="phone", proof=b),
                          expected_version=current_version(db, c))),
    "hold": ("consolidate", lambda db, c, a, b, d: handling.hold(
        db, actor=load_actor(db, "gmo"), complaint_id=c, reason=a, now=T0, expected_version=current_version(db, c))),
    "other_company": ("consolidate", lambda db, c, a, b, d: followthrough.mark_other_company(
        db, actor=load_actor(db, "gmo"), complaint_id=c, company=a, now=T0, expected_version=current_version(db, c))),
    "rectification": ("approve", lambda db, c, a, b, d: followthrough.add_rectification(
        db, actor=load_actor(db, "gmo"), complaint_id=c, cause=a, description=b, owner_department="operations",
        deadline=d if isinstance(d, date) else date(2025, 12, 1), now=T0)),
    "outside": ("consolidate", lambda db, c, a, b, d: regulatory.start_outside_process(
        db, actor=load_actor(db, "gmo"), complaint_id=c, kind="appraisal" if isinstance(b, str) else b, note=a,
        now=T0, expected_version=current_version(db, c))),
    "major": ("consolidate", lambda db, c, a, b, d: complaints.report_major_case(
        db, actor=load_actor(db, "gmo"), complaint_id=c, comment=a, now=T0)),
}


@pytest.mark.parametrize("form", sorted(FORMS))
@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(a=st.one_of(TEXTS, VALUES), b=st.one_of(TEXTS, VALUES),
       d=st.one_of(st.sampled_from(["3000", "2000.50", None, ""]), st.dates(date(2025, 10, 1), date(2030, 1, 1)),
                   VALUES, st.dates(), st.decimals(places=3)))
@example(a="**粗体**\x00 <b>标签</b>\u202e反\u202c :red[x]", b="正常\x1b[0m文字\ud800", d="3000")
@example(a="\u200b\u200b", b="理由", d=None)
def test_every_handling_form_refuses_or_saves_whole(db, form, a, b, d):
    stage, call = FORMS[form]
    case_id = _case_at(db, stage, flag_media=form == "major")
    _attempt(db, lambda: call(db, case_id, a, b, d))


@BUDGET
@example(outcome="回访\x00满意\u202e", scores=[5, 4, 3, 2, 1])
@given(outcome=VALUES, scores=st.lists(st.one_of(st.integers(-3, 8), st.booleans(), st.none(), st.text(max_size=2),
                                               st.floats()), min_size=5, max_size=5))
def test_the_follow_up_survey_refuses_or_saves_whole(db, outcome, scores):
    case_id = _case_at(db, "all steps")                       # negotiating
    handling.record_negotiation(db, actor=load_actor(db, "clerk"), complaint_id=case_id, result="accepted",
                                note="接受", agreed_amount="3000", now=T0,
                                decision=Decision(checked="核对", basis="条款", remedies=["review"], told_via="phone",
                                                  proof="录音"), expected_version=current_version(db, case_id))
    handling.review_negotiation(db, actor=load_actor(db, "lead"), complaint_id=case_id, approve=True, comment="",
                                now=T0, expected_version=current_version(db, case_id))
    handling.close_case(db, cause_code="process.execution", actor=load_actor(db, "gmo"), complaint_id=case_id, final_opinion="结案",
                        responsible_department=None, responsibility_level="none", penalty_persons="", now=T0,
                            expected_version=current_version(db, case_id))
    handling.final_approve(db, actor=load_actor(db, "approver"), complaint_id=case_id, approve=True, comment="",
                           now=T0, expected_version=current_version(db, case_id))
    _attempt(db, lambda: handling.record_follow_up(db, method="phone", actor=load_actor(db, "clerk"), complaint_id=case_id,
                                                   outcome=outcome, survey=Survey(*scores), now=T0,
                                                       expected_version=current_version(db, case_id)))


@BUDGET
@given(answer=VALUES)
def test_answering_a_reminder_checks_the_text_before_anything_else(db, answer):
    """The answer is validated first: a refusal names the field; valid text reaches the lookup."""
    try:
        reminders.answer_reminder(db, actor=load_actor(db, "opshandler"), reminder_id=10**9, answer=answer, now=T0)
    except ValidationFailed as refused:
        assert set(refused.errors) == {"answer"}
    except NotFound:
        pass
