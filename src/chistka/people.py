"""People as a struct of numpy arrays, and the synthesis of the initial population.

One array per attribute, narrow integer types, so that a population of tens of millions fits in
memory and a step can work on the few people it touches by index.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import IntEnum

import numpy as np

from chistka import kernels
from chistka.network import Network
from chistka.rng import hash_uniform, salt_key, stream
from chistka.scenario.schema import COHORTS, ORIGINS, Scenario


class Status(IntEnum):
    """Party status: every person is in exactly one of these on every day."""

    NONPARTY = 0
    CANDIDATE = 1
    MEMBER = 2
    EXPELLED = 3
    LEFT = 4
    DEAD = 5


class Fate(IntEnum):
    """What the repression has done to a person: every person is in exactly one of these."""

    FREE = 0
    ARRESTED = 1  # in custody, under investigation
    CAMP = 2  # serving a camp sentence
    SHOT = 3  # executed (absorbing)
    DIED = 4  # died in custody or in a camp (absorbing)


class Role(IntEnum):
    """Institution a person serves in."""

    CIVILIAN = 0
    OFFICER = 1  # Red Army command and political staff
    NKVD = 2  # state security officer


class Elite(IntEnum):
    """Bit flags for membership of the elite bodies of 1934."""

    CENTRAL_COMMITTEE = 1
    CONGRESS_DELEGATE = 2


class Flag(IntEnum):
    """Bit flags of a person's history."""

    DISMISSED = 1  # dismissed from the army
    SHOW_TRIAL = 2  # chosen as a show-trial defendant (kept: nobody is chosen twice)
    AWAITING_TRIAL = 4  # a show-trial defendant before the verdict (ordinary courts wait)
    RECORDED = 8  # has an event in the log (set by `state.EventLog`; see `SimState.followed`)


class RankTier(IntEnum):
    """Rank in the party hierarchy (patronage runs from each tier to the one above)."""

    RANK_AND_FILE = 0
    CELL_SECRETARY = 1
    DISTRICT = 2
    REGIONAL = 3
    CENTRAL = 4


@dataclass(frozen=True, eq=False)
class RangeConstant:
    """A per-person attribute constant on each of consecutive id ranges: derived, not stored.

    A person's region and weight follow from the id: each region is a block of consecutive ids,
    its party-scale stratum first (`Network.layout`), and everybody in a part weighs the same.
    `People` therefore holds them as a value per range, not a value per person (6 bytes an
    agent: 0.9 GiB of the 4.3 GiB a run of 162 million agents took at its peak).

    Indexing with an id, an array of ids (or a boolean mask) or a slice gives what the stored
    array gave: the same values, of `dtype`. It is read-only; `np.asarray` builds the whole
    array (for tests and small populations). Compiled kernels take `edges` and `values` and
    look a person up with `kernels.ranged`.
    """

    edges: np.ndarray  # int64: the first id of each range, and the number of people at the end
    values: np.ndarray  # the value on each range (a range may be empty)

    @classmethod
    def constant(cls, n: int, value: float, dtype: type) -> RangeConstant:
        """The same value for all of `n` people."""
        return cls(np.array([0, n], dtype=np.int64), np.array([value], dtype=dtype))

    @property
    def dtype(self) -> np.dtype:
        """The type of the values (that of the array it replaces)."""
        return self.values.dtype

    def __len__(self) -> int:
        """Number of people."""
        return int(self.edges[-1])

    def __getitem__(self, ids: np.ndarray | slice | int) -> np.ndarray:
        """The value of each id (of an id alone: a numpy scalar)."""
        if isinstance(ids, slice):
            ids = np.arange(*ids.indices(len(self)))
        elif isinstance(ids, np.ndarray) and ids.dtype == bool:
            ids = np.flatnonzero(ids)
        return self.values[np.searchsorted(self.edges, ids, side="right") - 1]

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        """Every person's value, as the stored array was."""
        whole = np.repeat(self.values, np.diff(self.edges))
        return whole if dtype is None else whole.astype(dtype)


def regions_of(network: Network) -> RangeConstant:
    """Each person's region (int16): the regions are consecutive blocks of ids."""
    start = network.layout.start
    return RangeConstant(start.astype(np.int64), np.arange(len(start) - 1, dtype=np.int16))


def weights_of(network: Network, stratum_weight: float, weight: float) -> RangeConstant:
    """Persons per agent (float32): `stratum_weight` in each region's party-scale stratum.

    The stratum is the first ids of each region, up to its `part_start` (empty without a
    stratum); everybody else weighs `weight`.
    """
    layout = network.layout
    n_regions = len(layout.start) - 1
    edges = np.empty(2 * n_regions + 1, dtype=np.int64)
    edges[0:-1:2] = layout.start[:-1]
    edges[1::2] = layout.part_start
    edges[-1] = layout.start[-1]
    values = np.tile(np.array([stratum_weight, weight], dtype=np.float32), n_regions)
    return RangeConstant(edges, values)


@dataclass
class People:
    """Attributes of every agent, one numpy array each (index = person id).

    Region and weight are not stored but derived from the id (`RangeConstant`): they never
    change during a run and are constant on blocks of ids. They are read like the arrays
    (`people.weight[ids]`), but not written.
    """

    status: np.ndarray  # int8, Status
    origin: np.ndarray  # int8, index into ORIGINS
    opposition: np.ndarray  # bool, past in an opposition group
    hostile: np.ndarray  # bool, the hidden type the regime would call hostile
    misconduct: np.ndarray  # float16, observable signal (standardised)
    passivity: np.ndarray  # float16, observable signal (standardised)
    cohort: np.ndarray  # int8, index into COHORTS, -1 if never admitted
    join_day: np.ndarray  # int16, day of admission, -1 if never admitted
    rank: np.ndarray  # int8, RankTier
    region: RangeConstant  # int16, derived: the block of ids holding the person
    weight: RangeConstant  # float32, represented persons per agent, derived: by stratum
    fate: np.ndarray  # int8, Fate
    category: np.ndarray  # int8, index into CATEGORIES, -1 if not registered
    diaspora: np.ndarray  # int8, index into DIASPORAS, -1 if none
    role: np.ndarray  # int8, Role
    elite: np.ndarray  # uint8, Elite bit flags
    flags: np.ndarray  # uint8, Flag bit flags
    denounced: np.ndarray  # uint8, denunciations received (saturating)
    named: np.ndarray  # uint8, times named under interrogation (saturating)
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    """Arrays added by the mechanisms a run uses (`Mechanism.attributes`), by name."""

    def __len__(self) -> int:
        """Number of agents."""
        return len(self.status)

    def arrays(self) -> list[np.ndarray]:
        """The stored per-person arrays (not the derived region and weight), the extra ones too."""
        stored = [getattr(self, f.name) for f in fields(self) if f.name != "extra"]
        return [a for a in [*stored, *self.extra.values()] if isinstance(a, np.ndarray)]

    def nbytes(self) -> int:
        """Memory used by the per-person arrays (the derived ones take a few bytes a region)."""
        return sum(a.nbytes for a in self.arrays())


@dataclass
class Leadership:
    """Who heads each workplace cell, district and region (-1 where nobody)."""

    cell: np.ndarray  # per workplace
    district: np.ndarray  # per district
    region: np.ndarray  # per region
    central: np.ndarray  # the central tier (patrons of the regional heads)


@dataclass(frozen=True)
class PartyDensity:
    """Relative party density of workplaces (mean 1, Gamma-distributed, capped at 4).

    Party cells were concentrated in factories and offices and thin in villages; the spread is a
    model assumption controlled by `population.party_density_shape`. A workplace's density is a
    pure function of (seed, workplace), computed when asked for: only the workplaces of people
    who join the party are ever looked at.
    """

    shape: float
    seed: int

    def __call__(self, workplaces: np.ndarray) -> np.ndarray:
        """The density of each workplace."""
        from scipy.special import gammaincinv  # local: heavy import, rarely needed

        u = hash_uniform(self.seed, 0x5EED, np.asarray(workplaces, dtype=np.int64))
        density = gammaincinv(self.shape, np.clip(u, 1e-12, 1 - 1e-12)) / self.shape
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


def empty_people(
    n: int, region: RangeConstant | None = None, weight: RangeConstant | None = None
) -> People:
    """N agents outside the party, free, with no attributes, of the given regions and weights.

    Without `region` everybody is in region 0; without `weight` everybody weighs 1.
    """
    return People(
        status=np.zeros(n, dtype=np.int8),
        origin=np.zeros(n, dtype=np.int8),
        opposition=np.zeros(n, dtype=bool),
        hostile=np.zeros(n, dtype=bool),
        misconduct=np.zeros(n, dtype=np.float16),
        passivity=np.zeros(n, dtype=np.float16),
        cohort=np.full(n, -1, dtype=np.int8),
        join_day=np.full(n, -1, dtype=np.int16),
        rank=np.zeros(n, dtype=np.int8),
        region=RangeConstant.constant(n, 0, np.int16) if region is None else region,
        weight=RangeConstant.constant(n, 1.0, np.float32) if weight is None else weight,
        fate=np.zeros(n, dtype=np.int8),
        category=np.full(n, -1, dtype=np.int8),
        diaspora=np.full(n, -1, dtype=np.int8),
        role=np.zeros(n, dtype=np.int8),
        elite=np.zeros(n, dtype=np.uint8),
        flags=np.zeros(n, dtype=np.uint8),
        denounced=np.zeros(n, dtype=np.uint8),
        named=np.zeros(n, dtype=np.uint8),
    )


def _initial_cohorts(scenario: Scenario, rng: np.random.Generator, k: int) -> np.ndarray:
    shares = scenario.population.party.cohort.model_dump()
    cohorts = np.array([COHORTS.index(c) for c in shares], dtype=np.int8)
    return rng.choice(cohorts, size=k, p=list(shares.values()))


def _cdf(shares: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(np.asarray(shares, dtype=np.float64))
    cdf[-1] = 1.0
    return cdf


def stratum_ranges(network: Network, stratum: np.ndarray | None) -> np.ndarray:
    """The [start, stop) id ranges of the party-scale stratum (everybody when `stratum` is None).

    The stratum occupies the first `stratum[r]` ids of each region r.
    """
    starts = network.layout.start[:-1]
    if stratum is None:
        return np.array([[0, network.size]], dtype=np.int64)
    return np.stack([starts, starts + np.asarray(stratum, dtype=np.int64)], axis=1)


def ids_in(ranges: np.ndarray) -> np.ndarray:
    """All ids of a set of [start, stop) ranges, in order."""
    return np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in ranges])


SALTS = {
    "origin": 0x0E16,
    "category": 0xCA7E,
    "diaspora": 0xD1A5,
    "hostile": 0x4057,
    "misconduct": 0x3150,
    "misconduct.angle": 0x3151,
    "passivity": 0xA551,
    "passivity.angle": 0xA552,
}
"""Salts of the counter-based draws of each attribute (see chistka.kernels)."""


def synthesise(
    scenario: Scenario,
    network: Network,
    rng: np.random.Generator,
    seed: int,
    stratum: np.ndarray | None = None,
) -> tuple[People, Leadership, PartyDensity]:
    """Build the population on the first day of the run.

    Attributes of everybody (origin, registered category, diaspora, hidden type) are drawn by
    compiled counter-based passes (`chistka.kernels`); the party, the former members, the
    recruitment pool and the officers are then drawn within the party-scale stratum, so that the
    work beyond those passes grows with the stratum, not with the population.

    Args:
        scenario: the scenario.
        network: the network laid out for the population.
        rng: the population's random stream.
        seed: the run seed (for hashing).
        stratum: agents per region kept at party scale (at the start of each region's id
            range); None when everybody is at the same scale.

    Returns the people, the leadership of each unit and the party density of each workplace.
    """
    pop = scenario.population
    n = network.size
    party_scale = pop.party_scale or pop.scale
    weight = weights_of(network, 1.0 / party_scale, 1.0 / pop.scale)
    people = empty_people(n, regions_of(network), weight)
    density = PartyDensity(pop.party_density_shape, seed)
    everyone = stratum_ranges(network, None)
    ranges = stratum_ranges(network, stratum)
    kernels.fill_categorical(
        everyone, salt_key(seed, SALTS["origin"]), _cdf(pop.origin.as_array()), -1, people.origin
    )

    if stratum is None:
        party_ids = []
        target = pop.party.total * pop.scale
        for o, share in enumerate(pop.party.origin.as_array()):
            pool = np.flatnonzero(people.origin == o)
            count = int(round(target * share))
            weights = density(network.workplace(pool))
            party_ids.append(_weighted_sample(rng, pool, weights, count))
        party = np.sort(np.concatenate(party_ids))
        stratum_ids = np.arange(n)
        expelled = np.empty(0, dtype=np.int64)
    else:
        stratum_ids = ids_in(ranges)
        shuffled = rng.permutation(stratum_ids)
        n_party = int(round(pop.party.total * party_scale))
        n_expelled = int(round(pop.expelled_before * party_scale))
        party = np.sort(shuffled[:n_party])
        expelled = np.sort(shuffled[n_party : n_party + n_expelled])
        former = np.concatenate([party, expelled])
        people.origin[former] = rng.choice(
            len(ORIGINS), size=len(former), p=pop.party.origin.as_array()
        )
        pool = shuffled[n_party + n_expelled :]
        people.origin[pool] = rng.choice(
            len(ORIGINS), size=len(pool), p=scenario.admissions.origin_preference.as_array()
        )
    k = len(party)
    people.cohort[party] = _initial_cohorts(scenario, rng, k)
    people.join_day[party] = 0
    is_candidate = rng.random(k) < pop.party.candidate_share
    people.status[party] = np.where(is_candidate, Status.CANDIDATE, Status.MEMBER)
    people.opposition[party] = rng.random(k) < pop.party.opposition_share
    beyond = stream(seed, "population.beyond_party")
    if len(expelled):
        people.status[expelled] = Status.EXPELLED
        people.cohort[expelled] = _initial_cohorts(scenario, beyond, len(expelled))
        people.join_day[expelled] = 0
        people.opposition[expelled] = beyond.random(len(expelled)) < min(
            1.0, 3 * pop.party.opposition_share
        )
    draw_hidden(people, scenario, seed, everyone, stratum_ids)

    leadership = appoint_leaders(people, network, party, network.workplace(party), seed)
    assign_beyond_party(people, scenario, beyond, seed, stratum_ids, party_scale)
    place_elite(people, leadership, scenario, seed, stratum_ids)
    return people, leadership, density


def draw_hidden(
    people: People, scenario: Scenario, seed: int, ranges: np.ndarray, stratum_ids: np.ndarray
) -> None:
    """The hidden type of everybody, and the review signals of the party-scale stratum.

    The signals (misconduct, passivity: standard normals shifted by `hostile_signal` for the
    hostile) are only read by purge reviews, so beyond the stratum they are left at zero.
    """
    pop = scenario.population
    kernels.fill_hostile(
        ranges,
        salt_key(seed, SALTS["hostile"]),
        ORIGINS.index("alien"),
        pop.hostile_share,
        pop.hostile_share_compromised,
        people.origin,
        people.opposition,
        people.hostile,
    )
    shift = pop.hostile_signal * people.hostile[stratum_ids]
    for name, out in (("misconduct", people.misconduct), ("passivity", people.passivity)):
        radius = np.sqrt(-2.0 * np.log1p(-hash_uniform(seed, SALTS[name], stratum_ids)))
        angle = 2.0 * np.pi * hash_uniform(seed, SALTS[f"{name}.angle"], stratum_ids)
        out[stratum_ids] = radius * np.cos(angle) + shift


def assign_beyond_party(
    people: People,
    scenario: Scenario,
    rng: np.random.Generator,
    seed: int,
    stratum_ids: np.ndarray,
    party_scale: float,
) -> None:
    """Registered categories, diasporas, army officers and NKVD officers.

    Categories and diasporas are counter-based draws for everybody (categories are then
    cleared for party members); officers are drawn from the party stratum with the stream
    `rng`, a share of them among party members.
    """
    pop = scenario.population
    everyone = np.array([[0, len(people)]], dtype=np.int64)
    for name, shares, out in (
        ("category", np.array(list(pop.categories.model_dump().values())), people.category),
        ("diaspora", np.array(list(pop.diasporas.model_dump().values())), people.diaspora),
    ):
        if shares.sum() > 0:
            cdf = _cdf(np.r_[shares, 1 - shares.sum()])
            kernels.fill_categorical(everyone, salt_key(seed, SALTS[name]), cdf, len(shares), out)
    status = people.status[stratum_ids]
    people.category[stratum_ids[(status == Status.MEMBER) | (status == Status.CANDIDATE)]] = -1
    for role, persons in ((Role.OFFICER, pop.army_officers), (Role.NKVD, pop.nkvd_officers)):
        count = int(round(persons * party_scale))
        if count == 0:
            continue
        civilians = stratum_ids[people.role[stratum_ids] == Role.CIVILIAN]
        status = people.status[civilians]
        members = civilians[status == Status.MEMBER]
        others = civilians[status == Status.NONPARTY]
        from_party = min(len(members), int(round(count * pop.officer_party_share)))
        chosen = np.concatenate(
            [
                rng.choice(members, size=from_party, replace=False),
                rng.choice(others, size=min(len(others), count - from_party), replace=False),
            ]
        )
        people.role[chosen] = role
        people.category[chosen] = -1


def place_elite(
    people: People, leadership: Leadership, scenario: Scenario, seed: int, stratum_ids: np.ndarray
) -> None:
    """The 1934 Central Committee and 17th Congress delegates at the top of the rank tiers.

    The Central Committee is made of the regional heads and, to make up its size, the most
    senior other members, who form the central tier; the congress delegates are the Central
    Committee and the most senior district and cell secretaries (records.csv cc17_size,
    congress17_delegates).
    """
    elite = scenario.population.elite
    if elite.central_committee == 0 and elite.congress_delegates == 0:
        return
    full = stratum_ids[people.status[stratum_ids] == Status.MEMBER]
    seniority = np.lexsort(
        (hash_uniform(seed, 0xE117E, full), people.cohort[full], -people.rank[full])
    )
    by_seniority = full[seniority]
    regional = by_seniority[people.rank[by_seniority] == RankTier.REGIONAL]
    cc = regional[: elite.central_committee]
    if len(cc) < elite.central_committee:
        others = by_seniority[people.rank[by_seniority] < RankTier.REGIONAL]
        central = others[: elite.central_committee - len(cc)]
        people.rank[central] = RankTier.CENTRAL
        cc = np.concatenate([cc, central])
    people.elite[cc] |= np.uint8(Elite.CENTRAL_COMMITTEE)
    leadership.central = np.sort(cc[people.rank[cc] == RankTier.CENTRAL])
    rest = by_seniority[(people.elite[by_seniority] & Elite.CENTRAL_COMMITTEE) == 0]
    delegates = np.concatenate([cc, rest[: max(0, elite.congress_delegates - len(cc))]])
    people.elite[delegates] |= np.uint8(Elite.CONGRESS_DELEGATE)


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

    def heads(ids: np.ndarray, units: np.ndarray, n_units: int) -> np.ndarray:
        head = np.full(n_units, -1, dtype=np.int64)
        if len(ids) == 0:
            return head
        order = np.lexsort((hash_uniform(seed, 0x1EAD, ids), people.cohort[ids], units))
        sorted_units = units[order]
        first = np.flatnonzero(np.r_[True, sorted_units[1:] != sorted_units[:-1]])
        head[sorted_units[first]] = ids[order[first]]
        return head

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
    return Leadership(
        cell=cell, district=district, region=region, central=np.empty(0, dtype=np.int64)
    )


def patron(people: People, network: Network, leadership: Leadership, ids: np.ndarray) -> np.ndarray:
    """The patron of each person: the head of the unit one tier above (-1 if none).

    Each tier's head is looked up only for the people of that tier (most are rank and file,
    whose patron is their cell's secretary): the denunciations and the naming of accomplices ask
    for patrons in every act.
    """
    ids = np.asarray(ids, dtype=np.int64)
    rank = people.rank[ids]
    workplace = network.workplace(ids)
    result = np.full(len(ids), -1, dtype=np.int64)
    rank_and_file = rank == RankTier.RANK_AND_FILE
    result[rank_and_file] = leadership.cell[workplace[rank_and_file]]
    secretary = np.flatnonzero(rank == RankTier.CELL_SECRETARY)
    if len(secretary):
        result[secretary] = leadership.district[network.district(workplace[secretary])]
    district = np.flatnonzero(rank == RankTier.DISTRICT)
    if len(district):
        result[district] = leadership.region[people.region[ids[district]]]
    if len(leadership.central):
        regional = np.flatnonzero(rank == RankTier.REGIONAL)
        central = people.region[ids[regional]].astype(np.int64) % len(leadership.central)
        result[regional] = leadership.central[central]
    return np.where(result == ids, -1, result)
