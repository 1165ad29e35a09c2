"""`chistka sweep --dask`: the runs go to the cluster's workers, never to the client."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from chistka.analysis.ensemble import plan, run_ensemble
from chistka.cli import app
from chistka.engine import Sim

SCALE = 0.01
"""The scale of the runs of conftest's small scenario (`small_file`, 2,000 agents)."""


@pytest.fixture(scope="module")
def one_thread_cluster():
    """A local cluster of one worker process with one thread (the case joblib ran on the client)."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=1, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        yield cluster


def _no_simulation_here(self, *args, **kwargs):
    raise AssertionError("the client ran a simulation")


def test_runs_go_to_the_worker_and_the_client_simulates_nothing(
    one_thread_cluster, small_file, tmp_path, monkeypatch
):
    monkeypatch.setattr(Sim, "run", _no_simulation_here)  # only in this (the client) process
    placements = []
    paths = run_ensemble(
        plan(str(small_file), 2, scale=SCALE),
        tmp_path / "sweep",
        dask_address=one_thread_cluster.scheduler_address,
        placed=placements.append,
    )
    assert all((path / "summary.json").is_file() for path in paths)
    workers = set(one_thread_cluster.scheduler_info["workers"])
    assert sorted(p.run_id for p in placements) == ["p000-s001", "p000-s002"]
    assert {p.worker for p in placements} <= workers
    assert all(p.pid != os.getpid() for p in placements)
    assert len({(p.pid, p.thread) for p in placements}) == 1  # the one worker thread did both


def test_sweep_prints_where_the_runs_ran(one_thread_cluster, small_file, tmp_path, monkeypatch):
    monkeypatch.setattr(Sim, "run", _no_simulation_here)
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        app,
        [
            "sweep",
            str(small_file),
            "--seeds",
            "2",
            "--scale",
            str(SCALE),
            "--out",
            str(out),
            "--dask",
            one_thread_cluster.scheduler_address,
            "--no-report",
        ],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 0, result.output
    worker = next(iter(one_thread_cluster.scheduler_info["workers"]))
    assert f"ran on 1 Dask worker: {worker}: 2 runs in 1 process, 1 thread" in result.output
