"""Every change a person makes to a case needs the version they were shown: a call without it is
refused and saves nothing, and a second change made on a stale version never overwrites the first.
Only the steps that add a record of their own (a 签呈, a rectification item, the report of a major
case) go without; automatic changes lock the row instead."""
from __future__ import annotations

import inspect
from datetime import timedelta

import pytest

from portal.domain.errors import ConcurrentChange
from portal.persistence.models import Complaint
from portal.services import followthrough, handling, regulatory
from portal.services.queries import current_version
from tests.conftest import T0
from tests.services.test_handling import accepted

AT = T0 + timedelta(hours=2)


def _plan(uow, case_id) -> str:  # noqa: ANN001
    with uow.read() as session:
        return session.get(Complaint, case_id).departments[0].initial_plan


def test_a_change_without_the_version_shown_is_refused_and_saves_nothing(uow, people):
    case_id = accepted(uow, people)
    with pytest.raises(ConcurrentChange) as refused:
        handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=case_id, plan="先核实保单",
                                     expected_version=None, now=AT)
    assert refused.value.message.key == "case.version_required"
    assert _plan(uow, case_id) in (None, "")


def test_a_second_initial_plan_on_a_stale_version_does_not_overwrite_the_first(uow, people):
    case_id = accepted(uow, people)
    shown = current_version(uow, case_id)                 # two people open the same case
    handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=case_id, plan="先核实保单",
                                 expected_version=shown, now=AT)
    with pytest.raises(ConcurrentChange) as refused:
        handling.record_initial_plan(uow, actor=people.opslead, complaint_id=case_id, plan="直接赔付",
                                     expected_version=shown, now=AT)
    assert refused.value.message.key == "case.changed_meanwhile"
    assert _plan(uow, case_id) == "先核实保单"


def test_every_person_facing_step_requires_the_version():
    """The services' signatures: the version is a required argument of every step that changes a case."""
    steps = [(module.__name__, name, fn) for module in (handling, regulatory, followthrough)
             for name, fn in inspect.getmembers(module, inspect.isfunction)
             if fn.__module__ == module.__name__ and "expected_version" in inspect.signature(fn).parameters]
    assert len(steps) >= 25
    for module, name, fn in steps:
        assert inspect.signature(fn).parameters["expected_version"].default is inspect.Parameter.empty, (module, name)
