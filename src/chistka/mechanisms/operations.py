"""The NKVD's mass and national operations: orders, limits by region, requests for more.

- Order 00447 (30 Jul 1937, from 5 Aug 1937) against "anti-Soviet elements": limits by region in
  category 1 (shooting) and category 2 (camps), to be used up in four months; regions that had
  used theirs asked for more and were granted increases (Werth 2010; records.csv
  o00447_limit_cat1, o00447_limit_cat2; Politburo decisions of 31 Jan and 17 Feb 1938, see
  docs/terror_sources.md).
- National operations (German, Order 00439 of 25 Jul 1937; Polish, Order 00485 of 11 Aug 1937;
  Harbin, Order 00593 of 20 Sep 1937; Latvian from 3 Dec 1937; ...) against diasporas, without
  fixed limits, sentenced by the "album" procedure (docs/terror_sources.md).

A region's initial limits are the documented ones where the scenario takes its regions from
the order's table (`population.region_table = "order_00447"`: Order 00447's limits for each
republic, krai and oblast, `chistka.record.regions`); otherwise the operation's limits are
shared out by the regions' populations (an assumption).

Each region's operation opens cases at the pace that would use its limits up in the planned
four months. Cases of "anti-Soviet elements" that reach the NKVD by other channels (denunciation,
testimony, routine) during the operation are judged by the troika too and use up the same limits
(see `sentencing.py`). Every five days (the order's reporting interval) a region whose remaining
limit would last fewer than `request_days` at its current pace asks the centre for that many
days' worth of cases, scaled by the share of its listed suspects still free; the centre grants a
share of the request (`grant_share`, never more than the region's initial limit at once) until
its grants reach a cap (`grant_cap`, a multiple of the initial limits). The requests and
grants are logged per region (`Operations.requests`). Categories 1 and 2 are assigned at
sentencing, within the limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chistka.mechanisms.arrest import Arrests, draw_persons
from chistka.mechanisms.base import Mechanism, peer
from chistka.mechanisms.regional import running_total_by_region
from chistka.record.regions import region_names, regional_table
from chistka.rng import stream
from chistka.scenario.terror import CATEGORIES, DIASPORAS, Operation
from chistka.state import SimState


@dataclass
class LimitLedger:
    """Limits and their use, per region, for one operation (in persons)."""

    limit_shoot: np.ndarray
    limit_camp: np.ndarray
    initial_shoot: np.ndarray
    initial_camp: np.ndarray
    opened: np.ndarray  # cases opened (arrests requested, or taken by the troika) against the limit
    listed: np.ndarray  # of those, cases opened from the operation's lists (its targets)
    sentenced_shoot: np.ndarray
    sentenced_camp: np.ndarray

    @classmethod
    def split(
        cls,
        operation: Operation,
        region_persons: np.ndarray,
        documented: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> LimitLedger:
        """The operation's initial limits per region (category 1, category 2).

        `documented` gives them region by region as the order set them (the scenario's region
        table, `chistka.record.regions`); without it the operation's limits are shared out by
        the regions' populations (a model assumption).
        """
        if documented is None:
            share = region_persons / region_persons.sum()
            shoot = operation.limit_shoot * share
            camp = operation.limit_camp * share
        else:
            shoot, camp = (np.asarray(limits, dtype=np.float64).copy() for limits in documented)
            if shoot.shape != region_persons.shape or camp.shape != region_persons.shape:
                raise ValueError(
                    f"{operation.name}: {shoot.size} documented limits for "
                    f"{region_persons.size} regions"
                )
        zeros = np.zeros(len(region_persons))
        return cls(
            shoot.copy(),
            camp.copy(),
            shoot,
            camp,
            zeros.copy(),
            zeros.copy(),
            zeros.copy(),
            zeros.copy(),
        )

    @property
    def remaining(self) -> np.ndarray:
        """Persons the regions may still arrest under the current limits."""
        return np.maximum(self.limit_shoot + self.limit_camp - self.opened, 0.0)


def documented_limits(
    state: SimState, operation: Operation
) -> tuple[np.ndarray, np.ndarray] | None:
    """The operation's initial limits per region as documented, or None (shared by population).

    A scenario whose regions come from a documented table (`population.region_table`) gives
    the operation of the table's name the table's limits: Order 00447's own limits for each
    republic, krai and oblast. The camps' limit goes to no region (the model has no camp troika).
    """
    name = state.scenario.population.region_table
    if name is None:
        return None
    table = regional_table(name)
    if operation.name != table.operation:
        return None
    return table.limit_cat1, table.limit_cat2


def troika_shoot_share(state: SimState, operation: Operation) -> float | None:
    """The share of its cases the operation's troika sends to category 1 while there is room.

    None where the troika shoots in proportion to the room left under the two limits; the
    album's share where the scenario says 'album' (the same regional NKVD chief and prosecutor
    proposed the category in both; docs/decisions.md sections 3.1-3.2).
    """
    share = operation.troika_shoot_share
    if share == "album":
        return state.scenario.sentencing.album_death_share
    return share


@dataclass
class LimitRequest:
    """A region's request for a higher limit, and what the centre granted (persons)."""

    day: int
    operation: str
    region: int
    requested: float
    shoot: float
    camp: float


REPORT_DAYS = 5
"""Regions reported on an operation every five days (Order 00447, section on reporting;
docs/decisions.md section 2.1): the days on which they may ask for more."""

PACE_WINDOW_DAYS = 30
"""A region's current pace is the cases it opened against the limits over the last 30 days."""


class Operations(Mechanism):
    """The operations of the scenario's timeline."""

    name = "operations"
    section = "operations"
    params = Operation
    needs = ("arrest",)
    streams = ("operations",)

    def __init__(self, state: SimState) -> None:
        """Share out the limits and count each region's targets (from the census)."""
        self.rng = stream(state.seed, self.name)
        self.operations = list(state.scenario.operations)
        self.ledgers = [
            LimitLedger.split(op, state.region_persons, documented_limits(state, op))
            for op in self.operations
        ]
        self.requests: list[LimitRequest] = []
        regions = len(state.region_persons)
        self.recent = [np.zeros((PACE_WINDOW_DAYS, regions)) for _ in self.operations]
        self.target_persons = [self.census_targets(state, op) for op in self.operations]
        self.targets = [
            state.registered("category" if op.kind == "category" else "diaspora", self.codes(op))
            for op in self.operations
        ]

    def setup(self, state: SimState, peers: Mapping[str, Mechanism]) -> None:
        """The operations' cases go to the NKVD."""
        self.arrests = peer(peers, Arrests)

    def summary(self, sentences: pd.DataFrame) -> pd.DataFrame:
        """Per operation: limits at the start and at the end, cases opened, sentences, increases.

        `sentences` gives the persons each operation sentenced to death and to the camps
        (`Results.sentences_by_operation`, counted from the sentence events). The limits of an
        operation without any (the national operations' albums) are left blank, not 0.
        """
        rows = []
        for op, ledger in zip(self.operations, self.ledgers, strict=True):
            limited = op.kind == "category"
            rows.append(
                {
                    "operation": op.name,
                    "kind": op.kind,
                    "initial_limit_shoot": float(ledger.initial_shoot.sum()) if limited else None,
                    "initial_limit_camp": float(ledger.initial_camp.sum()) if limited else None,
                    "final_limit_shoot": float(ledger.limit_shoot.sum()) if limited else None,
                    "final_limit_camp": float(ledger.limit_camp.sum()) if limited else None,
                    "cases_opened": float(ledger.opened.sum()),
                    "sentenced_shoot": float(sentences.loc[op.name, "sentenced_shoot"]),
                    "sentenced_camp": float(sentences.loc[op.name, "sentenced_camp"]),
                    "requests": sum(1 for r in self.requests if r.operation == op.name),
                    "requested": sum(r.requested for r in self.requests if r.operation == op.name),
                    "increases_granted": sum(
                        1 for r in self.requests if r.operation == op.name and r.shoot + r.camp > 0
                    ),
                    "granted_shoot": sum(r.shoot for r in self.requests if r.operation == op.name),
                    "granted_camp": sum(r.camp for r in self.requests if r.operation == op.name),
                }
            )
        return pd.DataFrame(rows)

    def request_log(self, state: SimState) -> pd.DataFrame:
        """Every region's request for higher limits (empty if no region asked).

        Columns: date, operation, region (the index, as in the event log), region_name (the
        region table's name for it, blank where the scenario's regions have none), persons asked
        for and granted in categories 1 and 2.
        """
        columns = [
            "date",
            "operation",
            "region",
            "region_name",
            "requested",
            "granted_shoot",
            "granted_camp",
        ]
        names = region_names(state.scenario.population.region_table)
        rows = [
            (
                pd.Timestamp(state.date(r.day)),
                r.operation,
                r.region,
                names[r.region] if names else "",
                r.requested,
                r.shoot,
                r.camp,
            )
            for r in self.requests
        ]
        return pd.DataFrame(rows, columns=columns)

    @staticmethod
    def codes(op: Operation) -> list[int]:
        """The operation's targets as codes of its register (categories or diasporas)."""
        names = CATEGORIES if op.kind == "category" else DIASPORAS
        return [names.index(t) for t in op.targets]

    def census_targets(self, state: SimState, op: Operation) -> np.ndarray:
        """Persons of the operation's target categories or diasporas in each region at the start."""
        persons = state.category_persons if op.kind == "category" else state.diaspora_persons
        return persons[:, self.codes(op)].sum(axis=1)

    def step(self, state: SimState) -> None:
        """Open today's cases of every operation under way; regions ask, the centre grants."""
        today = state.date(state.day)
        for index, ledger in enumerate(self.ledgers):
            op = state.scenario.operations[index]
            self.recent[index][state.day % PACE_WINDOW_DAYS] = 0.0
            if not op.start <= today <= op.end:
                continue
            if op.kind == "category":
                if (today - op.start).days % REPORT_DAYS == 0:
                    self.ask_and_grant(state, index, op, ledger)
                planned = (
                    op.pace_factor * (ledger.initial_shoot + ledger.initial_camp) / op.planned_days
                )
                quota = np.minimum(planned, ledger.remaining)
            else:
                rate = op.rate_per_year
                if rate is None:
                    rate = state.scenario.arrest.national_rate_per_year
                quota = rate / 365.25 * self.target_persons[index]
            if quota.sum() > 0:
                self.open_cases(state, index, op, ledger, quota)

    def take(self, index: int, day: int, region: np.ndarray, weight: np.ndarray) -> None:
        """Count cases against a region's limits (opened from the lists or taken by the troika)."""
        ledger = self.ledgers[index]
        used = np.bincount(region, weights=weight, minlength=len(ledger.opened))
        ledger.opened += used
        self.recent[index][day % PACE_WINDOW_DAYS] += used

    def ask_and_grant(
        self, state: SimState, index: int, op: Operation, ledger: LimitLedger
    ) -> None:
        """Regions about to run out ask for more; the centre grants a share of each request.

        With a troika that judges by its own share of shootings (`troika_shoot_share`) each
        category is asked for on its own (`ask_by_category`); otherwise the limits are asked for
        together (`ask_together`). Every grant is logged (`requests`).
        """
        if troika_shoot_share(state, op) is None:
            self.ask_together(state, op, ledger, self.pace(index), self.pool(index, ledger))
        else:
            self.ask_by_category(state, op, ledger, self.pace(index), self.pool(index, ledger))

    def pace(self, index: int) -> np.ndarray:
        """Cases each region opened per day against the operation's limits, last 30 days."""
        return self.recent[index].sum(axis=0) / PACE_WINDOW_DAYS

    def pool(self, index: int, ledger: LimitLedger) -> np.ndarray:
        """Share of each region's listed suspects (its census of the targets) not yet taken."""
        census = self.target_persons[index]
        return np.maximum(census - ledger.listed, 0.0) / np.maximum(census, 1e-9)

    def within_cap(self, op: Operation, ledger: LimitLedger, grants: np.ndarray) -> np.ndarray:
        """The day's grants, cut in proportion where they would pass the operation's cap."""
        if op.grant_cap is None:
            return grants
        initial = float((ledger.initial_shoot + ledger.initial_camp).sum())
        granted = float((ledger.limit_shoot + ledger.limit_camp).sum()) - initial
        room = max(op.grant_cap * initial - granted, 0.0)
        total = float(grants.sum())
        return grants * (room / total) if total > room else grants

    def grant(
        self,
        state: SimState,
        op: Operation,
        ledger: LimitLedger,
        region: int,
        asked: float,
        shoot: float,
        camp: float,
    ) -> None:
        """Raise a region's limits and log its request and the grant."""
        ledger.limit_shoot[region] += shoot
        ledger.limit_camp[region] += camp
        self.requests.append(LimitRequest(state.day, op.name, region, asked, shoot, camp))

    def ask_by_category(
        self,
        state: SimState,
        op: Operation,
        ledger: LimitLedger,
        pace: np.ndarray,
        pool: np.ndarray,
    ) -> None:
        """Each region asks for more in a category whose limit it is about to use up.

        Order 00447 set the limits per category and required a justified petition to raise
        them (section II; docs/decisions.md section 2.1). A region's use of a category is its
        sentences in it plus its share (`troika_shoot_share`, or the rest for category 2) of
        the cases opened and not yet judged; when what is left would last fewer than
        `request_days` at its current pace, it asks for that many days of the category's
        cases, scaled by the share of its listed suspects still free. The centre grants
        `grant_share` of each request, at most the region's initial limits at once and never
        beyond the cap. So the split of the increases follows the troikas' own verdicts.
        """
        share_shoot = float(troika_shoot_share(state, op))
        pending = np.maximum(ledger.opened - ledger.sentenced_shoot - ledger.sentenced_camp, 0.0)
        asked = []
        for limit, sentenced, share in (
            (ledger.limit_shoot, ledger.sentenced_shoot, share_shoot),
            (ledger.limit_camp, ledger.sentenced_camp, 1.0 - share_shoot),
        ):
            need = op.request_days * pace * share
            short = (pace > 0) & (limit - sentenced - share * pending < need)
            asked.append(np.where(short, need * pool, 0.0))
        requested = asked[0] + asked[1]
        asking = np.flatnonzero(requested > 0)
        if len(asking) == 0:
            return
        grants = op.grant_share * np.stack([asked[0][asking], asked[1][asking]])
        initial = ledger.initial_shoot[asking] + ledger.initial_camp[asking]
        grants *= np.minimum(1.0, initial / np.maximum(grants.sum(axis=0), 1e-12))
        total = grants.sum(axis=0)
        capped = self.within_cap(op, ledger, total)
        grants *= np.divide(capped, total, out=np.zeros_like(total), where=total > 0)
        for k, region in enumerate(asking):
            self.grant(
                state,
                op,
                ledger,
                int(region),
                float(requested[region]),
                float(grants[0, k]),
                float(grants[1, k]),
            )

    def ask_together(
        self,
        state: SimState,
        op: Operation,
        ledger: LimitLedger,
        pace: np.ndarray,
        pool: np.ndarray,
    ) -> None:
        """Regions about to run out ask for more of both categories together.

        A region asks when its remaining limit would last fewer than `request_days` at its pace
        of the last 30 days, for `request_days` of cases at that pace, scaled by the share of
        its listed suspects still free (a region that has worked through its lists has less to
        ask for); the centre grants `grant_share` of the request, at most the region's initial
        limit at once, split by `grant_shoot_share`, and never more in all than `grant_cap`
        times the operation's initial limits (the day's grants are cut in proportion where
        they would pass it).
        """
        asking = np.flatnonzero((pace > 0) & (ledger.remaining < op.request_days * pace))
        requested = op.request_days * pace[asking] * pool[asking]
        initial = ledger.initial_shoot[asking] + ledger.initial_camp[asking]
        grants = self.within_cap(op, ledger, np.minimum(op.grant_share * requested, initial))
        for region, asked, total in zip(asking, requested, grants, strict=True):
            if asked <= 0:
                continue
            initial_limit = ledger.initial_shoot[region] + ledger.initial_camp[region]
            share = op.grant_shoot_share
            if share is None:
                share = ledger.initial_shoot[region] / initial_limit if initial_limit > 0 else 0.0
            shoot, camp = float(total) * share, float(total) * (1 - share)
            self.grant(state, op, ledger, int(region), float(asked), shoot, camp)

    def open_cases(
        self, state: SimState, index: int, op: Operation, ledger: LimitLedger, quota: np.ndarray
    ) -> None:
        """Draw today's targets in all regions with a quota and pass them to the NKVD.

        One draw among the operation's registered targets, restricted to regions with a quota;
        under limits,
        no region opens more cases than its remaining limit allows.
        """
        people = state.people
        active = quota > 0

        def eligible(ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
            ok = active[people.region[ids]]
            ok[ok] = state.free(ids[ok])
            return ok

        picked = draw_persons(
            state, self.rng, float(quota.sum()), eligible, among=self.targets[index]
        )
        if len(picked) == 0:
            return
        region = people.region[picked].astype(np.int64)
        weight = people.weight[picked].astype(np.float64)
        if op.kind == "category":
            within = running_total_by_region(region, weight) <= ledger.remaining[region]
            picked, region, weight = picked[within], region[within], weight[within]
        self.take(index, state.day, region, weight)
        ledger.listed += np.bincount(region, weights=weight, minlength=len(ledger.listed))
        channel = "category" if op.kind == "category" else "national"
        delay = self.rng.integers(0, 7, size=len(picked))
        self.arrests.request(state, picked, channel, operation=index, delay=delay)
