"""Interrogation: confession under torture and the naming of "accomplices".

Under interrogation the accused faces a one-shot n-person prisoner's dilemma: the sentence
hardly depends on whether he denies, confesses, or confesses and names others, while holding out
costs torture (DESIGN.md section 1; physical pressure was sanctioned from 1937, as Stalin's
telegram of 10 Jan 1939 confirms, see docs/terror_sources.md). So an accused confesses once the
torture exceeds his personal resistance, which is exponentially distributed across people:
c = 1 - exp(-torture / resistance). A confession names m accomplices on average, chosen among
the accused's contacts (household, workplace, friends, patron or clients), with the interrogator
steering towards higher-ranked names (the scripted "centres" of a conspiracy). Each named person
is arrested with probability a, so the cascade's reproduction number is about c*m*a plus the
denunciations an arrest provokes. An accused may also name his interrogator, which puts the
NKVD officer at risk.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from chistka.mechanisms.arrest import CHANNEL, Arrests
from chistka.mechanisms.base import Mechanism, peer
from chistka.mechanisms.sentencing import Sentencing
from chistka.people import Fate, Role, patron
from chistka.rng import stream
from chistka.scenario.terror import InterrogationParams
from chistka.state import Calendar, EventKind, SimState

LAYERS = ("household", "workplace", "friendship", "patronage")


class Interrogation(Mechanism):
    """Interrogations of the arrested, and the cases their testimony opens."""

    name = "interrogation"
    section = "interrogation"
    params = InterrogationParams
    needs = ("arrest", "sentencing")
    listens = ("arrest",)
    streams = ("interrogation", "interrogation.sentencing")
    events = (EventKind.CONFESSED, EventKind.NAMED)

    def __init__(self, state: SimState) -> None:
        """Start with nobody under investigation."""
        self.rng = stream(state.seed, self.name)
        self.sentencing_rng = stream(state.seed, f"{self.name}.sentencing")  # days to sentence
        self.due = Calendar()
        self.arrested: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # not yet scheduled

    def setup(self, state: SimState, peers: Mapping[str, Mechanism]) -> None:
        """Interrogations start when people are arrested; sentencing follows the investigation."""
        self.arrests = peer(peers, Arrests)
        self.sentencing = peer(peers, Sentencing)
        self.arrests.listeners.append(self.on_arrest)

    def on_arrest(
        self,
        state: SimState,
        ids: np.ndarray,
        channel: np.ndarray,
        cause: np.ndarray,
        operation: np.ndarray,
    ) -> None:
        """Note the newly arrested; their interrogation is scheduled in this mechanism's step.

        Arrests happen in the arrest mechanism's step: the draws that schedule their
        interrogations wait for this mechanism's own step (later the same day), so that each
        mechanism draws only from its own stream while it steps.
        """
        self.arrested.append((ids.copy(), channel.copy(), operation.copy()))

    def schedule(
        self, state: SimState, ids: np.ndarray, channel: np.ndarray, operation: np.ndarray
    ) -> None:
        """Schedule the interrogation of the arrested.

        The payload carries the channel, the operation and whether the arrest was made under the
        prosecutor's supervision (see `Sentencing.pending_review`).
        """
        params = state.scenario.interrogation
        mass = np.isin(channel, [CHANNEL["category"], CHANNEL["national"]])
        mean = params.investigation_days * np.where(mass, params.mass_operation_days_factor, 1.0)
        delay = 1 + self.rng.exponential(mean / 2, size=len(ids)).astype(np.int64)
        supervised = int(state.scenario.arrest.procuracy_supervision)
        self.due.add(state.day + delay, ids, (supervised << 16) | ((operation + 1) << 8) | channel)

    def step(self, state: SimState) -> None:
        """Interrogate those due today, record confessions and names, open the named's cases.

        Only people still in custody are interrogated: the executed, the dead and those
        released meanwhile (a show trial's verdict can come first) give no testimony.
        """
        for arrested in self.arrested:
            self.schedule(state, *arrested)
        self.arrested.clear()
        ids, payload = self.due.pop(state.day)
        in_custody = state.people.fate[ids] == Fate.ARRESTED
        ids, payload = ids[in_custody], payload[in_custody]
        if len(ids) == 0:
            return
        params = state.scenario.interrogation
        channel, operation = payload & 0xFF, ((payload >> 8) & 0xFF) - 1
        supervised = (payload >> 16) & 1
        c = 1.0 - np.exp(-params.torture / params.resistance)
        confessed = self.rng.random(len(ids)) < c
        state.log.add(state.day, ids[confessed], EventKind.CONFESSED, channel=channel[confessed])
        mass = np.isin(channel, [CHANNEL["category"], CHANNEL["national"]])
        mean = params.names_mean * np.where(mass, params.mass_operation_names_factor, 1.0)
        # names are counted in persons: an agent standing for w people names w/lightest times
        # as many (see SimState.acts and SimState.reach)
        scale = state.people.weight[ids].astype(np.float64) / state.lightest
        names = np.where(confessed, self.rng.poisson(mean * scale), 0)
        if names.sum() > 0:
            self.name_accomplices(state, np.repeat(ids, names))
        if params.names_interrogator > 0:
            self.name_interrogators(
                state, ids[self.rng.random(len(ids)) < params.names_interrogator]
            )
        mean_rest = np.maximum(
            1.0,
            params.investigation_days / 2 * np.where(mass, params.mass_operation_days_factor, 1.0),
        )
        rest = self.rng.exponential(mean_rest).astype(np.int64)
        self.sentencing.schedule(
            state, ids, channel, operation, state.day + rest, self.sentencing_rng, supervised
        )

    def contacts(self, state: SimState, namers: np.ndarray) -> np.ndarray:
        """One contact per namer, from a layer drawn by the scenario's weights (-1: none)."""
        params = state.scenario.interrogation
        weights = np.array([params.layer_weights.get(layer, 0.0) for layer in LAYERS])
        layer = self.rng.choice(len(LAYERS), size=len(namers), p=weights / weights.sum())
        found = np.full(len(namers), -1, dtype=np.int64)
        network = state.network
        for index, name in enumerate(LAYERS):
            chosen = np.flatnonzero(layer == index)
            if len(chosen) == 0:
                continue
            who = namers[chosen]
            if name == "workplace":
                found[chosen] = network.random_workmates(who, 1, self.rng)[:, 0]
            elif name == "friendship" and network.params.friends > 0:
                found[chosen] = network.random_friends(who, self.rng)
            elif name == "household":
                found[chosen] = network.random_housemates(who, self.rng)
            elif name == "patronage":
                boss = patron(state.people, network, state.leadership, who)
                client = network.random_workmates(who, 1, self.rng)[:, 0]
                found[chosen] = np.where(boss >= 0, boss, client)
        found[found == namers] = -1
        return found

    def name_accomplices(self, state: SimState, namers: np.ndarray) -> None:
        """Each name: a contact (the higher-ranked of two, if the interrogator steers)."""
        params = state.scenario.interrogation
        whose = state.stand_ins(namers, self.rng)
        first = self.contacts(state, whose)
        second = self.contacts(state, whose)
        rank = state.people.rank
        steer = self.rng.random(len(namers)) < 1 - np.exp(-params.rank_bias)
        higher = np.where(rank[np.maximum(second, 0)] > rank[np.maximum(first, 0)], second, first)
        named = np.where(
            steer & (second >= 0) & (first >= 0), higher, np.where(first >= 0, first, second)
        )
        ok = (named >= 0) & (named != namers)
        namers, named = namers[ok], named[ok]
        ok = state.free(named)
        ok[ok] = self.rng.random(int(ok.sum())) < state.reach(named[ok])
        namers, named = namers[ok], named[ok]
        state.log.add(state.day, named, EventKind.NAMED, cause=namers, channel=CHANNEL["testimony"])
        people = state.people
        people.named[named] = np.minimum(people.named[named].astype(np.int64) + 1, 255)
        a = state.scenario.arrest.named_arrest_probability
        arrest = self.rng.random(len(named)) < a
        delay = 1 + self.rng.exponential(
            state.scenario.arrest.delay_days, size=int(arrest.sum())
        ).astype(np.int64)
        self.arrests.request(state, named[arrest], "testimony", cause=namers[arrest], delay=delay)

    def name_interrogators(self, state: SimState, namers: np.ndarray) -> None:
        """Accused who name their interrogator: a random NKVD officer of their region."""
        people = state.people
        for namer in namers:
            region = int(people.region[namer])
            officer = state.sample_people(
                self.rng,
                1,
                lambda ids, rng: (people.role[ids] == Role.NKVD) & state.free(ids),
                id_range=state.region_ids(region),
                give_up=20_000,
            )
            if len(officer) == 0:
                continue
            state.log.add(
                state.day, officer, EventKind.NAMED, cause=int(namer), channel=CHANNEL["testimony"]
            )
            if self.rng.random() < state.scenario.arrest.officer_arrest_probability:
                self.arrests.request(state, officer, "testimony", cause=int(namer), delay=1)
