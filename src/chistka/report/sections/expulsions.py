"""The share expelled in each purge campaign, beside the record's share and its tolerance."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from chistka.analysis.spread import spread_name
from chistka.report.common import (
    RECORD_TOLERANCE,
    RunReport,
    band_name,
    esc,
    figure_section,
    missing,
    reading,
    section,
    wrap,
)
from chistka.report.ensemble_runs import bands

if TYPE_CHECKING:
    from chistka.report.common import FigureRenderer
    from chistka.report.ensemble_runs import EnsembleRuns

KEY = "expulsions"
TITLE = "Expulsions per campaign against the record"
MODEL_COLOUR = "#1f77b4"
RECORD_COLOUR = "#7f7f7f"

NOTE = (
    "Share of those reviewed in each campaign whom the commission expelled, before appeals. "
    "Grey bars are the record's figures, with the scenario's tolerance as error bars; "
    "campaigns without a grey bar have no figure in the record."
)
ENSEMBLE_NOTE = (
    "Bars: the median share expelled across the seeds, with the {spread} as error bars; grey: "
    "the record with its tolerance."
)


def layout(campaigns: list[str]) -> dict[str, Any]:
    """Layout of the expulsions-per-campaign chart (shared by the run and ensemble reports)."""
    return {
        "title": TITLE,
        "barmode": "group",
        "xaxis": {
            "title": "campaign",
            "type": "category",
            "categoryorder": "array",
            "categoryarray": campaigns,
        },
        "yaxis": {"title": "share of those reviewed who were expelled", "tickformat": ".0%"},
    }


def run_section(report: RunReport) -> str:
    """The expulsions figure of one run."""
    return figure_section(report, KEY, TITLE, _run_figure(report), NOTE)


def _run_figure(report: RunReport) -> go.Figure:
    """The model's expelled share per campaign beside the record's, with the tolerance band."""
    campaigns = report.results.campaigns()
    names = [str(c) for c in campaigns["campaign"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=names,
            y=campaigns["expelled_share"],
            name="model",
            marker_color=MODEL_COLOUR,
            hovertemplate="campaign %{x}<br>model: %{y:.1%}<extra></extra>",
        )
    )
    record = _record_shares(report.comparison)
    if record:
        fig.add_trace(
            go.Bar(
                x=[r["campaign"] for r in record],
                y=[r["record"] for r in record],
                name="record (± tolerance)",
                marker_color=RECORD_COLOUR,
                error_y={"type": "data", "array": [r["tolerance"] for r in record]},
                meta={"error_y": RECORD_TOLERANCE},
                hovertext=[
                    f"<b>{r['label']}</b><br>record: {r['record']:.1%} "
                    f"(± {r['tolerance'] * 100:.3g} points)<br>model: {r['model']:.1%} — "
                    f"{'inside' if r['inside'] else 'OUTSIDE'} tolerance<br>"
                    f"{reading(r['read_in_source'], r['grade'])}<br>{wrap(r['source'])}"
                    for r in record
                ],
                hoverinfo="text",
            )
        )
    fig.update_layout(**layout(names))
    return fig


def _record_shares(comparison: pd.DataFrame) -> list[dict[str, Any]]:
    """Comparison rows of expelled shares, with each one's tolerance as a distance."""
    if comparison.empty:
        return []
    rows = []
    for row in comparison.itertuples(index=False):
        if not row.observable.startswith("expelled_share:"):
            continue
        rows.append(
            {
                "campaign": row.observable.split(":", 1)[1],
                "record": row.record,
                "model": row.model,
                "tolerance": row.allowed,
                "inside": row.status == "inside",
                "read_in_source": bool(row.read_in_source),
                "grade": row.grade,
                "label": row.label,
                "source": row.source,
            }
        )
    return rows


def ensemble_section(ensemble: EnsembleRuns, figures: FigureRenderer) -> str:
    """The ensemble's expelled shares: median and band per set; "" without campaigns."""
    campaigns: list[str] = []
    for run in ensemble.runs:
        for row in run.summary.get("campaigns", []):
            name = str(row.get("campaign"))
            if name not in campaigns:
                campaigns.append(name)
    if not campaigns:
        return ""
    colours = ensemble.colours()
    fig = go.Figure()
    for set_id, runs in ensemble.by_set().items():
        stack = np.full((len(campaigns), len(runs)), np.nan)
        for j, run in enumerate(runs):
            for row in run.summary.get("campaigns", []):
                value = row.get("expelled_share")
                if not missing(value):
                    stack[campaigns.index(str(row.get("campaign"))), j] = value
        low, mid, high = bands(stack)
        fig.add_trace(
            go.Bar(
                x=campaigns,
                y=mid,
                name=ensemble.series(set_id, "median share expelled", MODEL_COLOUR)[0],
                marker_color=colours[set_id],
                error_y={
                    "type": "data",
                    "array": np.nan_to_num(high - mid),
                    "arrayminus": np.nan_to_num(mid - low),
                },
                customdata=np.stack([low, high], axis=-1),
                meta={"error_y": band_name(spread_name(len(runs)))},
                hovertemplate="campaign %{x}<br>median: %{y:.1%}<br>"
                + esc(spread_name(len(runs)))
                + ": %{customdata[0]:.1%} to %{customdata[1]:.1%}<extra></extra>",
            )
        )
    points = [
        r
        for r in ensemble.record_rows().values()
        if r["observable"].split(":")[0] == "expelled_share" and not missing(r.get("record"))
    ]
    if points:
        fig.add_trace(
            go.Bar(
                x=[p["observable"].split(":", 1)[1] for p in points],
                y=[p["record"] for p in points],
                name="record (± tolerance)",
                marker_color=RECORD_COLOUR,
                error_y={"type": "data", "array": [p.get("allowed", math.nan) for p in points]},
                meta={"error_y": RECORD_TOLERANCE},
                hovertext=[
                    f"<b>{esc(p['label'])}</b><br>record: {p['record']:.1%} ({p['tolerance']})"
                    f"<br>{'read in the source' if p.get('read_in_source') else 'NOT READ'}<br>"
                    f"{esc(p.get('source', ''))}"
                    for p in points
                ],
                hoverinfo="text",
            )
        )
    fig.update_layout(**layout(campaigns))
    note = ENSEMBLE_NOTE.format(spread=ensemble.spread_name())
    return section(KEY, TITLE, figures.add(fig, KEY, heading=TITLE), esc(note))
