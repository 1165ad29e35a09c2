from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chistka.rng import hash_uniform, normalise_seed, splitmix64, stream

MECHANISMS = ("admissions", "promotion", "exits", "mortality", "review", "appeals", "population")


def test_stream_is_reproducible():
    a = stream(3, "admissions").random(100)
    b = stream(3, "admissions").random(100)
    assert np.array_equal(a, b)


def test_streams_differ_by_name_and_seed():
    draws = {name: stream(3, name).random(50) for name in MECHANISMS}
    for x in MECHANISMS:
        for y in MECHANISMS:
            if x != y:
                assert not np.array_equal(draws[x], draws[y])
    assert not np.array_equal(stream(3, "exits").random(50), stream(4, "exits").random(50))


def test_stream_does_not_depend_on_other_streams():
    alone = stream(5, "review").random(20)
    others = [stream(5, name) for name in MECHANISMS if name != "review"]
    for other in others:
        other.random(1000)  # drawing from other streams first changes nothing
    assert np.array_equal(stream(5, "review").random(20), alone)


def test_streams_are_uncorrelated():
    n = 20_000
    draws = np.array([stream(8, name).random(n) for name in MECHANISMS])
    corr = np.corrcoef(draws)
    off_diagonal = corr[~np.eye(len(MECHANISMS), dtype=bool)]
    assert np.max(np.abs(off_diagonal)) < 5 / np.sqrt(n)


def test_normalise_seed_int():
    assert normalise_seed(0) == 0
    assert normalise_seed(12345) == 12345
    assert normalise_seed(np.int64(7)) == 7
    assert isinstance(normalise_seed(np.int64(7)), int)


@pytest.mark.parametrize("seed", [-1, -(2**40)])
def test_normalise_seed_rejects_negative(seed):
    with pytest.raises(ValueError, match="seed must be >= 0"):
        normalise_seed(seed)


def test_normalise_seed_none_is_fresh():
    seeds = {normalise_seed(None) for _ in range(5)}
    assert len(seeds) == 5
    assert all(isinstance(s, int) and 0 <= s < 2**63 for s in seeds)


def test_normalise_seed_generator():
    a = normalise_seed(np.random.default_rng(1))
    b = normalise_seed(np.random.default_rng(1))
    c = normalise_seed(np.random.default_rng(2))
    assert a == b != c
    assert isinstance(a, int) and 0 <= a < 2**63


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    salt=st.integers(0, 2**32),
    ids=st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=50),
)
def test_hash_uniform_in_unit_interval_and_deterministic(seed, salt, ids):
    ids = np.array(ids, dtype=np.int64)
    u = hash_uniform(seed, salt, ids)
    assert u.dtype == np.float64 and u.shape == ids.shape
    assert np.all((u >= 0) & (u < 1))
    assert np.array_equal(u, hash_uniform(seed, salt, ids))
    # element-wise: a value depends on its own id only
    assert np.array_equal(u[::-1], hash_uniform(seed, salt, ids[::-1]))


def test_hash_uniform_extreme_ids():
    ids = np.array([0, 1, 2**63 - 1, 2**64 - 1], dtype=np.uint64)
    u = hash_uniform(2**63 - 1, 2**32, ids)
    assert np.all((u >= 0) & (u < 1))


def test_hash_uniform_is_uniform_and_keyed():
    ids = np.arange(100_000)
    u = hash_uniform(1, 2, ids)
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - 10_000) < 500)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02
    assert not np.array_equal(u, hash_uniform(2, 2, ids))
    assert not np.array_equal(u, hash_uniform(1, 3, ids))


def test_splitmix64_is_a_bijection_on_a_sample():
    x = np.arange(200_000, dtype=np.uint64)
    assert len(np.unique(splitmix64(x))) == len(x)
