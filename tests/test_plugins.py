"""Mechanisms as plug-ins: declarations, the assembly of the mechanisms a scenario uses, wiring."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

from chistka import Sim
from chistka.mechanisms.base import Attribute, Mechanism
from chistka.mechanisms.registry import BY_NAME, ORDER, assemble, used
from chistka.scenario import load_scenario, scenario_from_dict
from chistka.scenario.schema import ExitsParams, Scenario
from chistka.state import EventKind
from conftest import SMALL, deep_merge

TERROR_NAMES = {
    "climate",
    "show_trials",
    "operations",
    "army",
    "denunciation",
    "arrest",
    "interrogation",
    "sentencing",
    "camps",
}
"""The mechanisms of the Great Terror (none of them runs in a scenario of the purges alone)."""

SMALL_TERROR: dict[str, Any] = {
    "scenario": {"name": "plugins", "start": "1937-01-01", "end": "1937-12-31", "seed": 4},
    "population": {
        "size": 400_000,
        "scale": 0.01,
        "party_scale": 1.0,
        "regions": [1.0, 1.0],
        "expelled_before": 1_000,
        "recruitment_pool": 1_000,
        "army_officers": 300,
        "party": {"total": 3_000},
    },
    "network": {"workplace_persons": 300, "district_workplaces": 5},
    "climate": {"campaign": 2.0, "fear_per_arrest_rate": 0.5},
    "denunciation": {"rate_per_year": 0.002, "self_protection": 0.05, "arrest_probability": 0.3},
    "arrest": {"named_arrest_probability": 0.3, "expelled_risk_per_year": 0.1},
    "interrogation": {"torture": 2.0, "names_mean": 2.0},
    "sentencing": {"death_share": 0.3, "family_arrest_probability": 0.3},
    "army": {"dismissal_rate_per_year": 0.2, "arrest_share": 0.5},
    "show_trials": [{"name": "t", "date": "1937-03-01", "defendants": 3, "shot": 2}],
    "operations": [
        {"name": "mass", "kind": "category", "start": "1937-08-05", "end": "1937-12-31",
         "targets": ["kulak"], "limit_shoot": 100, "limit_camp": 200, "planned_days": 60},
    ],
    "campaigns": [{"name": "c", "start": "1937-02-01", "end": "1937-03-31"}],
}  # fmt: skip
"""A small scenario in which every mechanism runs."""


def names(classes: list[type[Mechanism]]) -> list[str]:
    """The names of mechanism classes."""
    return [cls.name for cls in classes]


def test_declarations_are_consistent():
    assert len(BY_NAME) == len(ORDER)
    streams = [s for cls in ORDER for s in cls.streams]
    assert len(streams) == len(set(streams)), "two mechanisms share a random stream"
    for cls in ORDER:
        assert cls.section in Scenario.model_fields, cls.name
        annotation = Scenario.model_fields[cls.section].annotation
        assert annotation is cls.params or annotation == list[cls.params], cls.name
        assert issubclass(cls.params, BaseModel)
        assert all(isinstance(kind, EventKind) for kind in cls.events)
        assert set(cls.needs) | set(cls.listens) <= set(BY_NAME), cls.name


def test_a_scenario_of_the_purges_runs_no_terror_mechanism():
    chosen = names(used(load_scenario("party-purges-1921-1936")))
    assert chosen == ["mortality", "admissions", "promotion", "exits", "review", "appeals"]


def in_declared_order(chosen: list[str]) -> bool:
    """Whether mechanism names come in the order of `ORDER`."""
    return chosen == [name for name in names(list(ORDER)) if name in chosen]


def test_the_great_terror_runs_every_terror_mechanism_in_the_declared_order():
    chosen = names(used(load_scenario("great-terror")))
    assert TERROR_NAMES | {"mortality", "admissions", "review", "appeals"} <= set(chosen)
    assert in_declared_order(chosen)


def test_a_section_brings_in_the_mechanisms_it_needs():
    camps_only = scenario_from_dict(deep_merge(SMALL, {"camps": {"mortality_per_year": 0.1}}))
    assert set(names(used(camps_only))) & TERROR_NAMES == {"camps"}
    interrogation = scenario_from_dict(deep_merge(SMALL, {"interrogation": {"torture": 1.0}}))
    assert set(names(used(interrogation))) & TERROR_NAMES == {
        "arrest",
        "interrogation",
        "sentencing",
        "camps",
    }
    denunciation = scenario_from_dict(deep_merge(SMALL, {"denunciation": {"rate_per_year": 0.1}}))
    assert {"denunciation", "climate", "arrest"} <= set(names(used(denunciation)))


def test_the_camps_run_when_the_record_has_prisoners_on_the_first_day():
    later = deep_merge(
        SMALL,
        {
            "scenario": {"start": "1937-01-01", "end": "1937-12-31"},
            "campaigns": [],
            "events": [],
        },
    )
    assert "camps" in names(used(scenario_from_dict(later)))
    assert "camps" not in names(used(scenario_from_dict(SMALL)))  # 1925: before the series


def test_a_timeline_event_switches_a_mechanism_on():
    event = {"date": "1926-03-01", "set": {"army.dismissal_rate_per_year": 0.1}}
    scenario = scenario_from_dict(deep_merge(SMALL, {"events": [*SMALL["events"], event]}))
    assert "army" in names(used(scenario))
    assert "army" not in names(used(scenario_from_dict(SMALL)))


def test_listeners_are_registered_by_the_mechanisms_that_declare_them():
    _, mechanisms = Sim(scenario_from_dict(SMALL_TERROR), seed=1).build()
    by_name = {m.name: m for m in mechanisms}
    listeners = by_name["arrest"].listeners
    declared = [m for m in mechanisms if "arrest" in m.listens]
    assert {m.name for m in declared} == {"denunciation", "interrogation"}
    assert len(listeners) == len(declared)
    assert {listener.__self__.name for listener in listeners} == {m.name for m in declared}


@pytest.fixture(scope="module")
def recorded_run():
    """A run of the small terror scenario, recording the streams each module creates."""
    created: dict[str, set[str]] = {}
    patched = {}
    modules = {sys.modules[cls.__module__] for cls in ORDER}
    modules = {module for module in modules if hasattr(module, "stream")}
    for module in modules:
        original = module.stream

        def recording(seed: int, name: str, module_name: str = module.__name__, original=original):
            created.setdefault(module_name, set()).add(name)
            return original(seed, name)

        patched[module] = original
        module.stream = recording
    try:
        results, state, mechanisms = Sim(scenario_from_dict(SMALL_TERROR), seed=2).run_with_state()
    finally:
        for module, original in patched.items():
            module.stream = original
    return state, mechanisms, created


def test_mechanisms_create_only_the_streams_they_declare(recorded_run):
    _, mechanisms, created = recorded_run
    chosen = names([type(m) for m in mechanisms])
    assert TERROR_NAMES <= set(chosen) and in_declared_order(chosen)
    for module_name, streams in created.items():
        declared = {s for cls in ORDER if cls.__module__ == module_name for s in cls.streams}
        assert streams <= declared, module_name


def test_every_logged_event_is_declared_by_a_mechanism_of_the_run(recorded_run):
    state, mechanisms, _ = recorded_run
    logged = {EventKind(int(k)) for k in np.unique(state.log.columns()["kind"])}
    declared = {kind for m in mechanisms for kind in m.events}
    assert {EventKind.ARRESTED, EventKind.SENTENCED_CAMP, EventKind.DENOUNCED} <= logged
    assert logged <= declared


class _Marked(Mechanism):
    """A test mechanism that adds a person attribute and needs promotion."""

    name = "marked"
    section = "exits"
    params = ExitsParams
    always = True
    needs = ("promotion",)
    attributes = (Attribute("mark", np.int16, -1, "a test attribute"),)

    def step(self, state) -> None:
        """Mark the first person with today's day."""
        state.people.extra["mark"][0] = state.day


def test_assembly_adds_declared_attributes_and_needed_mechanisms():
    state, _ = Sim(scenario_from_dict(SMALL), seed=1).build()
    state.people.extra.clear()
    mechanisms = assemble(state, (BY_NAME["promotion"], _Marked))
    assert names([type(m) for m in mechanisms]) == ["promotion", "marked"]
    mark = state.people.extra["mark"]
    assert mark.dtype == np.int16 and len(mark) == len(state.people) and np.all(mark == -1)
    state.day = 3
    mechanisms[1].step(state)
    assert mark[0] == 3


def test_assembly_rejects_a_missing_need_and_a_twice_added_attribute():
    state, _ = Sim(scenario_from_dict(SMALL), seed=1).build()
    state.people.extra.clear()
    with pytest.raises(ValueError, match="needs 'promotion'"):
        assemble(state, (_Marked,))
    state.people.extra["mark"] = np.zeros(len(state.people))
    with pytest.raises(ValueError, match="'mark' is added twice"):
        assemble(state, (BY_NAME["promotion"], _Marked))
