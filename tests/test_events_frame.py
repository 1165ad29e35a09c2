"""`Results.events_frame` shares the log's columns without letting a change reach the log."""

from __future__ import annotations

import numpy as np
import pytest

from chistka import results as results_module
from chistka.results import Results


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


def test_a_failure_writing_the_log_in_its_thread_leaves_nothing(
    small_results, tmp_path, monkeypatch
):
    def full_disk(frame, path):
        raise OSError("disk full")

    monkeypatch.setattr(results_module, "_write_events", full_disk)
    with pytest.raises(OSError, match="disk full"):
        small_results.save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_the_log_written_in_its_thread_reads_back(small_results, tmp_path):
    small_results.save(tmp_path / "run")
    loaded = Results.load(tmp_path / "run")
    for name, column in small_results.events.items():
        assert np.array_equal(loaded.events[name], column, equal_nan=column.dtype.kind == "f")
