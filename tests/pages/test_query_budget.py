"""No page run issues more than forty queries: the pages that read the most (a queue, the case chosen from it
and its forms) are counted with a case waiting in each, so that a query added back fails here."""
from __future__ import annotations

import pytest

from tests.pages.conftest import app_as, open_tab, page_path, selects
from tests.pages.test_queues import _case_in

BUDGET = 40


def _rerun_counted(at) -> int:  # noqa: ANN001
    """The SELECTs of one rerun of the page as it stands (the first run filled the per-process caches)."""
    with selects() as seen:
        at.run()
    assert not at.exception, at.exception
    return len(seen)


def test_the_department_page_with_a_case_to_investigate_and_assign_keeps_within_budget(page_db):
    case = _case_in(page_db, "investigating", 1)
    at = app_as("opslead", page_path("department"))      # the lead: the assignment form as well
    assert at.selectbox(key="dept_pick").value == case
    assert at.multiselect(key=f"assign_{case}_operations_handlers")       # the form of whom to name
    assert _rerun_counted(at) <= BUDGET


def test_the_gm_office_investigating_tab_keeps_within_budget(page_db):
    case = _case_in(page_db, "investigating", 1)
    at = open_tab(app_as("gmo", page_path("gm_office")), "gm_tabs", "gm.tab.investigating")
    assert at.selectbox(key="investigating_pick").value == case
    assert _rerun_counted(at) <= BUDGET


def test_the_case_page_keeps_within_budget(page_db):
    case = _case_in(page_db, "investigating", 1)
    at = app_as("gmo", page_path("case"))
    at.text_input(key="case_ref").input(str(case)).run()
    assert not at.exception and at.query_params.get("case")
    assert _rerun_counted(at) <= BUDGET


@pytest.mark.parametrize("tab", ["neg.tab.negotiate", "neg.tab.follow_up"])
def test_the_negotiation_page_keeps_within_budget(page_db, tab):
    _case_in(page_db, "negotiating", 1)
    closed = _case_in(page_db, "closed", 2)
    at = open_tab(app_as("clerk", page_path("negotiation")), "negotiation_tabs", tab)
    if tab == "neg.tab.follow_up":
        assert at.selectbox(key="follow_pick").value == closed
    assert _rerun_counted(at) <= BUDGET
