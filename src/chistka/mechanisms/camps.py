"""Camps: prisoners serve their terms, some die, some are released early.

Camp mortality was about 5.6% of the yearly contingent in 1937-38 (records.csv
gulag_camp_mortality_1937_38, a calibration row); releases after the halt of November 1938 are
modelled as early releases at the rate the timeline sets.
"""

from __future__ import annotations

import numpy as np

from chistka.mechanisms.base import Mechanism
from chistka.people import Fate
from chistka.rng import stream
from chistka.scenario.terror import CampParams
from chistka.state import Calendar, EventKind, IdBuffer, SimState


class Camps(Mechanism):
    """Terms, deaths and releases of camp prisoners."""

    name = "camps"
    section = "camps"
    params = CampParams
    streams = ("camps",)
    events = (EventKind.DIED_IN_CAMP, EventKind.RELEASED)

    def __init__(self, state: SimState) -> None:
        """Start with nobody in the camps."""
        self.rng = stream(state.seed, self.name)
        self.release_due = Calendar(replace=True)  # a new term replaces an earlier one
        self.sentenced = IdBuffer()  # everyone ever admitted: the camp population is among them

    def admit(
        self, state: SimState, ids: np.ndarray, mean_years: float, rng: np.random.Generator
    ) -> None:
        """Set the end of the term of the newly sentenced (gamma-distributed around the mean).

        The term is drawn from `rng`, the stream of the court that passed the sentence.
        """
        if len(ids) == 0:
            return
        term = rng.gamma(4.0, mean_years * 365.25 / 4.0, size=len(ids)).astype(np.int64)
        self.release_due.add(state.day + 1 + term, ids)
        self.sentenced.extend(ids)

    def step(self, state: SimState) -> None:
        """Releases at the end of terms, deaths, early releases."""
        ids, _ = self.release_due.pop(state.day)
        ids = ids[state.people.fate[ids] == Fate.CAMP]
        state.transition_fate(ids, Fate.FREE, EventKind.RELEASED)
        prisoners = int(state.counts[:, Fate.CAMP].sum())
        if prisoners == 0:
            return
        params = state.scenario.camps
        in_camp = lambda ids, rng: state.people.fate[ids] == Fate.CAMP  # noqa: E731
        deaths = int(self.rng.binomial(prisoners, min(1.0, params.mortality_per_year / 365.25)))
        if deaths:
            dead = state.sample_people(self.rng, deaths, in_camp, among=self.sentenced.view())
            state.transition_fate(dead, Fate.DIED, EventKind.DIED_IN_CAMP)
            self.release_due.cancel(dead)
        early = int(self.rng.binomial(prisoners, min(1.0, params.early_release_per_year / 365.25)))
        if early:
            freed = state.sample_people(self.rng, early, in_camp, among=self.sentenced.view())
            state.transition_fate(freed, Fate.FREE, EventKind.RELEASED)
            self.release_due.cancel(freed)
