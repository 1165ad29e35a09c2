"""The risk of arrest and of execution by rank in the party and for the elite of 1934."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from chistka.analysis import terror
from chistka.report.common import (
    RunReport,
    count,
    esc,
    figure_section,
    header_cells,
    share,
    table,
)

KEY = "terror_rank"
TITLE = "Risk of arrest and execution by rank"

NOTE = (
    "Each person counted once. Rank tiers count people who were ever in the party (rank and "
    "file includes former members expelled before the run); the elite bodies are the Central "
    "Committee elected in 1934 and the delegates to the 17th Congress. Shares divide by "
    "everyone in the group at some time in the run: those in it on the first day and, for a "
    "rank tier, those admitted to the party later."
)


def run_section(report: RunReport) -> str:
    """The rank figure and its table."""
    risk = terror.risk_by_rank(report.results)
    return figure_section(report, KEY, TITLE, _figure(risk), NOTE, below=_table(risk))


def _figure(risk: pd.DataFrame) -> go.Figure:
    """Arrested and shot shares per rank tier and elite body (counts without a population)."""
    shares = bool(risk["population"].notna().any())
    columns = ("arrested_share", "shot_share") if shares else ("arrested", "shot")
    fig = go.Figure()
    for column, colour in zip(columns, ("#ff7f0e", "#d62728"), strict=True):
        label = "arrested" if column.startswith("arrested") else "shot"
        hover = [
            f"<b>{group}</b><br>{label}: {count(row[label])} of {count(row['population'])}"
            + (f" ({share(row[column])})" if shares else "")
            for group, row in risk.iterrows()
        ]
        fig.add_trace(
            go.Bar(
                x=list(risk.index),
                y=risk[column],
                name=label,
                marker_color=colour,
                hovertext=hover,
                hoverinfo="text",
            )
        )
    fig.update_layout(
        title=TITLE,
        barmode="group",
        xaxis={"title": "rank tier in the party / elite body of 1934", "type": "category"},
        yaxis={
            "title": "share of everyone in the group in the run" if shares else "persons",
            "tickformat": ".0%" if shares else ",.0f",
        },
    )
    return fig


def _table(risk: pd.DataFrame) -> str:
    head = header_cells(("group", "in the run", "arrested", "shot", "arrested share", "shot share"))
    rows = [
        f'<tr><td>{esc(group)}</td><td class="num">{count(row["population"])}</td>'
        f'<td class="num">{count(row["arrested"])}</td><td class="num">{count(row["shot"])}</td>'
        f'<td class="num">{share(row["arrested_share"])}</td>'
        f'<td class="num">{share(row["shot_share"])}</td></tr>'
        for group, row in risk.iterrows()
    ]
    return table(head, rows)
