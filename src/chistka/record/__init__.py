"""The historical record: archival figures with their sources, and the comparison of a run to it.

The figures are a copy of the project's `history/records.csv` (see `data/README.md`). Each row
keeps its source, range, `verified` flag and dispute note, so that every comparison can show where
a number comes from and whether it was checked.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

ROLES = ("input", "calibration", "claim")


@dataclass(frozen=True)
class RecordRow:
    """One archival figure."""

    id: str
    role: str
    quantity: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    period: str
    population_scope: str
    verified: bool
    source: str
    url: str
    dispute_note: str


@dataclass(frozen=True)
class ComparedObservable:
    """A record row compared with a model observable, and the tolerance a scenario must meet."""

    record_id: str
    observable: str
    tolerance_kind: str  # "absolute" or "relative"
    tolerance: float
    label: str

    def inside(self, model: float, record: float) -> bool:
        """Whether the model value is within tolerance of the record's value."""
        if math.isnan(model):
            return False
        if self.tolerance_kind == "absolute":
            return abs(model - record) <= self.tolerance
        return abs(model - record) <= self.tolerance * abs(record)


def _number(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _data(name: str) -> str:
    return (resources.files("chistka.record") / "data" / name).read_text(encoding="utf-8")


@cache
def records() -> dict[str, RecordRow]:
    """All rows of the record, by id."""
    rows = {}
    for row in csv.DictReader(_data("records.csv").splitlines()):
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
            verified=row["verified"].strip().lower() == "yes",
            source=row["source"],
            url=row["url"],
            dispute_note=row["dispute_note"],
        )
    return rows


def get(record_id: str) -> RecordRow:
    """One row of the record by id (KeyError names the id)."""
    try:
        return records()[record_id]
    except KeyError:
        raise KeyError(f"no record row with id '{record_id}'") from None


@cache
def compared_observables() -> tuple[ComparedObservable, ...]:
    """The record rows every run is compared with, and their observables."""
    return tuple(
        ComparedObservable(
            record_id=row["record_id"],
            observable=row["observable"],
            tolerance_kind=row["tolerance_kind"],
            tolerance=float(row["tolerance"]),
            label=row["label"],
        )
        for row in csv.DictReader(_data("observables.csv").splitlines())
    )
