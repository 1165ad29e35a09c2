"""Calibration check and regression summary of the built-in scenario purges-1921-1953."""

import json
from pathlib import Path

import pytest

from chistka.regression import differences, regression_summary

REGRESSION = Path(__file__).parent / "regression"

SCENARIO = "purges-1921-1953"

# A default-scale run of 1921-1953 (the session fixture purges of conftest.py): the slow tier.
pytestmark = pytest.mark.slow

# Yearly political convictions and death sentences 1930-1940, within 20% each (tolerances live in
# chistka/record/data/observables.csv).
CALIBRATION = [
    f"{kind}_{year}" for year in range(1930, 1941) for kind in ("convicted", "death_sentences")
]


@pytest.mark.parametrize("record_id", CALIBRATION)
def test_purges_1921_1953_reproduces_calibration_rows(purges, record_id):
    table = purges.comparison().set_index("record_id")
    assert record_id in table.index, f"{record_id} is not compared"
    row = table.loc[record_id]
    assert row["inside"], f"{row['label']}: model {row['model']:.4g}, record {row['record']:.4g}"


def test_purges_1921_1953_match_stored_summary(purges):
    stored = json.loads((REGRESSION / f"{SCENARIO}.json").read_text())
    fresh = json.loads(json.dumps(regression_summary(purges)))
    found = differences(stored, fresh)
    assert not found, (
        "results changed (refresh with scripts/refresh_regression.py if intended):\n"
        + ("\n".join(found[:20]))
    )
