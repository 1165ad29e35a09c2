"""Helpers shared by the mechanisms that ration cases region by region.

The NKVD's daily capacity (`arrest.py`) and the operations' limits (`operations.py`) both cut a
list of cases where each region's running total of persons passes what that region may take.
"""

from __future__ import annotations

import numpy as np


def running_total_by_region(region: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Each case's running total of `weight` within its region, itself included, in list order.

    Cases keep their order within a region (a stable sort), so the earlier (more urgent) cases
    of a region are counted first.
    """
    order = np.argsort(region, kind="stable")
    sorted_region = region[order]
    sorted_weight = weight[order]
    starts = np.flatnonzero(np.r_[True, sorted_region[1:] != sorted_region[:-1]])
    sums = np.cumsum(sorted_weight)
    offsets = np.repeat(sums[starts] - sorted_weight[starts], np.diff(np.r_[starts, len(order)]))
    running = np.empty(len(order))
    running[order] = sums - offsets
    return running
