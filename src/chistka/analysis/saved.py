"""Runs read back from disk: a `Results` rebuilt from the files `Results.save` wrote.

A saved run is a directory with daily.parquet (counts by status, fate and origin per day),
events.parquet (the event log with the person's attributes), summary.json and provenance.json
(and optionally operations.csv). `load_results` rebuilds from them everything the observables
and the analyses read: the daily counts in agents and persons, the event log as integer
columns (as `Results.collect` makes it), the names of the campaigns and operations, the
provenance and, where the run saved it, the population summary.

An ensemble is a directory whose subdirectories each hold a saved run (`find_runs`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chistka.errors import ChistkaError
from chistka.people import Fate, Status
from chistka.results import Results
from chistka.scenario.schema import COHORTS, ORIGINS
from chistka.scenario.terror import CATEGORIES, CHANNELS, DIASPORAS
from chistka.state import EventKind

RUN_FILES = ("daily.parquet", "events.parquet", "summary.json", "provenance.json")
"""Files a saved run must have."""

REVIEW_KINDS = int(EventKind.APPEAL_REJECTED)
"""Event kinds up to this one are reviews: their `campaign` is a purge campaign."""


def is_run(path: Path) -> bool:
    """Whether `path` is a directory holding one saved run."""
    return path.is_dir() and all((path / name).is_file() for name in RUN_FILES)


def find_runs(run_dir: str | Path) -> list[Path]:
    """The saved runs in `run_dir`: the directory itself, or its subdirectories (an ensemble).

    Raises:
        ChistkaError: `run_dir` does not exist, or holds no saved run.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ChistkaError(f"run directory '{run_dir}' does not exist")
    if is_run(run_dir):
        return [run_dir]
    runs = sorted(p for p in run_dir.iterdir() if not p.name.startswith(".") and is_run(p))
    if not runs:
        raise ChistkaError(
            f"'{run_dir}' holds no saved run: expected {', '.join(RUN_FILES)} in it or in its "
            "subdirectories (one per run of an ensemble)"
        )
    return runs


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChistkaError(f"cannot read {path}: {exc}") from None
    if not isinstance(value, dict):
        raise ChistkaError(f"{path} does not hold a JSON object")
    return value


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds of errors on a broken file
        raise ChistkaError(f"cannot read {path}: {exc}") from None


def _codes(column: pd.Series, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """Index of each value in `names` (-1 for missing or unknown values)."""
    lookup = {name: i for i, name in enumerate(names)}
    values = column.astype(object).to_numpy()
    return np.array([lookup.get(v, -1) if isinstance(v, str) else -1 for v in values])


def _category_codes(column: pd.Series, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """Like `_codes`, fast for categorical columns (mapping the categories, then the codes)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        mapped = _codes(pd.Series(column.cat.categories), names)
        codes = column.cat.codes.to_numpy().astype(np.int64)
        return np.where(codes >= 0, mapped[np.maximum(codes, 0)], -1)
    return _codes(column, names)


def _names(
    provenance: dict[str, Any], key: str, fallback: list[str], found: pd.Series | None
) -> list[str]:
    """Campaign or operation names: the scenario's (provenance), else `fallback`, else found."""
    listed = (provenance.get("parameters") or {}).get(key)
    if isinstance(listed, list) and all(isinstance(x, dict) and "name" in x for x in listed):
        return [str(x["name"]) for x in listed]
    if fallback:
        return fallback
    if found is None:
        return []
    return sorted({str(v) for v in found.dropna().unique() if str(v)})


def _counts(daily: pd.DataFrame, start: dt.date, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily counts [day, status, fate, origin] in agents and persons, from the tidy table."""
    shape = (rows, len(Status), len(Fate), len(ORIGINS))
    counts = np.zeros(shape, dtype=np.int64)
    persons = np.zeros(shape, dtype=np.float64)
    if len(daily):
        day = (daily["date"].to_numpy().astype("datetime64[D]") - np.datetime64(start, "D")).astype(
            np.int64
        )
        status = _category_codes(daily["status"], [s.name.lower() for s in Status])
        fate = _category_codes(daily["fate"], [f.name.lower() for f in Fate])
        origin = _category_codes(daily["origin"], list(ORIGINS))
        ok = (day >= 0) & (day < rows) & (status >= 0) & (fate >= 0) & (origin >= 0)
        index = (day[ok], status[ok], fate[ok], origin[ok])
        np.add.at(counts, index, daily["agents"].to_numpy()[ok].astype(np.int64))
        np.add.at(persons, index, daily["persons"].to_numpy()[ok].astype(np.float64))
    return counts, persons


def _events(
    frame: pd.DataFrame, start: dt.date, campaign_names: list[str], operation_names: list[str]
) -> dict[str, np.ndarray]:
    """The event log as `Results.collect` makes it, from the saved events table."""
    n = len(frame)

    def column(name: str, dtype: Any, default: Any = 0) -> np.ndarray:
        if name in frame:
            return frame[name].to_numpy().astype(dtype)
        return np.full(n, default, dtype=dtype)

    day = (frame["date"].to_numpy().astype("datetime64[D]") - np.datetime64(start, "D")).astype(
        np.int32
    )
    kind = _category_codes(frame["event"], [k.name.lower() for k in EventKind])
    if (kind < 0).any():
        unknown = sorted(set(frame["event"].astype(str)[kind < 0]))
        raise ChistkaError(f"events.parquet has unknown event kinds: {', '.join(unknown)}")
    review = kind <= REVIEW_KINDS
    campaign = np.where(
        review,
        _codes(frame["campaign"], campaign_names) if "campaign" in frame else -1,
        _codes(frame["operation"], operation_names) if "operation" in frame else -1,
    )

    def coded(name: str, names: tuple[str, ...], default: int) -> np.ndarray:
        if name not in frame:
            return np.full(n, default, dtype=np.int8)
        return _category_codes(frame[name], names).astype(np.int8)

    events: dict[str, np.ndarray] = {
        "day": day,
        "person": column("person", np.int64),
        "kind": kind.astype(np.int8),
        "campaign": campaign.astype(np.int8),
        "score": column("score", np.float32, np.nan),
        "cause": column("cause", np.int64, -1),
        "channel": coded("channel", CHANNELS, -1),
        "origin": coded("origin", ORIGINS, 0),
        "cohort": (
            _codes(frame["cohort"], COHORTS) if "cohort" in frame else np.full(n, -1)
        ).astype(np.int8),
        "rank": column("rank", np.int8),
        "opposition": column("opposition", bool, False),
        "hostile": column("hostile", bool, False),
        "weight": column("persons", np.float32, 1.0),
        "region": column("region", np.int16),
        "category": coded("category", CATEGORIES, -1),
        "diaspora": coded("diaspora", DIASPORAS, -1),
        "role": column("role", np.int8),
        "elite": column("elite", np.uint8),
    }
    return events


def population_summary(summary: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The population summary a run saved (population.json, or in summary.json), else {}."""
    path = run_dir / "population.json"
    if path.is_file():
        return _read_json(path)
    for key in ("population_summary", "population"):
        value = summary.get(key)
        if isinstance(value, dict):
            return value
    return {}


def load_results(run_dir: str | Path) -> Results:
    """A run's `Results` rebuilt from the directory `Results.save` wrote.

    Everything the observables read is restored: `start`, `scale`, `counts` and `persons`,
    `events`, `campaign_names`, `operation_names`, `provenance`, `operations`, and the
    `population_summary` if the run saved one (empty otherwise, so that shares of the elite
    cannot be computed).

    Raises:
        ChistkaError: a file is missing or cannot be read.
    """
    run_dir = Path(run_dir)
    missing = [name for name in RUN_FILES if not (run_dir / name).is_file()]
    if missing:
        raise ChistkaError(f"'{run_dir}' is not a saved run: missing {', '.join(missing)}")
    summary = _read_json(run_dir / "summary.json")
    provenance = _read_json(run_dir / "provenance.json")
    daily = _read_parquet(run_dir / "daily.parquet")
    frame = _read_parquet(run_dir / "events.parquet")
    try:
        start = dt.date.fromisoformat(str(summary.get("start") or daily["date"].min().date()))
    except (ValueError, KeyError, AttributeError) as exc:
        raise ChistkaError(f"{run_dir / 'summary.json'}: no valid start date ({exc})") from None
    if summary.get("end"):
        rows = (dt.date.fromisoformat(str(summary["end"])) - start).days + 2
    else:
        rows = int(daily["date"].nunique())
    scale = summary.get("scale", provenance.get("scale"))
    if scale is None:
        raise ChistkaError(f"{run_dir / 'summary.json'}: no scale")
    campaign_names = _names(
        provenance,
        "campaigns",
        [str(c["campaign"]) for c in summary.get("campaigns") or [] if "campaign" in c],
        frame.get("campaign"),
    )
    operations = pd.DataFrame()
    if (run_dir / "operations.csv").is_file():
        operations = pd.read_csv(run_dir / "operations.csv")
    operation_names = _names(
        provenance,
        "operations",
        [str(x) for x in operations["operation"]] if "operation" in operations else [],
        frame.get("operation"),
    )
    counts, persons = _counts(daily, start, rows)
    return Results(
        start=start,
        scale=float(scale),
        counts=counts,
        persons=persons,
        events=_events(frame, start, campaign_names, operation_names),
        campaign_names=campaign_names,
        operation_names=operation_names,
        provenance=provenance,
        population_summary=population_summary(summary, run_dir),
        operations=operations,
    )
