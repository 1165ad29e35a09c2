"""An ensemble's complete runs read back for its report, and the statistics across their seeds.

`load_ensemble` reads the runs of an ensemble directory (written by
`chistka.analysis.ensemble.run_ensemble`): each run's summary.json and comparison.csv, and its
daily.parquet for the membership. The sections of the ensemble report draw on it: each parameter
set with the median across its seeds and the band from the 5th to the 95th percentile.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from chistka.analysis.ensemble import COMPLETE_MARKER, format_value, read_plan
from chistka.analysis.spread import FEWEST_FOR_QUANTILES, spread_along, spread_name
from chistka.errors import ChistkaError
from chistka.record import RELIABLE_GRADES
from chistka.report.common import band_traces, esc, missing, reading, record_markers

AS_IT_IS = "the scenario as it is"
"""What a parameter set without overrides is called."""


def band_note(ensemble: EnsembleRuns) -> str:
    """Note under the ensemble's band figures, naming the band by its seeds."""
    return (
        "Lines: the median across the seeds of each parameter set; shaded bands: the "
        f"{ensemble.spread_name()} (the lowest and highest value under "
        f"{FEWEST_FOR_QUANTILES} seeds, else the 5th to the 95th percentile). " + BAND_NOTE
    )


BAND_NOTE = (
    "Markers: the historical record (filled: "
    "read in a reliable source, open: the others), with its range where the record gives one."
)
"""The end of `band_note`: what the markers are."""


@dataclass
class EnsembleRun:
    """One complete run of an ensemble: its summary, comparison and monthly membership."""

    run_id: str
    set_id: str
    seed: int | None
    summary: dict[str, Any]
    comparison: pd.DataFrame
    membership: pd.DataFrame | None = None


@dataclass
class EnsembleRuns:
    """The complete runs of an ensemble directory, grouped by parameter set."""

    out_dir: Path
    scenario: str
    scale: Any
    sets: dict[str, dict[str, Any]]
    runs: list[EnsembleRun]
    missing: list[str] = field(default_factory=list)

    def by_set(self) -> dict[str, list[EnsembleRun]]:
        """The runs of each parameter set that has any."""
        grouped: dict[str, list[EnsembleRun]] = {set_id: [] for set_id in self.sets}
        for run in self.runs:
            grouped.setdefault(run.set_id, []).append(run)
        return {k: v for k, v in grouped.items() if v}

    def spread_name(self) -> str:
        """The bands' name by the seeds of each set: "lowest-highest over 2 seeds"."""
        return spread_name([len(runs) for runs in self.by_set().values()])

    def colours(self) -> dict[str, str]:
        """One colour per parameter set (plotly's qualitative palette, in order)."""
        palette = plotly.colors.qualitative.Plotly
        return {set_id: palette[i % len(palette)] for i, set_id in enumerate(self.sets)}

    def set_label(self, set_id: str) -> str:
        """A parameter set as a label: its id and overrides, or that it has none.

        The same in every table: a lone set was "model" in one and "p000 / the scenario as it
        is" in the next (QA 44).
        """
        overrides = self.sets.get(set_id) or {}
        if not overrides:
            return f"{set_id}: {AS_IT_IS}"
        return f"{set_id}: " + ", ".join(f"{k}={format_value(v)}" for k, v in overrides.items())

    def series(self, set_id: str, label: str, colour: str) -> tuple[str, str]:
        """Legend name and colour of a set's series: the set's with several, else the series'."""
        if len(self.by_set()) > 1:
            return f"{self.set_label(set_id)}: {label}", self.colours()[set_id]
        return f"model: {label}", colour

    def record_points(self, kind: str, place: Callable[[str], Any]) -> list[dict[str, Any]]:
        """The record rows with a value of the observables of one kind, sorted by `place(name)`.

        Rows that `place` cannot put on the chart's axis (None: a period on a per-year chart) are
        left out; they stay in the table of compared figures.
        """
        points = [
            row
            for row in self.record_rows().values()
            if row["observable"].split(":")[0] == kind
            and not missing(row.get("record"))
            and place(row["observable"]) is not None
        ]
        return sorted(points, key=lambda row: place(row["observable"]))

    def record_rows(self) -> dict[str, dict[str, Any]]:
        """Each compared record row by its `record_id` (the same in every run).

        Keyed by record row, not by observable: two rows of the record can compare the same
        observable (the 17th Congress's candidates and Rigby's of 1 January 1934).
        """
        rows: dict[str, dict[str, Any]] = {}
        for run in self.runs:
            for row in run.comparison.to_dict(orient="records"):
                rows.setdefault(row["record_id"], row)
        return rows


# --- reading -----------------------------------------------------------------------------------


def load_ensemble(out_dir: Path) -> EnsembleRuns:
    """The complete runs of an ensemble directory (with or without its plan.json).

    Raises:
        ChistkaError: the directory holds no complete run.
    """
    plan = read_plan(out_dir)
    if plan is not None:
        entries = [(r["run_id"], r["set_id"], r.get("seed")) for r in plan.get("runs", [])]
        sets = {k: dict(v) for k, v in plan.get("sets", {}).items()}
        scenario = plan.get("scenario_ref") or plan.get("scenario", {}).get("scenario", {}).get(
            "name", "ensemble"
        )
        scale = plan.get("scale")
    else:
        entries = []
        sets = {}
        for run_dir in sorted(p for p in out_dir.iterdir() if p.is_dir()):
            if (run_dir / COMPLETE_MARKER).is_file():
                entries.append((run_dir.name, run_dir.name.split("-")[0], None))
        scenario, scale = out_dir.name, None
    runs, absent = [], []
    for run_id, set_id, seed in entries:
        run_dir = out_dir / run_id
        if not (run_dir / COMPLETE_MARKER).is_file():
            absent.append(run_id)
            continue
        runs.append(_read_run(run_dir, run_id, set_id, seed))
        if set_id not in sets:
            sets[set_id] = dict(
                runs[-1].summary.get("provenance", {}).get("ensemble", {}).get("overrides", {})
            )
    if not runs:
        raise ChistkaError(f"{out_dir} holds no complete run (no */{COMPLETE_MARKER})")
    if scale is None:
        scale = runs[0].summary.get("scale")
    return EnsembleRuns(out_dir, str(scenario), scale, sets, runs, absent)


def _read_run(run_dir: Path, run_id: str, set_id: str, seed: int | None) -> EnsembleRun:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    comparison_path = run_dir / "comparison.csv"
    comparison = pd.read_csv(comparison_path) if comparison_path.is_file() else pd.DataFrame()
    return EnsembleRun(
        run_id=run_id,
        set_id=set_id,
        seed=summary.get("seed", seed),
        summary=summary,
        comparison=comparison,
        membership=_read_membership(run_dir / "daily.parquet"),
    )


def _read_membership(path: Path) -> pd.DataFrame | None:
    """Candidates, full members and their total on the first day of each month (persons)."""
    if not path.is_file():
        return None
    daily = pd.read_parquet(path, columns=["date", "status", "persons"])
    status = daily["status"].astype(str)
    party = daily[status.isin(["candidate", "member"])]
    dates = pd.DatetimeIndex(daily["date"].unique()).sort_values()
    table = (
        party.assign(status=party["status"].astype(str))
        .groupby(["date", "status"])["persons"]
        .sum()
        .unstack(fill_value=0.0)
        .reindex(index=dates, columns=["candidate", "member"], fill_value=0.0)
    )
    frame = pd.DataFrame(
        {
            "candidates": table["candidate"],
            "members": table["member"],
            "total": table["candidate"] + table["member"],
        }
    )
    keep = (frame.index.day == 1) | (np.arange(len(frame)) == len(frame) - 1)
    return frame[keep]


# --- statistics --------------------------------------------------------------------------------


def bands(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Low edge, median and high edge along the last axis (runs), NaN ignored.

    The edges are the spread over the runs (`chistka.analysis.spread`): the lowest and highest
    value under 20 runs, else the 5th and 95th percentiles.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or np.all(np.isnan(values)):
        nan = np.full(values.shape[:-1], np.nan)
        return nan, nan, nan
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mid = np.nanmedian(values, axis=-1)
    low, high = spread_along(values)
    return low, mid, high


def observable_values(
    runs: Sequence[EnsembleRun], column: str = "model", key: str = "observable"
) -> dict[str, np.ndarray]:
    """A column of comparison.csv across the runs, for each compared observable or record row.

    `key` is `observable` (a model value, the same for every row comparing it) or `record_id`
    (a row's own status or `inside` flag). NaN where a run lacks the key; `inside` (a bool
    column) comes as 1.0 / 0.0.
    """
    names: list[str] = []
    for run in runs:
        if key in run.comparison:
            for name in run.comparison[key]:
                if name not in names:
                    names.append(name)
    values = {name: np.full(len(runs), np.nan) for name in names}
    for i, run in enumerate(runs):
        if key not in run.comparison or column not in run.comparison:
            continue
        for name, value in zip(run.comparison[key], run.comparison[column], strict=True):
            values[name][i] = np.nan if missing(value) else float(value)
    return values


def year_of(observable: str) -> int | None:
    """The year of a yearly observable (`arrests:1937` -> 1937).

    None for anything else, such as a period (`arrests:1936-10-01/1938-07-01`): a per-year
    chart leaves it out.
    """
    _, _, period = observable.partition(":")
    return int(period) if len(period) == 4 and period.isdigit() else None


def record_markers_of(
    points: list[dict[str, Any]], x: list[Any], label: str, colour: str
) -> go.Scatter:
    """Markers for the comparison rows of an ensemble's runs (counts of persons).

    Filled where the figure was read in a reliable source, open for the others, as in a run's
    report (the ensemble filled every figure read, whatever its source).
    """
    hover = [
        f"<b>{esc(p['record_id'])}</b>: {esc(p['label'])}<br>record: {p['record']:,.0f}"
        f"<br>{reading(bool(p.get('read_in_source')), str(p.get('grade', '')))}"
        f"<br>{esc(p.get('source', ''))}"
        for p in points
    ]
    return record_markers(
        x,
        [p["record"] for p in points],
        [p.get("low") for p in points],
        [p.get("high") for p in points],
        [bool(p.get("read_in_source")) and p.get("grade") in RELIABLE_GRADES for p in points],
        hover,
        label,
        colour,
    )


def add_observable_bands(
    fig: go.Figure,
    ensemble: EnsembleRuns,
    kinds: dict[str, tuple[str, str]],
    x_of: Callable[[str], Any],
    hover: str,
) -> bool:
    """Median and band per parameter set of each observable kind the runs compared.

    `kinds` maps an observable kind (`death_sentences`, `gulag_population`) to its label and
    colour; its observables are ordered and placed by `x_of(name)` (a year, a date), and left
    out where `x_of` gives None. True if any run had a value above zero, so that a section can
    leave out a figure of zeros.
    """
    shown = False
    for set_id, runs in ensemble.by_set().items():
        values = observable_values(runs)
        for kind, (label, colour) in kinds.items():
            names = sorted(
                (n for n in values if n.split(":")[0] == kind and x_of(n) is not None), key=x_of
            )
            if not names:
                continue
            stack = np.stack([values[n] for n in names])
            shown = shown or bool(np.nansum(stack) > 0)
            low, mid, high = bands(stack)
            name, shade = ensemble.series(set_id, label, colour)
            for trace in band_traces(
                [x_of(n) for n in names],
                low,
                mid,
                high,
                name=name,
                colour=shade,
                dash="solid",
                group=f"{set_id}-{kind}",
                mode="lines+markers",
                hover=hover,
                spread=spread_name(len(runs)),
            ):
                fig.add_trace(trace)
    return shown
