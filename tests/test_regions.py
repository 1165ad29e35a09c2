"""Regions from Order 00447's table: the table as read, its sums, and a scenario that uses it."""

from __future__ import annotations

import csv
import json
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from chistka import Results, Sim
from chistka.errors import ScenarioError
from chistka.mechanisms.operations import LimitLedger, Operations
from chistka.record import get
from chistka.record.regions import REGION_TABLES, census_1939, regional_table
from chistka.scenario import scenario_from_dict

WERTH_REPUBLIC_TOTALS = {
    "RSFSR": (47_450, 142_150),
    "Ukrainian SSR": (8_000, 20_800),
    "Kazakh SSR": (2_500, 5_000),
    "Belorussian SSR": (2_000, 10_000),
}
"""Werth's republic totals (dmitrievaffair.com, data/README.md), per category."""


def table_rows() -> list[dict[str, str]]:
    path = resources.files("chistka.record") / "data" / REGION_TABLES["order_00447"]
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def terror_with_table(**population) -> dict:
    """A small scenario whose regions and Order 00447 limits come from the table."""
    return {
        "scenario": {"name": "regions", "start": "1937-07-20", "end": "1937-08-20", "seed": 3},
        "population": {
            "size": 2_000_000,
            "scale": 0.01,
            "region_table": "order_00447",
            **population,
        },
        "operations": [
            {
                "name": "order_00447",
                "kind": "category",
                "start": "1937-08-05",
                "end": "1937-08-20",
                "targets": ["kulak", "criminal"],
                "limit_shoot": 75_950,
                "limit_camp": 193_000,
            }
        ],
    }


def test_the_table_loads_with_its_territories_and_the_camps_apart():
    table = regional_table("order_00447")
    assert len(table.regions) == 35 == len(set(table.regions))
    assert "NKVD camps" not in table.regions
    assert (table.unassigned_cat1, table.unassigned_cat2) == (10_000, 0)
    assert np.all(table.limit_cat1 > 0) and np.all(table.limit_cat2 > 0)


def test_every_row_is_read_or_derived_with_its_page():
    rows = table_rows()
    assert {row["read_in_source"] for row in rows} == {"yes", "derived"}
    assert all(row["url"].startswith("https://") and row["source"] for row in rows)
    derived = [row["region"] for row in rows if row["read_in_source"] == "derived"]
    assert derived == ["RSFSR, other territories", "Ukrainian SSR, other oblasts"]
    assert all(
        row["population_url"].startswith("https://") for row in rows if row["population_1939"]
    )


def test_the_table_sums_to_the_recorded_limits():
    table = regional_table("order_00447")
    assert table.total_cat1 == get("o00447_limit_cat1").value == 75_950
    assert table.total_cat2 == get("o00447_limit_cat2").value == 193_000


def test_each_republic_sums_to_werths_total():
    table = regional_table("order_00447")
    republics = np.array(table.republics)
    for republic, (cat1, cat2) in WERTH_REPUBLIC_TOTALS.items():
        own = republics == republic
        assert (table.limit_cat1[own].sum(), table.limit_cat2[own].sum()) == (cat1, cat2)


def test_region_sizes_follow_the_census_by_republic():
    table = regional_table("order_00447")
    census = census_1939()
    assert sum(census.values()) == 170_467_186  # the 1939 census total (FRUS 1933-39 doc. 587)
    republics = np.array(table.republics)
    for republic, population in census.items():
        assert table.persons[republics == republic].sum() == pytest.approx(population)
    uzbek = table.regions.index("Uzbek SSR")
    assert table.persons[uzbek] == 6_282_446
    komi, kalmyk = table.regions.index("Komi ASSR"), table.regions.index("Kalmyk ASSR")
    assert table.persons[komi] == pytest.approx(table.persons[kalmyk])  # same limits, same size
    assert sum(table.weights) == pytest.approx(1.0)


def test_a_scenario_with_the_table_gets_unequal_regions():
    scenario = scenario_from_dict(terror_with_table())
    weights = np.array(scenario.population.regions)
    assert len(weights) == 35
    assert weights.max() / weights.min() > 100
    again = scenario_from_dict(scenario.model_dump(mode="json"))
    assert again.population.regions == scenario.population.regions


def test_other_regions_beside_the_table_are_refused():
    with pytest.raises(ScenarioError, match="region_table"):
        scenario_from_dict(terror_with_table(regions=[1.0, 1.0]))


def test_an_unknown_table_is_refused():
    with pytest.raises(ScenarioError, match="order_00447"):
        scenario_from_dict(terror_with_table(region_table="order_00448"))


def test_the_operation_must_total_the_tables_limits():
    data = terror_with_table()
    data["operations"][0]["limit_shoot"] = 70_000
    with pytest.raises(ScenarioError, match="75950"):
        scenario_from_dict(data)


def test_the_operation_starts_from_the_documented_limits_per_region():
    state, mechanisms = Sim(scenario_from_dict(terror_with_table())).build()
    operations = next(m for m in mechanisms if isinstance(m, Operations))
    ledger = operations.ledgers[0]
    table = regional_table("order_00447")
    assert np.array_equal(ledger.initial_shoot, table.limit_cat1)
    assert np.array_equal(ledger.initial_camp, table.limit_cat2)
    chelyabinsk = table.regions.index("Chelyabinsk oblast")
    assert (ledger.limit_shoot[chelyabinsk], ledger.limit_camp[chelyabinsk]) == (1_500, 4_500)
    assert ledger.initial_shoot.sum() == 65_950  # the camps' 10,000 go to no region
    by_population = LimitLedger.split(operations.operations[0], state.region_persons)
    assert not np.allclose(by_population.initial_shoot, ledger.initial_shoot)


def test_without_a_table_the_limits_follow_the_population():
    data = terror_with_table(regions=[1.0, 3.0])
    del data["population"]["region_table"]
    state, mechanisms = Sim(scenario_from_dict(data)).build()
    ledger = next(m for m in mechanisms if isinstance(m, Operations)).ledgers[0]
    share = state.region_persons / state.region_persons.sum()
    assert np.allclose(ledger.initial_shoot, 75_950 * share)
    assert ledger.initial_shoot[1] > 2.5 * ledger.initial_shoot[0]


def test_documented_limits_must_match_the_regions():
    operation = scenario_from_dict(terror_with_table()).operations[0]
    with pytest.raises(ValueError, match="3 documented limits for 2 regions"):
        LimitLedger.split(operation, np.ones(2), (np.ones(3), np.ones(3)))


def test_the_run_folder_names_each_region(tmp_path):
    """limit_requests.csv gives each region's name beside its index; population.json holds the
    key to the index of the event log and citizen_deaths.parquet (QA 45: indices 0-34 only)."""
    results = Sim(scenario_from_dict(terror_with_table())).run()
    results.save(tmp_path / "run")
    requests = pd.read_csv(tmp_path / "run" / "limit_requests.csv")
    assert len(requests) > 0
    table = regional_table("order_00447")
    assert list(requests.columns[:4]) == ["date", "operation", "region", "region_name"]
    assert requests["region_name"].tolist() == [table.regions[i] for i in requests["region"]]
    population = json.loads((tmp_path / "run" / "population.json").read_text())
    assert population["region_names"] == list(table.regions)
    assert Results.load(tmp_path / "run").population_summary["region_names"] == list(table.regions)
