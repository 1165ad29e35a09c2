"""Arrests by the NKVD: the queue of cases, regional capacity, and the arrest itself.

Cases reach the NKVD through many channels (see `CHANNELS`): the lists of Order 00447 and the
national operations, denunciations, the testimony of arrested people, past expulsions from the
party (after Kirov's murder on 1 Dec 1934 an expelled member was an obvious suspect), the army
purge, the families of condemned "traitors", the centre's choice of show-trial defendants, and the
routine caseload. Each region's NKVD can make only so many arrests a day; cases beyond capacity
wait, the most urgent channels first. An arrested party member is expelled at once.

This is where an arrest happens: `Arrests.step` is the only place a person's fate becomes
ARRESTED.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from chistka.mechanisms.base import Mechanism
from chistka.mechanisms.regional import running_total_by_region
from chistka.people import Fate, Status
from chistka.rng import stream
from chistka.scenario.terror import CATEGORIES, CHANNELS, ArrestParams
from chistka.state import Calendar, EventKind, SimState, column_of

CHANNEL = {name: i for i, name in enumerate(CHANNELS)}
"""Channel name -> index (as stored in the event log)."""

PRIORITY = np.array(
    [
        CHANNELS.index(c)
        for c in (
            "show_trial",
            "army",
            "family",
            "testimony",
            "denunciation",
            "self_protection",
            "expelled",
            "national",
            "category",
            "routine",
        )
    ]
)
"""Order in which waiting cases are served when a region's capacity binds."""

_RANK = np.empty(len(CHANNELS), dtype=np.int64)
_RANK[PRIORITY] = np.arange(len(PRIORITY))


def pack(
    channel: np.ndarray | int, cause: np.ndarray | int, operation: np.ndarray | int, k: int
) -> np.ndarray:
    """Encode a case's channel, cause and operation into one integer per case."""
    channel, cause, operation = (column_of(x, k) for x in (channel, cause, operation))
    return ((cause + 1) << 16) | ((operation + 1) << 8) | channel


def unpack(payload: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channel, cause and operation of packed cases."""
    return payload & 0xFF, (payload >> 16) - 1, ((payload >> 8) & 0xFF) - 1


ArrestListener = Callable[[SimState, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]
"""Called as listener(state, ids, channel, cause, operation) after arrests."""


class Arrests(Mechanism):
    """The NKVD's queue of cases and its arrests (the arrested are interrogated)."""

    name = "arrest"
    section = "arrest"
    params = ArrestParams
    needs = ("interrogation",)
    streams = ("arrest",)
    events = (EventKind.ARRESTED,)

    def __init__(self, state: SimState) -> None:
        """Start with an empty queue; routine cases of registered people draw on the register."""
        self.rng = stream(state.seed, self.name)
        self.cases = Calendar()
        self.listeners: list[ArrestListener] = []
        self.expelled_free = int(state.counts[Status.EXPELLED, Fate.FREE].sum())
        self.registered = state.registered("category", list(range(len(CATEGORIES))))
        self.untaken: dict[tuple[int, ...], tuple[np.ndarray, float]] = {}

    def request(
        self,
        state: SimState,
        ids: np.ndarray,
        channel: str,
        *,
        cause: np.ndarray | int = -1,
        operation: np.ndarray | int = -1,
        delay: np.ndarray | int = 0,
    ) -> None:
        """Open cases against `ids`, to be acted on after `delay` days."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        days = state.day + column_of(delay, len(ids))
        self.cases.add(days, ids, pack(CHANNEL[channel], cause, operation, len(ids)))

    def step(self, state: SimState) -> None:
        """Open today's background cases, then arrest within each region's capacity."""
        self.expelled_at_risk(state)
        self.routine(state)
        ids, payload = self.cases.pop(state.day)
        arrested = 0.0
        if len(ids):
            channel, cause, operation = unpack(payload)
            order = np.lexsort((self.rng.random(len(ids)), _RANK[channel]))
            ids, channel, cause, operation = (
                ids[order],
                channel[order],
                cause[order],
                operation[order],
            )
            first = np.zeros(len(ids), dtype=bool)
            first[np.unique(ids, return_index=True)[1]] = True
            keep = first & state.free(ids) & ~self.halted(state, operation)
            keep &= self.sanctioned(state, channel, operation)
            ids, channel, cause, operation = ids[keep], channel[keep], cause[keep], operation[keep]
            take = self.within_capacity(state, ids)
            waiting = ~take
            self.cases.add(
                np.full(int(waiting.sum()), state.day + 1),
                ids[waiting],
                pack(channel[waiting], cause[waiting], operation[waiting], int(waiting.sum())),
            )
            ids, channel, cause, operation = ids[take], channel[take], cause[take], operation[take]
            arrested = self.arrest(state, ids, channel, cause, operation)
        state.arrested_persons.append(arrested)

    def halted(self, state: SimState, operation: np.ndarray) -> np.ndarray:
        """Whether each case belongs to an operation that has ended (its cases are dropped)."""
        ended = np.array(
            [state.date(state.day) > op.end for op in state.scenario.operations] + [False]
        )
        return ended[np.where(operation >= 0, operation, len(ended) - 1)]

    def sanctioned(self, state: SimState, channel: np.ndarray, operation: np.ndarray) -> np.ndarray:
        """Whether a prosecutor sanctions each case (all do without procuracy supervision).

        After the decree of 17 Nov 1938 an arrest needed a prosecutor's sanction
        (docs/decisions.md [Decree17Nov]); cases outside the operations pass at
        `sanction_share`, the others are dropped before anyone is arrested. With
        `testimony_sanctioned`, cases opened on an arrested person's testimony always pass:
        after the halt victims were chosen "for their links to others" (Rayfield 2004). Every
        case draws, so the switch leaves the other cases' draws unchanged.
        """
        params = state.scenario.arrest
        if not params.procuracy_supervision:
            return np.ones(len(operation), dtype=bool)
        passed = (operation >= 0) | (self.rng.random(len(operation)) < params.sanction_share)
        if params.testimony_sanctioned:
            passed |= channel == CHANNEL["testimony"]
        return passed

    def within_capacity(self, state: SimState, ids: np.ndarray) -> np.ndarray:
        """Which of today's (priority-ordered) cases each region can act on today."""
        per_million = state.scenario.arrest.capacity_per_million
        if per_million <= 0 or len(ids) == 0:
            return np.ones(len(ids), dtype=bool)
        region = state.people.region[ids].astype(np.int64)
        weight = state.people.weight[ids].astype(np.float64)
        capacity = per_million * state.region_persons / 1e6
        cumulative = running_total_by_region(region, weight)
        jitter = self.rng.random(len(ids)) * weight
        return cumulative - jitter <= capacity[region]

    def arrest(
        self,
        state: SimState,
        ids: np.ndarray,
        channel: np.ndarray,
        cause: np.ndarray,
        operation: np.ndarray,
    ) -> float:
        """Arrest people (expelling party members) and tell the listeners; returns persons."""
        if len(ids) == 0:
            return 0.0
        was_expelled = state.people.status[ids] == Status.EXPELLED
        for c in np.unique(channel):
            chosen = channel == c
            state.transition_fate(
                ids[chosen],
                Fate.ARRESTED,
                EventKind.ARRESTED,
                campaign=operation[chosen],
                cause=cause[chosen],
                channel=int(c),
            )
        self.expelled_free -= int(was_expelled.sum())
        for listener in self.listeners:
            listener(state, ids, channel, cause, operation)
        return float(state.people.weight[ids].astype(np.float64).sum())

    def expelled_at_risk(self, state: SimState) -> None:
        """Former members come under suspicion at the hazard the timeline sets."""
        hazard = state.scenario.arrest.expelled_risk_per_year
        if hazard <= 0:
            return
        if state.day % 30 == 0:
            self.expelled_free = int(state.counts[Status.EXPELLED, Fate.FREE].sum())
        k = int(self.rng.binomial(max(self.expelled_free, 0), min(1.0, hazard / 365.25)))
        if k == 0:
            return
        people = state.people
        ids = state.sample_people(
            self.rng,
            k,
            lambda ids, rng: (
                (people.status[ids] == Status.EXPELLED) & (people.fate[ids] == Fate.FREE)
            ),
            among=state.party_stratum,
        )
        self.request(state, ids, "expelled", delay=0)

    def routine(self, state: SimState) -> None:
        """The routine caseload: political cases outside the operations, per 1,000 people.

        With `routine_follows_climate` the rate is per 1,000 people at climate 1. With
        `operations_take_registered`, the categories an operation in force targets
        (`categories_taken_over`) are not drawn: Order 00447 took its contingents' cases. The
        other registered categories keep their own rate (the kulak operation of 1930 took the
        kulaks' cases, not the clergy's).
        """
        params = state.scenario.arrest
        if params.routine_rate_per_year <= 0:
            return
        persons = params.routine_rate_per_year / 1000 / 365.25 * state.region_persons.sum()
        if params.routine_follows_climate:
            persons *= state.climate
        people = state.people
        taken = categories_taken_over(state) if params.operations_take_registered else ()
        for listed in (True, False):
            share = params.routine_category_share if listed else 1 - params.routine_category_share
            among = None
            if listed:
                among, kept_share = self.registered_not_taken(state, taken)
                if len(among) == 0:
                    continue
                share *= kept_share
            ids = draw_persons(
                state,
                self.rng,
                persons * share,
                lambda ids, rng, listed=listed: (
                    state.free(ids) & ((people.category[ids] >= 0) == listed)
                ),
                among=among,
            )
            self.request(state, ids, "routine")

    def registered_not_taken(
        self, state: SimState, taken: tuple[int, ...]
    ) -> tuple[np.ndarray, float]:
        """The registered outside the `taken` categories, and their share of its persons.

        Drawing that share of the listed cases among them keeps each at the rate he had with
        no operation in force.
        """
        if not taken:
            return self.registered, 1.0
        if taken not in self.untaken:
            kept = [code for code in range(len(CATEGORIES)) if code not in taken]
            ids = state.registered("category", kept) if kept else self.registered[:0]
            weights = state.people.weight
            share = float(weights[ids].sum()) / max(float(weights[self.registered].sum()), 1.0)
            self.untaken[taken] = (ids, share)
        return self.untaken[taken]


def categories_taken_over(state: SimState) -> tuple[int, ...]:
    """Codes of the registered categories an operation in force today targets (Order 00447)."""
    today = state.date(state.day)
    return tuple(
        sorted(
            {
                CATEGORIES.index(target)
                for op in state.scenario.operations
                if op.kind == "category" and op.start <= today <= op.end
                for target in op.targets
            }
        )
    )


def draw_persons(
    state: SimState,
    rng: np.random.Generator,
    persons: float,
    accept: Callable[[np.ndarray, np.random.Generator], np.ndarray],
    id_range: tuple[int, int] | None = None,
    among: np.ndarray | None = None,
) -> np.ndarray:
    """Agents standing for about `persons` people in all, drawn among those `accept` admits.

    Agents are drawn uniformly and taken in turn until their weights add up to `persons` (the
    last one with the probability that keeps the expected total exact). The agents are drawn
    in batches sized by the mean weight of those accepted so far, so that the work follows the
    agents taken, whatever the mix of agent weights. `id_range` and `among` restrict the draw
    as in `SimState.sample_people`.
    """
    if persons <= 0:
        return np.empty(0, dtype=np.int64)
    weights = state.people.weight
    taken: list[np.ndarray] = []
    total = 0.0
    mean_weight = float(state.persons.sum() / max(state.counts.sum(), 1))
    while total < persons:
        wanted = int(np.ceil((persons - total) / mean_weight)) + 1
        if taken:
            before = np.concatenate(taken)
            batch = state.sample_people(
                rng,
                wanted,
                lambda ids, rng, before=before: accept(ids, rng) & ~np.isin(ids, before),
                id_range=id_range,
                among=among,
            )
        else:
            batch = state.sample_people(rng, wanted, accept, id_range=id_range, among=among)
        if len(batch) == 0:
            break
        weight = weights[batch].astype(np.float64)
        before_each = total + np.cumsum(weight) - weight
        whole = before_each + weight <= persons
        partial = ~whole & (before_each < persons)
        partial[partial] = (
            rng.random(int(partial.sum())) < (persons - before_each[partial]) / weight[partial]
        )
        if not whole.all():
            taken.append(batch[whole | partial])
            break
        taken.append(batch)
        total += float(weight.sum())
        mean_weight = total / sum(len(t) for t in taken)
        if len(batch) < wanted:
            break
    return np.concatenate(taken) if taken else np.empty(0, dtype=np.int64)
