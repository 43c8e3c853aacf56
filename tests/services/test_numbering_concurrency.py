"""Numbers stay unique and gap-free when several processes accept at the same moment."""
from __future__ import annotations

import json
import subprocess
import sys
import time

from sqlalchemy import select

from portal.config import ROOT
from portal.persistence.models import Complaint
from portal.services import complaints
from tests.conftest import T0
from tests.helpers import a_form

PROCESSES, EACH = 4, 50


def run_workers(url: str, batches: list[list[int]]) -> list[list[str]]:
    start_at = time.time() + 4          # time for every interpreter to start and connect
    workers = [subprocess.Popen([sys.executable, "-m", "tests.services.accept_worker", url, str(start_at),
                                 *map(str, batch)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for batch in batches]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_four_processes_accepting_fifty_cases_each_get_unique_gap_free_numbers(uow, people, database_url):
    ids = [complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[], now=T0).id
           for _ in range(PROCESSES * EACH)]
    results = run_workers(database_url, [ids[k::PROCESSES] for k in range(PROCESSES)])
    numbers = sorted(n for batch in results for n in batch)
    assert numbers == [f"2509-{i:04d}" for i in range(1, PROCESSES * EACH + 1)]
    with uow.read() as session:
        stored = session.scalars(select(Complaint.number)).all()
    assert sorted(stored) == numbers


def test_the_same_case_accepted_by_four_processes_at_once_is_numbered_once(uow, people, database_url):
    complaint_id = complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[], now=T0).id
    results = run_workers(database_url, [[complaint_id]] * PROCESSES)
    assert sorted(r for batch in results for r in batch) == ["2509-0001"] + ["TransitionNotAllowed"] * (PROCESSES - 1)
