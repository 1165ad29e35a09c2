"""The spread of a figure over the seeds of an ensemble, and its name.

With few seeds the 5% and 95% quantiles fall between the seeds' own values (numpy interpolates:
two seeds giving 1,193 and 988 had a "5-95%" range of 998-1,183, which left out both seeds) and
claim a precision that a handful of runs does not have. Under `FEWEST_FOR_QUANTILES` seeds the
spread is therefore the lowest and the highest value over the seeds, and says so
("lowest-highest over 2 seeds"); from that many on, the 5% and 95% quantiles ("5-95% over 20
seeds"). Every table, chart and CSV column of a spread over seeds uses this one rule.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np

FEWEST_FOR_QUANTILES = 20
"""The fewest seeds for which the spread is the 5-95% quantile range (under it: lowest-highest)."""

QUANTILES = (0.05, 0.95)
"""The quantiles of the spread over `FEWEST_FOR_QUANTILES` seeds or more."""


def uses_quantiles(seeds: int) -> bool:
    """Whether the spread over this many seeds is the 5-95% range (else lowest-highest)."""
    return seeds >= FEWEST_FOR_QUANTILES


def spread(values: np.ndarray | Iterable[float]) -> tuple[float, float]:
    """The spread of the values over the seeds, NaN left out: (low, high).

    The lowest and highest value under `FEWEST_FOR_QUANTILES` values, else the 5% and 95%
    quantiles; NaN with no value.
    """
    found = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, float)
    found = found[~np.isnan(found)]
    if not len(found):
        return math.nan, math.nan
    if not uses_quantiles(len(found)):
        return float(found.min()), float(found.max())
    low, high = np.quantile(found, QUANTILES)
    return float(low), float(high)


def spread_along(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`spread` along the last axis (the runs) of an array, NaN ignored.

    The rule is chosen by the number of runs (the length of the last axis).
    """
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row of NaN only: NaN, quietly
        if not uses_quantiles(values.shape[-1]):
            return np.nanmin(values, axis=-1), np.nanmax(values, axis=-1)
        low, high = np.nanquantile(values, QUANTILES, axis=-1)
    return low, high


def spread_kind(seeds: int) -> str:
    """What the spread over this many seeds is: "5-95%" or "lowest-highest"."""
    return "5-95%" if uses_quantiles(seeds) else "lowest-highest"


def spread_name(seeds: int | Iterable[int]) -> str:
    """The spread's name with its seeds: "lowest-highest over 2 seeds", "5-95% over 40 seeds".

    Given several counts (parameter sets or sides with different numbers of seeds), the name
    covers them all: "lowest-highest over 2-4 seeds"; a mix of both rules reads
    "lowest-highest or 5-95% over 8-40 seeds".
    """
    counts = sorted({seeds} if isinstance(seeds, int) else set(seeds))
    if not counts:
        return "spread over the seeds"
    kinds = list(dict.fromkeys(spread_kind(n) for n in counts))
    many = f"{counts[0]}" if counts[0] == counts[-1] else f"{counts[0]}-{counts[-1]}"
    noun = "seed" if counts == [1] else "seeds"
    return f"{' or '.join(kinds)} over {many} {noun}"
