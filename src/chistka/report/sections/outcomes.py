"""Review outcomes per purge campaign: kept, demoted, expelled, reinstated, left before review."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from chistka.report.common import (
    RunReport,
    count,
    esc,
    figure_section,
    header_cells,
    share,
    table,
)

if TYPE_CHECKING:
    from chistka.results import Results

KEY = "outcomes"
TITLE = "Review outcomes per campaign"

OUTCOME_COLOURS = {
    "kept": "#2ca02c",
    "demoted": "#ff7f0e",
    "expelled": "#d62728",
    "reinstated": "#9467bd",
    "left": "#7f7f7f",
}

NOTE = (
    "Each bar is everyone the campaign reviewed, and who fled it. The expelled are split into "
    "those whose expulsion stood and those reinstated on appeal; on top (grey) are those who left "
    "the party before the review reached them (review.flight; in a campaign with a documented "
    "count, also members it never called), who were never reviewed. Without them the stack adds "
    "up to the number reviewed."
)

COUNT_COLUMNS = ("reviewed", "kept", "demoted", "expelled", "appealed", "reinstated", "left")


def run_section(report: RunReport) -> str:
    """The outcomes figure and, under it, the campaigns' figures as a table."""
    below = _campaign_table(report.results)
    return figure_section(report, KEY, TITLE, _figure(report.results), NOTE, below=below)


def _figure(results: Results) -> go.Figure:
    """Stacked review outcomes per campaign; the reinstated are split off the expelled."""
    campaigns = results.campaigns()
    names = [str(c) for c in campaigns["campaign"]]
    upheld = (campaigns["expelled"] - campaigns["reinstated"]).clip(lower=0)
    parts = (
        ("kept", campaigns["kept"], "kept"),
        ("demoted", campaigns["demoted"], "demoted to candidate"),
        ("expelled", upheld, "expelled (not reinstated)"),
        ("reinstated", campaigns["reinstated"], "expelled, reinstated on appeal"),
        ("left", campaigns["left"], "left before the review"),
    )
    fig = go.Figure()
    for key, values, name in parts:
        fig.add_trace(
            go.Bar(
                x=names,
                y=values.round(0),
                name=name,
                marker_color=OUTCOME_COLOURS[key],
                hovertemplate=f"campaign %{{x}}<br>{name}: %{{y:,.0f}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=TITLE,
        barmode="stack",
        xaxis={"title": "campaign", "type": "category"},
        yaxis={"title": "persons", "tickformat": ",.0f"},
    )
    return fig


def _campaign_table(results: Results) -> str:
    """Per-campaign figures in persons, for exact reading of the bars above it."""
    campaigns = results.campaigns()
    if campaigns.empty:
        return ""
    head = header_cells(["campaign", *COUNT_COLUMNS, "expelled share", "reinstated share"])
    rows = []
    for row in campaigns.itertuples(index=False):
        cells = [f"<td>{esc(row.campaign)}</td>"]
        cells += [f'<td class="num">{count(getattr(row, c))}</td>' for c in COUNT_COLUMNS]
        cells.append(f'<td class="num">{share(row.expelled_share)}</td>')
        cells.append(f'<td class="num">{share(row.reinstated_share)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return table(head, rows)
