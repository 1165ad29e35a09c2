"""Random streams: one independent generator per mechanism, and counter-based hashing.

Each mechanism draws from its own stream, derived from the run seed and the mechanism's name, so
that changing one mechanism never reshuffles the draws of another ("common random numbers", as in
Starsim). The network uses counter-based hashing instead of a stream: a person's contacts are a
pure function of (seed, ids), so they can be recomputed on demand in any order.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """The random generator of the mechanism `name` in a run with `seed`.

    The stream depends only on the seed and the name, not on which other streams exist.
    """
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))


def normalise_seed(seed: int | None | np.random.Generator) -> int:
    """Turn a seed given as an int, None or a Generator into a non-negative int (one place)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be >= 0 (got {seed})")
    return seed


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a fast bijective hash of 64-bit integers (vectorised)."""
    z = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z


def salt_key(seed: int, salt: int) -> np.uint64:
    """The 64-bit key of the counter-based draws `salt` in a run with `seed`."""
    with np.errstate(over="ignore"):
        return splitmix64(np.uint64(seed) ^ (np.uint64(salt) * np.uint64(0xD1B54A32D192ED03)))


def hash_uniform(seed: int, salt: int, ids: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1) that are a pure function of (seed, salt, id).

    `chistka.kernels.uniform` computes the same numbers inside compiled loops.
    """
    with np.errstate(over="ignore"):
        h = splitmix64(np.asarray(ids, dtype=np.uint64) ^ salt_key(seed, salt))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
