"""Calibration checks and regression summaries of the built-in scenarios."""

import json
from pathlib import Path

import pytest

from chistka import Sim, builtin_scenarios
from chistka.regression import differences, regression_summary

REGRESSION = Path(__file__).parent / "regression"

# Default-scale runs of the built-in scenarios (the session fixtures party_purges and
# great_terror of conftest.py, about a minute each): the slow tier.
pytestmark = pytest.mark.slow

# Issue 2, item 6: the expulsion share of each campaign within 3 points, the membership anchors
# within 10% (tolerances live in chistka/record/data/observables.csv).
PARTY_PURGES_CALIBRATION = [
    "purge1921_share",
    "purge1929_share",
    "purge1933_share",
    "proverka1935_share",
    "purge1937_share",
    "party_total_1921_03",
    "party_total_1928_07",
    "party_total_1933_01",
    "party_full_17congress",
]


# Issue 3: yearly political convictions and death sentences 1935-1940 within 20% each.
GREAT_TERROR_CALIBRATION = [
    f"{kind}_{year}" for year in range(1935, 1941) for kind in ("convicted", "death_sentences")
]


@pytest.mark.parametrize("record_id", GREAT_TERROR_CALIBRATION)
def test_great_terror_reproduces_calibration_rows(great_terror, record_id):
    table = great_terror.comparison().set_index("record_id")
    assert record_id in table.index, f"{record_id} is not compared"
    row = table.loc[record_id]
    assert row["inside"], f"{row['label']}: model {row['model']:.4g}, record {row['record']:.4g}"


def test_great_terror_spikes_in_1937_and_1938(great_terror):
    convictions = {
        y: great_terror.observable(f"political_convictions:{y}") for y in range(1935, 1941)
    }
    assert min(convictions[1937], convictions[1938]) > 2 * max(
        convictions[y] for y in (1935, 1936, 1939, 1940)
    )


@pytest.mark.parametrize("record_id", PARTY_PURGES_CALIBRATION)
def test_party_purges_reproduce_calibration_rows(party_purges, record_id):
    table = party_purges.comparison().set_index("record_id")
    assert record_id in table.index, f"{record_id} is not compared"
    row = table.loc[record_id]
    assert row["inside"], f"{row['label']}: model {row['model']:.4g}, record {row['record']:.4g}"


@pytest.mark.parametrize("seed", [2, 3])
def test_party_purges_calibration_holds_for_other_seeds(seed):
    table = Sim.from_scenario("party-purges-1921-1936", seed=seed).run().comparison()
    table = table.set_index("record_id").loc[PARTY_PURGES_CALIBRATION]
    assert table["inside"].all(), table.loc[~table["inside"], ["model", "record"]]


def test_every_builtin_scenario_has_a_stored_summary():
    for name in builtin_scenarios():
        assert (REGRESSION / f"{name}.json").is_file(), (
            f"no stored summary for {name}: run scripts/refresh_regression.py {name}"
        )


@pytest.mark.parametrize(
    ("name", "fixture"),
    [("party-purges-1921-1936", "party_purges"), ("great-terror", "great_terror")],
)
def test_builtin_scenario_matches_stored_summary(name, fixture, request):
    stored = json.loads((REGRESSION / f"{name}.json").read_text())
    fresh = json.loads(json.dumps(regression_summary(request.getfixturevalue(fixture))))
    found = differences(stored, fresh)
    assert not found, (
        "results changed (refresh with scripts/refresh_regression.py if intended):\n"
        + ("\n".join(found[:20]))
    )


def test_differences_detects_a_change():
    assert differences({"a": {"b": 1.0}}, {"a": {"b": 1.1}}) == ["a.b: stored 1.0, fresh 1.1"]
    assert differences({"a": 1.0}, {"a": 1.0, "c": 2}) == ["c: only in fresh"]
    assert differences({"a": 1.0}, {"a": 1.0 + 1e-9}) == []
