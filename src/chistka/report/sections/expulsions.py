"""The share expelled in each purge campaign, beside the record's share and its tolerance.

The record's claims (role `claim`) are drawn apart, hatched and with no tolerance: they are
shown for reference and are never a target.
"""

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

CLAIM_NAME = "claim (for reference, never a target)"
"""Legend name of the record's claims: figures resting on one weak source, never scored."""

NOTE = (
    "Share of those reviewed in each campaign whom the commission expelled, before appeals. "
    "Grey bars are the record's figures, with the scenario's tolerance as error bars; "
    "campaigns without a bar of the record have no figure in it."
)
ENSEMBLE_NOTE = (
    "Bars: the median share expelled across the seeds, with the {spread} as error bars; grey: "
    "the record with its tolerance."
)
CLAIM_NOTE = (
    " Hatched bars are claims of the record (a figure resting on one weak source), shown for "
    "reference: never a target, so without a tolerance."
)
"""Added to a note where the chart draws a claim (party-purges-1921-1936's 1936 share)."""


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
    """The expulsions figure of one run, its note naming the claims where it draws one."""
    record = _record_shares(report.comparison)
    note = NOTE + (CLAIM_NOTE if any(r["claim"] for r in record) else "")
    return figure_section(report, KEY, TITLE, _run_figure(report, record), note)


def _run_figure(report: RunReport, record: list[dict[str, Any]]) -> go.Figure:
    """The model's expelled share per campaign beside the record's, with the tolerance band.

    Claims share the record's place beside the model's bar, hatched and without a tolerance.
    """
    campaigns = report.results.campaigns()
    names = [str(c) for c in campaigns["campaign"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=names,
            y=campaigns["expelled_share"],
            name="model",
            offsetgroup="model",
            marker_color=MODEL_COLOUR,
            hovertemplate="campaign %{x}<br>model: %{y:.1%}<extra></extra>",
        )
    )
    targets = [r for r in record if not r["claim"]]
    if targets:
        fig.add_trace(
            go.Bar(
                x=[r["campaign"] for r in targets],
                y=[r["record"] for r in targets],
                name="record (± tolerance)",
                offsetgroup="record",
                marker_color=RECORD_COLOUR,
                error_y={"type": "data", "array": [r["tolerance"] for r in targets]},
                meta={"error_y": RECORD_TOLERANCE},
                hovertext=[
                    f"<b>{r['label']}</b><br>record: {r['record']:.1%} "
                    f"(± {r['tolerance'] * 100:.3g} points)<br>model: {r['model']:.1%} — "
                    f"{'inside' if r['inside'] else 'OUTSIDE'} tolerance<br>"
                    f"{reading(r['read_in_source'], r['grade'])}<br>{wrap(r['source'])}"
                    for r in targets
                ],
                hoverinfo="text",
            )
        )
    claims = [r for r in record if r["claim"]]
    if claims:
        fig.add_trace(
            _claim_bars(
                [r["campaign"] for r in claims],
                [r["record"] for r in claims],
                [
                    f"<b>{r['label']}</b><br>claim: {r['record']:.1%}, never a target<br>"
                    f"model: {r['model']:.1%}<br>{reading(r['read_in_source'], r['grade'])}"
                    f"<br>{wrap(r['source'])}"
                    for r in claims
                ],
            )
        )
    fig.update_layout(**layout(names))
    return fig


def _claim_bars(campaigns: list[str], shares: list[float], hover: list[str]) -> go.Bar:
    """The record's claims: hatched bars in the record's place, with no tolerance to meet."""
    return go.Bar(
        x=campaigns,
        y=shares,
        name=CLAIM_NAME,
        offsetgroup="record",
        marker={
            "color": "white",
            "line": {"color": RECORD_COLOUR, "width": 1.5},
            "pattern": {"shape": "/", "fgcolor": RECORD_COLOUR},
        },
        hovertext=hover,
        hoverinfo="text",
    )


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
                "claim": row.role == "claim",
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
                offsetgroup=f"set {set_id}",
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
    targets = [p for p in points if p.get("role") != "claim"]
    if targets:
        fig.add_trace(
            go.Bar(
                x=[p["observable"].split(":", 1)[1] for p in targets],
                y=[p["record"] for p in targets],
                name="record (± tolerance)",
                offsetgroup="record",
                marker_color=RECORD_COLOUR,
                error_y={"type": "data", "array": [p.get("allowed", math.nan) for p in targets]},
                meta={"error_y": RECORD_TOLERANCE},
                hovertext=[
                    f"<b>{esc(p['label'])}</b><br>record: {p['record']:.1%} ({p['tolerance']})"
                    f"<br>{'read in the source' if p.get('read_in_source') else 'NOT READ'}<br>"
                    f"{esc(p.get('source', ''))}"
                    for p in targets
                ],
                hoverinfo="text",
            )
        )
    claims = [p for p in points if p.get("role") == "claim"]
    if claims:
        fig.add_trace(
            _claim_bars(
                [p["observable"].split(":", 1)[1] for p in claims],
                [p["record"] for p in claims],
                [
                    f"<b>{esc(p['label'])}</b><br>claim: {p['record']:.1%}, never a target"
                    f"<br>{'read in the source' if p.get('read_in_source') else 'NOT READ'}<br>"
                    f"{esc(p.get('source', ''))}"
                    for p in claims
                ],
            )
        )
    fig.update_layout(**layout(campaigns))
    note = ENSEMBLE_NOTE.format(spread=ensemble.spread_name()) + (CLAIM_NOTE if claims else "")
    return section(KEY, TITLE, figures.add(fig, KEY, heading=TITLE), esc(note))
