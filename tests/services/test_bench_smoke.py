"""The benchmark command runs end to end (its figures are read by people, never asserted)."""
from __future__ import annotations

from portal import bench, cli


def test_the_benchmark_seeds_and_measures_every_page_on_a_small_database(monkeypatch, capsys):
    monkeypatch.setenv("PORTAL_DATABASE_URL", "sqlite:///unused-by-the-bench.sqlite3")
    assert cli.main(["bench", "--complaints", "400", "--backends", "sqlite", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "== sqlite, 400 complaints" in out and "seeding:" in out
    assert "service desk: 400 policies" in out and "400 requests" in out      # as many as complaints
    for case in bench.PAGES:
        assert case.label in out, case.label
    assert "(no such page)" not in out
    assert {"desk", "handover", "request", "policies", "desk_register"} <= {case.page for case in bench.PAGES}
