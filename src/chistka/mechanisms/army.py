"""The purge of the Red Army's command staff.

After the trial of Tukhachevsky and seven other commanders on 11 June 1937 (records.csv
military_trial_1937), officers were dismissed in large numbers, a share of them arrested; a review
commission set up in August 1938 reinstated some of the dismissed (docs/terror_sources.md). The
dismissal rate, arrest share and reinstatement are set by the timeline.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from chistka.mechanisms.arrest import Arrests
from chistka.mechanisms.base import Mechanism, peer
from chistka.people import Flag, Role
from chistka.rng import stream
from chistka.scenario.terror import ArmyParams
from chistka.state import Calendar, EventKind, SimState


class ArmyPurge(Mechanism):
    """Dismissals, arrests and reinstatements of officers."""

    name = "army"
    section = "army"
    params = ArmyParams
    needs = ("arrest",)
    streams = ("army",)
    events = (EventKind.DISMISSED, EventKind.REINSTATED_IN_ARMY)

    def __init__(self, state: SimState) -> None:
        """Index the officers (all in the party stratum) and count those on duty."""
        self.rng = stream(state.seed, self.name)
        self.reinstate_due = Calendar(replace=True)  # the latest dismissal's reinstatement
        stratum = state.stratum_ids()
        self.officers = stratum[state.people.role[stratum] == Role.OFFICER]
        self.on_duty = self.count(state)

    def setup(self, state: SimState, peers: Mapping[str, Mechanism]) -> None:
        """The NKVD arrests a share of the dismissed."""
        self.arrests = peer(peers, Arrests)

    def count(self, state: SimState) -> int:
        """Officers free and not dismissed."""
        officers = self.officers
        return int(
            np.count_nonzero(
                ((state.people.flags[officers] & Flag.DISMISSED) == 0) & state.free(officers)
            )
        )

    def step(self, state: SimState) -> None:
        """Today's dismissals (some followed by arrest) and reinstatements."""
        ids, _ = self.reinstate_due.pop(state.day)
        ids = ids[state.free(ids)]
        if len(ids):
            state.people.flags[ids] &= np.uint8(~Flag.DISMISSED & 0xFF)
            state.log.add(state.day, ids, EventKind.REINSTATED_IN_ARMY)
        params = state.scenario.army
        if params.dismissal_rate_per_year <= 0 or self.on_duty == 0:
            return
        if state.day % 30 == 0:
            self.on_duty = self.count(state)
        k = int(self.rng.binomial(self.on_duty, min(1.0, params.dismissal_rate_per_year / 365.25)))
        if k == 0:
            return
        people = state.people
        dismissed = state.sample_people(
            self.rng,
            k,
            lambda ids, rng: ((people.flags[ids] & Flag.DISMISSED) == 0) & state.free(ids),
            among=self.officers,
        )
        self.on_duty -= len(dismissed)
        people.flags[dismissed] |= np.uint8(Flag.DISMISSED)
        state.log.add(state.day, dismissed, EventKind.DISMISSED)
        arrested = self.rng.random(len(dismissed)) < params.arrest_share
        self.arrests.request(
            state, dismissed[arrested], "army", delay=self.rng.integers(0, 30, int(arrested.sum()))
        )
        rest = dismissed[~arrested]
        back = rest[self.rng.random(len(rest)) < params.reinstate_share]
        delay = 1 + self.rng.exponential(params.reinstate_days, size=len(back)).astype(np.int64)
        self.reinstate_due.add(state.day + delay, back)
