"""What a mechanism is: a class that declares what it needs and provides, then steps each day.

A mechanism module holds one or more `Mechanism` subclasses. Each declares, as class attributes,

- `name`: how the others and the tests refer to it;
- `section`: the scenario section holding its parameters (`params` is that section's class);
- `always`: whether every scenario runs it (the membership flows), else only those that give
  its section or change it on their timeline;
- `needs`: the mechanisms it hands people to or reads from (by name); the engine adds them
  whenever this one runs, and passes them to `setup`;
- `streams`: the random streams it draws from (`chistka.rng.stream(seed, name)`), its own only;
- `events`: the kinds of events it writes to the log;
- `listens`: the mechanisms whose listeners it joins (e.g. 'arrest' for `on_arrest`);
- `attributes`: the per-person arrays it adds to `People.extra` (the engine allocates them).

The engine (`chistka.mechanisms.registry.assemble`) builds the mechanisms a scenario uses in the
declared order, calls `setup` once all are built, and the day loop calls `step`. This follows
Starsim's design (each module registers the people states it needs, and the integration loop is
built from the modules: starsim/loop.py `Loop.collect_funcs`), kept to plain classes here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import numpy as np
from pydantic import BaseModel

from chistka.scenario.schema import Scenario
from chistka.state import EventKind, SimState


@dataclass(frozen=True)
class Attribute:
    """A per-person array a mechanism adds to the population (`People.extra[name]`)."""

    name: str
    dtype: type[np.generic]
    fill: int | float
    doc: str

    def allocate(self, n: int) -> np.ndarray:
        """The array for `n` people, every entry `fill`."""
        return np.full(n, self.fill, dtype=self.dtype)


class Mechanism:
    """Base class of the model's mechanisms (see the module docstring for the declarations)."""

    name: ClassVar[str]
    section: ClassVar[str]
    params: ClassVar[type[BaseModel]]
    always: ClassVar[bool] = False
    needs: ClassVar[tuple[str, ...]] = ()
    streams: ClassVar[tuple[str, ...]] = ()
    events: ClassVar[tuple[EventKind, ...]] = ()
    listens: ClassVar[tuple[str, ...]] = ()
    attributes: ClassVar[tuple[Attribute, ...]] = ()

    @classmethod
    def used_by(cls, scenario: Scenario) -> bool:
        """Whether a scenario uses this mechanism.

        The core mechanisms always run; another runs when the scenario gives its section or a
        timeline event changes it. A section left out keeps its defaults, which switch the
        mechanism off, so skipping it changes nothing but the time spent.
        """
        if cls.always:
            return True
        return cls.section in scenario.model_fields_set or any(
            path.split(".")[0] == cls.section for event in scenario.events for path in event.set
        )

    def __init__(self, state: SimState) -> None:
        """Create the mechanism's own state (streams, calendars) from the initial population."""

    def setup(self, state: SimState, peers: Mapping[str, Mechanism]) -> None:
        """Connect to the mechanisms named in `needs` and `listens` (all built by now)."""

    def step(self, state: SimState) -> None:
        """Act on one day (`state.day`)."""


M = TypeVar("M", bound=Mechanism)


def peer(peers: Mapping[str, Mechanism], kind: type[M]) -> M:
    """The mechanism of class `kind` among `peers` (found by its name), with its type."""
    found = peers[kind.name]
    if not isinstance(found, kind):
        raise TypeError(f"mechanism '{kind.name}' is a {type(found).__name__}, not {kind.__name__}")
    return found
