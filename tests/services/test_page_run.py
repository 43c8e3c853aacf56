"""One page run reads the rules its sections share once (`UnitOfWork.for_one_run`), and anew after a write."""
from __future__ import annotations

from sqlalchemy import update

from portal.persistence.models import Setting
from portal.services import privacy, rules
from tests.helpers import selects


def test_a_page_run_reads_settings_clocks_and_the_masking_table_once(uow):
    run = uow.for_one_run()
    with selects(uow.engine) as seen:
        for _ in range(3):
            with run.read() as session:
                rules.settings(session)
                rules.clock_infos(session)
                privacy.masking_table(session)
    assert len(seen) == 4, seen          # settings, clocks and their versions, the masking table


def test_outside_a_run_every_read_goes_to_the_database(uow):
    with selects(uow.engine) as seen:
        for _ in range(2):
            with uow.read() as session:
                rules.settings(session)
    assert len(seen) == 2


def test_a_write_in_the_run_makes_the_next_read_fresh(uow):
    run = uow.for_one_run()
    with run.read() as session:
        before = rules.settings(session)["follow_up.dissatisfied_max"]
        rules.settings(session)["follow_up.dissatisfied_max"] = "changed by the caller"     # a copy: no effect
    with run.read() as session:
        assert rules.settings(session)["follow_up.dissatisfied_max"] == before
    with run.write() as session:
        session.execute(update(Setting).where(Setting.key == "follow_up.dissatisfied_max").values(value="1"))
    with run.read() as session:
        assert rules.settings(session)["follow_up.dissatisfied_max"] == "1"
