"""The mutable state of a running simulation, shared by the mechanisms.

Every change of a person's party status goes through `SimState.transition`, which keeps the
counts by status and origin up to date (so a day's counts cost nothing to read) and writes the
event log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from chistka.network import Network
from chistka.people import Fate, Leadership, People, Status
from chistka.scenario.schema import ORIGINS, Scenario


class EventKind(IntEnum):
    """What happened to a person, as written in the event log."""

    ADMITTED = 0
    PROMOTED = 1
    LEFT = 2
    DIED = 3
    KEPT = 4
    DEMOTED = 5
    EXPELLED = 6
    APPEALED = 7
    REINSTATED = 8
    APPEAL_REJECTED = 9
    DENOUNCED = 10
    ARRESTED = 11
    CONFESSED = 12
    NAMED = 13
    SENTENCED_DEATH = 14
    SENTENCED_CAMP = 15
    CASE_DROPPED = 16
    DIED_IN_CAMP = 17
    RELEASED = 18
    DISMISSED = 19
    REINSTATED_IN_ARMY = 20
    LIMIT_INCREASED = 21


def summarise_population(people: People) -> dict:
    """The population on the first day, in persons: the denominators of shares and risks.

    Keys: total_persons, hostile_persons, party_persons, rank_persons (rank tier -> persons
    among candidates and members), elite_persons ('cc1934', 'congress17'), officer_persons.
    """
    weight = people.weight.astype(np.float64)
    in_party = (people.status == Status.CANDIDATE) | (people.status == Status.MEMBER)
    rank = np.bincount(
        people.rank[in_party].astype(np.int64), weights=weight[in_party], minlength=5
    )
    return {
        "total_persons": float(weight.sum()),
        "hostile_persons": float(weight[people.hostile].sum()),
        "party_persons": float(weight[in_party].sum()),
        "rank_persons": {int(tier): float(rank[tier]) for tier in range(len(rank))},
        "elite_persons": {
            "cc1934": float(weight[(people.elite & 1) > 0].sum()),
            "congress17": float(weight[(people.elite & 2) > 0].sum()),
        },
        "officer_persons": float(weight[people.role == 1].sum()),
    }


class EventLog:
    """Append-only log of events, kept as column chunks and joined once at the end."""

    def __init__(self) -> None:
        """Start an empty log."""
        self._chunks: dict[str, list[np.ndarray]] = {
            "day": [],
            "person": [],
            "kind": [],
            "campaign": [],
            "score": [],
            "cause": [],
            "channel": [],
        }
        self.size = 0

    def add(
        self,
        day: int,
        people: np.ndarray,
        kind: EventKind,
        campaign: int = -1,
        score: np.ndarray | None = None,
        cause: np.ndarray | int = -1,
        channel: np.ndarray | int = -1,
    ) -> None:
        """Record one kind of event for several people on one day.

        `campaign` is the purge campaign (or, for arrests, the operation) index, `cause` the
        person whose denunciation or testimony led to the event, `channel` how an arrest came
        about (an index into CHANNELS).
        """
        k = len(people)
        if k == 0:
            return
        self._chunks["day"].append(np.full(k, day, dtype=np.int32))
        self._chunks["person"].append(np.asarray(people, dtype=np.int64))
        self._chunks["kind"].append(np.full(k, int(kind), dtype=np.int8))
        self._chunks["campaign"].append(np.full(k, campaign, dtype=np.int8))
        self._chunks["cause"].append(
            np.broadcast_to(np.asarray(cause, dtype=np.int64), (k,)).copy()
        )
        self._chunks["channel"].append(
            np.broadcast_to(np.asarray(channel, dtype=np.int8), (k,)).copy()
        )
        self._chunks["score"].append(
            np.full(k, np.nan, dtype=np.float32)
            if score is None
            else np.asarray(score, dtype=np.float32)
        )
        self.size += k

    def columns(self) -> dict[str, np.ndarray]:
        """The log as whole columns."""
        empty = {
            "day": np.int32,
            "person": np.int64,
            "kind": np.int8,
            "campaign": np.int8,
            "score": np.float32,
            "cause": np.int64,
            "channel": np.int8,
        }
        return {
            name: np.concatenate(chunks) if chunks else np.empty(0, dtype=empty[name])
            for name, chunks in self._chunks.items()
        }


class Calendar:
    """Things scheduled for a future day: people (and one integer each), bucketed by day."""

    def __init__(self) -> None:
        """Start an empty calendar."""
        self._days: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}

    def add(self, days: np.ndarray, people: np.ndarray, values: np.ndarray | None = None) -> None:
        """Schedule each person on their day (with an optional integer payload)."""
        days = np.asarray(days, dtype=np.int64)
        people = np.asarray(people, dtype=np.int64)
        values = (
            np.zeros(len(people), dtype=np.int64)
            if values is None
            else np.asarray(values, dtype=np.int64)
        )
        if len(people) == 0:
            return
        order = np.argsort(days, kind="stable")
        days, people, values = days[order], people[order], values[order]
        bounds = np.flatnonzero(np.r_[True, days[1:] != days[:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            self._days.setdefault(int(days[a]), []).append((people[a:b], values[a:b]))

    def pop(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Remove and return the people (and payloads) scheduled for `day`."""
        entries = self._days.pop(day, None)
        if not entries:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return (np.concatenate([p for p, _ in entries]), np.concatenate([v for _, v in entries]))

    def __len__(self) -> int:
        """Number of scheduled entries."""
        return sum(len(p) for entries in self._days.values() for p, _ in entries)


@dataclass
class SimState:
    """Everything the mechanisms read and change during a run."""

    scenario: Scenario  # current parameters (timeline events replace it)
    start: dt.date
    n_days: int
    seed: int
    scale: float
    people: People
    network: Network
    leadership: Leadership
    party_density: np.ndarray  # per workplace
    counts: np.ndarray = field(init=False)  # [status, fate, origin] number of agents
    persons: np.ndarray = field(init=False)  # [status, fate, origin] represented persons
    log: EventLog = field(default_factory=EventLog)
    day: int = 0
    climate: float = 1.0  # the political climate today (see mechanisms/climate.py)
    arrested_persons: list[float] = field(default_factory=list)  # persons arrested per day
    region_persons: np.ndarray = field(init=False)  # represented persons per region
    lightest: float = field(init=False)  # smallest agent weight (persons per agent)
    party_weight: float = field(init=False)  # persons per agent in the party stratum
    population_summary: dict = field(init=False)  # the population at the start, in persons
    party_stratum: np.ndarray | None = None  # ids kept at party scale (None: everybody)

    def __post_init__(self) -> None:
        """Count the initial population by status, fate and origin (the only full scan)."""
        shape = (len(Status), len(Fate), len(ORIGINS))
        index = (
            self.people.status.astype(np.int64),
            self.people.fate.astype(np.int64),
            self.people.origin.astype(np.int64),
        )
        self.counts = np.zeros(shape, dtype=np.int64)
        np.add.at(self.counts, index, 1)
        self.persons = np.zeros(shape, dtype=np.float64)
        np.add.at(self.persons, index, self.people.weight.astype(np.float64))
        self.lightest = float(self.people.weight.min()) if len(self.people) else 1.0
        population = self.scenario.population
        self.party_weight = float(np.float32(1.0 / (population.party_scale or population.scale)))
        self.population_summary = summarise_population(self.people)
        self.region_persons = np.bincount(
            self.people.region.astype(np.int64),
            weights=self.people.weight.astype(np.float64),
            minlength=len(self.network.layout.start) - 1,
        )

    def date(self, day: int) -> dt.date:
        """Calendar date of a day index."""
        return self.start + dt.timedelta(days=day)

    def _move(self, ids: np.ndarray, status: np.ndarray, fate: np.ndarray) -> None:
        people = self.people
        origin = people.origin[ids].astype(np.int64)
        weight = people.weight[ids].astype(np.float64)
        old = (people.status[ids].astype(np.int64), people.fate[ids].astype(np.int64), origin)
        new = (status.astype(np.int64), fate.astype(np.int64), origin)
        np.subtract.at(self.counts, old, 1)
        np.add.at(self.counts, new, 1)
        np.subtract.at(self.persons, old, weight)
        np.add.at(self.persons, new, weight)
        people.status[ids] = status
        people.fate[ids] = fate

    def transition(
        self,
        ids: np.ndarray,
        new_status: Status,
        kind: EventKind,
        campaign: int = -1,
        score: np.ndarray | None = None,
        cause: np.ndarray | int = -1,
        channel: np.ndarray | int = -1,
    ) -> None:
        """Move people to a new party status, updating the counts and the event log."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        self._move(ids, np.full(len(ids), int(new_status)), self.people.fate[ids])
        self.log.add(self.day, ids, kind, campaign, score, cause, channel)

    def transition_fate(
        self,
        ids: np.ndarray,
        new_fate: Fate,
        kind: EventKind,
        *,
        campaign: int = -1,
        cause: np.ndarray | int = -1,
        channel: np.ndarray | int = -1,
    ) -> None:
        """Move people to a new fate (arrest, camp, execution ...), updating counts and log.

        Party members and candidates who are arrested are expelled at the same time.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        status = self.people.status[ids].copy()
        if new_fate == Fate.ARRESTED:
            in_party = (status == Status.CANDIDATE) | (status == Status.MEMBER)
            status[in_party] = Status.EXPELLED
        self._move(ids, status, np.full(len(ids), int(new_fate)))
        self.log.add(self.day, ids, kind, campaign, None, cause, channel)

    def in_party(self, ids: np.ndarray) -> np.ndarray:
        """Whether each person is a candidate or a full member today."""
        status = self.people.status[ids]
        return (status == Status.CANDIDATE) | (status == Status.MEMBER)

    def party_size(self) -> int:
        """Candidates and members today (agents)."""
        return int(self.counts[Status.CANDIDATE].sum() + self.counts[Status.MEMBER].sum())

    def thinning(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Chance to keep a link from `source` to `target` agents so that persons add up.

        An agent standing for w people who names or denounces an agent standing for more people
        is kept with probability w_source / w_target (1 when the weights are equal).
        """
        w = self.people.weight
        return np.minimum(1.0, w[source].astype(np.float64) / w[target].astype(np.float64))

    def region_ids(self, region: int) -> tuple[int, int]:
        """First and one-past-last id of a region."""
        start = self.network.layout.start
        return int(start[region]), int(start[region + 1])

    def free(self, ids: np.ndarray) -> np.ndarray:
        """Whether each person is alive and at liberty today."""
        return (self.people.fate[ids] == Fate.FREE) & (self.people.status[ids] != Status.DEAD)

    def sample_people(
        self,
        rng: np.random.Generator,
        k: int,
        accept: Callable[[np.ndarray, np.random.Generator], np.ndarray],
        *,
        max_draws: int | None = None,
        give_up: int = 100_000,
        id_range: tuple[int, int] | None = None,
        among: np.ndarray | None = None,
    ) -> np.ndarray:
        """K distinct people drawn uniformly among those `accept` admits (rejection sampling).

        The work grows with k and with the rarity of acceptable people, not with the population.
        `accept(ids, rng)` returns a boolean mask. Fewer than k come back only when acceptable
        people are too rare to be found within `max_draws` draws (default: 200,000 plus 2,000
        per person wanted), or none is found in the first
        `give_up` draws (the acceptable have run out). `id_range` restricts the
        draw to ids in [low, high) (a region), `among` to the given ids (a stratum).
        """
        chosen: list[np.ndarray] = []
        found = drawn_total = accepted_total = 0
        low, high = id_range if id_range is not None else (0, len(self.people))
        if max_draws is None:
            max_draws = 200_000 + 2_000 * k
        while found < k and drawn_total < max_draws:
            rate = (accepted_total + 1) / (drawn_total + 2)
            size = int(min(1 << 16, (k - found) / rate * 1.2 + 16))
            drawn = (
                rng.integers(low, high, size=size)
                if among is None
                else among[rng.integers(0, len(among), size=size)]
            )
            batch = drawn[accept(drawn, rng)]
            drawn_total += size
            accepted_total += len(batch)
            if accepted_total == 0 and drawn_total >= give_up:
                break
            batch = batch[np.sort(np.unique(batch, return_index=True)[1])]
            if chosen:
                batch = batch[~np.isin(batch, np.concatenate(chosen))]
            batch = batch[: k - found]
            chosen.append(batch)
            found += len(batch)
        return np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)
