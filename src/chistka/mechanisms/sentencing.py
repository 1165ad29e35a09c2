"""Sentencing: the body that judges a case decides its share of death sentences.

The route of a case, not the year, sets the chance of a death sentence (docs/decisions.md
section 3):
- Order 00447's regional troikas sentence to category 1 (shooting) or category 2 (8-10 years)
  within the region's limits (Order 00447 of 30 Jul 1937; Werth 2010). While the operation runs
  they also judge the "anti-Soviet elements" the NKVD brings by other channels (denunciations,
  testimony, the routine caseload) as long as there is room under the limits; those cases use
  the limits up like the listed ones, which drives the regions' requests for more
  (`operations.py`).
- Where the order set one first-category limit for camps and shooting together (OGPU Order
  44/21 of 2 Feb 1930 against the kulaks), the troika judges within that limit and the
  operation's `death_share` decides death.
- The national operations' cases go through the "album" (the regional NKVD chief and
  prosecutor propose, Moscow confirms), with one share of death sentences for the route. The
  album closed on 15 Apr 1938 (CC resolution of 31 Jan 1938); its pending cases waited for the
  special troikas of 15 Sep 1938 (Politburo P64/22), which the timeline opens again.
- The Military Collegium judged the elite, regional leaders, and officers of the army and the
  NKVD and former oppositionists named in a "terrorist" conspiracy (by testimony, chosen for a
  show trial, or, for officers, taken in the army purge) under the procedure of 1 Dec 1934,
  sentencing 80-90% to death (Birstein 2011). A former oppositionist arrested for his past or
  denounced for his words went, like everyone else, before the Special Board or the courts; so
  did an officer charged with "anti-Soviet agitation" (art. 58-10), whom a military tribunal
  judged as the courts judged agitation: in 1935 the military tribunals convicted 1,374 cadre
  servicemen under art. 58-10, 148 of them commanders (Savitsky's memo to Ul'rikh of 4 Apr 1936,
  docs/decisions.md 22.1).
- The military tribunals judged the ordinary people charged with espionage, terror or a
  conspiracy (arts. 58-1, 6, 8, 9; Birstein 2011): here those named in testimony and the national
  lines' cases that no album judges (after the halt, for instance), with one share of death for
  the route (`tribunal_death_share`). The charge, not the year, sends a case there, so the share
  of death among all convictions rises when the operations' pending espionage cases reach the
  tribunals after the halt.
- The Special Board could not sentence to death in 1934-41; the courts' special collegia could:
  one share of death for the route (`death_share`).
- Family members of condemned "traitors" are sentenced to camps by the Special Board (Order
  00486 of 15 Aug 1937: wives 5-8 years).
- A camp term is the one the body's order set where it set one (Order 00447's category 2: 8-10
  years; Order 00485's: 5-10; Order 00486's wives: 5-8), drawn uniformly in the range; else
  gamma-distributed around `camp_years` (an assumption: no term by body was found for the
  Special Board's ordinary cases, the courts, the tribunals or the Collegium).
- The law can close death on every route (the decree of 26 May 1947) or leave it only to the
  routes that judge treason, espionage and sabotage (the decree of 12 Jan 1950):
  `death_penalty`, `death_only_for_treason`.
- A share of cases is dropped and the accused released.
- A route that sentences to death at a share of its cases condemns that share of them, give or
  take one over the run, not each case on its own draw (`DeathAllotment`: the binomial noise of
  a few hundred agents is the scale's, not the history's; docs/decisions.md 39.1).
A death sentence is carried out at once (the fate SHOT is final). Other mechanisms may offer
further measures (exile, ...): they register in `Sentencing.measures` and take their share of the
ordinary cases not sentenced to death, before the rest go to the camps.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Protocol

import numpy as np

from chistka import kernels
from chistka.mechanisms.arrest import CHANNEL, Arrests
from chistka.mechanisms.base import Mechanism, peer
from chistka.mechanisms.camps import Camps
from chistka.mechanisms.operations import Operations, troika_shoot_share
from chistka.people import Fate, Flag, RankTier, Role, Status
from chistka.rng import stream
from chistka.scenario.terror import SentencingParams
from chistka.state import Calendar, EventKind, SimState

CONSPIRACY_CHANNELS = np.array([CHANNEL["testimony"], CHANNEL["show_trial"]])
"""Channels that put a former oppositionist in a "terrorist" conspiracy case (Collegium)."""

SERVICE_CONSPIRACY_CHANNELS = np.array([*CONSPIRACY_CHANNELS, CHANNEL["army"]])
"""Channels that put an officer of the army or the NKVD in a conspiracy case (Collegium): the
others are charges of agitation and the like, judged by the military tribunals as the courts
judge them (docs/decisions.md 22.1)."""

TRIBUNAL_CHANNELS = np.array([CHANNEL["testimony"], CHANNEL["national"]])
"""Channels whose charge (a conspiracy named under interrogation, espionage for a foreign state)
brings an ordinary accused before a military tribunal when no operation's body judges him."""

ALBUM_RECHECK_DAYS = 7
"""While the album is closed, its pending cases are looked at again every week."""


class Route(IntEnum):
    """The body that judges a case."""

    COURT = 0  # the Special Board and the courts
    SPECIAL_BOARD = 1  # family members (Order 00486)
    COLLEGIUM = 2  # the Military Collegium: the 1 Dec 1934 procedure
    TROIKA = 3  # Order 00447's regional troikas, within the limits
    ALBUM = 4  # the national operations' album (and the special troikas of Sep 1938)
    TRIBUNAL = 5  # the military tribunals: espionage and terror charges of ordinary people


class SentenceMeasure(Protocol):
    """A sentence other than death and the camps, offered by another mechanism (e.g. exile)."""

    def sentence(self, state: SimState, ids: np.ndarray, channel: np.ndarray) -> np.ndarray:
        """Sentence some of `ids` (ordinary cases spared death) to this measure.

        The measure moves them out of custody and logs its own event; it returns the mask of
        those it took (the others go on to the next measure, and finally to the camps).
        """
        ...


class DeathAllotment:
    """Each judging body's death sentences: its share of the cases it has judged so far.

    A body that sentenced a share p of its cases condemns, over the run, p times their number,
    give or take one case: each day the whole part of what it carries plus p times today's
    cases, those of its cases with the lowest draws, and it carries the fraction over to the next
    day (systematic sampling; the carries start at uniform draws, so the expected count is exactly
    p times the cases). Drawing every case's fate on its own would add binomial noise that is an
    artefact of the scale: at one agent per 10 persons a year's 2,000 death sentences rest on 200
    agents, whose count would vary by 7% between seeds, where 2,000 independent verdicts would
    vary by 2% (docs/decisions.md 39.1).
    """

    GROUPS = ("album", "collegium", "tribunal", "routine", "court")
    """The routes that condemn at a share of their cases, besides each operation's own share."""

    def __init__(self, rng: np.random.Generator, operations: int) -> None:
        """One carry per route and per operation, each starting at a uniform draw."""
        keys: list[str | int] = [*self.GROUPS, *range(operations)]
        self.carry: dict[str | int, float] = dict(
            zip(keys, rng.random(len(keys)).tolist(), strict=True)
        )

    def condemn(self, key: str | int, cases: np.ndarray, u: np.ndarray, share: float) -> np.ndarray:
        """The mask of today's `cases` (a mask) that `key`'s body condemns: the lowest `u`."""
        members = np.flatnonzero(cases)
        total = self.carry[key] + share * len(members)
        count = min(int(total), len(members))
        self.carry[key] = total - count
        condemned = np.zeros(len(cases), dtype=bool)
        if count:
            condemned[members[np.argsort(u[members], kind="stable")[:count]]] = True
        return condemned


class Sentencing(Mechanism):
    """Sentences at the end of the investigation."""

    name = "sentencing"
    section = "sentencing"
    params = SentencingParams
    needs = ("arrest", "camps")
    streams = ("sentencing", "sentencing.terms", "sentencing.sanction", "sentencing.allotment")
    events = (
        EventKind.SENTENCED_DEATH,
        EventKind.SENTENCED_CAMP,
        EventKind.CASE_DROPPED,
        EventKind.CASE_DROPPED_ON_REVIEW,
    )

    def __init__(self, state: SimState) -> None:
        """Start with nobody awaiting sentence and no measure but death and the camps."""
        self.rng = stream(state.seed, self.name)
        self.term_rng = stream(state.seed, f"{self.name}.terms")  # camp terms
        self.sanction_rng = stream(state.seed, f"{self.name}.sanction")  # pending cases' review
        self.allotment = DeathAllotment(
            stream(state.seed, f"{self.name}.allotment"), len(state.scenario.operations)
        )
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
        supervised: np.ndarray | int,
    ) -> None:
        """Set the day of sentencing after the investigation (drawn from the caller's `rng`).

        `supervised` marks the cases arrested under the prosecutor's supervision (their arrest
        was sanctioned; see `pending_review`).
        """
        delay = rng.exponential(
            max(state.scenario.sentencing.days_to_sentence, 1e-9), size=len(ids)
        ).astype(np.int64)
        payload = (np.asarray(supervised, dtype=np.int64) << 16) | ((operation + 1) << 8) | channel
        self.due.add(np.maximum(day + delay, state.day + 1), ids, payload)

    def step(self, state: SimState) -> None:
        """Sentence everybody due today, by the route of each case."""
        ids, payload = self.due.pop(state.day)
        keep = (state.people.fate[ids] == Fate.ARRESTED) & (
            (state.people.flags[ids] & Flag.AWAITING_TRIAL) == 0
        )
        ids, payload = ids[keep], payload[keep]
        if len(ids) == 0:
            return
        params = state.scenario.sentencing
        channel, operation = payload & 0xFF, ((payload >> 8) & 0xFF) - 1
        supervised = ((payload >> 16) & 1).astype(bool)
        today = state.date(state.day)
        in_force = np.array(
            [op.start <= today <= op.end for op in state.scenario.operations] + [False]
        )
        listed = (operation >= 0) & in_force[np.where(operation >= 0, operation, -1)]
        waiting, later = self.album_waiting(state, ids, listed & (channel == CHANNEL["national"]))
        if waiting.any():
            self.due.add(np.full(int(waiting.sum()), later), ids[waiting], payload[waiting])
            ids, channel, operation, listed, supervised = (
                ids[~waiting],
                channel[~waiting],
                operation[~waiting],
                listed[~waiting],
                supervised[~waiting],
            )
        people = state.people
        dropped = self.rng.random(len(ids)) < params.dropped_share
        dropped &= channel != CHANNEL["family"]
        on_review = self.pending_review(state, channel, supervised)
        dropped |= on_review
        u = self.rng.random(len(ids))
        death = np.zeros(len(ids), dtype=bool)
        death_open = params.death_penalty and not params.death_only_for_treason
        route = np.full(len(ids), Route.COURT, dtype=np.int8)
        judging = np.full(len(ids), -1, dtype=np.int64)  # the operation whose body judges
        route[channel == CHANNEL["family"]] = Route.SPECIAL_BOARD
        conspiracy = np.isin(channel, CONSPIRACY_CHANNELS)
        collegium = (
            (people.elite[ids] > 0)
            | (people.rank[ids] >= RankTier.REGIONAL)
            | ((people.role[ids] != Role.CIVILIAN) & np.isin(channel, SERVICE_CONSPIRACY_CHANNELS))
            | (people.opposition[ids] & conspiracy)
        )
        ordinary = ~listed & (channel != CHANNEL["family"])
        route[ordinary & collegium] = Route.COLLEGIUM
        for index, op in enumerate(state.scenario.operations):
            mine = listed & (operation == index) & ~dropped
            if op.kind == "national":
                route[mine] = Route.ALBUM
                judging[mine] = index
            elif mine.any() or (in_force[index] and ordinary.any()):
                # the troika: first the operation's own cases, then others while room remains
                candidates = mine | (
                    in_force[index]
                    & ordinary
                    & ~collegium
                    & ~dropped
                    & (people.cohort[ids] < 0)
                    & (route == Route.COURT)
                )
                chosen = np.flatnonzero(candidates)
                verdict = self.troika(state, index, ids[chosen], u[chosen], ~mine[chosen])
                judged = chosen[verdict >= 0]
                route[judged] = Route.TROIKA
                judging[judged] = index
                death[judged] = verdict[verdict >= 0] == 1
                if op.death_share is not None:  # one limit for camps and shooting together
                    mask = np.zeros(len(ids), dtype=bool)
                    mask[judged] = True
                    death[judged] = False
                    if death_open:
                        death |= self.allotment.condemn(index, mask, u, op.death_share)
                taken = chosen[(verdict >= 0) & ~mine[chosen]]
                if len(taken) and self.operations is not None:
                    self.operations.take(
                        index,
                        state.day,
                        people.region[ids[taken]].astype(np.int64),
                        people.weight[ids[taken]].astype(np.float64),
                    )
        tribunal = (route == Route.COURT) & np.isin(channel, TRIBUNAL_CHANNELS)
        route[tribunal] = Route.TRIBUNAL
        tribunal_share = params.tribunal_death_share
        if tribunal_share is None:
            tribunal_share = params.death_share
        court = (route == Route.COURT) & ~dropped
        routine = channel == CHANNEL["routine"]
        routine_share = params.routine_death_share
        if routine_share is None:
            routine_share = params.death_share
        groups = []  # the routes that may condemn today, each at its share of its cases
        if params.death_penalty:  # the routes that judge treason, espionage and sabotage
            groups += [
                ("collegium", (route == Route.COLLEGIUM) & ~dropped, params.collegium_death_share),
                ("tribunal", tribunal & ~dropped, tribunal_share),
            ]
        if death_open:
            groups += [
                ("album", route == Route.ALBUM, params.album_death_share),
                ("routine", court & routine, routine_share),
                ("court", court & ~routine, params.death_share),
            ]
        for key, cases, share in groups:
            death |= self.allotment.condemn(key, cases, u, share)
        if not params.death_penalty:
            death[:] = False
        elif params.death_only_for_treason:
            death &= (route == Route.TRIBUNAL) | (route == Route.COLLEGIUM)
        death &= ~dropped
        for kind, which in (
            (EventKind.CASE_DROPPED, dropped & ~on_review),
            (EventKind.CASE_DROPPED_ON_REVIEW, on_review),
        ):
            state.transition_fate(ids[which], Fate.FREE, kind, channel=channel[which])
        shot = ids[death]
        to_camp = ~death & ~dropped
        for measure in self.measures:
            ordinary_route = (
                (route == Route.COURT) | (route == Route.COLLEGIUM) | (route == Route.TRIBUNAL)
            )
            offered = np.flatnonzero(to_camp & ordinary_route)
            to_camp[offered[measure.sentence(state, ids[offered], channel[offered])]] = False
        camp = ids[to_camp]
        state.transition_fate(
            shot,
            Fate.SHOT,
            EventKind.SENTENCED_DEATH,
            campaign=judging[death],
            channel=channel[death],
        )
        state.transition_fate(
            camp,
            Fate.CAMP,
            EventKind.SENTENCED_CAMP,
            campaign=judging[to_camp],
            channel=channel[to_camp],
        )
        mass = (route == Route.TROIKA) | (route == Route.ALBUM)
        low, high = self.term_ranges(state, route, judging)
        self.camps.admit(
            state,
            camp,
            params.camp_years,
            self.term_rng,
            reviewable=mass[to_camp],
            term_range=(low[to_camp], high[to_camp]),
        )
        self.arrest_families(state, shot)

    @staticmethod
    def term_ranges(
        state: SimState, route: np.ndarray, judging: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each case's shortest and longest camp term, where its body's order gave them.

        NaN where none did (the gamma of `camp_years` then). An operation's troika or album
        gives the terms its order set for the camp category (`Operation.camp_years`: Order
        00447's 8-10 years, Order 00485's 5-10), also to the cases it takes from other
        channels; the Special Board gives the family members of "traitors" theirs
        (`family_camp_years`: Order 00486's 5-8 years).
        """
        low = np.full(len(route), np.nan)
        high = np.full(len(route), np.nan)
        for index, op in enumerate(state.scenario.operations):
            if op.camp_years is not None:
                theirs = judging == index
                low[theirs], high[theirs] = op.camp_years
        family = state.scenario.sentencing.family_camp_years
        if family is not None:
            board = route == Route.SPECIAL_BOARD
            low[board], high[board] = family
        return low, high

    def pending_review(
        self, state: SimState, channel: np.ndarray, supervised: np.ndarray
    ) -> np.ndarray:
        """Which of today's cases a prosecutor drops when they come to be judged.

        NKVD Order 00762 of 26 Nov 1938 (item 13) sent every investigation case in progress to
        the courts or the Special Board "in exact observance" of the decree of 17 Nov 1938, which
        put arrests under the prosecutor's sanction (docs/decisions.md 12.3, 23.2): with
        `pending_cases_sanctioned`, a case arrested before that supervision goes on at
        `sanction_share`, as a new arrest would, and testimony cases always with
        `testimony_sanctioned`; cases arrested under the supervision were sanctioned then.
        The draws come from this mechanism's own stream, so the switch leaves every other draw
        unchanged.
        """
        params = state.scenario.arrest
        if not (params.procuracy_supervision and params.pending_cases_sanctioned):
            return np.zeros(len(channel), dtype=bool)
        refused = self.sanction_rng.random(len(channel)) >= params.sanction_share
        if params.testimony_sanctioned:
            refused &= channel != CHANNEL["testimony"]
        return refused & ~supervised

    def album_waiting(
        self, state: SimState, ids: np.ndarray, album: np.ndarray
    ) -> tuple[np.ndarray, int]:
        """Which of today's album cases wait, and the day they come up again.

        While the album is closed they all wait a week. While it is open, Moscow's dvoika
        approves at most `album_per_day` persons a day, in the order the cases came (0: no
        limit); the rest wait for the next day.
        """
        params = state.scenario.sentencing
        if not params.album_open:
            return album, state.day + ALBUM_RECHECK_DAYS
        if params.album_per_day <= 0 or not album.any():
            return np.zeros(len(ids), dtype=bool), state.day + 1
        positions = np.flatnonzero(album)
        persons = np.cumsum(state.people.weight[ids[positions]].astype(np.float64))
        waiting = np.zeros(len(ids), dtype=bool)
        waiting[positions[persons > params.album_per_day]] = True
        return waiting, state.day + 1

    def troika(
        self, state: SimState, index: int, ids: np.ndarray, u: np.ndarray, strict: np.ndarray
    ) -> np.ndarray:
        """Category 1 (1) or 2 (0) for troika cases within the region's limits (-1: no room)."""
        assert self.operations is not None  # an operation's cases come only from Operations
        ledger = self.operations.ledgers[index]
        share = troika_shoot_share(state, state.scenario.operations[index])
        people = state.people
        return kernels.troika(
            people.region[ids].astype(np.int64),
            people.weight[ids].astype(np.float64),
            np.asarray(u, dtype=np.float64),
            np.asarray(strict, dtype=np.bool_),
            ledger.limit_shoot,
            ledger.limit_camp,
            ledger.sentenced_shoot,
            ledger.sentenced_camp,
            -1.0 if share is None else share,
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
