"""Due times as people say them, one value and a whole column (the column is the same rule per value)."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from portal.i18n.format import fmt_time, fmt_times


def test_an_end_of_day_deadline_is_written_24_00_of_that_day():
    assert fmt_time(datetime(2026, 10, 9, 0, 0)) == "2026-10-08 24:00"
    assert fmt_time(datetime(2026, 10, 9, 0, 0, 1)) == "2026-10-09 00:00"
    assert fmt_time(datetime(2026, 10, 9, 17, 30, 59)) == "2026-10-09 17:30"
    assert fmt_time(None) == "—"


def test_a_column_reads_as_its_values_do_missing_ones_as_a_dash():
    values = [datetime(2026, 1, 1), None, datetime(2026, 2, 28, 9, 5), datetime(2026, 3, 1, 0, 0, 0, 500)]
    column = pd.Series(values, index=[7, 3, 5, 9], dtype="datetime64[ns]")
    shown = fmt_times(column)
    assert shown.tolist() == ["2025-12-31 24:00", "—", "2026-02-28 09:05", "2026-03-01 00:00"]
    assert list(shown.index) == [7, 3, 5, 9]                       # placed beside the rows it came from
    assert fmt_times(pd.Series(["2026-05-01 00:00:00", None])).tolist() == ["2026-04-30 24:00", "—"]
    assert fmt_times(pd.Series([], dtype="datetime64[ns]")).tolist() == []
