"""The reference purge cascade of bench/DECLARATION.md in idiomatic Mesa 3.

Every person is a Mesa agent holding references to its household mates and contacts (plain
adjacency); each day the model selects the agents arrested today with `AgentSet.select` and lets
them name their accomplices with `shuffle_do`; a review every 30 days selects the sitting members
and expels some; a `DataCollector` records the counts. Random draws come from the model's numpy
generator (`model.rng`) and its `random.Random` (`model.random`, for shuffles), both seeded by
the run seed.

This file is a benchmark peer, not part of the chistka package; Mesa is a bench-only dependency.
"""

from __future__ import annotations

import mesa
import numpy as np


class Person(mesa.Agent):
    """One person: free or arrested, party member or not, waiting in the queue or not."""

    def __init__(self, model: PurgeCascade, index: int, member: bool) -> None:
        """A free person with no contacts yet (the model wires them)."""
        super().__init__(model)
        self.index = index
        self.member = member
        self.expelled = False
        self.arrested = False
        self.arrest_day = -1
        self.queued = False
        self.household: list[Person] = []
        self.contacts: list[Person] = []

    def name_accomplices(self) -> None:
        """Name each free household mate and contact slot not yet queued, with probability p."""
        model = self.model
        for other in (*self.household, *self.contacts):
            if other.arrested or other.queued:
                continue
            if model.rng.random() < model.naming_probability:
                other.queued = True
                model.named_today.append(other)

    def review(self) -> None:
        """A sitting member is expelled with the review's share; the expelled join the queue."""
        model = self.model
        if model.rng.random() < model.review_expel_share:
            self.expelled = True
            model.expelled += 1
            if not self.queued:
                self.queued = True
                model.expelled_today.append(self)


class PurgeCascade(mesa.Model):
    """Households, random contacts, a FIFO arrest queue with a daily capacity, periodic reviews."""

    def __init__(
        self,
        people: int = 100_000,
        household_size: int = 4,
        contacts: int = 10,
        members: int = 1_000,
        initial_accused: int = 100,
        naming_probability: float = 0.08,
        capacity_per_day: int = 100,
        review_every_days: int = 30,
        review_expel_share: float = 0.1,
        seed: int | None = None,
    ) -> None:
        """Create the agents, wire households and contacts, arrest the initial accused."""
        super().__init__(seed=seed)
        self.naming_probability = naming_probability
        self.capacity_per_day = capacity_per_day
        self.review_every_days = review_every_days
        self.review_expel_share = review_expel_share
        self.day = 0
        self.expelled = 0
        self.queue: list[Person] = []
        self.named_today: list[Person] = []
        self.expelled_today: list[Person] = []
        is_member = np.zeros(people, dtype=bool)
        is_member[self.rng.choice(people, size=members, replace=False)] = True
        persons = [Person(self, i, bool(is_member[i])) for i in range(people)]
        for first in range(0, people, household_size):
            household = persons[first : first + household_size]
            for person in household:
                person.household = [other for other in household if other is not person]
        for person in persons:
            slots = self.rng.integers(0, people - 1, size=contacts)
            slots[slots >= person.index] += 1
            person.contacts = [persons[j] for j in slots]
        for index in self.rng.choice(people, size=initial_accused, replace=False):
            self.arrest(persons[index])
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "arrested": lambda m: m.agents.agg("arrested", sum),
                "expelled": "expelled",
                "queue": lambda m: len(m.queue),
            }
        )

    def arrest(self, person: Person) -> None:
        """Take a person into custody today."""
        person.arrested = True
        person.arrest_day = self.day

    def step(self) -> None:
        """One day: arrests from the queue, naming by today's arrested, the review, the counts."""
        if self.day > 0:
            taken, self.queue = (
                self.queue[: self.capacity_per_day],
                self.queue[self.capacity_per_day :],
            )
            for person in taken:
                self.arrest(person)
        self.named_today = []
        self.agents.select(lambda a: a.arrest_day == self.day).shuffle_do("name_accomplices")
        self.random.shuffle(self.named_today)
        self.queue.extend(self.named_today)
        if (self.day + 1) % self.review_every_days == 0:
            self.expelled_today = []
            self.agents.select(lambda a: a.member and not a.expelled and not a.arrested).do(
                "review"
            )
            self.random.shuffle(self.expelled_today)
            self.queue.extend(self.expelled_today)
        self.datacollector.collect(self)
        self.day += 1


def run(days: int = 365, seed: int = 1, **parameters: float) -> PurgeCascade:
    """Run the Mesa cascade for `days` days; the counts are in `model.datacollector`."""
    model = PurgeCascade(seed=seed, **parameters)
    for _ in range(days):
        model.step()
    return model


def final_arrests(model: PurgeCascade) -> int:
    """Arrests by the end of the run."""
    return int(model.datacollector.get_model_vars_dataframe()["arrested"].iloc[-1])
