"""`Results.events_frame` shares the log's columns without letting a change reach the log."""

from __future__ import annotations

import numpy as np
import pytest


def test_the_frame_shares_the_logs_columns_read_only(small_results):
    frame = small_results.events_frame()
    person = small_results.events["person"]
    assert np.shares_memory(frame["person"].to_numpy(), person)
    before = person.copy()
    with pytest.raises(ValueError, match="read-only"):
        frame.loc[0, "person"] = person[0] + 1
    assert np.array_equal(small_results.events["person"], before)
    assert small_results.events["region"].flags.writeable  # the log's own arrays are unchanged
    changed = frame.copy()
    changed.loc[0, "person"] = person[0] + 1
    assert changed["person"].iloc[0] == person[0] + 1 and np.array_equal(person, before)
