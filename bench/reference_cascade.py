"""The reference purge cascade of bench/DECLARATION.md, built on chistka's engine.

A model small enough to implement twice (here and in Mesa, bench/peers/mesa_cascade.py) so
that the two can be compared for equal results and for speed: household cliques and a random
contact layer, 100 initial accused, each newly arrested person names each free contact with a
fixed probability (the forced naming of "accomplices" under interrogation, DESIGN.md section 3),
the named are arrested from the next day within a daily capacity (the NKVD's limited apparatus),
and every 30 days a purge review expels a share of the party members, who then join the queue
(after Kirov's murder expulsion came to mean arrest).

It runs on the engine's own parts: people as a struct of arrays, the implicit household layer of
`Network`, `SimState` transitions and event log, one random stream per mechanism and the day loop
`run_days`. The contact layer is counter-based (contacts of a person are a pure function of the
seed and the id), so the work per day follows the newly arrested, not the population.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from chistka import kernels
from chistka.engine import run_days
from chistka.network import Network
from chistka.people import Fate, Leadership, PartyDensity, Status, empty_people
from chistka.rng import normalise_seed, salt_key, stream
from chistka.scenario import Scenario
from chistka.scenario.base import StrictModel, param
from chistka.scenario.terror import CHANNELS
from chistka.state import EventKind, SimState

START = dt.date(1937, 1, 1)
"""Nominal first day (only used for dates in the event log)."""

CONTACT_SALT = 0xC0C7AC75
NAMING_SALT = 0x7A3E0000


class CascadeParams(StrictModel):
    """Parameters of the reference cascade (defaults: bench/DECLARATION.md)."""

    people: int = param(100_000, "population", unit="persons", ge=10, le=2_000_000_000)
    household_size: int = param(4, "people per household clique", unit="persons", ge=1, le=20)
    contacts: int = param(
        10, "contact slots per person (uniform over the others)", unit="persons", ge=0, le=100
    )
    members: int = param(1_000, "party members, drawn at the start", unit="persons", ge=0)
    initial_accused: int = param(100, "arrested on day 0", unit="persons", ge=1)
    naming_probability: float = param(
        0.08, "chance that an arrested person names a given free contact", ge=0, le=1
    )
    capacity_per_day: int = param(100, "arrests per day from the queue", unit="persons", ge=0)
    review_every_days: int = param(30, "days between purge reviews", unit="days", ge=1)
    review_expel_share: float = param(
        0.1, "chance that a review expels a free member", unit="fraction", ge=0, le=1
    )
    days: int = param(365, "days simulated", unit="days", ge=1, le=36_500)


@dataclass
class CascadeRun:
    """Outcome of one run: daily counts and the time split."""

    arrested: np.ndarray  # cumulative arrests at the end of each day
    expelled: np.ndarray  # cumulative expulsions at the end of each day
    queue: np.ndarray  # people waiting for arrest at the end of each day
    synthesis_seconds: float
    day_loop_seconds: float

    @property
    def final_arrests(self) -> int:
        """Arrests by the end of the last day."""
        return int(self.arrested[-1])


class ArrestQueue:
    """The named and the expelled wait in a first-in first-out queue; `capacity_per_day` a day.

    On day 0 the initial accused are arrested. Whoever is arrested names accomplices the same
    day (`kernels.name_contacts`); the day's named join the end of the queue in a random order.
    """

    name = "cascade.arrests"

    def __init__(self, state: SimState, params: CascadeParams) -> None:
        """Draw the initial accused."""
        self.rng = stream(state.seed, self.name)
        self.params = params
        self.queue: deque[np.ndarray] = deque()
        self.waiting = 0
        self.initial = state.sample_people(
            self.rng, params.initial_accused, lambda ids, rng: np.ones(len(ids), dtype=bool)
        )
        self.contact_key = salt_key(state.seed, CONTACT_SALT)
        self.history: list[tuple[int, int]] = []  # (arrested so far, waiting) per day

    def enqueue(self, ids: np.ndarray) -> None:
        """Add people at the end of the queue, in a random order."""
        if len(ids):
            self.queue.append(ids[self.rng.permutation(len(ids))])
            self.waiting += len(ids)

    def take(self, k: int) -> np.ndarray:
        """The first k of the queue (fewer if it is shorter)."""
        taken: list[np.ndarray] = []
        while k > 0 and self.queue:
            head = self.queue.popleft()
            if len(head) > k:
                self.queue.appendleft(head[k:])
                head = head[:k]
            taken.append(head)
            k -= len(head)
        ids = np.concatenate(taken) if taken else np.empty(0, dtype=np.int64)
        self.waiting -= len(ids)
        return ids

    def step(self, state: SimState) -> None:
        """Arrest today's people and let them name their accomplices."""
        params, people = self.params, state.people
        if state.day == 0:
            arrested, channel = self.initial, CHANNELS.index("denunciation")
        else:
            arrested, channel = self.take(params.capacity_per_day), CHANNELS.index("testimony")
        state.transition_fate(arrested, Fate.ARRESTED, EventKind.ARRESTED, channel=channel)
        named = kernels.name_contacts(
            arrested,
            len(people),
            state.network.params.household_size,
            params.contacts,
            self.contact_key,
            salt_key(state.seed, NAMING_SALT + state.day),
            params.naming_probability,
            people.fate,
            people.named,
            people.denounced,
        )
        state.log.add(state.day, named, EventKind.NAMED, channel=CHANNELS.index("testimony"))
        self.enqueue(named)


class MemberReview:
    """Every `review_every_days` days each free party member is expelled with a fixed chance.

    The expelled who are not yet waiting join the arrest queue.
    """

    name = "cascade.review"

    def __init__(self, state: SimState, params: CascadeParams, queue: ArrestQueue) -> None:
        """Draw the party members."""
        self.rng = stream(state.seed, self.name)
        self.params = params
        self.arrests = queue
        self.members = state.sample_people(
            self.rng, params.members, lambda ids, rng: np.ones(len(ids), dtype=bool)
        )
        state.transition(self.members, Status.MEMBER, EventKind.ADMITTED)
        self.expelled = 0

    def step(self, state: SimState) -> None:
        """Review the members on the last day of each period."""
        if (state.day + 1) % self.params.review_every_days:
            return
        people = state.people
        members = self.members
        sitting = members[(people.status[members] == Status.MEMBER) & state.free(members)]
        expelled = sitting[self.rng.random(len(sitting)) < self.params.review_expel_share]
        state.transition(expelled, Status.EXPELLED, EventKind.EXPELLED)
        self.expelled += len(expelled)
        waiting = expelled[(people.named[expelled] == 0) & (people.denounced[expelled] == 0)]
        people.denounced[waiting] = 1
        self.arrests.enqueue(waiting)


class Tally:
    """Records the cumulative arrests, review expulsions and the queue at the end of each day."""

    name = "cascade.tally"

    def __init__(self, queue: ArrestQueue, review: MemberReview) -> None:
        """Keep the queue and the review to read their totals."""
        self.arrests = queue
        self.review = review
        self.rows: list[tuple[int, int, int]] = []

    def step(self, state: SimState) -> None:
        """Append today's row."""
        arrested = int(state.counts[:, Fate.ARRESTED].sum())
        self.rows.append((arrested, self.review.expelled, self.arrests.waiting))


def build(params: CascadeParams, seed: int) -> tuple[SimState, list]:
    """The population (one region, weight 1) and the three mechanisms."""
    scenario = Scenario.model_validate(
        {
            "scenario": {
                "name": "reference-cascade",
                "start": START,
                "end": START + dt.timedelta(days=params.days - 1),
                "seed": seed,
            },
            "population": {"size": params.people, "scale": 1.0},
            "network": {"household_size": params.household_size, "friends": 0},
        }
    )
    n = params.people
    network = Network(np.array([n]), scenario.network, seed)
    people = empty_people(n)
    none = np.empty(0, dtype=np.int64)
    state = SimState(
        scenario=scenario,
        start=START,
        n_days=params.days,
        seed=seed,
        scale=1.0,
        people=people,
        network=network,
        leadership=Leadership(cell=none, district=none, region=none, central=none),
        party_density=PartyDensity(scenario.population.party_density_shape, seed),
    )
    queue = ArrestQueue(state, params)
    review = MemberReview(state, params, queue)
    return state, [queue, review, Tally(queue, review)]


def run_cascade(params: CascadeParams, seed: int = 1) -> CascadeRun:
    """Run the reference cascade once."""
    seed = normalise_seed(seed)
    started = time.perf_counter()
    state, mechanisms = build(params, seed)
    built = time.perf_counter()
    run_days(state, mechanisms)
    finished = time.perf_counter()
    rows = np.array(mechanisms[-1].rows, dtype=np.int64).reshape(-1, 3)
    return CascadeRun(
        arrested=rows[:, 0],
        expelled=rows[:, 1],
        queue=rows[:, 2],
        synthesis_seconds=built - started,
        day_loop_seconds=finished - built,
    )
