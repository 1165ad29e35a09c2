"""Show trials of the old elite, as dated events.

The Trial of the Sixteen (19-24 Aug 1936), of the Seventeen (23-30 Jan 1937) and of the
Twenty-One (verdict 13 Mar 1938): defendants and death sentences from records.csv
(showtrial_*), dates from docs/terror_sources.md. The centre chooses the defendants among the
highest-ranked members and former members with an opposition past (for the military trial of
June 1937, among the army's commanders), has them arrested some months before, and the verdict
is read on the trial's date. Under interrogation they name others like any accused.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from chistka.mechanisms.arrest import CHANNEL, Arrests
from chistka.mechanisms.base import Mechanism, peer
from chistka.mechanisms.camps import Camps
from chistka.people import Fate, Flag, RankTier, Role, Status
from chistka.rng import hash_uniform, stream
from chistka.scenario.schema import COHORTS
from chistka.scenario.terror import ShowTrial
from chistka.state import EventKind, SimState


class ShowTrials(Mechanism):
    """Arrests of the defendants and the verdicts."""

    name = "show_trials"
    section = "show_trials"
    params = ShowTrial
    needs = ("arrest", "camps")
    streams = ("show_trials", "show_trials.terms")
    events = (EventKind.SENTENCED_DEATH, EventKind.SENTENCED_CAMP)

    def __init__(self, state: SimState) -> None:
        """Index the trials by the day of the defendants' arrest and of the verdict."""
        self.rng = stream(state.seed, self.name)
        self.term_rng = stream(state.seed, f"{self.name}.terms")  # camp terms
        self.trials = list(state.scenario.show_trials)
        self.defendants: dict[int, np.ndarray] = {}
        self.shot: dict[int, int] = {}  # agents to be sentenced to death at each trial

    def setup(self, state: SimState, peers: Mapping[str, Mechanism]) -> None:
        """The NKVD arrests the defendants; the camps take those not sentenced to death."""
        self.arrests = peer(peers, Arrests)
        self.camps = peer(peers, Camps)

    def round(self, exact: float) -> int:
        """A whole number of agents, rounded stochastically (exact on average)."""
        whole = int(np.floor(exact))
        return whole + int(self.rng.random() < exact - whole)

    def step(self, state: SimState) -> None:
        """Arrest the defendants of coming trials; read today's verdicts."""
        for index, trial in enumerate(self.trials):
            verdict = (trial.date - state.start).days
            arrest_day = max(0, verdict - trial.arrest_lead_days)
            if state.day == arrest_day:
                # the record's persons as party-stratum agents: at a party scale below 1 each
                # agent stands for several defendants; the shot keep the record's proportion
                defendants = self.round(trial.defendants / state.party_weight)
                self.shot[index] = self.round(defendants * trial.shot / trial.defendants)
                choose = self.choose_officers if trial.defendants_from == "army" else self.choose
                self.defendants[index] = choose(state, defendants)
                state.people.flags[self.defendants[index]] |= np.uint8(
                    Flag.SHOW_TRIAL | Flag.AWAITING_TRIAL
                )
                self.arrests.request(state, self.defendants[index], "show_trial")
            if state.day == verdict and index in self.defendants:
                self.verdict(state, index)

    def choose(self, state: SimState, count: int) -> np.ndarray:
        """The highest-ranked (former) members with an opposition past, then the most senior."""
        people = state.people
        stratum = state.stratum_ids()
        candidates = stratum[
            np.isin(people.status[stratum], [Status.MEMBER, Status.EXPELLED])
            & (people.cohort[stratum] >= 0)
            & (people.fate[stratum] == Fate.FREE)
            & ((people.flags[stratum] & Flag.SHOW_TRIAL) == 0)
        ]
        # One key orders by opposition past, then rank (high first), then cohort (early
        # first), ties broken by a seeded hash in [0, 1); only the first `count` are sorted.
        key = (
            (1 - people.opposition[candidates].astype(np.float64)) * 1e4
            + (RankTier.CENTRAL - people.rank[candidates].astype(np.float64)) * 1e2
            + people.cohort[candidates].astype(np.float64)
            + hash_uniform(state.seed, 0x7A1A, candidates)
        )
        if count < len(candidates):
            first = np.argpartition(key, count)[:count]
            candidates, key = candidates[first], key[first]
        return candidates[np.argsort(key, kind="stable")][:count]

    def choose_officers(self, state: SimState, count: int) -> np.ndarray:
        """The highest-ranked army officers in the party, then the most senior, then the rest.

        The military trial of June 1937 tried Tukhachevsky and seven other commanders of the
        Red Army (records.csv military_trial_1937), not civilian oppositionists.
        """
        people = state.people
        stratum = state.stratum_ids()
        officers = stratum[
            (people.role[stratum] == Role.OFFICER)
            & state.free(stratum)
            & ((people.flags[stratum] & Flag.SHOW_TRIAL) == 0)
        ]
        cohort = people.cohort[officers].astype(np.float64)
        key = (
            (RankTier.CENTRAL - people.rank[officers].astype(np.float64)) * 1e2
            + np.where(cohort >= 0, cohort, len(COHORTS))
            + hash_uniform(state.seed, 0xA4A1, officers)
        )
        return officers[np.argsort(key, kind="stable")][:count]

    def verdict(self, state: SimState, index: int) -> None:
        """Death sentences for the trial's number of shot, camps for the others.

        Defendants not in custody on the day (not yet arrested, or released) are no longer
        awaiting this trial: if arrested later they are sentenced like any accused.
        """
        accused = self.defendants[index]
        state.people.flags[accused] &= np.uint8(~Flag.AWAITING_TRIAL & 0xFF)
        accused = accused[state.people.fate[accused] == Fate.ARRESTED]
        order = self.rng.permutation(len(accused))
        shot, camp = accused[order[: self.shot[index]]], accused[order[self.shot[index] :]]
        channel = CHANNEL["show_trial"]
        state.transition_fate(shot, Fate.SHOT, EventKind.SENTENCED_DEATH, channel=channel)
        state.transition_fate(camp, Fate.CAMP, EventKind.SENTENCED_CAMP, channel=channel)
        self.camps.admit(state, camp, state.scenario.sentencing.camp_years, self.term_rng)
