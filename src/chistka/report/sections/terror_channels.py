"""Arrests per month by the channel that brought them about (category or network victims)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from chistka.analysis import terror
from chistka.report.common import CHANNEL_COLOURS, RunReport, section

KEY = "terror_channels"
TITLE = "Arrests by origin (channel) per month"

NOTE = (
    "Persons arrested per month by how the arrest came about. Bottom (earth tones): category "
    "victims, arrested for what they were (Order 00447's registers, the national operations, "
    "the routine caseload). Above: network victims, arrested through testimony, denunciation, "
    "self-protective denunciation, a past expulsion, the army purge, family ties, show trials."
)


def run_section(report: RunReport) -> str:
    """The channels figure of one run."""
    channels = terror.arrests_by_channel(report.results)
    return section(KEY, TITLE, report.figures.add(_figure(channels)), NOTE)


def _figure(channels: pd.DataFrame) -> go.Figure:
    """Monthly arrests stacked by channel, category channels at the bottom."""
    fig = go.Figure()
    for name in (*terror.CATEGORY_CHANNELS, *terror.NETWORK_CHANNELS):
        if name not in channels or not channels[name].any():
            continue
        label = name.replace("_", " ")
        fig.add_trace(
            go.Scatter(
                x=channels.index,
                y=channels[name].round(0),
                name=label,
                mode="lines",
                stackgroup="arrests",
                line={"width": 0.5, "color": CHANNEL_COLOURS.get(name)},
                hovertemplate=f"{label}<br>%{{x|%Y-%m}}: %{{y:,.0f}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=TITLE,
        xaxis_title="month",
        yaxis={"title": "persons arrested per month", "tickformat": ",.0f"},
        hovermode="x unified",
    )
    return fig
