"""Party membership over time (candidates, full members, total) against the record's figures."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from chistka.analysis.spread import spread_name
from chistka.record import compared_observables, records
from chistka.report.common import (
    RunReport,
    band_traces,
    esc,
    figure_section,
    persons_over_time_layout,
    reading,
    record_markers,
    section,
    wrap,
)
from chistka.report.ensemble_runs import band_note, bands, record_markers_of

if TYPE_CHECKING:
    from chistka.report.common import FigureRenderer
    from chistka.report.ensemble_runs import EnsembleRuns

KEY = "membership"
TITLE = "Party membership over time against the record"

COLOURS = {"members": "#1f77b4", "candidates": "#ff7f0e", "total": "#2ca02c"}
"""Line colour per membership series; the record's markers take the colour of their series."""

RECORD_SERIES = {
    "party_total_": "total",
    "party_full_": "members",
    "rigby_full_": "members",
    "party_cand_": "candidates",
    "rigby_cand_": "candidates",
}
"""Record-id prefix -> the membership series those record rows are compared with."""

ENSEMBLE_SERIES = {
    "total": ("members + candidates", "#2ca02c", "solid"),
    "members": ("full members", "#1f77b4", "dash"),
    "candidates": ("candidates", "#ff7f0e", "dot"),
}
"""Membership series of the ensemble: label, colour (one parameter set), dash (several)."""

MEMBERSHIP_KINDS = {
    "party_total": "total",
    "party_members": "members",
    "party_candidates": "candidates",
}
"""Observable kind -> the membership series it is compared with."""

NOTE = (
    "Lines: the model's party (weekly points, in represented persons). Markers: the record's "
    "membership figures dated inside the run, coloured like the series they compare with; filled "
    "diamonds are figures read in a reliable source, open diamonds the others; bars show the "
    "record's range where it gives one. Periods given as a month are placed on its first day."
)


def run_section(report: RunReport) -> str:
    """The membership figure of one run."""
    return figure_section(report, KEY, TITLE, _run_figure(report), NOTE)


def _run_figure(report: RunReport) -> go.Figure:
    """Candidates, members and total (weekly) with the record's membership figures as markers."""
    results = report.results
    membership = _weekly(results.membership())
    fig = go.Figure()
    for column, name in (("members", "full members"), ("candidates", "candidates")):
        fig.add_trace(_line(membership, column, name))
    fig.add_trace(_line(membership, "total", "total (members + candidates)"))
    points = _record_points(results.dates[0], results.dates[-1])
    for series, label in (
        ("total", "record: total"),
        ("members", "record: full members"),
        ("candidates", "record: candidates"),
    ):
        part = [p for p in points if p["series"] == series]
        if part:
            hover = [
                f"<b>{p['id']}</b> ({p['period']})<br>{p['value']:,.0f} persons"
                + (f" [{p['low']:,.0f}–{p['high']:,.0f}]" if p["low"] is not None else "")
                + f"<br>{reading(p['read_in_source'], p['grade'])}<br>{wrap(p['source'])}"
                for p in part
            ]
            fig.add_trace(
                record_markers(
                    [p["date"] for p in part],
                    [p["value"] for p in part],
                    [p["low"] for p in part],
                    [p["high"] for p in part],
                    [p["reliable"] for p in part],
                    hover,
                    label,
                    COLOURS[series],
                )
            )
    persons_over_time_layout(fig, TITLE)
    return fig


def _line(frame: pd.DataFrame, column: str, name: str) -> go.Scatter:
    return go.Scatter(
        x=frame.index,
        y=frame[column].round(0),
        mode="lines",
        name=f"model: {name}",
        line={"color": COLOURS[column], "width": 2},
        hovertemplate=f"{name}<br>%{{x|%Y-%m-%d}}: %{{y:,.0f}}<extra>model</extra>",
    )


def _weekly(frame: pd.DataFrame) -> pd.DataFrame:
    """Every seventh day of a daily table, keeping the last day."""
    keep = np.zeros(len(frame), dtype=bool)
    keep[::7] = True
    keep[-1:] = True
    return frame[keep]


def compared_days() -> dict[str, dt.date]:
    """Record id -> the day its observable reads, for the compared rows read on one day.

    A chart draws the record's markers from these only, on the day the comparison reads them:
    rows compared with nothing (a rumour, a figure beside Rigby's) were drawn before and scored
    nowhere, and a congress's figure sat on the first of its month.
    """
    days = {}
    for spec in compared_observables():
        try:
            days[spec.record_id] = dt.date.fromisoformat(spec.observable.partition(":")[2])
        except ValueError:
            continue
    return days


def _record_points(first: pd.Timestamp, last: pd.Timestamp) -> list[dict[str, Any]]:
    """Compared membership figures of the record that fall inside the run."""
    points = []
    days = compared_days()
    for row in records().values():
        series = next((s for p, s in RECORD_SERIES.items() if row.id.startswith(p)), None)
        if series is None or row.value is None or row.id not in days:
            continue
        date = days[row.id]
        if not first <= pd.Timestamp(date) <= last:
            continue
        points.append(
            {
                "id": row.id,
                "series": series,
                "date": pd.Timestamp(date),
                "period": row.period,
                "value": row.value,
                "low": row.low,
                "high": row.high,
                "read_in_source": row.read_in_source,
                "grade": row.grade,
                "reliable": row.reliable,
                "source": row.source,
            }
        )
    return sorted(points, key=lambda p: p["date"])


def ensemble_section(ensemble: EnsembleRuns, figures: FigureRenderer) -> str:
    """The ensemble's membership: median and band per parameter set; "" if no run has it."""
    several = len(ensemble.by_set()) > 1
    fig = go.Figure()
    for set_id, runs in ensemble.by_set().items():
        frames = [run.membership for run in runs if run.membership is not None]
        if not frames:
            continue
        index = frames[0].index
        for frame in frames[1:]:
            index = index.union(frame.index)
        for series, (label, colour, dash) in ENSEMBLE_SERIES.items():
            stack = np.stack([f[series].reindex(index).to_numpy() for f in frames], axis=-1)
            low, mid, high = bands(stack)
            name, shade = ensemble.series(set_id, label, colour)
            for trace in band_traces(
                index,
                low,
                mid,
                high,
                name=name,
                colour=shade,
                dash=dash if several else "solid",
                group=f"{set_id}-{series}",
                spread=spread_name(len(frames)),
            ):
                fig.add_trace(trace)
    if not fig.data:
        return ""
    for kind, series in MEMBERSHIP_KINDS.items():
        points = ensemble.record_points(kind, str)
        if points:
            label, colour, _ = ENSEMBLE_SERIES[series]
            dates = [pd.Timestamp(p["observable"].split(":", 1)[1]) for p in points]
            fig.add_trace(record_markers_of(points, dates, f"record: {label}", colour))
    persons_over_time_layout(fig, TITLE)
    return section(KEY, TITLE, figures.add(fig, KEY, heading=TITLE), esc(band_note(ensemble)))
