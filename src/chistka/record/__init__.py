"""The historical record: archival figures with their sources, and the rows a run is compared with.

The figures are a copy of the project's `history/records.csv` (see `data/README.md`). Each row
keeps its source, range, dispute note and two separate judgements of the figure: whether it was
read in the cited source (`read_in_source`) and how reliable that source is (`grade`), so that
every comparison can show where a number comes from and how far to trust it.

A row's `role` says what the project may do with it: `input` (a fact a scenario is built from,
never scored), `calibration` (a figure parameters may be fitted to), `validation` (a figure never
used to fit anything, kept to judge the model out of sample) or `claim` (shown for reference and
never a target: seed claims of popular texts, rumours, figures resting on one weak source). A
scenario may give a row another role (`data/scenario_roles.csv`): the party's size on its first
day is an input to it, a series its timeline was fitted to is calibration for it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

ROLES = ("input", "calibration", "validation", "claim")
"""What the project may do with a row (see the module docstring)."""

SCORED_ROLES = ("calibration", "validation")
"""Roles whose compared rows count in a scenario's fit."""

GRADES = {
    "archival": "archival table or scholarly edition",
    "scholarly": "scholarly secondary",
    "journalism": "journalism or blog",
    "memory": "unverified memory",
}
"""Reliability grade of a row's source, best first."""

RELIABLE_GRADES = ("archival", "scholarly")
"""Grades a figure read in its source may be called reliable with."""


def grade_text(grade: str) -> str:
    """A grade's code and, where they say more, its words: "scholarly (scholarly secondary)".

    The code is what comparison.csv, the commands' tables and the reports give; `record` gave
    the words alone (QA 46), the reports the code with its words in a tooltip.
    """
    meaning = GRADES.get(grade)
    return f"{grade} ({meaning})" if meaning and meaning != grade else grade


MVD_TABLE_YEARS = range(1921, 1954)
"""Years of the 1953 MVD table of political convictions (1953: its first half)."""


@dataclass(frozen=True)
class RecordRow:
    """One figure of the record."""

    id: str
    role: str
    quantity: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    period: str
    population_scope: str
    read_in_source: bool
    grade: str
    source: str
    url: str
    dispute_note: str

    @property
    def reliable(self) -> bool:
        """Read in a source graded archival or scholarly (a seed claim never is)."""
        return self.read_in_source and self.grade in RELIABLE_GRADES and self.role != "claim"

    @property
    def grade_label(self) -> str:
        """The grade's code and its words, as `grade_text` gives them."""
        return grade_text(self.grade)


@dataclass(frozen=True)
class ComparedObservable:
    """A record row compared with a model observable, and the tolerance around its value."""

    record_id: str
    observable: str
    tolerance_kind: str  # "absolute" or "relative"
    tolerance: float
    label: str

    @property
    def kind(self) -> str:
        """The observable's kind (the part before the colon)."""
        return self.observable.partition(":")[0]

    @property
    def tolerance_text(self) -> str:
        """The tolerance as shown to users (±0.03, ±20%)."""
        if self.tolerance_kind == "absolute":
            return f"±{self.tolerance:g}"
        return f"±{self.tolerance:.0%}"

    def allowed(self, value: float) -> float:
        """The tolerance as a distance from `value`, in its units."""
        return self.tolerance if self.tolerance_kind == "absolute" else self.tolerance * abs(value)

    def accepted_range(self, row: RecordRow) -> tuple[float, float]:
        """The values counted as a fit: the record's own range, widened to the tolerance."""
        value = math.nan if row.value is None else float(row.value)
        span = self.allowed(value)
        low = value - span if row.low is None else min(row.low, value - span)
        high = value + span if row.high is None else max(row.high, value + span)
        return low, high

    def inside(self, model: float, row: RecordRow) -> bool:
        """Whether the model value lies in the accepted range."""
        if math.isnan(model):
            return False
        low, high = self.accepted_range(row)
        return low <= model <= high


@dataclass(frozen=True)
class ScenarioRole:
    """The role a record row has in one scenario, where it differs from the record's."""

    scenario: str
    record_id: str
    role: str
    fitted_now: bool
    reason: str


def _number(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _data(name: str) -> str:
    return (resources.files("chistka.record") / "data" / name).read_text(encoding="utf-8")


def table_rows(text: str, name: str) -> list[dict[str, str]]:
    """The rows of a CSV text by column, each with exactly one cell per column of the header.

    Refuses a row with more or fewer cells (named by file and line): an unquoted comma in a
    note split it, and the reader silently dropped the text after the comma (six reasons in
    scenario_roles.csv were cut short on every page that showed them).
    """
    reader = csv.DictReader(text.splitlines())
    rows = []
    for row in reader:
        if None in row or None in row.values():
            raise ValueError(
                f"{name}, line {reader.line_num}: {len(reader.fieldnames or [])} columns in the "
                "header but not in this row (quote a cell that holds a comma)"
            )
        rows.append(row)
    return rows


def _yes(text: str, column: str, row_id: str) -> bool:
    value = text.strip().lower()
    if value not in ("yes", "no"):
        raise ValueError(f"record row '{row_id}': {column} must be yes or no (got '{text}')")
    return value == "yes"


def _derived_death_or_camp(rows: dict[str, RecordRow]) -> dict[str, RecordRow]:
    """Death and camp sentences per year of the 1953 MVD table: the model's conviction scope.

    `convicted_YEAR` counts death, camp, exile and "other measures" sentences; the model's
    `political_convictions` only death and camp sentences, so it is compared with the sum of
    the table's first two columns. A blank death column (1948-49, death penalty abolished)
    counts as none.
    """
    derived = {}
    for year in MVD_TABLE_YEARS:
        death, camps = rows[f"death_sentences_{year}"], rows[f"to_camps_{year}"]
        if camps.value is None:
            continue
        derived_id = f"death_or_camp_{year}"
        derived[derived_id] = replace(
            camps,
            id=derived_id,
            quantity="death and camp sentences (OGPU/NKVD organs, political cases), derived",
            value=(death.value or 0.0) + camps.value,
            read_in_source=death.read_in_source and camps.read_in_source,
            dispute_note=(
                f"Derived: death_sentences_{year} + to_camps_{year}, the scope of the model's "
                f"political_convictions (convicted_{year} also counts exile and other measures)."
                + (
                    " No death sentences recorded (death penalty abolished 1947-50)."
                    if death.value is None
                    else ""
                )
            ),
        )
    return derived


@cache
def records() -> dict[str, RecordRow]:
    """All rows of the record by id, with the derived death-and-camp rows (`death_or_camp_YEAR`)."""
    rows = {}
    for row in table_rows(_data("records.csv"), "records.csv"):
        rows[row["id"]] = RecordRow(
            id=row["id"],
            role=row["role"],
            quantity=row["quantity"],
            value=_number(row["value"]),
            low=_number(row["low"]),
            high=_number(row["high"]),
            unit=row["unit"],
            period=row["period"],
            population_scope=row["population_scope"],
            read_in_source=_yes(row["read_in_source"], "read_in_source", row["id"]),
            grade=row["grade"].strip(),
            source=row["source"],
            url=row["url"],
            dispute_note=row["dispute_note"],
        )
    rows.update(_derived_death_or_camp(rows))
    return rows


def get(record_id: str) -> RecordRow:
    """One row of the record by id (KeyError names the id)."""
    try:
        return records()[record_id]
    except KeyError:
        raise KeyError(f"no record row with id '{record_id}'") from None


@cache
def compared_observables() -> tuple[ComparedObservable, ...]:
    """The record rows a run is compared with, and their observables."""
    return tuple(
        ComparedObservable(
            record_id=row["record_id"],
            observable=row["observable"],
            tolerance_kind=row["tolerance_kind"],
            tolerance=float(row["tolerance"]),
            label=row["label"],
        )
        for row in table_rows(_data("observables.csv"), "observables.csv")
    )


@cache
def scenario_roles() -> tuple[ScenarioRole, ...]:
    """The roles the built-in scenarios give record rows, where they differ from the record's."""
    return tuple(
        ScenarioRole(
            scenario=row["scenario"],
            record_id=row["record_id"],
            role=row["role"],
            fitted_now=_yes(row["fitted_now"], "fitted_now", row["record_id"]),
            reason=row["reason"],
        )
        for row in table_rows(_data("scenario_roles.csv"), "scenario_roles.csv")
    )


def role_in(record_id: str, scenario: str) -> ScenarioRole:
    """The role of a record row in a scenario (by the scenario's name).

    `fitted_now` marks a validation row that the scenario's present timeline was fitted to by
    hand (chosen for out-of-sample checks of the next fit, not yet out of sample).
    """
    for entry in scenario_roles():
        if entry.scenario == scenario and entry.record_id == record_id:
            return entry
    return ScenarioRole(scenario, record_id, get(record_id).role, False, "")
