"""Saved runs against the record or target figures: model value, spread over runs, inside or not.

Without a targets file the runs are compared with the record exactly as a run's summary and
report compare them (`chistka.analysis.comparison`): the same rows, roles (calibration,
validation, input, claim) and statuses, the fit counted separately on calibration and on
validation rows. The table then has the columns of `RECORD_COLUMNS`.

A targets file is a CSV with at least the columns id, observable, value, low and high (others,
such as source, read_in_source and grade, are kept but not used). `observable` is a name of the
catalogue in `chistka.analysis.observables`; `low` and `high` bound the accepted range, and where
they are blank the range is the value ±20%. The package ships the record's calibration figures as
targets (`calibration_targets()`, written from the record by `export_targets`).

The runs are one run written by `Results.save`, or an ensemble: a directory whose
subdirectories each hold such a run. The model value is the mean over the runs, with its spread
over them (`chistka.analysis.spread`: the lowest and highest value under 20 runs, else the 5% and
95% quantiles; all three equal for a single run).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chistka.analysis.comparison import compare_runs, modelled_kinds, plan
from chistka.analysis.observables import (
    ObservableOutOfRun,
    UnknownObservable,
    check_name,
    compute,
    is_share,
)
from chistka.analysis.saved import find_runs
from chistka.analysis.spread import spread
from chistka.errors import ChistkaError, read_text
from chistka.mechanisms.camps import camp_input_rows
from chistka.results import Results
from chistka.scenario import load_scenario

REQUIRED_COLUMNS = ("id", "observable", "value", "low", "high")
"""Columns a targets file must have."""

OUTPUT_COLUMNS = (
    "id",
    "observable",
    "model",
    "model_low",
    "model_high",
    "value",
    "low",
    "high",
    "inside",
)
"""Columns of the table `validate` returns (and keys of the command's JSON objects)."""

RECORD_COLUMNS = (
    *OUTPUT_COLUMNS,
    "label",
    "role",
    "status",
    "read_in_source",
    "grade",
    "fitted_now",
)
"""Columns of the table `validate` returns when it compares with the record (no targets file)."""

TARGET_COLUMNS = (
    "id",
    "observable",
    "value",
    "low",
    "high",
    "label",
    "source",
    "read_in_source",
    "grade",
)
"""Columns of a targets file written from the record (`export_targets`)."""

DEFAULT_TOLERANCE = 0.20
"""Relative range around the value where a target gives no low or high."""


def calibration_targets() -> Path:
    """Path of the targets shipped with the package (the record's calibration figures)."""
    return Path(str(resources.files("chistka") / "targets" / "calibration.csv"))


def export_targets(role: str = "calibration", scenario: str = "") -> pd.DataFrame:
    """The record's compared rows of one role as a targets table (`TARGET_COLUMNS`).

    The rows and accepted ranges are those of the run comparison (`comparison.plan`), with the
    roles the scenario gives them (none given: the record's own roles) and only the kinds of
    figure the scenario models (its `compare` list), so a file written from it scores a run
    exactly as its report does. `targets/calibration.csv` is this table.
    """
    loaded = load_scenario(scenario) if scenario else None
    compare = loaded.scenario.compare if loaded else None
    inputs = camp_input_rows(loaded) if loaded else ()
    rows = []
    for planned in plan(scenario, compare, inputs):
        if planned.role != role or not planned.modelled:
            continue
        low, high = planned.spec.accepted_range(planned.row)
        rows.append(
            {
                "id": planned.spec.record_id,
                "observable": planned.spec.observable,
                "value": planned.row.value,
                "low": low,
                "high": high,
                "label": planned.spec.label,
                "source": planned.row.source,
                "read_in_source": "yes" if planned.row.read_in_source else "no",
                "grade": planned.row.grade,
            }
        )
    return pd.DataFrame(rows, columns=list(TARGET_COLUMNS))


def _number(text: str | None, column: str, where: str, *, blank: bool) -> float:
    text = (text or "").strip()
    if not text:
        if blank:
            return math.nan
        raise ChistkaError(f"{where}: column '{column}' is empty (a number is required)")
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise ChistkaError(f"{where}: column '{column}' is not a number: {_quoted(text)}") from None
    if not math.isfinite(value):
        raise ChistkaError(f"{where}: column '{column}' is not a finite number: {_quoted(text)}")
    return value


def _quoted(text: str) -> str:
    """A cell as quoted in a message, cut short when it is long."""
    return repr(text) if len(text) <= 60 else f"{text[:40]!r}... ({len(text):,} characters)"


def read_targets(path: str | Path) -> pd.DataFrame:
    """The targets of a CSV file, checked: columns, numbers and observable names.

    Returns:
        One row per target: the file's columns, with value, low and high as floats (low and
        high NaN where blank), and `row`, the target's row number (1 for the first data row).

    Raises:
        ChistkaError: the file is missing or empty, lacks a required column, or a row has a
            missing or non-numeric value, a bad low/high, or an unknown observable (the message
            names the file, the row and, for observables, the allowed kinds).
    """
    path = Path(path)
    text = read_text(path, "targets file", encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _read_rows(reader, path)
    except csv.Error as exc:
        raise ChistkaError(
            f"targets file '{path}', line {reader.line_num}: not readable as CSV ({exc})"
        ) from None


def _read_rows(reader: csv.DictReader[str], path: Path) -> pd.DataFrame:
    """The checked rows of a targets file (see `read_targets`)."""
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise ChistkaError(f"targets file '{path}' is empty")
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise ChistkaError(
            f"targets file '{path}': column {', '.join(repr(h) for h in repeated)} appears "
            "more than once in the header"
        )
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ChistkaError(
            f"targets file '{path}' lacks column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} (required: {', '.join(REQUIRED_COLUMNS)}; "
            f"found: {', '.join(header)})"
        )
    rows = []
    first_row: dict[str, int] = {}
    for number, raw in enumerate(reader, start=1):
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue  # a blank line
        where = f"{path}, row {number} (line {reader.line_num})"
        if None in raw:
            raise ChistkaError(
                f"{where}: {len(header) + len(raw[None])} cells for {len(header)} columns (quote "
                "a cell that holds a comma)"
            )
        short = [k for k, v in raw.items() if k and v is None]
        if short:
            raise ChistkaError(
                f"{where}: {len(header) - len(short)} cells for {len(header)} columns (no cell "
                f"for {', '.join(short)}; leave a blank cell where there is no value)"
            )
        row = {k: (v.strip() if isinstance(v, str) else v) for k, v in raw.items() if k}
        if not row.get("id"):
            raise ChistkaError(f"{where}: column 'id' is empty")
        if row["id"] in first_row:
            raise ChistkaError(
                f"{where}: id '{row['id']}' is given twice (rows {first_row[row['id']]} and "
                f"{number})"
            )
        first_row[row["id"]] = number
        where = f"{where}, id '{row['id']}'"
        try:
            check_name(row.get("observable") or "")
        except UnknownObservable as exc:
            raise ChistkaError(f"{where}: {exc}") from None
        row["value"] = _number(row.get("value"), "value", where, blank=False)
        row["low"] = _number(row.get("low"), "low", where, blank=True)
        row["high"] = _number(row.get("high"), "high", where, blank=True)
        if not math.isnan(row["low"]) and not math.isnan(row["high"]) and row["low"] > row["high"]:
            raise ChistkaError(f"{where}: low ({row['low']:g}) is above high ({row['high']:g})")
        _check_range(row, where)
        row["row"] = number
        rows.append(row)
    if not rows:
        raise ChistkaError(f"targets file '{path}' has no rows")
    return pd.DataFrame(rows)


SIGNED_KINDS = frozenset({"party_decline"})
"""Observables that may be below zero (the party's decline is negative when it grew)."""


def _check_range(row: dict[str, Any], where: str) -> None:
    """Refuse a target whose numbers its observable cannot take, or outside its own range.

    A value outside its own low..high was scored against the range alone.

    Raises:
        ChistkaError: a count below zero, a share outside 0..1, or the value outside low..high.
    """
    kind = str(row["observable"]).partition(":")[0]
    share = is_share(kind)  # not only kinds ending in _share
    for name in ("value", "low", "high"):
        number = row[name]
        if math.isnan(number) or kind in SIGNED_KINDS:
            continue
        if number < 0 or (share and number > 1):
            allowed = "a share from 0 to 1" if share else "a count of at least 0"
            raise ChistkaError(f"{where}: {name} ({number:g}) is not {allowed} ({kind})")
    value, low, high = row["value"], row["low"], row["high"]
    if (not math.isnan(low) and value < low) or (not math.isnan(high) and value > high):
        shown = ["" if math.isnan(bound) else f"{bound:g}" for bound in (low, high)]
        raise ChistkaError(
            f"{where}: value ({value:g}) lies outside its own range ({shown[0]} to {shown[1]})"
        )


def bounds(value: float, low: float, high: float) -> tuple[float, float]:
    """The accepted range of a target: [low, high], blanks filled from value ±20%."""
    span = sorted((value * (1 - DEFAULT_TOLERANCE), value * (1 + DEFAULT_TOLERANCE)))
    return (span[0] if math.isnan(low) else low, span[1] if math.isnan(high) else high)


def _value(results: Results, observable: str, where: str) -> float:
    """An observable of one run; NaN if the run cannot compute it (outside the run)."""
    try:
        return float(compute(results, observable))
    except ObservableOutOfRun:
        return math.nan
    except UnknownObservable as exc:
        raise ChistkaError(f"{where}: {exc}") from None


def run_values(results: Results, targets: pd.DataFrame) -> np.ndarray:
    """The targets' observables in one run.

    NaN where the run cannot compute one, and where its scenario does not model the kind (its
    `compare` list): a run and its report call such a row not modelled, and a targets file
    must not score it (great-terror's releases of 1939).
    """
    kinds = modelled_kinds(results.provenance)
    return np.array(
        [
            math.nan
            if kinds is not None and target.observable.partition(":")[0] not in kinds
            else _value(results, target.observable, f"row {target.row}, id '{target.id}'")
            for target in targets.itertuples(index=False)
        ],
        dtype=np.float64,
    )


def compare(runs: Iterable[Results], targets: pd.DataFrame) -> pd.DataFrame:
    """The runs' observables against the targets (see `validate`).

    `runs` is consumed one run at a time, so that a lazy iterable keeps one run in memory.
    """
    columns = [run_values(results, targets) for results in runs]
    values = np.column_stack(columns) if columns else np.full((len(targets), 0), np.nan)
    rows = []
    for i, target in enumerate(targets.itertuples(index=False)):
        found = values[i][~np.isnan(values[i])]
        if len(found):
            model = float(found.mean())
            model_low, model_high = spread(found)
            low, high = bounds(target.value, target.low, target.high)
            inside: bool | None = bool(low <= model <= high)
        else:
            model = model_low = model_high = math.nan
            inside = None
        rows.append(
            {
                "id": target.id,
                "observable": target.observable,
                "model": model,
                "model_low": model_low,
                "model_high": model_high,
                "value": target.value,
                "low": target.low,
                "high": target.high,
                "inside": inside,
            }
        )
    table = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS))
    table["inside"] = pd.Series([row["inside"] for row in rows], index=table.index, dtype=object)
    return table


def against_record(runs: Iterable[Results]) -> pd.DataFrame:
    """Runs of one scenario against the record, as a validation table (`RECORD_COLUMNS`)."""
    table = compare_runs(runs).rename(columns={"record_id": "id", "record": "value"})
    return table[list(RECORD_COLUMNS)]


def validate(run_dir: str | Path, targets_path: str | Path | None = None) -> pd.DataFrame:
    """Saved runs (one run, or an ensemble of runs) against the record or a targets file.

    Args:
        run_dir: a directory written by `Results.save`, or one whose subdirectories each are.
        targets_path: CSV with columns id, observable, value, low, high (low/high may be blank);
            None: the record's rows for the runs' scenario (see `against_record`).

    Returns:
        One row per target, in the file's order: id, observable, model (the mean over the
        runs), model_low and model_high (the spread over the runs, `chistka.analysis.spread`:
        lowest and highest under 20 runs, else the 5% and 95% quantiles; equal to model for one
        run), value, low, high (as in the file, NaN where blank) and inside (whether model
        lies in [low, high], blanks taken as value ±20%; None where no run covers the
        observable, e.g. a date before the run's start, or where the runs' scenario does not
        model its kind: model is then NaN).

    Raises:
        ChistkaError: bad targets (missing column, non-numeric value, unknown observable: the
            message names the row), no saved run in `run_dir`, or (without targets) runs of
            different scenarios.
    """
    if targets_path is None:
        return against_record(Results.load(path) for path in find_runs(run_dir))
    targets = read_targets(targets_path)
    paths = find_runs(run_dir)
    return compare((Results.load(path) for path in paths), targets)
