"""Property tests of the terror mechanisms: invariants hold for any seed and parameters.

Each example is a run of 22 months (3-6 s here, by how far the drawn cascade spreads), so a
developer's run (`make test`) tries two; the slow tier tries twelve more.
"""

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chistka import Sim
from chistka.analysis.observables import political_prisoners_by_day
from chistka.people import Fate
from chistka.scenario import scenario_from_dict
from chistka.state import EventKind
from test_terror import TERROR

ABSORBING = (EventKind.SENTENCED_DEATH, EventKind.DIED_IN_CAMP)


def small_terror(seed: int, named: float, torture: float, death: float, spin_up: int = 0) -> dict:
    data = copy.deepcopy(TERROR)
    data["scenario"].update(
        {"start": "1937-03-01", "end": "1938-12-31", "seed": seed, "spin_up_days": spin_up}
    )
    data["population"]["size"] = 1_500_000
    data["arrest"]["named_arrest_probability"] = named
    data["interrogation"]["torture"] = torture
    data["sentencing"]["death_share"] = death
    data["show_trials"] = []
    # admissions the 5,000-person recruitment pool can carry: at the schema's 100,000 a year it
    # runs dry within weeks, and each later day's admissions search it in vain (two thirds of an
    # example's time, with nothing more for the invariants to check)
    data["admissions"] = {"rate_per_year": 1_000}
    return data


INPUTS = {
    "seed": st.integers(0, 2**31),
    "named": st.floats(0, 1),
    "torture": st.floats(0, 5),
    "death": st.floats(0, 1),
    "spin_up": st.sampled_from([0, 60]),
}
"""The run seed, the probability of arrest when named, torture, the share shot and the days of
spin-up before the first day (`RunInfo.spin_up_days`)."""

SLOW_RUN = [HealthCheck.too_slow]


@settings(max_examples=2, deadline=None, suppress_health_check=SLOW_RUN)
@given(**INPUTS)
@example(seed=5, named=0.3, torture=2.0, death=0.4, spin_up=60)
def test_terror_invariants(seed, named, torture, death, spin_up):
    check_terror_invariants(seed, named, torture, death, spin_up)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=SLOW_RUN)
@given(**INPUTS)
def test_terror_invariants_on_more_examples(seed, named, torture, death, spin_up):
    check_terror_invariants(seed, named, torture, death, spin_up)


def check_terror_invariants(
    seed: int, named: float, torture: float, death: float, spin_up: int = 0
) -> None:
    """Counts, deaths, arrests, confessions and absorbing events obey the rules in one run;
    after a spin-up, the people in custody on the first day are logged as such."""
    results, state, _ = Sim(
        scenario_from_dict(small_terror(seed, named, torture, death, spin_up))
    ).run_with_state()
    days = state.n_days - state.first_day
    counts = results.counts
    # every person is in exactly one (status, fate) every day, and counts are never negative
    assert np.all(counts.sum(axis=(1, 2, 3)) == len(state.people))
    assert np.all(counts >= 0)
    # the dead stay dead: the number shot or died never decreases
    dead = counts[:, :, [Fate.SHOT, Fate.DIED], :].sum(axis=(1, 2, 3))
    assert np.all(np.diff(dead) >= 0)
    # nobody loses liberty but by an arrest in the log: over each day (counts hold the start of
    # the run and the end of each day) those not free grow by at most the day's logged arrests
    log = results.events
    arrested = log["kind"] == EventKind.ARRESTED
    arrests = np.bincount(log["day"][arrested], minlength=days)
    assert len(arrests) == days and len(counts) == days + 1
    not_free = counts[:, :, Fate.FREE + 1 :, :].sum(axis=(1, 2, 3))
    assert np.all(np.diff(not_free) <= arrests)
    # nobody has an event after an absorbing one
    final = np.isin(log["kind"], [int(k) for k in ABSORBING])
    last_day = dict(zip(log["person"][final].tolist(), log["day"][final].tolist(), strict=True))
    later = [
        p
        for p, d in zip(log["person"].tolist(), log["day"].tolist(), strict=True)
        if p in last_day and d > last_day[p]
    ]
    assert later == []
    # confessions only by the arrested, and at most one arrest per person per day
    confessed = set(log["person"][log["kind"] == EventKind.CONFESSED].tolist())
    held = log["person"][log["kind"] == EventKind.IN_CUSTODY_AT_START]
    assert confessed <= set(log["person"][arrested].tolist()) | set(held.tolist())
    pairs = np.stack([log["person"][arrested], log["day"][arrested]], axis=1)
    assert len(np.unique(pairs, axis=0)) == len(pairs)
    # the political prisoners are among those in the camps, every morning
    political = political_prisoners_by_day(results)
    in_camps = results.persons[:, :, Fate.CAMP, :].sum(axis=(1, 2))
    slack = 1e-6 * max(float(in_camps.max()), 1.0)
    assert np.all(political >= -slack) and np.all(political <= in_camps + slack)
