"""Documented regional tables: a scenario's regions, their sizes and their operation's limits.

Order 00447 (30 July 1937) gave each republic, krai and oblast its own initial limits in two
categories, and 10,000 in category 1 to the NKVD camps. `data/order_00447_regional_limits.csv`
holds those limits as far as they were read (Werth's republic totals, two book tables), with two
derived rows closing the RSFSR and Ukraine to Werth's totals; `data/census_1939_republics.csv`
holds the 1939 census by union republic (FRUS 1933-39 doc. 587). Sources and sums:
`data/README.md`. Only the order's initial limits are here, never what the operation did.

A region's size is its census population where the table has one. Otherwise (the autonomous
republics and oblasts, and the derived rows) its republic's census population, less the rows of
that republic that have one, is shared out among them in proportion to their initial limits: a
model assumption, since no census figure was read for them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

CENSUS_FILE = "census_1939_republics.csv"
"""The 1939 census by union republic (persons)."""

REGION_TABLES = {"order_00447": "order_00447_regional_limits.csv"}
"""Regional tables a scenario may name (`population.region_table`), by name. A table's name is
also the name of the operation whose initial limits it documents."""

NOT_TERRITORIES = ("NKVD camps",)
"""Rows of a table that hold a limit but are no territory: no region gets their limits."""


@dataclass(frozen=True)
class RegionalTable:
    """The territories of a regional table, their sizes and initial limits (persons)."""

    name: str
    regions: tuple[str, ...]
    republics: tuple[str, ...]
    persons: np.ndarray
    """Size of each region: its census population, or its share of its republic's (above)."""
    limit_cat1: np.ndarray
    limit_cat2: np.ndarray
    unassigned_cat1: int
    """Category-1 limits of the rows that are no territory (the camps' 10,000)."""
    unassigned_cat2: int

    @property
    def operation(self) -> str:
        """Name of the operation whose initial limits the table documents."""
        return self.name

    @property
    def weights(self) -> list[float]:
        """Each region's share of the table's population (what `population.regions` holds)."""
        return [float(x) for x in self.persons / self.persons.sum()]

    @property
    def total_cat1(self) -> int:
        """All category-1 limits of the table, territories and camps."""
        return int(self.limit_cat1.sum()) + self.unassigned_cat1

    @property
    def total_cat2(self) -> int:
        """All category-2 limits of the table, territories and camps."""
        return int(self.limit_cat2.sum()) + self.unassigned_cat2


def _rows(filename: str) -> list[dict[str, str]]:
    path = resources.files("chistka.record") / "data" / filename
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def census_1939() -> dict[str, int]:
    """The 1939 census population of each union republic."""
    return {row["republic"]: int(row["population_1939"]) for row in _rows(CENSUS_FILE)}


@cache
def regional_table(name: str) -> RegionalTable:
    """The regional table of that name (one of `REGION_TABLES`).

    Raises:
        KeyError: no table of that name.
        ValueError: a row of an unknown republic, or a republic whose rows with a census figure
            leave no population for its other rows.
    """
    rows = _rows(REGION_TABLES[name])
    census = census_1939()
    territories = [row for row in rows if row["republic"] not in NOT_TERRITORIES]
    unknown = sorted({row["republic"] for row in territories} - census.keys())
    if unknown:
        raise ValueError(f"{name}: republics without a 1939 census figure: {unknown}")
    cat1 = np.array([float(row["limit_cat1"]) for row in territories])
    cat2 = np.array([float(row["limit_cat2"]) for row in territories])
    persons = np.array([float(row["population_1939"] or "nan") for row in territories])
    republics = np.array([row["republic"] for row in territories])
    for republic in np.unique(republics):
        own = republics == republic
        missing = own & np.isnan(persons)
        if not missing.any():
            continue
        rest = census[republic] - np.nansum(persons[own])
        if rest <= 0:
            raise ValueError(f"{name}: no population of {republic} is left for its other rows")
        limits = cat1[missing] + cat2[missing]
        persons[missing] = rest * limits / limits.sum()
    others = [row for row in rows if row["republic"] in NOT_TERRITORIES]
    for array in (persons, cat1, cat2):
        array.flags.writeable = False
    return RegionalTable(
        name=name,
        regions=tuple(row["region"] for row in territories),
        republics=tuple(republics.tolist()),
        persons=persons,
        limit_cat1=cat1,
        limit_cat2=cat2,
        unassigned_cat1=sum(int(row["limit_cat1"]) for row in others),
        unassigned_cat2=sum(int(row["limit_cat2"]) for row in others),
    )


def region_names(table: str | None) -> tuple[str, ...]:
    """Each region's name, by index, where the scenario's regions are a table's territories.

    `table` is the scenario's `population.region_table`; without one the regions
    (`population.regions`) are numbered only, and the answer is empty.
    """
    return regional_table(table).regions if table is not None else ()
