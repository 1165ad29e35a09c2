"""Arrests per month by the channel that brought them about (category or network victims)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from chistka.analysis import terror
from chistka.report.common import (
    CHANNEL_COLOURS,
    RunReport,
    figure_section,
    stacked_monthly_area,
)

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
    return figure_section(report, KEY, TITLE, _figure(channels), NOTE)


def _figure(channels: pd.DataFrame) -> go.Figure:
    """Monthly arrests stacked by channel, category channels at the bottom."""
    fig = go.Figure()
    for name in (*terror.CATEGORY_CHANNELS, *terror.NETWORK_CHANNELS):
        if name not in channels or not channels[name].any():
            continue
        label = name.replace("_", " ")
        colour = CHANNEL_COLOURS.get(name)
        fig.add_trace(
            stacked_monthly_area(channels.index, channels[name].round(0), label, colour, "arrests")
        )
    fig.update_layout(
        title=TITLE,
        xaxis_title="month",
        yaxis={"title": "persons arrested per month", "tickformat": ",.0f"},
        hovermode="x unified",
    )
    return fig
