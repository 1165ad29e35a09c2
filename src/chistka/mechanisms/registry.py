"""The mechanisms of the model in the order they act each day, and their assembly for a run.

The order is the day's causal order: people die, join, are promoted and leave; the purge
commissions sit and appeals are decided; the climate is read; the centre's show trials, the
operations and the army purge open cases; denunciations follow; the NKVD arrests, interrogates
and sentences; the camps take the sentenced.
To add a mechanism, write its module (see docs/mechanisms.md), import its class here and put it
in `ORDER`.
"""

from __future__ import annotations

from chistka.mechanisms.appeals import Appeals
from chistka.mechanisms.army import ArmyPurge
from chistka.mechanisms.arrest import Arrests
from chistka.mechanisms.base import Mechanism
from chistka.mechanisms.camps import Camps
from chistka.mechanisms.climate import Climate
from chistka.mechanisms.denunciation import Denunciation
from chistka.mechanisms.exile import Exile
from chistka.mechanisms.interrogation import Interrogation
from chistka.mechanisms.membership import Admissions, Exits, Mortality, Promotion
from chistka.mechanisms.operations import Operations
from chistka.mechanisms.review import Review
from chistka.mechanisms.sentencing import Sentencing
from chistka.mechanisms.show_trials import ShowTrials
from chistka.scenario.schema import Scenario
from chistka.state import SimState

ORDER: tuple[type[Mechanism], ...] = (
    Mortality,
    Admissions,
    Promotion,
    Exits,
    Review,
    Appeals,
    Climate,
    ShowTrials,
    Operations,
    ArmyPurge,
    Denunciation,
    Arrests,
    Interrogation,
    Sentencing,
    Exile,
    Camps,
)
"""Every mechanism, in the order it steps each day."""

BY_NAME: dict[str, type[Mechanism]] = {cls.name: cls for cls in ORDER}
"""Mechanism classes by name."""


def used(scenario: Scenario, order: tuple[type[Mechanism], ...] = ORDER) -> list[type[Mechanism]]:
    """The mechanisms a scenario uses, with those they need (transitively), in `order`."""
    by_name = {cls.name: cls for cls in order}
    wanted = {cls.name for cls in order if cls.used_by(scenario)}
    pending = list(wanted)
    while pending:
        cls = by_name[pending.pop()]
        for name in (*cls.needs, *cls.listens):
            if name not in by_name:
                raise ValueError(f"mechanism '{cls.name}' needs '{name}', which is not registered")
            if name not in wanted:
                wanted.add(name)
                pending.append(name)
    return [cls for cls in order if cls.name in wanted]


def assemble(state: SimState, order: tuple[type[Mechanism], ...] = ORDER) -> list[Mechanism]:
    """Build the mechanisms the state's scenario uses, add their person attributes, connect them.

    Returns them in stepping order. Each is built from the initial state, then `setup` gives it
    the others by name (all of them built), so that needs may run both ways (arrests hand the
    arrested to interrogation, which asks arrests to take the people named).
    """
    classes = used(state.scenario, order)
    people = state.people
    for cls in classes:
        for attribute in cls.attributes:
            if attribute.name in people.extra:
                raise ValueError(f"person attribute '{attribute.name}' is added twice")
            people.extra[attribute.name] = attribute.allocate(len(people))
    mechanisms = [cls(state) for cls in classes]
    peers = {mechanism.name: mechanism for mechanism in mechanisms}
    for mechanism in mechanisms:
        mechanism.setup(state, peers)
    return mechanisms
