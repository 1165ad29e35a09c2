"""Sentencing: troikas, the "album", the Military Collegium, special boards; families.

- Order 00447 cases go before regional troikas, which sentence to category 1 (shooting) or
  category 2 (8-10 years of camps) within the region's limits (Werth 2010;
  docs/terror_sources.md).
- National-operation cases are sentenced by the "album" procedure, with the operation's share of
  death sentences.
- The elite (the 1934 Central Committee, congress delegates, regional leaders) go before the
  Military Collegium of the Supreme Court, which sentenced most of them to death.
- Other political cases (testimony, denunciation, routine) go before special boards and courts:
  mostly camp terms, death sentences at the share the timeline sets.
- Family members of condemned "traitors" are arrested only after the head of the family has
  been sentenced (Order 00486 of 15 Aug 1937 prescribed 5-8 years of camps for wives) and are
  sentenced to camps.
- A share of cases is dropped and the accused released.
A death sentence is carried out at once (the fate SHOT is final). Other mechanisms may offer
further measures (exile, ...): they register in `Sentencing.measures` and take their share of the
ordinary cases not sentenced to death, before the rest go to the camps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

from chistka import kernels
from chistka.mechanisms.arrest import CHANNEL, Arrests
from chistka.mechanisms.base import Mechanism, peer
from chistka.mechanisms.camps import Camps
from chistka.mechanisms.operations import Operations
from chistka.people import Fate, Flag, RankTier, Role, Status
from chistka.rng import stream
from chistka.scenario.terror import SentencingParams
from chistka.state import Calendar, EventKind, SimState


class SentenceMeasure(Protocol):
    """A sentence other than death and the camps, offered by another mechanism (e.g. exile)."""

    def sentence(self, state: SimState, ids: np.ndarray, channel: np.ndarray) -> np.ndarray:
        """Sentence some of `ids` (ordinary cases spared death) to this measure.

        The measure moves them out of custody and logs its own event; it returns the mask of
        those it took (the others go on to the next measure, and finally to the camps).
        """
        ...


class Sentencing(Mechanism):
    """Sentences at the end of the investigation."""

    name = "sentencing"
    section = "sentencing"
    params = SentencingParams
    needs = ("arrest", "camps")
    streams = ("sentencing", "sentencing.terms")
    events = (EventKind.SENTENCED_DEATH, EventKind.SENTENCED_CAMP, EventKind.CASE_DROPPED)

    def __init__(self, state: SimState) -> None:
        """Start with nobody awaiting sentence and no measure but death and the camps."""
        self.rng = stream(state.seed, self.name)
        self.term_rng = stream(state.seed, f"{self.name}.terms")  # camp terms
        self.due = Calendar()
        self.measures: list[SentenceMeasure] = []

    def setup(self, state: SimState, peers: Mapping[str, Mechanism]) -> None:
        """Camp terms go to the camps; the operations' limits bind the troikas (if any)."""
        self.arrests = peer(peers, Arrests)
        self.camps = peer(peers, Camps)
        self.operations = peer(peers, Operations) if Operations.name in peers else None

    def schedule(
        self,
        state: SimState,
        ids: np.ndarray,
        channel: np.ndarray,
        operation: np.ndarray,
        day: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Set the day of sentencing after the investigation (drawn from the caller's `rng`)."""
        delay = rng.exponential(
            max(state.scenario.sentencing.days_to_sentence, 1e-9), size=len(ids)
        ).astype(np.int64)
        self.due.add(np.maximum(day + delay, state.day + 1), ids, ((operation + 1) << 8) | channel)

    def step(self, state: SimState) -> None:
        """Sentence everybody due today."""
        ids, payload = self.due.pop(state.day)
        keep = (state.people.fate[ids] == Fate.ARRESTED) & (
            (state.people.flags[ids] & Flag.AWAITING_TRIAL) == 0
        )
        ids, payload = ids[keep], payload[keep]
        if len(ids) == 0:
            return
        params = state.scenario.sentencing
        channel, operation = payload & 0xFF, (payload >> 8) - 1
        people = state.people
        dropped = self.rng.random(len(ids)) < params.dropped_share
        dropped &= channel != CHANNEL["family"]
        death = np.zeros(len(ids), dtype=bool)
        u = self.rng.random(len(ids))
        elite = (people.elite[ids] > 0) | (people.rank[ids] >= RankTier.REGIONAL)
        ordinary = ~np.isin(channel, [CHANNEL["category"], CHANNEL["national"], CHANNEL["family"]])
        today = state.date(state.day)
        for index, op in enumerate(state.scenario.operations):
            if today > op.end:
                ordinary |= operation == index
        death |= ordinary & elite & (u < params.collegium_death_share)
        routine = channel == CHANNEL["routine"]
        death |= ordinary & ~elite & ~routine & (u < params.death_share)
        death |= ordinary & ~elite & routine & (u < params.routine_death_share)
        for index, op in enumerate(state.scenario.operations):
            if today > op.end:
                continue
            chosen = (operation == index) & ~dropped
            if not chosen.any():
                continue
            if op.kind == "national":
                death[chosen] = u[chosen] < op.death_share
            else:
                death[chosen] = self.troika(state, index, ids[chosen], u[chosen])
        release = ids[dropped]
        state.transition_fate(release, Fate.FREE, EventKind.CASE_DROPPED)
        shot = ids[death & ~dropped]
        to_camp = ~death & ~dropped
        for measure in self.measures:
            offered = np.flatnonzero(to_camp & ordinary)
            to_camp[offered[measure.sentence(state, ids[offered], channel[offered])]] = False
        camp = ids[to_camp]
        state.transition_fate(
            shot, Fate.SHOT, EventKind.SENTENCED_DEATH, channel=channel[death & ~dropped]
        )
        state.transition_fate(camp, Fate.CAMP, EventKind.SENTENCED_CAMP, channel=channel[to_camp])
        self.camps.admit(state, camp, params.camp_years, self.term_rng)
        self.arrest_families(state, shot)

    def troika(self, state: SimState, index: int, ids: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Category 1 or 2 for an Order 00447 case, never beyond the region's limits."""
        assert self.operations is not None  # an operation's cases come only from Operations
        ledger = self.operations.ledgers[index]
        people = state.people
        return kernels.troika(
            people.region[ids].astype(np.int64),
            people.weight[ids].astype(np.float64),
            np.asarray(u, dtype=np.float64),
            ledger.limit_shoot,
            ledger.limit_camp,
            ledger.sentenced_shoot,
            ledger.sentenced_camp,
        )

    def arrest_families(self, state: SimState, condemned: np.ndarray) -> None:
        """Household members of condemned party members, elite and officers may be arrested."""
        p = state.scenario.sentencing.family_arrest_probability
        if p <= 0 or len(condemned) == 0:
            return
        people = state.people
        traitor = (
            (people.elite[condemned] > 0)
            | (people.role[condemned] != Role.CIVILIAN)
            | (people.cohort[condemned] >= 0)
            | (people.status[condemned] == Status.EXPELLED)
        )
        heads = condemned[traitor]
        if len(heads) == 0:
            return
        relatives = state.network.random_housemates(heads, self.rng)
        ok = relatives >= 0
        heads, relatives = heads[ok], relatives[ok]
        ok = state.free(relatives)
        heads, relatives = heads[ok], relatives[ok]
        chosen = self.rng.random(len(heads)) < p * state.reach(relatives)
        self.arrests.request(
            state,
            relatives[chosen],
            "family",
            cause=heads[chosen],
            delay=1 + self.rng.integers(0, 30, int(chosen.sum())),
        )
