"""The reference purge cascade (bench/DECLARATION.md): its rules, and the same results as Mesa.

These are the quick, small versions of the benchmarks' equivalence checks; the timings live in
bench/ only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from chistka import kernels
from chistka.engine import run_days
from chistka.people import Fate, Status
from chistka.rng import salt_key
from chistka.state import EventKind

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import vs_mesa  # noqa: E402
from peers import mesa_cascade  # noqa: E402
from reference_cascade import CascadeParams, build, run_cascade  # noqa: E402

SMALL = CascadeParams(people=3_000, members=300, initial_accused=30, capacity_per_day=30)


@pytest.mark.slow
def test_same_results_as_mesa():
    """Equivalent mean final arrests (TOST, margin 5%) over 20 seeds at 2,000 people."""
    result = vs_mesa.equivalence(2_000, 20)
    assert result.equivalent, result


def test_equivalence_test_rejects_a_shift_and_accepts_a_resample():
    rng = np.random.default_rng(0)
    theirs = rng.normal(1000, 30, 30).round().tolist()
    same = rng.normal(1000, 30, 30).round().tolist()
    shifted = rng.normal(1080, 30, 30).round().tolist()
    assert vs_mesa.tost(same, theirs).equivalent
    assert not vs_mesa.tost(shifted, theirs).equivalent
    noisy = vs_mesa.tost([800, 1200, 1000], [900, 1100, 1000])  # equal means, too few seeds
    assert noisy.difference == 0 and not noisy.equivalent and noisy.low < -noisy.margin


def test_reproducible_and_seed_dependent():
    first, again, other = (run_cascade(SMALL, s) for s in (3, 3, 4))
    assert np.array_equal(first.arrested, again.arrested)
    assert np.array_equal(first.queue, again.queue)
    assert not np.array_equal(first.arrested, other.arrested)


def test_capacity_and_accounting():
    run = run_cascade(SMALL, 1)
    daily = np.diff(np.r_[0, run.arrested])
    assert daily[0] == SMALL.initial_accused
    assert np.all(daily[1:] <= SMALL.capacity_per_day)
    assert np.all(np.diff(run.arrested) >= 0) and np.all(np.diff(run.expelled) >= 0)
    assert run.arrested[-1] + run.queue[-1] <= SMALL.people
    assert run.expelled[-1] <= SMALL.members
    # expulsions happen only on review days
    review_days = np.flatnonzero(np.diff(np.r_[0, run.expelled]))
    assert np.all((review_days + 1) % SMALL.review_every_days == 0)


def test_no_naming_means_only_initial_accused_and_expelled():
    params = SMALL.model_copy(update={"naming_probability": 0.0})
    run = run_cascade(params, 2)
    assert run.arrested[-1] <= params.initial_accused + run.expelled[-1]


def test_everybody_named_once_and_only_free_people():
    state, mechanisms = build(SMALL, 5)
    run_days(state, mechanisms)
    log = state.log.columns()
    named = log["person"][log["kind"] == EventKind.NAMED]
    assert len(named) == len(np.unique(named))
    arrested = log["person"][log["kind"] == EventKind.ARRESTED]
    assert len(arrested) == len(np.unique(arrested))
    assert np.all(state.people.fate[arrested] == Fate.ARRESTED)
    assert np.all(np.isin(state.people.status[arrested], [Status.NONPARTY, Status.EXPELLED]))


def test_naming_does_not_depend_on_the_order_of_the_arrested():
    def named(order: np.ndarray) -> set[int]:
        n = 50_000
        fate = np.zeros(n, dtype=np.int8)
        fate[order] = Fate.ARRESTED
        marks = np.zeros(n, dtype=np.uint8)
        out = kernels.name_contacts(
            order, n, 4, 10, salt_key(1, 2), salt_key(1, 3), 0.3, fate, marks, marks.copy()
        )
        assert len(out) == len(set(out.tolist()))
        assert np.all(fate[out] == 0)
        return set(out.tolist())

    arrested = np.arange(0, 50_000, 97, dtype=np.int64)
    assert named(arrested) == named(arrested[::-1].copy())


def test_bad_parameters_are_named():
    with pytest.raises(ValidationError, match="naming_probability"):
        CascadeParams(naming_probability=1.5)
    with pytest.raises(ValidationError, match="unknown key 'poeple'"):
        CascadeParams.model_validate({"poeple": 10})


def test_mesa_peer_follows_the_rules():
    model = mesa_cascade.run(days=60, seed=1, people=2_000, members=200, capacity_per_day=20)
    counts = model.datacollector.get_model_vars_dataframe()
    daily = np.diff(np.r_[0, counts["arrested"].to_numpy()])
    assert daily[0] == 100 and np.all(daily[1:] <= 20)
    assert counts["expelled"].iloc[-1] <= 200
