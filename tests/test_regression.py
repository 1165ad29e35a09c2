"""The comparison of regression summaries: exact counts, floats within a relative tolerance.

The built-in scenarios' stored summaries are compared in the slow tier
(test_builtin_scenarios.py, test_purges_1921_1953.py); this checks the comparison itself on a
small run.
"""

from __future__ import annotations

import json
import math

from chistka import Sim
from chistka.regression import RELATIVE_TOLERANCE, differences, regression_summary
from conftest import make_scenario


def round_trip(summary: dict) -> dict:
    """The summary as stored (JSON keeps ints and floats apart)."""
    return json.loads(json.dumps(summary))


def test_integers_exactly_floats_within_the_tolerance():
    assert differences({"n": 10}, {"n": 10}) == []
    assert differences({"n": 10}, {"n": 11}) == ["n: stored 10, fresh 11 (counts agree exactly)"]
    near = 1e6 * (1 + RELATIVE_TOLERANCE / 10)
    far = 1e6 * (1 + RELATIVE_TOLERANCE * 10)
    assert differences({"x": 1e6}, {"x": near}) == []
    assert differences({"a": {"x": 1e6}}, {"a": {"x": far}}) == [
        f"a.x: stored 1000000.0, fresh {far!r}"
    ]
    assert differences({"x": math.nan}, {"x": math.nan}) == []
    assert differences({"x": 0.0}, {"x": 1e-15}) == []


def test_structure_and_types():
    assert differences({"a": 1.0}, {"a": 1.0, "c": 2}) == ["c: only in fresh"]
    assert differences({"a": 1.0, "b": 2}, {"a": 1.0}) == ["b: only in stored"]
    assert differences({"n": 3}, {"n": 3.0}) == ["n: stored 3, fresh 3.0"]
    assert differences({"x": None}, {"x": 0.5}) == ["x: stored None, fresh 0.5"]
    assert differences({"s": "great-terror"}, {"s": "great-terror"}) == []
    assert differences({"flag": True}, {"flag": 1}) == ["flag: stored True, fresh 1"]


def test_summary_types_and_a_change_in_results_shows(small_results):
    summary = round_trip(regression_summary(small_results))
    assert differences(summary, round_trip(regression_summary(small_results))) == []
    assert isinstance(summary["events"], int)
    assert sum(summary["events_by_kind"].values()) == summary["events"]
    assert summary["events_by_kind"]["admitted"] > 0
    january = summary["agents_1_january"]
    assert list(january) == ["1925-01-01", "1926-01-01", "1927-01-01", "1928-01-01"]
    assert all(isinstance(n, int) for day in january.values() for n in day.values())
    total = sum(january["1926-01-01"].values())
    assert total == sum(january["1927-01-01"].values()) == small_results.counts[0].sum()
    assert all(isinstance(v, float) for v in summary["membership_1_january"]["1926-01-01"].values())
    # a small change of one parameter changes figures of both kinds
    changed = Sim(make_scenario({"exits": {"rate_per_year": 0.06}}), seed=11).run()
    found = differences(summary, round_trip(regression_summary(changed)))
    assert any(line.startswith("events_by_kind.left") for line in found), found
    assert any(line.startswith("membership_1_january") for line in found), found


def test_the_scripts_give_their_help_and_refuse_an_unknown_scenario(tmp_path):
    """The README walk-through of session 41: `--help` was taken as a scenario name, and
    refresh_regression.py would have run (and written) what it was given."""
    import subprocess
    import sys
    from pathlib import Path

    scripts = Path(__file__).resolve().parents[1] / "scripts"
    for script in ("refresh_regression.py", "membership_vs_rigby.py"):
        shown = subprocess.run(
            [sys.executable, str(scripts / script), "--help"], capture_output=True, text=True
        )
        assert shown.returncode == 0 and "usage:" in shown.stdout, shown.stderr
        refused = subprocess.run(
            [sys.executable, str(scripts / script), "nosuch"], capture_output=True, text=True
        )
        assert refused.returncode == 2 and "nosuch" in refused.stderr
