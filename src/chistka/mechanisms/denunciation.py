"""Denunciations from below, from above and from the side, and out of self-protection.

Subordinates denounce superiors (encouraged by the press campaign against "enemies" in the
leadership), superiors denounce subordinates to show vigilance, workmates and friends denounce
each other (DESIGN.md section 1). The daily propensity rises with the political climate. After a
person's arrest, his contacts are exposed and some denounce someone themselves within a month, to
show vigilance and protect themselves. A denunciation leads to an arrest with the scenario's
probability.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from chistka.mechanisms.arrest import CHANNEL, Arrests
from chistka.mechanisms.base import Mechanism, peer
from chistka.people import Fate, RankTier, Status, patron
from chistka.rng import stream
from chistka.scenario.terror import DenunciationParams
from chistka.state import Calendar, EventKind, SimState, column_of


class Denunciation(Mechanism):
    """Daily denunciations and the fear that follows arrests."""

    name = "denunciation"
    section = "denunciation"
    params = DenunciationParams
    needs = ("arrest", "climate")
    listens = ("arrest",)
    streams = ("denunciation",)
    events = (EventKind.DENOUNCED,)

    def __init__(self, state: SimState) -> None:
        """Start with nobody afraid."""
        self.rng = stream(state.seed, self.name)
        self.fearful = Calendar()
        self.arrested: list[tuple[int, np.ndarray]] = []  # (day, ids) not yet exposed
        self.bosses, self.clients = unit_heads_below(state)

    def setup(self, state: SimState, peers: Mapping[str, Mechanism]) -> None:
        """Denunciations go to the NKVD; its arrests frighten the contacts of the arrested."""
        self.arrests = peer(peers, Arrests)
        self.arrests.listeners.append(self.on_arrest)

    def on_arrest(
        self,
        state: SimState,
        ids: np.ndarray,
        channel: np.ndarray,
        cause: np.ndarray,
        operation: np.ndarray,
    ) -> None:
        """Note the newly arrested: their contacts are exposed in this mechanism's next step.

        Arrests happen in the arrest mechanism's step; the draws that follow them wait for
        this mechanism's own step, so that each mechanism draws only from its own stream.
        """
        if len(ids):
            self.arrested.append((state.day, ids.copy()))

    def expose(self, state: SimState, day: int, ids: np.ndarray) -> None:
        """Contacts of people arrested on `day` (household, two workmates, friends) may denounce.

        Each arrested person exposes one housemate, two workmates and as many friends as the
        friendship layer gives; counted in persons (`SimState.acts`, `SimState.reach`). They
        denounce within a month of the arrest. Each contact denounces with probability
        `self_protection` times its reach; the first factor is drawn for every slot before the
        contact is, and only the slots it keeps are filled (each slot's contact is an
        independent draw, so the law is that of drawing every contact first): at a
        `self_protection` of 0.02 the contacts of the other 98% were 7% of a full-scale run.
        """
        p = state.scenario.denunciation.self_protection
        if p <= 0 or len(ids) == 0:
            return
        network = state.network
        ids = ids[state.acts(ids, self.rng)]
        whose = state.stand_ins(ids, self.rng)
        slots = 3 + network.params.friends  # a housemate, two workmates, the friends
        row, slot = np.nonzero(self.rng.random((len(ids), slots)) < p)
        contacts = np.empty(len(row), dtype=np.int64)
        housemate, workmate, friend = slot == 0, (slot == 1) | (slot == 2), slot >= 3
        contacts[housemate] = network.random_housemates(whose[row[housemate]], self.rng)
        contacts[workmate] = network.random_workmates(whose[row[workmate]], 1, self.rng)[:, 0]
        contacts[friend] = network.random_friends(whose[row[friend]], self.rng)
        trigger = ids[row]
        ok = (contacts >= 0) & (contacts != trigger)
        contacts, trigger = contacts[ok], trigger[ok]
        ok = self.rng.random(len(contacts)) < state.reach(contacts)
        contacts, trigger = contacts[ok], trigger[ok]
        days = day + 1 + self.rng.integers(0, 30, len(contacts))
        self.fearful.add(days, contacts, trigger)

    def step(self, state: SimState) -> None:
        """Today's denunciations: ordinary ones, and the self-protective ones due today."""
        params = state.scenario.denunciation
        for day, arrested in self.arrested:
            self.expose(state, day, arrested)
        self.arrested.clear()
        fearful, trigger = self.fearful.pop(state.day)
        ok = state.free(fearful)
        self.denounce(state, fearful[ok], "self_protection", cause=trigger[ok])
        if params.rate_per_year <= 0:
            return
        free = float(state.counts[: Status.DEAD, Fate.FREE].sum())
        k = int(self.rng.poisson(params.rate_per_year / 365.25 * state.climate * free))
        if k == 0:
            return
        denouncers = state.sample_people(self.rng, k, lambda ids, rng: state.free(ids))
        self.denounce(state, denouncers, "denunciation", cause=denouncers)

    def subordinates(self, state: SimState, leaders: np.ndarray) -> np.ndarray:
        """One subordinate of each leader (-1 if none).

        A cell secretary's subordinates are the people of his workplace; a district, regional
        or central leader's are the heads of the units under him (`unit_heads_below`).
        """
        people = state.people
        found = state.network.random_workmates(leaders, 1, self.rng)[:, 0]
        higher = people.rank[leaders] > RankTier.CELL_SECRETARY
        low = np.searchsorted(self.bosses, leaders[higher], side="left")
        count = np.searchsorted(self.bosses, leaders[higher], side="right") - low
        pick = low + (self.rng.random(len(low)) * count).astype(np.int64)
        found[higher] = np.where(
            count > 0, self.clients[np.minimum(pick, len(self.clients) - 1)], -1
        )
        return found

    def targets(self, state: SimState, denouncers: np.ndarray) -> np.ndarray:
        """Whom each denounces: the patron (from below), a subordinate or a workmate or friend."""
        params = state.scenario.denunciation
        u = self.rng.random(len(denouncers))
        network = state.network
        workmate = network.random_workmates(denouncers, 1, self.rng)[:, 0]
        lateral = workmate
        if network.params.friends:
            friend = network.random_friends(denouncers, self.rng)
            lateral = np.where(self.rng.random(len(denouncers)) < 0.5, workmate, friend)
        boss = patron(state.people, network, state.leadership, denouncers)
        below = (u < params.from_below) & (boss >= 0)
        rank = state.people.rank
        above = (~below) & (u < params.from_below + params.from_above) & (rank[denouncers] > 0)
        target = np.where(below, boss, lateral)
        if above.any():
            target[above] = self.subordinates(state, denouncers[above])
        return target

    def denounce(
        self, state: SimState, denouncers: np.ndarray, channel: str, cause: np.ndarray
    ) -> None:
        """Record denunciations and open cases for some of them (counted in persons)."""
        if len(denouncers) == 0:
            return
        cause = column_of(cause, len(denouncers))
        acts = state.acts(denouncers, self.rng)
        denouncers, cause = denouncers[acts], cause[acts]
        target = self.targets(state, state.stand_ins(denouncers, self.rng))
        ok = (target >= 0) & (target != denouncers)
        ok[ok] = state.free(target[ok])
        ok[ok] = self.rng.random(int(ok.sum())) < state.reach(target[ok])
        denouncers, target, cause = denouncers[ok], target[ok], cause[ok]
        state.log.add(state.day, target, EventKind.DENOUNCED, cause=cause, channel=CHANNEL[channel])
        people = state.people
        people.denounced[target] = np.minimum(people.denounced[target].astype(np.int64) + 1, 255)
        p = state.scenario.denunciation.arrest_probability
        arrest = self.rng.random(len(target)) < p
        delay = 1 + self.rng.exponential(
            state.scenario.arrest.delay_days, size=int(arrest.sum())
        ).astype(np.int64)
        self.arrests.request(state, target[arrest], channel, cause=cause[arrest], delay=delay)


def unit_heads_below(state: SimState) -> tuple[np.ndarray, np.ndarray]:
    """Each leader's subordinate unit heads, as (leaders sorted, their subordinates).

    The district head's are the cell secretaries of his district, the regional head's the
    district heads of his region, a central leader's the regional heads he is patron of (the
    same ties as `people.patron`). Built once from the leadership (one entry per unit).
    """
    leadership, network, people = state.leadership, state.network, state.people
    workplaces = np.flatnonzero(leadership.cell >= 0)
    districts = np.flatnonzero(leadership.district >= 0)
    regions = np.flatnonzero(leadership.region >= 0)
    cell_heads = leadership.cell[workplaces]
    district_heads = leadership.district[districts]
    regional_heads = leadership.region[regions]
    pairs = [
        (leadership.district[network.district(workplaces)], cell_heads),
        (leadership.region[people.region[district_heads].astype(np.int64)], district_heads),
    ]
    if len(leadership.central):
        pairs.append((leadership.central[regions % len(leadership.central)], regional_heads))
    bosses = np.concatenate([b for b, _ in pairs]).astype(np.int64)
    clients = np.concatenate([c for _, c in pairs]).astype(np.int64)
    keep = (bosses >= 0) & (bosses != clients)
    bosses, clients = bosses[keep], clients[keep]
    order = np.argsort(bosses, kind="stable")
    return bosses[order], clients[order]
