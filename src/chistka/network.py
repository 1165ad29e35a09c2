"""The implicit multiplex network: household, workplace (party cell), friendship, patronage.

Nothing here stores an edge list. People of a region occupy a contiguous block of ids; each layer
is a pure function of ids and the seed:

- household: consecutive ids within the region, `household_size` at a time;
- workplace: the region's ids shuffled by an invertible affine map, cut into blocks of
  `workplace_size` (the party members of a workplace form its party cell, the others are the
  non-party audience of its purge meetings);
- friendship: a ring in a second shuffled order, each person linked to `friends` neighbours
  (symmetric, so "i is j's friend" iff "j is i's friend");
- district: `district_workplaces` consecutive workplaces (the span of a district committee);
- patronage: a leader heads each workplace, district and region (see `chistka.people`), and a
  leader's clients are the people of the unit below; this follows Getty's "family circles" of
  regional secretaries (Getty, *Practicing Stalinism*, 2013).

Memory and work therefore grow with the people whose contacts are asked for, not with the
population (DESIGN.md section 2.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from chistka import kernels
from chistka.rng import splitmix64
from chistka.scenario.schema import NetworkParams

LAYERS = ("household", "workplace", "friendship")
"""Layers whose contacts `Network.contacts` returns."""


def _coprime_multiplier(n: int, key: int) -> int:
    """A multiplier in [n/3, 2n/3] coprime with n (so that i -> a*i + b mod n is a bijection)."""
    if n <= 2:
        return 1
    span = max(1, n // 3)
    a = n // 3 + int(splitmix64(np.uint64(key)) % np.uint64(span))
    a = max(a, 1)
    while math.gcd(a, n) != 1:
        a += 1
    return a


@dataclass(frozen=True)
class RegionLayout:
    """Id ranges of the regions, their two parts, and the affine shuffles of each region.

    A region's ids are its party-scale stratum (part 0, first) then its other people (part 1).
    Without a stratum part 0 is empty.
    """

    start: np.ndarray  # first id of each region, plus the total at the end
    part_start: np.ndarray  # first id of part 1 (the people beyond the stratum) of each region
    work_mult: np.ndarray  # [region, part]
    work_inv: np.ndarray
    work_shift: np.ndarray
    friend_mult: np.ndarray  # per region (the friendship ring runs over both parts)
    friend_inv: np.ndarray
    friend_shift: np.ndarray
    workplace_start: np.ndarray  # first global workplace index of each region, plus total


def _affine(n: int, key: int) -> tuple[int, int, int]:
    """Multiplier, its inverse and the shift of a bijective affine shuffle of range(n)."""
    a = _coprime_multiplier(max(n, 1), key)
    return a, pow(a, -1, n) if n > 1 else 0, key % max(n, 1)


class Network:
    """Contacts computed on demand from ids and the seed."""

    def __init__(
        self,
        region_sizes: np.ndarray,
        params: NetworkParams,
        seed: int,
        stratum: np.ndarray | None = None,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> None:
        """Lay out the regions of a population.

        Args:
            region_sizes: number of agents in each region (they occupy consecutive ids).
            params: layer sizes from the scenario.
            seed: the run seed (the shuffles depend on it).
            stratum: agents of the party-scale stratum at the start of each region, or None.
            weights: persons per agent in the stratum and beyond it.

        Without a stratum a workplace is `workplace_size` agents of the shuffled region. With
        one, each region holds one workplace per `workplace_persons` persons, and the stratum and
        the others are each shuffled and shared out evenly among them, so a workplace holds the
        same persons, and its party cell the same members, whatever the scale.
        """
        self.params = params
        self.weights = (float(weights[0]), float(weights[1]))
        sizes = np.asarray(region_sizes, dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        first = np.zeros(len(sizes), dtype=np.int64) if stratum is None else np.asarray(stratum)
        self.by_persons = stratum is not None
        seed_key = splitmix64(np.uint64(seed) ^ np.uint64(0x6E7E_C0DE_5EED_0001))
        keys = [
            int(k)
            for k in splitmix64(
                splitmix64(np.arange(1, 3 * len(sizes) + 1, dtype=np.uint64)) ^ seed_key
            )
        ]
        work = np.zeros((3, len(sizes), 2), dtype=np.int64)  # mult, inv, shift per part
        friend = np.zeros((3, len(sizes)), dtype=np.int64)
        for r, n in enumerate(int(s) for s in sizes):
            parts = (int(first[r]), n - int(first[r]))
            # part 1 uses the region's original key: without a stratum it is the whole region
            for part, key in ((0, keys[2 * len(sizes) + r]), (1, keys[2 * r])):
                work[:, r, part] = _affine(parts[part], key)
            friend[:, r] = _affine(n, keys[2 * r + 1])
        if self.by_persons:
            persons = first * self.weights[0] + (sizes - first) * self.weights[1]
            workplaces = np.maximum(1, np.round(persons / params.workplace_persons))
            workplaces = workplaces.astype(np.int64)
        else:
            workplaces = -(-sizes // params.workplace_size)
        self.layout = RegionLayout(
            start=start,
            part_start=start[:-1] + first,
            work_mult=work[0],
            work_inv=work[1],
            work_shift=work[2],
            friend_mult=friend[0],
            friend_inv=friend[1],
            friend_shift=friend[2],
            workplace_start=np.concatenate([[0], np.cumsum(workplaces)]).astype(np.int64),
        )
        self.size = int(start[-1])
        self.n_workplaces = int(self.layout.workplace_start[-1])

    # --- regions -------------------------------------------------------------------------
    def region(self, ids: np.ndarray) -> np.ndarray:
        """Region index of each id."""
        return np.searchsorted(self.layout.start, np.asarray(ids), side="right") - 1

    def _local(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids = np.asarray(ids, dtype=np.int64)
        r = self.region(ids)
        n = self.layout.start[r + 1] - self.layout.start[r]
        return r, ids - self.layout.start[r], n

    def _part(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Region, part (0: stratum), index within the part and size of the part of each id."""
        ids = np.asarray(ids, dtype=np.int64)
        r = self.region(ids)
        split = self.layout.part_start[r]
        part = (ids >= split).astype(np.int64)
        first = np.where(part == 1, split, self.layout.start[r])
        end = np.where(part == 1, self.layout.start[r + 1], split)
        return r, part, ids - first, end - first

    def _part_ids(self, r: np.ndarray, part: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Ids at shuffled positions `pos` of the parts (inverse of the workplace shuffle)."""
        split = self.layout.part_start[r]
        first = np.where(part == 1, split, self.layout.start[r])
        n = np.where(part == 1, self.layout.start[r + 1], split) - first
        inv = self.layout.work_inv[r, part]
        shift = self.layout.work_shift[r, part]
        n_safe = np.maximum(n, 1)
        return first + (inv * ((pos - shift) % n_safe)) % n_safe

    def weight(self, ids: np.ndarray) -> np.ndarray:
        """Persons per agent of each id (by its part)."""
        ids = np.asarray(ids, dtype=np.int64)
        in_stratum = ids < self.layout.part_start[self.region(ids)]
        return np.where(in_stratum, self.weights[0], self.weights[1])

    # --- workplace (party cell) ----------------------------------------------------------
    def _work_position(
        self, ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        r, part, local, n = self._part(ids)
        mult = self.layout.work_mult[r, part]
        shift = self.layout.work_shift[r, part]
        pos = (mult * local + shift) % np.maximum(n, 1)
        return r, part, pos, n

    def _local_workplace(self, r: np.ndarray, pos: np.ndarray, n: np.ndarray) -> np.ndarray:
        if not self.by_persons:
            return pos // self.params.workplace_size
        count = self.layout.workplace_start[r + 1] - self.layout.workplace_start[r]
        return pos * count // np.maximum(n, 1)

    def _block(self, r: np.ndarray, part: np.ndarray, local_wp: np.ndarray) -> tuple:
        """First and one-past-last shuffled position of a workplace's block in a part."""
        split = self.layout.part_start[r]
        n = np.where(part == 1, self.layout.start[r + 1] - split, split - self.layout.start[r])
        if not self.by_persons:
            w = self.params.workplace_size
            return local_wp * w, np.minimum(local_wp * w + w, n)
        count = self.layout.workplace_start[r + 1] - self.layout.workplace_start[r]
        return -(-local_wp * n // count), -(-(local_wp + 1) * n // count)

    def workplace(self, ids: np.ndarray) -> np.ndarray:
        """Global workplace index of each id."""
        r, _, pos, n = self._work_position(ids)
        return self.layout.workplace_start[r] + self._local_workplace(r, pos, n)

    def random_workmates(self, ids: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        """K random people of each id's workplace, drawn with replacement; -1 marks the id itself.

        Returns a (len(ids), k) array. Used for the audience of a purge meeting. With a stratum
        the draw is by persons: a workmate is an agent of the stratum or of the others in
        proportion to the persons they stand for in the workplace.
        """
        ids = np.asarray(ids, dtype=np.int64)
        layout = self.layout
        return kernels.workmates(
            ids,
            rng.random((len(ids), k)),
            layout.start,
            layout.part_start,
            layout.work_mult,
            layout.work_inv,
            layout.work_shift,
            layout.workplace_start,
            self.params.workplace_size,
            self.by_persons,
            *self.weights,
        )

    def workplace_region(self, workplaces: np.ndarray) -> np.ndarray:
        """Region of each workplace."""
        return (
            np.searchsorted(self.layout.workplace_start, np.asarray(workplaces), side="right") - 1
        )

    def workplace_members(self, workplace: int) -> np.ndarray:
        """All ids working at one workplace (party members and non-members)."""
        r = self.workplace_region(np.array([workplace]))
        local_wp = workplace - self.layout.workplace_start[r]
        members = []
        for part in (0, 1):
            parts = np.array([part])
            first, last = self._block(r, parts, local_wp)
            pos = np.arange(int(first[0]), int(last[0]), dtype=np.int64)
            members.append(self._part_ids(np.repeat(r, len(pos)), np.repeat(parts, len(pos)), pos))
        return np.sort(np.concatenate(members))

    def district(self, workplaces: np.ndarray) -> np.ndarray:
        """Global district index of each workplace (districts never cross regions)."""
        workplaces = np.asarray(workplaces, dtype=np.int64)
        r = self.workplace_region(workplaces)
        d = self.params.district_workplaces
        per_region = -(-np.diff(self.layout.workplace_start) // d)
        district_start = np.concatenate([[0], np.cumsum(per_region)])
        return district_start[r] + (workplaces - self.layout.workplace_start[r]) // d

    # --- household -----------------------------------------------------------------------
    def _household(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """First id, size and the person's place in the household of each id.

        Households are consecutive ids within a region's part (the stratum's households are
        made of stratum agents).
        """
        ids = np.asarray(ids, dtype=np.int64)
        _, _, local, n = self._part(ids)
        h = self.params.household_size
        first = local // h * h
        return ids - local + first, np.minimum(first + h, n) - first, local - first

    def household_members(self, person: int) -> np.ndarray:
        """The ids of a person's household (including the person)."""
        first, size, _ = self._household(np.array([person]))
        return np.arange(int(first[0]), int(first[0] + size[0]), dtype=np.int64)

    def random_housemates(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One random other member of each id's household (-1 for one-person households)."""
        first, size, place = self._household(ids)
        offset = (rng.random(len(first)) * np.maximum(size - 1, 1)).astype(np.int64)
        mate = np.where(offset >= place, offset + 1, offset)
        return np.where(size > 1, first + mate, -1)

    # --- friendship ----------------------------------------------------------------------
    def friends(self, ids: np.ndarray) -> np.ndarray:
        """Friends of each id as a (len(ids), friends) array; -1 where the region is too small."""
        ids = np.asarray(ids, dtype=np.int64)
        layout = self.layout
        return kernels.ring_friends(
            ids,
            layout.start,
            layout.friend_mult,
            layout.friend_inv,
            layout.friend_shift,
            self.params.friends,
        )

    def random_friends(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One friend of each id (-1 where none): by persons when the population has a stratum.

        Without a stratum every friend is equally likely; with one, a friend is drawn in
        proportion to the persons its agent stands for, so that party members are among a
        person's friends as often as among the population, whatever the scale.
        """
        ids = np.asarray(ids, dtype=np.int64)
        friends = self.friends(ids)
        k = friends.shape[1]
        if k == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        if not self.by_persons:
            return friends[np.arange(len(ids)), rng.integers(0, k, len(ids))]
        return kernels.pick_by_persons(
            friends, rng.random(len(ids)), self.layout.start, self.layout.part_start, *self.weights
        )

    # --- all layers ----------------------------------------------------------------------
    def contacts(self, person: int, layer: str) -> np.ndarray:
        """Contacts of one person in one layer (excluding the person)."""
        if layer == "household":
            found = self.household_members(person)
        elif layer == "workplace":
            found = self.workplace_members(int(self.workplace(np.array([person]))[0]))
        elif layer == "friendship":
            found = self.friends(np.array([person]))[0]
            found = found[found >= 0]
        else:
            raise ValueError(f"unknown layer '{layer}'; allowed: {', '.join(LAYERS)}")
        return np.unique(found[found != person])
