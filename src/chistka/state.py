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

from chistka import kernels
from chistka.network import Network
from chistka.people import Fate, Flag, Leadership, PartyDensity, People, Status
from chistka.record.regions import region_names
from chistka.scenario.schema import ORIGINS, Scenario
from chistka.scenario.terror import CATEGORIES, DIASPORAS


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
    SENTENCED_EXILE = 21
    SENTENCED_OTHER = 22
    IN_CAMP_AT_START = 23  # a political prisoner already in the camps on the first day
    CASE_DROPPED_ON_REVIEW = 24  # a case pending at the halt the prosecutor did not sanction
    IN_CUSTODY_AT_START = 25  # under investigation on the first day (after a spin-up)


def summarise_population(people: People, stratum: np.ndarray, hostile_persons: float) -> dict:
    """The population on the first day, in persons: the denominators of shares and risks.

    It is the population as synthesised, so after a spin-up (`RunInfo.spin_up_days`) it is the
    population the spin-up started from: the scenario's inputs (the Central Committee of 1934
    whole, the party as given), not what the spin-up left of them.

    Keys: total_persons, hostile_persons, party_persons, rank_persons (rank tier -> persons
    among candidates and members), elite_persons ('cc1934', 'congress17'), officer_persons.
    The party, the elite and the officers all belong to the party-scale `stratum` (ids), so only
    the stratum is read.
    """
    weight = people.weight[stratum].astype(np.float64)
    status = people.status[stratum]
    elite = people.elite[stratum]
    in_party = (status == Status.CANDIDATE) | (status == Status.MEMBER)
    rank = np.bincount(
        people.rank[stratum][in_party].astype(np.int64), weights=weight[in_party], minlength=5
    )
    return {
        "hostile_persons": hostile_persons,
        "party_persons": float(weight[in_party].sum()),
        "rank_persons": {int(tier): float(rank[tier]) for tier in range(len(rank))},
        "elite_persons": {
            "cc1934": float(weight[(elite & 1) > 0].sum()),
            "congress17": float(weight[(elite & 2) > 0].sum()),
        },
        "officer_persons": float(weight[people.role[stratum] == 1].sum()),
    }


class EventLog:
    """Append-only log of events in the order of their days, kept in growing column buffers.

    Being in day order, the events from a day on are a view of the columns' ends
    (`Results.collect` leaves a spin-up out without copying the log).
    """

    COLUMNS = {
        "day": np.int32,
        "person": np.int64,
        "kind": np.int8,
        "campaign": np.int8,
        "score": np.float32,
        "cause": np.int64,
        "channel": np.int8,
        "cohort": np.int8,
        "rank": np.int8,
        "opposition": np.bool_,
    }
    """Column names and types. The last three are the person's attributes that change during a
    run (an admission sets the cohort and the opposition past), as they are at the event."""

    ATTRIBUTES = ("cohort", "rank", "opposition")
    """Columns read from the people when the event is written (`attributes`)."""

    def __init__(self, attributes: People | None = None) -> None:
        """Start an empty log; `attributes` are the people whose changing attributes it records.

        The log also marks these people `Flag.RECORDED` when it first writes about them. Without
        people (a log on its own), the attribute columns hold -1 and False.
        """
        self._columns = {name: np.empty(4096, dtype=kind) for name, kind in self.COLUMNS.items()}
        self.size = 0
        self.attributes = attributes
        self.last_day = 0  # the day of the latest event (0 before any)

    def add(
        self,
        day: int,
        people: np.ndarray,
        kind: EventKind,
        campaign: np.ndarray | int = -1,
        score: np.ndarray | None = None,
        cause: np.ndarray | int = -1,
        channel: np.ndarray | int = -1,
    ) -> None:
        """Record one kind of event for several people on one day.

        `campaign` is the purge campaign (or, for arrests, the operation) index, `cause` the
        person whose denunciation or testimony led to the event, `channel` how an arrest came
        about (an index into CHANNELS).

        Raises:
            ValueError: a day before the latest event's (the log is kept in day order).
        """
        k = len(people)
        if k == 0:
            return
        if day < self.last_day:
            raise ValueError(f"an event on day {day} after one on day {self.last_day}")
        self.last_day = day
        start, end = self.size, self.size + k
        if end > len(self._columns["day"]):
            capacity = max(end, 2 * len(self._columns["day"]))
            for name, column in self._columns.items():
                grown = np.empty(capacity, dtype=column.dtype)
                grown[:start] = column[:start]
                self._columns[name] = grown
        values = {
            "day": day,
            "person": people,
            "kind": int(kind),
            "campaign": campaign,
            "score": np.nan if score is None else score,
            "cause": cause,
            "channel": channel,
        }
        for name, value in values.items():
            self._columns[name][start:end] = value
        self.size = end
        if self.attributes is None:
            for name in self.ATTRIBUTES:
                self._columns[name][start:end] = -1
            return
        people_ids = np.asarray(people, dtype=np.int64)
        kernels.read_and_mark(
            people_ids,
            self.attributes.cohort,
            self.attributes.rank,
            self.attributes.opposition,
            self.attributes.flags,
            int(Flag.RECORDED),
            *(self._columns[name][start:end] for name in self.ATTRIBUTES),
        )

    def columns(self) -> dict[str, np.ndarray]:
        """The log as whole columns: read-only views of the buffers, not copies.

        Later events are written past the end of these views (or into new buffers), so the
        columns stay as they were when taken; not copying them saved a few seconds per run at
        full scale (tens of millions of events).
        """
        views = {name: column[: self.size] for name, column in self._columns.items()}
        for view in views.values():
            view.flags.writeable = False
        return views


@dataclass(frozen=True)
class Slots:
    """A dense numbering of the people a calendar may hold (see `Calendar`).

    `of(ids)` gives each person a slot in [0, size), so that a calendar keeps its live entries
    in an array indexed by slot.
    """

    size: int
    of: Callable[[np.ndarray], np.ndarray]


class SlotDays:
    """The day of each person's live calendar entry, in an array over `Slots`."""

    NONE = np.iinfo(np.int64).min
    """The day of a slot without a live entry."""

    def __init__(self, slots: Slots) -> None:
        """Every slot without a live entry."""
        self.slots = slots
        self.days = np.full(slots.size, self.NONE, dtype=np.int64)

    def set(self, people: np.ndarray, days: np.ndarray) -> None:
        """Set each person's day (a person's later entry wins)."""
        slot = np.asarray(self.slots.of(people), dtype=np.int64)
        kernels.scatter_in_order(self.days, slot, np.ascontiguousarray(days))

    def get(self, people: np.ndarray, missing: int) -> np.ndarray:
        """Each person's day, or `missing` for those without a live entry."""
        days = self.days[np.asarray(self.slots.of(people), dtype=np.int64)]
        return np.where(days == self.NONE, missing, days)

    def drop(self, people: np.ndarray) -> None:
        """Remove the people's live entries (if any)."""
        self.days[np.asarray(self.slots.of(people), dtype=np.int64)] = self.NONE


class IdDays:
    """The day of each person's live calendar entry, for any ids (a compiled hash table).

    Open addressing with linear probing over power-of-two arrays (`kernels.map_set`), rebuilt
    twice as large when more than half the places have been used: vectorised, where a dict of
    Python ints cost about a microsecond per entry (the camps' releases at full scale).
    """

    def __init__(self) -> None:
        """An empty table."""
        self._allocate(1024)
        self._live = 0

    def _allocate(self, size: int) -> None:
        self._keys = np.full(size, -1, dtype=np.int64)
        self._values = np.zeros(size, dtype=np.int64)
        self._shift = 64 - (size.bit_length() - 1)
        self._used = 0  # places ever taken (live entries and removed ones)

    def set(self, people: np.ndarray, days: np.ndarray) -> None:
        """Set each person's day (a person's later entry wins)."""
        if 2 * (self._used + len(people)) > len(self._keys):
            held = self._keys >= 0
            ids, values = self._keys[held], self._values[held]
            size = len(self._keys)
            while 2 * (len(ids) + len(people)) > size // 2:
                size *= 2
            self._allocate(size)
            self._used, self._live = kernels.map_set(
                self._keys, self._values, self._shift, ids, values
            )
        taken, added = kernels.map_set(
            self._keys, self._values, self._shift, people, np.ascontiguousarray(days)
        )
        self._used += taken
        self._live += added

    def get(self, people: np.ndarray, missing: int) -> np.ndarray:
        """Each person's day, or `missing` for those without a live entry."""
        return kernels.map_get(self._keys, self._values, self._shift, people, missing)

    def drop(self, people: np.ndarray) -> None:
        """Remove the people's live entries (if any)."""
        self._live -= kernels.map_drop(self._keys, self._shift, people)

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """The people with a live entry, in increasing order, and their days."""
        held = self._keys >= 0
        ids, days = self._keys[held], self._values[held]
        order = np.argsort(ids)
        return ids[order], days[order]

    def __len__(self) -> int:
        """Number of people with a live entry."""
        return self._live


class Calendar:
    """Things scheduled for a future day: people (and one integer each), listed by day.

    Each day's entries form a list in the order they were added, kept in compiled arrays
    (`kernels.buckets_add`, `kernels.buckets_pop`): an add appends each entry to its day's list
    and a pop takes the day's list whole, so both cost the entries, not the days or the other
    entries waiting. The places of popped entries are used again. Until 2026-12-02 entries were
    kept in blocks of 64 days as numpy chunks, sorted by day at each pop of their block (the same
    order; whole runs took 2% longer, docs/scale.md).

    A calendar made with `replace=True` holds at most one live entry per person: a new entry
    replaces the person's earlier one (a re-sentenced prisoner is released at the end of the new
    term, not of the first), and `cancel` withdraws it. Replaced entries stay in their days' lists
    and are dropped when their day comes; the live day of each scheduled person is kept in a
    compiled hash table (`IdDays`), so the cost follows the people scheduled, or, for a
    calendar of a known group of people (the party stratum: `SimState.stratum_slots`), in an
    array over the group's `slots` (`SlotDays`). Until 2026-11-30 it was a dict, in which the
    promotion calendar (the candidates' stages postponed again and again while promotion was
    frozen) spent 3 of a default-scale run's 22 s.
    """

    def __init__(self, *, replace: bool = False, slots: Slots | None = None) -> None:
        """Start an empty calendar (one live entry per person if `replace`, kept over `slots`).

        Raises:
            ValueError: `slots` without `replace`.
        """
        if slots is not None and not replace:
            raise ValueError("slots keep the live entries of a calendar made with replace=True")
        # by day: first entry (-1: none), last entry, count; by entry: the next entry of the same
        # day (or the next freed place), person, value (`kernels.buckets_add`)
        self._lists = tuple(np.full(1024, fill, dtype=np.int64) for fill in (-1, -1, 0, -1, -1, 0))
        self._top = 0  # places below it have been used
        self._free = -1  # first freed place (the freed places are linked like a day's entries)
        self._freed = 0  # places in that list
        self._live: SlotDays | IdDays | None = None  # person -> live entry's day
        if slots is not None:
            self._live = SlotDays(slots)
        elif replace:
            self._live = IdDays()

    def add(self, days: np.ndarray, people: np.ndarray, values: np.ndarray | None = None) -> None:
        """Schedule each person on their day (with an optional integer payload).

        Raises:
            ValueError: a day before the first (day 0).
        """
        people = np.asarray(people, dtype=np.int64)
        if len(people) == 0:
            return
        days = column_of(days, len(people))
        values = (
            np.zeros(len(people), dtype=np.int64)
            if values is None
            else column_of(values, len(people))
        )
        if days.min() < 0:
            raise ValueError(f"a calendar holds days from 0 (got {int(days.min())})")
        if self._live is not None:
            self._live.set(people, days)
        self._make_room(int(days.max()), len(people))
        self._top, self._free = kernels.buckets_add(
            days, people, values, self._lists, self._top, self._free
        )
        self._freed = max(self._freed - len(people), 0)

    def _make_room(self, last_day: int, entries: int) -> None:
        """Grow the arrays of days to hold `last_day` and those of entries to take `entries`."""
        by_day, by_entry = list(self._lists[:3]), list(self._lists[3:])
        if last_day >= len(by_day[0]):
            more = max(len(by_day[0]), last_day + 1 - len(by_day[0]))
            by_day = [
                np.concatenate([column, np.full(more, fill, dtype=np.int64)])
                for column, fill in zip(by_day, (-1, -1, 0), strict=True)
            ]
        if self._freed + len(by_entry[0]) - self._top < entries:
            size = max(2 * len(by_entry[0]), self._top + entries)
            by_entry = [np.resize(column, size) for column in by_entry]
        self._lists = (*by_day, *by_entry)

    def pop(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Remove and return the people (and payloads) scheduled for `day`."""
        count = self._lists[2]
        if not 0 <= day < len(count) or count[day] == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        people, values, self._free = kernels.buckets_pop(day, self._lists, self._free)
        self._freed += len(people)
        if self._live is not None:
            return self._keep_live(day, people, values)
        return people, values

    def _keep_live(
        self, day: int, people: np.ndarray, values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The entries of `day` that are still their person's live entry (once per person)."""
        assert self._live is not None
        # day + 1 stands for "no live entry": it never equals `day`
        keep = self._live.get(people, day + 1) == day
        keep &= kernels.last_occurrences(people)  # two entries on the same day: the later one
        people, values = people[keep], values[keep]
        self._live.drop(people)
        return people, values

    def scheduled(self, people: np.ndarray) -> np.ndarray:
        """Whether each of `people` has a live entry (only for a calendar made with `replace`)."""
        if self._live is None:
            raise ValueError("scheduled needs a calendar made with replace=True")
        people = np.asarray(people, dtype=np.int64)
        return self._live.get(people, -1) >= 0

    def cancel(self, people: np.ndarray) -> None:
        """Withdraw the live entries of `people` (only for a calendar made with `replace`)."""
        if self._live is None:
            raise ValueError("cancel needs a calendar made with replace=True")
        self._live.drop(np.asarray(people, dtype=np.int64))

    def __len__(self) -> int:
        """Number of scheduled entries."""
        return int(self._lists[2].sum())


def column_of(value: np.ndarray | int, n: int) -> np.ndarray:
    """`value` as n int64 entries: an array of n as it is, a single value repeated.

    What `np.broadcast_to` gives, without its cost on the many small calls of a run.
    """
    column = np.asarray(value, dtype=np.int64)
    if column.ndim == 0 or column.shape == (1,):
        return np.full(n, column.reshape(()), dtype=np.int64)
    if column.shape != (n,):
        raise ValueError(f"expected {n} values, got an array of shape {column.shape}")
    return column


class IdBuffer:
    """A growing array of ids (amortised doubling), e.g. everyone ever sent to the camps."""

    def __init__(self) -> None:
        """Start empty."""
        self._ids = np.empty(1024, dtype=np.int64)
        self._size = 0

    def extend(self, ids: np.ndarray) -> None:
        """Append ids."""
        end = self._size + len(ids)
        if end > len(self._ids):
            grown = np.empty(max(end, 2 * len(self._ids)), dtype=np.int64)
            grown[: self._size] = self._ids[: self._size]
            self._ids = grown
        self._ids[self._size : end] = ids
        self._size = end

    def view(self) -> np.ndarray:
        """The ids so far (a view: do not keep it across `extend`)."""
        return self._ids[: self._size]

    def __len__(self) -> int:
        """Number of ids."""
        return self._size


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
    party_density: PartyDensity  # of each workplace
    counts: np.ndarray = field(init=False)  # [status, fate, origin] number of agents
    persons: np.ndarray = field(init=False)  # [status, fate, origin] represented persons
    log: EventLog = field(default_factory=EventLog)
    day: int = 0
    climate: float = 1.0  # the political climate today (see mechanisms/climate.py)
    arrested_persons: list[float] = field(default_factory=list)  # persons arrested per day
    citizen_deaths: np.ndarray = field(init=False)  # [day, region, origin] see `natural_deaths`
    citizen_death_persons: np.ndarray = field(init=False)  # the same in represented persons
    region_persons: np.ndarray = field(init=False)  # represented persons per region
    category_persons: np.ndarray = field(init=False)  # [region, category] at the start
    diaspora_persons: np.ndarray = field(init=False)  # [region, diaspora] at the start
    registers: dict[str, tuple[np.ndarray, np.ndarray]] = field(init=False)  # see `registered`
    lightest: float = field(init=False)  # smallest agent weight (persons per agent)
    party_weight: float = field(init=False)  # persons per agent in the party stratum
    population_summary: dict = field(init=False)  # the population as synthesised, in persons
    party_stratum: np.ndarray | None = None  # ids kept at party scale (None: everybody)
    first_day: int = 0  # the scenario's start; the days before it are the spin-up's

    def __post_init__(self) -> None:
        """Count the initial population (the only pass over everybody, compiled)."""
        people = self.people
        n_regions = len(self.network.layout.start) - 1
        (
            self.counts,
            self.persons,
            self.region_persons,
            self.category_persons,
            self.diaspora_persons,
            hostile_persons,
        ) = kernels.census(
            people.status,
            people.fate,
            people.origin,
            people.weight.edges,
            people.weight.values,
            people.region.edges,
            people.region.values,
            people.category,
            people.diaspora,
            people.hostile,
            (len(Status), len(Fate), len(ORIGINS), n_regions, len(CATEGORIES), len(DIASPORAS)),
        )
        self.log.attributes = people  # events record the attributes held at the time
        self.citizen_deaths = np.zeros((self.n_days, n_regions, len(ORIGINS)), dtype=np.int64)
        self.citizen_death_persons = np.zeros(self.citizen_deaths.shape, dtype=np.float64)
        self.registers = {
            "category": kernels.group_by_code(people.category, len(CATEGORIES)),
            "diaspora": kernels.group_by_code(people.diaspora, len(DIASPORAS)),
        }
        population = self.scenario.population
        self.lightest = (
            min(
                float(people.weight[self.stratum_ids()].min()),
                float(np.float32(1.0 / population.scale)),
            )
            if len(people)
            else 1.0
        )
        self.party_weight = float(np.float32(1.0 / (population.party_scale or population.scale)))
        self.population_summary = {
            "total_persons": float(self.persons.sum()),
            **summarise_population(people, self.stratum_ids(), hostile_persons),
            # the key to the region index of the event log, citizen_deaths and limit_requests
            "region_names": list(region_names(population.region_table)),
        }

    def registered(self, register: str, codes: list[int]) -> np.ndarray:
        """Ids registered under any of `codes` in a register ('category' or 'diaspora').

        The NKVD's card files of 'former people' and the lists of national minorities (Order
        00447; the national operations' orders): indexed once at the start, since nobody
        enters them during a run, so that an operation draws among its targets only.
        """
        ids, offsets = self.registers[register]
        return np.sort(np.concatenate([ids[offsets[c] : offsets[c + 1]] for c in codes]))

    def stratum_ids(self) -> np.ndarray:
        """Ids of the party-scale stratum: everybody who can be in the party, and the officers.

        Scans for party members, former members or officers read only these ids.
        """
        if self.party_stratum is None:
            return np.arange(len(self.people))
        return self.party_stratum

    def outside_stratum(self, ids: np.ndarray) -> np.ndarray:
        """Whether each of `ids` is outside the party-scale stratum (an ordinary citizen).

        Everybody is, in a scenario without a stratum. Tells the parts apart by position, so
        that it holds at every scale, also where citizens weigh what the stratum does.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if self.party_stratum is None:
            return np.ones(len(ids), dtype=bool)
        return ids >= self.network.layout.part_start[self.network.region(ids)]

    def stratum_slots(self) -> Slots:
        """The party-scale stratum numbered in id order (`stratum_ids()[slot]` is the person).

        For a calendar of party members (`Calendar(slots=...)`); an id outside the stratum is
        refused with a ValueError.
        """
        if self.party_stratum is None:
            return Slots(len(self.people), lambda ids: ids)
        layout, network = self.network.layout, self.network
        first = layout.start[:-1]
        offset = np.concatenate([[0], np.cumsum(layout.part_start - first)[:-1]])

        def of(ids: np.ndarray) -> np.ndarray:
            region = network.region(ids)
            if np.any(ids >= layout.part_start[region]):
                raise ValueError("a calendar over the party stratum was given a person outside it")
            return ids - first[region] + offset[region]

        return Slots(len(self.party_stratum), of)

    def date(self, day: int) -> dt.date:
        """Calendar date of a day index."""
        return self.start + dt.timedelta(days=day)

    def _move(
        self,
        ids: np.ndarray,
        status: int = kernels.KEEP,
        fate: int = kernels.KEEP,
        expel: bool = False,
    ) -> None:
        """Give `ids` a new status or fate (KEEP: their own), updating the counts (`kernels.move`).

        With `expel`, candidates and members among them are expelled.
        """
        people = self.people
        kernels.move(
            ids,
            int(status),
            int(fate),
            int(Status.EXPELLED) if expel else kernels.KEEP,
            people.status,
            people.fate,
            people.origin,
            people.weight.edges,
            people.weight.values,
            self.counts,
            self.persons,
        )

    def place(self, ids: np.ndarray, fate: Fate) -> None:
        """Give people a fate before the run starts, without an event, updating the counts.

        For those already in the camps on the first day.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids):
            self._move(ids, fate=fate)

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
        self._move(ids, status=new_status)
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
        self._move(ids, fate=new_fate, expel=new_fate == Fate.ARRESTED)
        self.log.add(self.day, ids, kind, campaign, None, cause, channel)

    def followed(self, ids: np.ndarray) -> np.ndarray:
        """Whether the event log follows each person one event at a time.

        It follows the party-scale stratum (party members, former members, the recruitment
        pool, the officers: everybody without a stratum) and anyone it has already written about
        (`Flag.RECORDED`: the denounced, the arrested, the released ...). The others are
        ordinary citizens with no record, whose natural deaths are counted, not logged
        (`natural_deaths`).
        """
        ids = np.asarray(ids, dtype=np.int64)
        return self._followed(ids, self.network.region(ids))

    def _followed(self, ids: np.ndarray, region: np.ndarray) -> np.ndarray:
        if self.party_stratum is None:
            return np.ones(len(ids), dtype=bool)
        in_stratum = ids < self.network.layout.part_start[region]
        return in_stratum | ((self.people.flags[ids] & Flag.RECORDED) > 0)

    def natural_deaths(self, ids: np.ndarray) -> None:
        """Move people who died of natural causes to DEAD: logged if followed, else counted.

        A followed person's death is a DIED event; an ordinary citizen's is added to
        `citizen_deaths` (agents) and `citizen_death_persons` by day, region and origin. At one
        agent per person these deaths were 11 of the run's 27 million events, and no analysis
        reads them one by one; the daily counts by status hold every death either way.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        people, layout = self.people, self.network.layout
        followed = kernels.die(
            ids,
            int(Status.DEAD),
            people.status,
            people.fate,
            people.origin,
            people.weight.edges,
            people.weight.values,
            people.flags,
            int(Flag.RECORDED),
            layout.start,
            layout.part_start,
            self.party_stratum is None,
            self.counts,
            self.persons,
            self.citizen_deaths[self.day],
            self.citizen_death_persons[self.day],
        )
        self.log.add(self.day, ids[followed], EventKind.DIED)

    def log_custody_at_start(self) -> None:
        """Log who is in custody on the first day after a spin-up (`RunInfo.spin_up_days`).

        The spin-up's events are dropped from the results, so the people it left in custody
        are written down again on the scenario's first day, as the camps' first-day prisoners
        are: the political prisoners still in the camps (those of the camps' own first day and
        those the spin-up sentenced) as `IN_CAMP_AT_START`, the people under investigation as
        `IN_CUSTODY_AT_START`.
        """
        columns = self.log.columns()
        kind, person = columns["kind"], columns["person"]
        political = person[
            (kind == int(EventKind.IN_CAMP_AT_START)) | (kind == int(EventKind.SENTENCED_CAMP))
        ]
        political = np.unique(political)
        in_camp = political[self.people.fate[political] == Fate.CAMP]
        self.log.add(self.day, in_camp, EventKind.IN_CAMP_AT_START)
        held = np.unique(person[kind == int(EventKind.ARRESTED)])
        held = held[self.people.fate[held] == Fate.ARRESTED]
        self.log.add(self.day, held, EventKind.IN_CUSTODY_AT_START)

    def in_party(self, ids: np.ndarray) -> np.ndarray:
        """Whether each person is a candidate or a full member today."""
        status = self.people.status[ids]
        return (status == Status.CANDIDATE) | (status == Status.MEMBER)

    def party_size(self) -> int:
        """Candidates and members today (agents)."""
        return int(self.counts[Status.CANDIDATE].sum() + self.counts[Status.MEMBER].sum())

    def acts(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Positions in `ids` of the acts (denouncing, naming, exposing), one per person-scale act.

        An agent standing for w people acts w / lightest times (stochastic rounding), so that
        acts are counted in persons whatever the agents' weights; pair it with `reach`. Returns
        indexes into `ids` (repeated), so that callers can carry other columns along.
        """
        ids = np.asarray(ids, dtype=np.int64)
        times = self.people.weight[ids].astype(np.float64) / self.lightest
        whole = np.floor(times)
        times = (whole + (rng.random(len(ids)) < times - whole)).astype(np.int64)
        return np.repeat(np.arange(len(ids)), times)

    def stand_ins(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Whose contacts each act uses: the agent's own, or those of a stand-in.

        The people an agent of weight w stands for live in different households and work in
        different workplaces; at one agent per person their acts would reach w different sets
        of contacts. So an act of such an agent uses its own contacts with probability
        lightest / w, else those of a random agent of the same region and stratum (its stand-in).
        """
        ids = np.asarray(ids, dtype=np.int64)
        own = rng.random(len(ids)) < self.lightest / self.people.weight[ids].astype(np.float64)
        if own.all():
            return ids
        layout = self.network.layout
        others = ids[~own]
        region = self.network.region(others)
        split = layout.part_start[region]
        in_stratum = others < split
        first = np.where(in_stratum, layout.start[region], split)
        last = np.where(in_stratum, split, layout.start[region + 1])
        result = ids.copy()
        result[~own] = first + (rng.random(len(others)) * (last - first)).astype(np.int64)
        return result

    def reach(self, target: np.ndarray) -> np.ndarray:
        """Chance that an act aimed at each `target` agent lands (lightest / its weight).

        An agent standing for w people stands for all of them when arrested, so an act (one
        person's denunciation or testimony, see `acts`) takes it with probability
        lightest / w: on average one lightest agent's worth of persons per act.
        """
        return self.lightest / self.people.weight[target].astype(np.float64)

    def region_ids(self, region: int) -> tuple[int, int]:
        """First and one-past-last id of a region."""
        start = self.network.layout.start
        return int(start[region]), int(start[region + 1])

    def free(self, ids: np.ndarray) -> np.ndarray:
        """Whether each person is alive and at liberty today."""
        people = self.people
        return kernels.at_liberty(
            np.asarray(ids, dtype=np.int64),
            people.fate,
            people.status,
            int(Fate.FREE),
            int(Status.DEAD),
        )

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
        alias: tuple[np.ndarray, np.ndarray] | None = None,
        pure: bool = False,
    ) -> np.ndarray:
        """K distinct people drawn uniformly among those `accept` admits (rejection sampling).

        The work grows with k and with the rarity of acceptable people, not with the population.
        `accept(ids, rng)` returns a boolean mask. Fewer than k come back only when acceptable
        people are too rare to be found within `max_draws` draws (default: 200,000 plus 2,000
        per person wanted), or none is found in the first
        `give_up` draws (the acceptable have run out). `id_range` restricts the
        draw to ids in [low, high) (a region), `among` to the given ids (a stratum).
        `alias` (`kernels.alias_table` of one weight per id, from id 0) draws each id in
        proportion to its weight instead of uniformly: the law of a uniform draw accepted with
        probability weight / largest weight, without drawing the rejected.
        `pure` says that `accept` draws no random numbers and judges each id alone: it is then
        asked about each batch of draws a part at a time, until k are found. The same people
        come back, with less work where most draws are acceptable (a batch holds about 2.4
        times the people wanted at first; the natural deaths at full scale).
        A batch whose acceptable draws were all people already chosen doubles the next batch
        (the acceptable are fewer than k, e.g. a recruitment pool nearly run dry): the search
        reaches `max_draws` in a few batches instead of thousands of small ones.
        """
        chosen: list[np.ndarray] = []
        found = drawn_total = accepted_total = 0
        fruitless = 0  # batches in a row whose acceptable draws were all people already chosen
        low, high = id_range if id_range is not None else (0, len(self.people))
        if alias is not None:
            if among is not None or id_range is not None:
                raise ValueError("weighted draws (alias) are over every id from 0")
            high = len(alias[0])
        if k <= 0 or (len(among) == 0 if among is not None else high <= low):
            return np.empty(0, dtype=np.int64)
        if max_draws is None:
            max_draws = 200_000 + 2_000 * k
        while found < k and drawn_total < max_draws:
            rate = (accepted_total + 1) / (drawn_total + 2)
            size = int(min(1 << 16, ((k - found) / rate * 1.2 + 16) * (1 << min(fruitless, 16))))
            if alias is not None:
                drawn = rng.integers(0, high, size=size)
                drawn = np.where(rng.random(size) < alias[0][drawn], drawn, alias[1][drawn])
            elif among is None:
                drawn = rng.integers(low, high, size=size)
            else:
                drawn = among[rng.integers(0, len(among), size=size)]
            drawn_total += size
            taken = np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)
            if pure:
                batch, accepted = _first_accepted(
                    drawn, lambda ids: accept(ids, rng), k - found, taken
                )
            else:
                batch = drawn[accept(drawn, rng)]
                accepted = len(batch)
                batch = kernels.first_new(batch.astype(np.int64, copy=False), taken)[: k - found]
            # `accepted` counts the whole batch unless k are found, when it is no longer read
            accepted_total += accepted
            if accepted_total == 0 and drawn_total >= give_up:
                break
            fruitless = fruitless + 1 if accepted and len(batch) == 0 else 0
            chosen.append(batch)
            found += len(batch)
        return np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)


def _first_accepted(
    drawn: np.ndarray,
    accept: Callable[[np.ndarray], np.ndarray],
    wanted: int,
    taken: np.ndarray,
) -> tuple[np.ndarray, int]:
    """The first `wanted` distinct accepted draws not in `taken`, judged a part at a time.

    Returns them and the number of draws accepted among those judged: all of them unless
    `wanted` were found first. The same people as judging every draw at once and keeping the
    first `wanted`, for an `accept` that judges each id alone.
    """
    found: list[np.ndarray] = []
    seen, accepted, got, start = taken, 0, 0, 0
    part = wanted + wanted // 8 + 16
    while start < len(drawn) and got < wanted:
        ids = drawn[start : start + part].astype(np.int64, copy=False)
        start += part
        ok = ids[accept(ids)]
        accepted += len(ok)
        fresh = kernels.first_new(ok, seen)
        found.append(fresh)
        got += len(fresh)
        seen = np.concatenate([seen, fresh])
        part *= 2
    if not found:
        return np.empty(0, dtype=np.int64), accepted
    return np.concatenate(found)[:wanted], accepted
