"""The compiled friendship ring, friend and workmate draws give numpy's results, draw for draw.

The references below are the vectorised numpy code they replaced: any change of the friends or
of a person drawn would change every run's results.
"""

from __future__ import annotations

import numpy as np
import pytest

from chistka.network import Network
from chistka.scenario.schema import NetworkParams


def numpy_friends(network: Network, ids: np.ndarray) -> np.ndarray:
    k = network.params.friends
    layout = network.layout
    r = np.searchsorted(layout.start, ids, side="right") - 1
    n = layout.start[r + 1] - layout.start[r]
    local = ids - layout.start[r]
    pos = (layout.friend_mult[r] * local + layout.friend_shift[r]) % n
    offsets = np.concatenate([np.arange(1, k // 2 + 1), -np.arange(1, k // 2 + 1)])
    neighbour_pos = (pos[:, None] + offsets[None, :]) % n[:, None]
    inv = layout.friend_inv[r][:, None]
    shift = layout.friend_shift[r][:, None]
    neighbour = (inv * ((neighbour_pos - shift) % n[:, None])) % n[:, None]
    result = layout.start[r][:, None] + neighbour
    result[np.broadcast_to(n[:, None] <= np.abs(offsets)[None, :], result.shape)] = -1
    return result


def numpy_random_friends(network: Network, ids: np.ndarray, rng: np.random.Generator):
    friends = numpy_friends(network, ids)
    k = friends.shape[1]
    if k == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    if not network.by_persons:
        return friends[np.arange(len(ids)), rng.integers(0, k, len(ids))]
    weight = np.where(friends >= 0, network.weight(np.maximum(friends, 0)), 0.0)
    cumulative = np.cumsum(weight, axis=1)
    total = cumulative[:, -1]
    u = rng.random(len(ids)) * total
    slot = np.minimum((cumulative <= u[:, None]).sum(axis=1), k - 1)
    return np.where(total > 0, friends[np.arange(len(ids)), slot], -1)


def numpy_random_workmates(network: Network, ids: np.ndarray, k: int, rng):
    r, part, pos, n = network._work_position(ids)
    local_wp = network._local_workplace(r, pos, n)
    u = rng.random((len(pos), k))
    if not network.by_persons:
        first, last = network._block(r, part, local_wp)
        offsets = (u * (last - first)[:, None]).astype(np.int64)
        mates = network._part_ids(r[:, None], part[:, None], first[:, None] + offsets)
    else:
        zero, one = np.zeros_like(part), np.ones_like(part)
        first0, last0 = network._block(r, zero, local_wp)
        first1, last1 = network._block(r, one, local_wp)
        persons0 = (last0 - first0) * network.weights[0]
        persons1 = (last1 - first1) * network.weights[1]
        x = u * (persons0 + persons1)[:, None]
        in_stratum = x < persons0[:, None]
        offsets = np.where(
            in_stratum, x / network.weights[0], (x - persons0[:, None]) / network.weights[1]
        ).astype(np.int64)
        chosen = in_stratum.astype(np.int64)
        first = np.where(in_stratum, first0[:, None], first1[:, None])
        last = np.where(in_stratum, last0[:, None], last1[:, None])
        position = np.minimum(first + offsets, last - 1)
        mates = network._part_ids(r[:, None], 1 - chosen, position)
    mates[mates == ids[:, None]] = -1
    return mates


LAYOUTS = {
    "one scale": (np.array([5_000, 3, 1, 12_000]), None, 6),
    "stratum": (np.array([40_000, 25_000, 2]), np.array([3_000, 25_000, 1]), 6),
    "tiny regions": (np.array([900, 7, 2]), np.array([100, 0, 0]), 8),
    "no friends": (np.array([500]), None, 0),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_compiled_friends_are_numpys(name):
    sizes, stratum, friends = LAYOUTS[name]
    params = NetworkParams(workplace_size=20, workplace_persons=400, friends=friends)
    network = Network(sizes, params, seed=9, stratum=stratum, weights=(1.0, 20.0))
    rng = np.random.default_rng(3)
    ids = rng.integers(0, network.size, 20_000)
    assert np.array_equal(network.friends(ids), numpy_friends(network, ids))
    got = network.random_friends(ids, np.random.default_rng(5))
    expected = numpy_random_friends(network, ids, np.random.default_rng(5))
    assert np.array_equal(got, expected)
    if friends and stratum is not None:
        assert len(np.unique(got)) > 100  # the draw does choose
    mates = network.random_workmates(ids, 7, np.random.default_rng(6))
    assert np.array_equal(mates, numpy_random_workmates(network, ids, 7, np.random.default_rng(6)))
    assert (mates == -1).mean() < 0.5 and len(np.unique(mates)) > 100
