"""Arrests, convictions and death sentences vs the record: a run by month, an ensemble by year."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from chistka.analysis import terror
from chistka.report.common import RunReport, esc, figure_section, section
from chistka.report.ensemble_runs import (
    add_observable_bands,
    band_note,
    record_markers_of,
    year_of,
)

if TYPE_CHECKING:
    from chistka.report.common import FigureRenderer
    from chistka.report.ensemble_runs import EnsembleRuns

KEY = "terror_record"
TITLE = "Arrests, convictions and death sentences per month against the record"
ENSEMBLE_KEY = "terror"
ENSEMBLE_TITLE = "Convictions and death sentences per year against the record"

COLOURS = {"arrests": "#1f77b4", "convictions": "#ff7f0e", "death_sentences": "#d62728"}

ENSEMBLE_KINDS = {
    "political_convictions": ("political convictions", "#ff7f0e"),
    "death_sentences": ("death sentences", "#d62728"),
}
"""Yearly observables of the terror in the ensemble report: label and colour (one set).

The record's arrests are not among them: it counts them over periods (the NKVD's cases from
1 October 1936), not calendar years, and the table of compared figures lists them.
"""

NOTE = (
    "Solid lines: the model per calendar month (convictions are death and camp sentences). "
    "Dashed steps: the record's total for each year divided by twelve, a monthly average (the "
    "record gives yearly figures only), so months above the step run ahead of the year's pace. "
    "The record's arrest figures count arrests on all charges (the model's only political "
    "ones) and were not read in their source; its convictions are the death and camp sentences "
    "of the 1953 MVD table, the scope of the model's."
)
ENSEMBLE_NOTE = (
    " The vertical axis is logarithmic; years the record has no figure "
    "for are not computed. Figures of the record over periods other than a calendar year (the "
    "arrests in the NKVD's cases from 1 October 1936) are in the table of compared figures."
)


def run_section(report: RunReport) -> str:
    """The monthly figure of one run."""
    monthly = terror.monthly_against_record(report.results)
    return figure_section(report, KEY, TITLE, _run_figure(monthly), NOTE)


def _run_figure(monthly: pd.DataFrame) -> go.Figure:
    """The model's monthly arrests, convictions, death sentences; the record's monthly average."""
    fig = go.Figure()
    labels = {
        "arrests": "arrests",
        "convictions": "convictions",
        "death_sentences": "death sentences",
    }
    for column, name in labels.items():
        fig.add_trace(
            go.Scatter(
                x=monthly.index,
                y=monthly[column].round(0),
                mode="lines+markers",
                marker={"size": 4},
                name=f"model: {name} per month",
                line={"color": COLOURS[column], "width": 2},
                hovertemplate=f"{name}<br>%{{x|%Y-%m}}: %{{y:,.0f}}<extra>model</extra>",
            )
        )
    end = monthly.index[-1] + pd.offsets.MonthBegin(1)
    record_labels = {**labels, "arrests": "arrests on all charges"}
    for column, name in record_labels.items():
        record = monthly[f"record_{column}"]
        if record.isna().all():
            continue
        fig.add_trace(
            go.Scatter(
                x=[*monthly.index, end],
                y=[*record.round(0), record.iloc[-1]],
                mode="lines",
                line_shape="hv",
                name=f"record: {name}, yearly total ÷ 12",
                line={"color": COLOURS[column], "width": 1.5, "dash": "dash"},
                hovertemplate=(
                    f"{name}<br>%{{x|%Y}}: %{{y:,.0f}} a month (yearly total ÷ 12)"
                    "<extra>record</extra>"
                ),
            )
        )
    fig.update_layout(
        title=TITLE,
        xaxis_title="month",
        yaxis={"title": "persons per month", "tickformat": ",.0f", "rangemode": "tozero"},
        hovermode="x unified",
    )
    return fig


def ensemble_section(ensemble: EnsembleRuns, figures: FigureRenderer) -> str:
    """The ensemble's yearly figures: median and band per set; "" for runs without sentences."""
    fig = go.Figure()
    if not add_observable_bands(fig, ensemble, ENSEMBLE_KINDS, year_of, "%{x}: %{y:,.0f}"):
        return ""
    for kind, (label, colour) in ENSEMBLE_KINDS.items():
        points = ensemble.record_points(kind, year_of)
        if points:
            years = [year_of(p["observable"]) for p in points]
            fig.add_trace(record_markers_of(points, years, f"record: {label}", colour))
    fig.update_layout(
        title=ENSEMBLE_TITLE,
        xaxis_title="year",
        yaxis_title="persons per year",
        hovermode="closest",
    )
    fig.update_yaxes(type="log", tickformat=",.0f")
    fig.update_xaxes(dtick=1)
    return section(
        ENSEMBLE_KEY,
        ENSEMBLE_TITLE,
        figures.add(fig, ENSEMBLE_KEY, heading=ENSEMBLE_TITLE),
        esc(band_note(ensemble) + ENSEMBLE_NOTE),
    )
