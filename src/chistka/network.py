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
    """Id ranges of the regions and the affine shuffles of each region."""

    start: np.ndarray  # first id of each region, plus the total at the end
    work_mult: np.ndarray
    work_inv: np.ndarray
    work_shift: np.ndarray
    friend_mult: np.ndarray
    friend_inv: np.ndarray
    friend_shift: np.ndarray
    workplace_start: np.ndarray  # first global workplace index of each region, plus total


class Network:
    """Contacts computed on demand from ids and the seed."""

    def __init__(self, region_sizes: np.ndarray, params: NetworkParams, seed: int) -> None:
        """Lay out the regions of a population.

        Args:
            region_sizes: number of agents in each region (they occupy consecutive ids).
            params: layer sizes from the scenario.
            seed: the run seed (the shuffles depend on it).
        """
        self.params = params
        sizes = np.asarray(region_sizes, dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        seed_key = splitmix64(np.uint64(seed) ^ np.uint64(0x6E7E_C0DE_5EED_0001))
        keys = [
            int(k)
            for k in splitmix64(
                splitmix64(np.arange(1, 2 * len(sizes) + 1, dtype=np.uint64)) ^ seed_key
            )
        ]
        work_mult, work_inv, friend_mult, friend_inv, work_shift, friend_shift = (
            [] for _ in range(6)
        )
        for r, n in enumerate(int(s) for s in sizes):
            for mult, inv, shift, key in (
                (work_mult, work_inv, work_shift, keys[2 * r]),
                (friend_mult, friend_inv, friend_shift, keys[2 * r + 1]),
            ):
                a = _coprime_multiplier(max(n, 1), key)
                mult.append(a)
                inv.append(pow(a, -1, n) if n > 1 else 0)
                shift.append(key % max(n, 1))
        workplaces = -(-sizes // params.workplace_size)
        self.layout = RegionLayout(
            start=start,
            work_mult=np.array(work_mult, dtype=np.int64),
            work_inv=np.array(work_inv, dtype=np.int64),
            work_shift=np.array(work_shift, dtype=np.int64),
            friend_mult=np.array(friend_mult, dtype=np.int64),
            friend_inv=np.array(friend_inv, dtype=np.int64),
            friend_shift=np.array(friend_shift, dtype=np.int64),
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

    # --- workplace (party cell) ----------------------------------------------------------
    def _work_position(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r, local, n = self._local(ids)
        pos = (self.layout.work_mult[r] * local + self.layout.work_shift[r]) % n
        return r, pos, n

    def workplace(self, ids: np.ndarray) -> np.ndarray:
        """Global workplace index of each id."""
        r, pos, _ = self._work_position(ids)
        return self.layout.workplace_start[r] + pos // self.params.workplace_size

    def random_workmates(self, ids: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        """K random people of each id's workplace, drawn with replacement; -1 marks the id itself.

        Returns a (len(ids), k) array. Used for the audience of a purge meeting.
        """
        r, pos, n = self._work_position(ids)
        w = self.params.workplace_size
        first = pos // w * w
        size = np.minimum(first + w, n) - first
        offsets = (rng.random((len(pos), k)) * size[:, None]).astype(np.int64)
        mate_pos = first[:, None] + offsets
        inv = self.layout.work_inv[r][:, None]
        shift = self.layout.work_shift[r][:, None]
        local = (inv * ((mate_pos - shift) % n[:, None])) % n[:, None]
        mates = self.layout.start[r][:, None] + local
        mates[mates == np.asarray(ids)[:, None]] = -1
        return mates

    def workplace_region(self, workplaces: np.ndarray) -> np.ndarray:
        """Region of each workplace."""
        return (
            np.searchsorted(self.layout.workplace_start, np.asarray(workplaces), side="right") - 1
        )

    def workplace_members(self, workplace: int) -> np.ndarray:
        """All ids working at one workplace (party members and non-members)."""
        r = int(self.workplace_region(np.array([workplace]))[0])
        n = int(self.layout.start[r + 1] - self.layout.start[r])
        local_wp = workplace - int(self.layout.workplace_start[r])
        w = self.params.workplace_size
        pos = np.arange(local_wp * w, min((local_wp + 1) * w, n), dtype=np.int64)
        local = (self.layout.work_inv[r] * ((pos - self.layout.work_shift[r]) % n)) % n
        return self.layout.start[r] + local

    def district(self, workplaces: np.ndarray) -> np.ndarray:
        """Global district index of each workplace (districts never cross regions)."""
        workplaces = np.asarray(workplaces, dtype=np.int64)
        r = self.workplace_region(workplaces)
        d = self.params.district_workplaces
        per_region = -(-np.diff(self.layout.workplace_start) // d)
        district_start = np.concatenate([[0], np.cumsum(per_region)])
        return district_start[r] + (workplaces - self.layout.workplace_start[r]) // d

    # --- household -----------------------------------------------------------------------
    def household_members(self, person: int) -> np.ndarray:
        """The ids of a person's household (including the person)."""
        r, local, n = self._local(np.array([person]))
        h = self.params.household_size
        first = int(local[0]) // h * h
        local_ids = np.arange(first, min(first + h, int(n[0])), dtype=np.int64)
        return self.layout.start[r[0]] + local_ids

    def random_housemates(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One random other member of each id's household (-1 for one-person households)."""
        r, local, n = self._local(ids)
        h = self.params.household_size
        first = local // h * h
        size = np.minimum(first + h, n) - first
        offset = (rng.random(len(local)) * np.maximum(size - 1, 1)).astype(np.int64)
        mate = first + offset
        mate = np.where(mate >= local, mate + 1, mate)
        result = self.layout.start[r] + mate
        return np.where(size > 1, result, -1)

    # --- friendship ----------------------------------------------------------------------
    def friends(self, ids: np.ndarray) -> np.ndarray:
        """Friends of each id as a (len(ids), friends) array; -1 where the region is too small."""
        k = self.params.friends
        r, local, n = self._local(ids)
        if k == 0:
            return np.empty((len(local), 0), dtype=np.int64)
        pos = (self.layout.friend_mult[r] * local + self.layout.friend_shift[r]) % n
        offsets = np.concatenate([np.arange(1, k // 2 + 1), -np.arange(1, k // 2 + 1)])
        neighbour_pos = (pos[:, None] + offsets[None, :]) % n[:, None]
        inv = self.layout.friend_inv[r][:, None]
        shift = self.layout.friend_shift[r][:, None]
        neighbour = (inv * ((neighbour_pos - shift) % n[:, None])) % n[:, None]
        result = self.layout.start[r][:, None] + neighbour
        result[np.broadcast_to(n[:, None] <= np.abs(offsets)[None, :], result.shape)] = -1
        return result

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
