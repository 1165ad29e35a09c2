"""People as a struct of numpy arrays, and the synthesis of the initial population.

One array per attribute, narrow integer types, so that a population of tens of millions fits in
memory and a step can work on the few people it touches by index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np

from chistka.network import Network
from chistka.rng import hash_uniform
from chistka.scenario.schema import COHORTS, ORIGINS, Scenario


class Status(IntEnum):
    """Party status: every person is in exactly one of these on every day."""

    NONPARTY = 0
    CANDIDATE = 1
    MEMBER = 2
    EXPELLED = 3
    LEFT = 4
    DEAD = 5


PARTY_STATUSES = (Status.CANDIDATE, Status.MEMBER)
"""Statuses that count as being in the party."""


class RankTier(IntEnum):
    """Rank in the party hierarchy (patronage runs from each tier to the one above)."""

    RANK_AND_FILE = 0
    CELL_SECRETARY = 1
    DISTRICT = 2
    REGIONAL = 3
    CENTRAL = 4


Origin = IntEnum("Origin", {name.upper(): i for i, name in enumerate(ORIGINS)})  # type: ignore[misc]
Cohort = IntEnum("Cohort", {name.upper(): i for i, name in enumerate(COHORTS)})  # type: ignore[misc]


@dataclass
class People:
    """Attributes of every agent, one numpy array each (index = person id)."""

    status: np.ndarray  # int8, Status
    origin: np.ndarray  # int8, index into ORIGINS
    opposition: np.ndarray  # bool, past in an opposition group
    hostile: np.ndarray  # bool, the hidden type the regime would call hostile
    misconduct: np.ndarray  # float16, observable signal (standardised)
    passivity: np.ndarray  # float16, observable signal (standardised)
    cohort: np.ndarray  # int8, index into COHORTS, -1 if never admitted
    join_day: np.ndarray  # int32, day of admission, -1 if never admitted
    rank: np.ndarray  # int8, RankTier
    region: np.ndarray  # int16

    def __len__(self) -> int:
        """Number of agents."""
        return len(self.status)

    def nbytes(self) -> int:
        """Memory used by the attribute arrays."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))


@dataclass
class Leadership:
    """Who heads each workplace cell, district and region (-1 where nobody)."""

    cell: np.ndarray  # per workplace
    district: np.ndarray  # per district
    region: np.ndarray  # per region


def day_index(date: dt.date, start: dt.date) -> int:
    """Days since the first day of the run."""
    return (date - start).days


def workplace_party_density(network: Network, shape: float, seed: int) -> np.ndarray:
    """Relative party density of each workplace (mean 1, Gamma-distributed, capped at 4).

    Party cells were concentrated in factories and offices and thin in villages; the spread is a
    model assumption controlled by `population.party_density_shape`.
    """
    u = hash_uniform(seed, 0x5EED, np.arange(network.n_workplaces))
    from scipy.special import gammaincinv  # local: only needed at synthesis

    density = gammaincinv(shape, np.clip(u, 1e-12, 1 - 1e-12)) / shape
    return np.minimum(density, 4.0).astype(np.float32)


def _weighted_sample(
    rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, k: int
) -> np.ndarray:
    """K candidates without replacement, with probability proportional to weight (O(n))."""
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k >= len(candidates):
        return candidates.astype(np.int64)
    keys = rng.exponential(size=len(candidates)) / np.maximum(weights, 1e-12)
    return candidates[np.argpartition(keys, k - 1)[:k]].astype(np.int64)


def synthesise(
    scenario: Scenario, network: Network, rng: np.random.Generator, seed: int
) -> tuple[People, Leadership, np.ndarray]:
    """Build the population on the first day of the run.

    Returns the people, the leadership of each unit and the party density of each workplace.
    """
    pop = scenario.population
    n = network.size
    region = network.region(np.arange(n)).astype(np.int16)
    origin = rng.choice(len(ORIGINS), size=n, p=pop.origin.as_array()).astype(np.int8)
    people = People(
        status=np.zeros(n, dtype=np.int8),
        origin=origin,
        opposition=np.zeros(n, dtype=bool),
        hostile=np.zeros(n, dtype=bool),
        misconduct=np.zeros(n, dtype=np.float16),
        passivity=np.zeros(n, dtype=np.float16),
        cohort=np.full(n, -1, dtype=np.int8),
        join_day=np.full(n, -1, dtype=np.int32),
        rank=np.zeros(n, dtype=np.int8),
        region=region,
    )
    density = workplace_party_density(network, pop.party_density_shape, seed)
    workplace_of = network.workplace(np.arange(n))

    party_ids = []
    target = pop.party.total * pop.scale
    for o, share in enumerate(pop.party.origin.as_array()):
        pool = np.flatnonzero(origin == o)
        count = int(round(target * share))
        party_ids.append(_weighted_sample(rng, pool, density[workplace_of[pool]], count))
    party = np.sort(np.concatenate(party_ids))
    k = len(party)
    cohort_shares = pop.party.cohort.model_dump()
    initial_cohorts = np.array([COHORTS.index(c) for c in cohort_shares], dtype=np.int8)
    people.cohort[party] = rng.choice(initial_cohorts, size=k, p=list(cohort_shares.values()))
    people.join_day[party] = 0
    is_candidate = rng.random(k) < pop.party.candidate_share
    people.status[party] = np.where(is_candidate, Status.CANDIDATE, Status.MEMBER)
    people.opposition[party] = rng.random(k) < pop.party.opposition_share

    compromised = (people.origin == ORIGINS.index("alien")) | people.opposition
    hostile_p = np.where(compromised, pop.hostile_share_compromised, pop.hostile_share)
    people.hostile[:] = rng.random(n) < hostile_p
    signal = pop.hostile_signal * people.hostile
    people.misconduct[:] = rng.standard_normal(n) + signal
    people.passivity[:] = rng.standard_normal(n) + signal

    leadership = appoint_leaders(people, network, party, workplace_of[party], seed)
    return people, leadership, density


def appoint_leaders(
    people: People, network: Network, party: np.ndarray, party_workplace: np.ndarray, seed: int
) -> Leadership:
    """Make the most senior full member of each cell its secretary, and so on up the tiers.

    Seniority is the join cohort (earlier is senior), ties broken by a seeded hash. Each district
    committee is headed by the most senior cell secretary of the district, each region by the
    most senior district secretary.
    """
    full = people.status[party] == Status.MEMBER
    ids, units = party[full], party_workplace[full]
    tiebreak = hash_uniform(seed, 0x1EAD, ids)

    def heads(ids: np.ndarray, units: np.ndarray, n_units: int) -> np.ndarray:
        order = np.lexsort((tiebreak_of(ids), people.cohort[ids], units))
        sorted_units = units[order]
        first = np.flatnonzero(np.r_[True, sorted_units[1:] != sorted_units[:-1]])
        head = np.full(n_units, -1, dtype=np.int64)
        head[sorted_units[first]] = ids[order[first]]
        return head

    lookup = dict(zip(ids.tolist(), tiebreak.tolist(), strict=True))

    def tiebreak_of(some: np.ndarray) -> np.ndarray:
        return np.array([lookup[i] for i in some.tolist()], dtype=np.float64)

    cell = heads(ids, units, network.n_workplaces)
    secretaries = cell[cell >= 0]
    people.rank[secretaries] = RankTier.CELL_SECRETARY
    n_districts = int(network.district(np.array([network.n_workplaces - 1]))[0]) + 1
    district = heads(secretaries, network.district(network.workplace(secretaries)), n_districts)
    district_heads = district[district >= 0]
    people.rank[district_heads] = RankTier.DISTRICT
    n_regions = len(network.layout.start) - 1
    region = heads(district_heads, people.region[district_heads].astype(np.int64), n_regions)
    people.rank[region[region >= 0]] = RankTier.REGIONAL
    return Leadership(cell=cell, district=district, region=region)


def patron(people: People, network: Network, leadership: Leadership, ids: np.ndarray) -> np.ndarray:
    """The patron of each person: the head of the unit one tier above (-1 if none)."""
    ids = np.asarray(ids, dtype=np.int64)
    rank = people.rank[ids]
    workplace = network.workplace(ids)
    result = np.full(len(ids), -1, dtype=np.int64)
    result = np.where(rank == RankTier.RANK_AND_FILE, leadership.cell[workplace], result)
    result = np.where(
        rank == RankTier.CELL_SECRETARY, leadership.district[network.district(workplace)], result
    )
    result = np.where(rank == RankTier.DISTRICT, leadership.region[people.region[ids]], result)
    return np.where(result == ids, -1, result)
