"""Numbers stay unique and gap-free when several processes accept at the same moment."""
from __future__ import annotations

import multiprocessing as mp
from datetime import timedelta

from sqlalchemy import select

from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import Complaint
from portal.services import complaints
from portal.services.actors import load_actor
from tests.conftest import T0
from tests.helpers import a_form

PROCESSES, EACH = 4, 50


def _accept_all(url: str, ids: list[int], barrier, out) -> None:  # noqa: ANN001
    uow = UnitOfWork(make_engine(url))
    gm = load_actor(uow, "gmo")
    barrier.wait()
    numbers = [complaints.accept_complaint(uow, actor=gm, complaint_id=i, category="claim",
                                           severity="general", departments=["operations"],
                                           now=T0 + timedelta(hours=1)).number for i in ids]
    out.put(numbers)


def test_four_processes_accepting_fifty_cases_each_get_unique_gap_free_numbers(uow, people, database_url):
    ids = [complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[], now=T0).id
           for _ in range(PROCESSES * EACH)]
    context = mp.get_context("spawn")
    barrier, out = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_accept_all,
                               args=(database_url, ids[k::PROCESSES], barrier, out)) for k in range(PROCESSES)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    numbers = sorted(n for batch in results for n in batch)
    assert numbers == [f"2509-{i:04d}" for i in range(1, PROCESSES * EACH + 1)]
    with uow.read() as session:
        stored = session.scalars(select(Complaint.number)).all()
    assert sorted(stored) == numbers


def _accept_same(url: str, complaint_id: int, barrier, out) -> None:  # noqa: ANN001
    uow = UnitOfWork(make_engine(url))
    gm = load_actor(uow, "gmo")
    barrier.wait()
    try:
        out.put(complaints.accept_complaint(uow, actor=gm, complaint_id=complaint_id, category="claim",
                                            severity="general", departments=["operations"],
                                            now=T0 + timedelta(hours=1)).number)
    except Exception as error:  # noqa: BLE001 - the refusal is the expected outcome for all but one
        out.put(type(error).__name__)


def test_the_same_case_accepted_by_four_processes_at_once_is_numbered_once(uow, people, database_url):
    complaint_id = complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[], now=T0).id
    context = mp.get_context("spawn")
    barrier, out = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_accept_same, args=(database_url, complaint_id, barrier, out))
               for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    outcomes = sorted(out.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert outcomes == ["2509-0001"] + ["TransitionNotAllowed"] * (PROCESSES - 1)
