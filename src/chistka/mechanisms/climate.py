"""The political climate: the vigilance campaign in press and meetings, and fear.

The climate multiplies the propensity to denounce. Its level is the campaign intensity set by the
timeline (Kirov's murder, the show trials, the February-March 1937 plenum, the halt) plus fear
that grows with the recent rate of arrests.
"""

from __future__ import annotations

from chistka.mechanisms.base import Mechanism
from chistka.scenario.terror import ClimateParams
from chistka.state import SimState

WINDOW_DAYS = 30
"""Arrests of the last 30 days feed the fear."""


class Climate(Mechanism):
    """Today's climate, from the campaign and the last month's arrests."""

    name = "climate"
    section = "climate"
    params = ClimateParams

    def __init__(self, state: SimState) -> None:
        """Start from the scenario's campaign level."""
        state.climate = state.scenario.climate.campaign

    def step(self, state: SimState) -> None:
        """Update the climate from the timeline's campaign and recent arrests."""
        params = state.scenario.climate
        recent = state.arrested_persons[-WINDOW_DAYS:]
        yearly_per_1000 = (
            sum(recent) / max(len(recent), 1) * 365.25 * 1000 / float(state.region_persons.sum())
        )
        state.climate = params.campaign + params.fear_per_arrest_rate * yearly_per_1000
