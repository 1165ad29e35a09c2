"""The reproduction number of the arrest cascade: later arrests caused per person arrested."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from chistka.analysis import terror
from chistka.report.common import (
    CHANNEL_COLOURS,
    RunReport,
    figure_section,
    stacked_monthly_area,
)

KEY = "terror_reproduction"
TITLE = "Reproduction number of the arrest cascade"

NOTE = (
    "For the persons arrested in each month: the later arrests their arrest caused (people they "
    "named under interrogation, arrests after denunciations by their frightened contacts, their "
    "family after their sentence), per person arrested. Stacked areas split R by cause; the "
    "dashed line is R = 1, above which the cascade would feed itself. The last months understate "
    "R: the run ends before their victims' cases are opened."
)


def run_section(report: RunReport) -> str:
    """The reproduction figure of one run."""
    frame = terror.reproduction_number(report.results)
    return figure_section(report, KEY, TITLE, _figure(frame), NOTE)


def _figure(frame: pd.DataFrame) -> go.Figure:
    """R per month, stacked by how the arrests were caused, with the R = 1 line."""
    arrested = frame["arrested"].where(frame["arrested"] > 0)
    fig = go.Figure()
    for column, label, colour in (
        ("caused_testimony", "by testimony", CHANNEL_COLOURS["testimony"]),
        (
            "caused_denunciation",
            "by self-protective denunciation",
            CHANNEL_COLOURS["self_protection"],
        ),
        ("caused_family", "as family", CHANNEL_COLOURS["family"]),
    ):
        fig.add_trace(
            stacked_monthly_area(
                frame.index,
                (frame[column] / arrested).round(4),
                label,
                colour,
                "r",
                name=f"arrests caused {label}",
                number=".3f",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=frame.index,
            y=frame["R"].round(4),
            name="R (all)",
            mode="lines",
            line={"color": "#222", "width": 2},
            hovertemplate="R<br>%{x|%Y-%m}: %{y:.3f}<extra></extra>",
        )
    )
    fig.add_hline(y=1, line={"color": "#7f7f7f", "dash": "dash"}, annotation_text="R = 1")
    top = float(np.nanmax(frame["R"].to_numpy())) if frame["R"].notna().any() else 0.0
    fig.update_layout(
        title=TITLE,
        xaxis_title="month of the arrests that caused others",
        yaxis={
            "title": "later arrests caused per person arrested",
            "range": [0, max(1.1, top * 1.1)],
        },
        hovermode="x unified",
    )
    return fig
