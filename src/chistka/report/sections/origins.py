"""The party's composition by social origin over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from chistka.report.common import RunReport, figure_section, stacked_monthly_area
from chistka.scenario.schema import ORIGINS

if TYPE_CHECKING:
    from chistka.results import Results

KEY = "origins"
TITLE = "Party composition by social origin"

ORIGIN_COLOURS = {
    "worker": "#1f77b4",
    "peasant": "#8c564b",
    "employee": "#17becf",
    "alien": "#7f7f7f",
}

NOTE = "Members and candidates together, stacked by social origin as recorded at admission."


def run_section(report: RunReport) -> str:
    """The origins figure of one run."""
    return figure_section(report, KEY, TITLE, _figure(report.results), NOTE)


def _figure(results: Results) -> go.Figure:
    """Members and candidates by social origin, sampled on the first of each month."""
    frame = results.to_frame()
    frame = frame[frame["status"].isin(["candidate", "member"])]
    pivot = frame.pivot_table(
        index="date", columns="origin", values="persons", aggfunc="sum", observed=False
    )
    order = [o for o in ORIGINS if o in pivot.columns]
    pivot = _monthly(pivot[order + [c for c in pivot.columns if c not in order]])
    fig = go.Figure()
    for origin in pivot.columns:
        colour = ORIGIN_COLOURS.get(str(origin))
        fig.add_trace(
            stacked_monthly_area(pivot.index, pivot[origin].round(0), str(origin), colour, "party")
        )
    fig.update_layout(
        title="Party members and candidates by social origin (first of each month)",
        xaxis_title="date",
        yaxis={"title": "persons", "tickformat": ",.0f"},
        hovermode="x unified",
    )
    return fig


def _monthly(frame: pd.DataFrame) -> pd.DataFrame:
    """First day of each month of a daily table, plus its first and last day."""
    index = pd.DatetimeIndex(frame.index)
    keep = np.asarray(index.day == 1)
    keep[:1] = True
    keep[-1:] = True
    return frame[keep]
