"""Camps: prisoners serve their terms, some die, some are released early.

Camp mortality is the record's for each year of 1930-1953 where a scenario says so (the Gulag's
certificate of mortality, records.csv gulag_camp_mortality_YEAR: 2.1-5.4% in 1935-40, 22-25% in
1942-43, under 1% from 1950), otherwise a constant (`mortality_per_year`; the built-in scenarios
take 5.6%, gulag_camp_mortality_1937_38, for the years before the series); after the halt
of November 1938 the timeline starts the review of troika and album sentences, which releases at
the scenario's constant rate (`review_release_per_year`, an assumption in the built-in
scenarios: docs/decisions.md 19.2). From the war's first day the releases were held (directive
No. 221 of 22 Jun 1941) until April 1942 (`releases_held`, docs/decisions.md 44.1).

The camps do not start empty: the prisoners already there on the first day (the record's Gulag
camp population, `camps.initial_population`) die and are released like the others, so that camp
deaths and releases have the right base.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

from chistka.mechanisms.base import Mechanism
from chistka.people import Fate, Status
from chistka.record import records
from chistka.rng import stream
from chistka.scenario.schema import Scenario
from chistka.scenario.terror import CampParams
from chistka.state import Calendar, EventKind, IdBuffer, SimState

USSR_POPULATION = 162_000_000
"""The 1937 census (docs/terror_sources.md, section 9): the population the record's camp figures
belong to, against which a scenario's population.size takes its share."""

_CAMP_SERIES = re.compile(r"gulag_camps_(\d{4})")
_POLITICAL_SERIES = re.compile(r"gulag_camps_political_(\d{4})")
_MORTALITY_SERIES = re.compile(r"gulag_camp_mortality_(\d{4})")


def _series(pattern: re.Pattern[str]) -> list[tuple[dt.date, float, str]]:
    """The record's 1 January figures whose id matches `pattern` (its group: the year), by date."""
    return sorted(
        (dt.date(int(match.group(1)), 1, 1), float(row.value), row.id)
        for row in records().values()
        if (match := pattern.fullmatch(row.id)) and row.value is not None
    )


def recorded_political_share(date: dt.date) -> tuple[float, tuple[str, ...]]:
    """Share of the camp prisoners convicted in political cases on a date, and its rows.

    The record gives the prisoners "convicted of counter-revolutionary crimes" in the ITL camps on
    1 January 1935-1953 (records.csv gulag_camps_political_YEAR, Zemskov's table); the share is
    that count over the year's camp population (gulag_camps_YEAR), interpolated linearly between
    two years, and the nearest year's share outside the series (assumption: the 1934 count was
    not read, so great-terror's first day, 1 Dec 1934, takes the share of 1 Jan 1935).
    """
    totals = {when: value for when, value, _ in _series(_CAMP_SERIES)}
    points = [
        (when, value / totals[when], row_id)
        for when, value, row_id in _series(_POLITICAL_SERIES)
        if totals.get(when)
    ]
    if not points:
        return 1.0, ()
    if date <= points[0][0]:
        return points[0][1], (points[0][2],)
    for (first, low, low_id), (last, high, high_id) in zip(points, points[1:], strict=False):
        if date <= last:
            share = (date - first).days / (last - first).days
            return low + share * (high - low), (low_id, high_id)
    return points[-1][1], (points[-1][2],)


def recorded_mortality() -> dict[int, float]:
    """The record's yearly camp mortality, by year (records.csv gulag_camp_mortality_YEAR).

    Deaths over the year's average number of prisoners of every charge, 1930-1953, from the
    Gulag's certificate of mortality (OURZ GULAG, GARF f. 9414): 4.2% in 1930, 15.3% in the
    famine year 1933, 2.1-5.4% in 1935-1940, 24.9% and 22.4% in the war's 1942 and 1943, under
    1% from 1950 (docs/decisions.md 46.1).
    """
    return {when.year: value for when, value, _ in _series(_MORTALITY_SERIES)}


def recorded_camp_population(date: dt.date) -> tuple[float, tuple[str, str]] | None:
    """The record's ITL camp population of the USSR on a date, and the two rows it comes from.

    The series (records.csv gulag_camps_1934 ... gulag_camps_1953, Getty-Rittersporn-Zemskov
    1993) gives 1 January figures; between two of them the value is interpolated linearly.
    None outside the series.
    """
    series = _series(_CAMP_SERIES)
    for (first, low, low_id), (last, high, high_id) in zip(series, series[1:], strict=False):
        if first <= date <= last:
            share = (date - first).days / (last - first).days
            return low + share * (high - low), (low_id, high_id)
    return None


def camp_input_rows(scenario: Scenario) -> tuple[str, ...]:
    """The record rows a scenario's first day in the camps is taken from: its inputs.

    Unless the scenario gives `camps.initial_population`, the camps start with the record's
    population interpolated between the two 1 January figures around the first day, and the
    political share of those prisoners comes from the record too (`recorded_political_share`),
    so those rows are inputs of the run and never scored as fits (until 2026-12-02 great-terror,
    starting on 1 Dec 1934, scored gulag_camps_1935, eleven twelfths of its first day, as
    validation). Camps that start empty take no row.
    """
    start = scenario.scenario.start
    given = scenario.camps.initial_population
    recorded = recorded_camp_population(start)
    if given == 0 or (given is None and recorded is None):
        return ()
    totals = recorded[1] if given is None and recorded is not None else ()
    return totals + recorded_political_share(start)[1]


def initial_camp_persons(state: SimState) -> float:
    """Prisoners in the camps on the first day (see `CampParams.initial_population`)."""
    given = state.scenario.camps.initial_population
    if given is not None:
        return float(given)
    recorded = recorded_camp_population(state.start)
    if recorded is None:
        return 0.0
    return recorded[0] * state.scenario.population.size / USSR_POPULATION


class Camps(Mechanism):
    """Terms, deaths and releases of camp prisoners."""

    name = "camps"
    section = "camps"
    params = CampParams
    streams = ("camps", "camps.initial")
    events = (EventKind.DIED_IN_CAMP, EventKind.RELEASED, EventKind.IN_CAMP_AT_START)

    @classmethod
    def used_by(cls, scenario: Scenario) -> bool:
        """Whether the scenario gives the camps' section, or the record has prisoners on day one."""
        start = scenario.scenario.start
        return super().used_by(scenario) or recorded_camp_population(start) is not None

    def __init__(self, state: SimState) -> None:
        """Start with the camp population of the first day (`initial_camp_persons`)."""
        self.rng = stream(state.seed, self.name)
        self.release_due = Calendar(replace=True)  # a new term replaces an earlier one
        self.sentenced = IdBuffer()  # everyone ever admitted: the camp population is among them
        self.reviewable = IdBuffer()  # sentenced by a troika or an album
        self.held = IdBuffer()  # terms ended while releases were held (`releases_held`)
        self.mortality_by_year = (
            recorded_mortality() if state.scenario.camps.mortality_from_record else {}
        )
        self.populate(state, stream(state.seed, f"{self.name}.initial"))

    def populate(self, state: SimState, rng: np.random.Generator) -> None:
        """Put the first day's prisoners in the camps, with the rest of their terms to serve.

        They are drawn among free non-party citizens outside the party-scale stratum (agents at
        the citizen scale, rounded stochastically), and their remaining terms are a uniform
        share of a term drawn as for the newly sentenced (assumption). They were sentenced
        before the run, so no sentence is logged; the share of them convicted in political
        cases (`recorded_political_share`) is logged as `IN_CAMP_AT_START`, so that the
        political prisoners can be counted like the record's (`political_prisoners:DATE`). Its
        draws come after the others, which are as they were before it.

        The stratum is left out by position (`SimState.outside_stratum`), not by weight: until
        2026-12 the draw kept agents whose weight was the citizens', which left out the stratum
        only while the two scales differed; at one agent per person (`--scale 1`) it drew the
        recruitment pool and the non-party officers too (about 2,100 of the pool's 600,000
        in great-terror), which the default scale never does.
        """
        persons = initial_camp_persons(state)
        state.population_summary["camp_persons"] = persons
        state.population_summary["input_rows"] = list(camp_input_rows(state.scenario))
        if persons <= 0:
            return
        weight = float(np.float32(1.0 / state.scale))
        exact = persons / weight
        k = int(np.floor(exact)) + int(rng.random() < exact - np.floor(exact))
        people = state.people
        ids = state.sample_people(
            rng,
            k,
            lambda ids, rng: (
                (people.status[ids] == Status.NONPARTY)
                & (people.fate[ids] == Fate.FREE)
                & state.outside_stratum(ids)
            ),
        )
        state.place(ids, Fate.CAMP)
        mean_years = state.scenario.sentencing.camp_years
        term = rng.gamma(4.0, mean_years * 365.25 / 4.0, size=len(ids)) * rng.random(len(ids))
        self.release_due.add(state.day + 1 + term.astype(np.int64), ids)
        self.sentenced.extend(ids)
        share, _ = recorded_political_share(state.start)
        political = ids[rng.random(len(ids)) < share]
        state.log.add(state.day, political, EventKind.IN_CAMP_AT_START)

    def admit(
        self,
        state: SimState,
        ids: np.ndarray,
        mean_years: float,
        rng: np.random.Generator,
        reviewable: np.ndarray | None = None,
        term_range: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Set the end of the term of the newly sentenced.

        A term is gamma-distributed around `mean_years`, or, where `term_range` gives a
        sentence its body's shortest and longest term (years; NaN: none), uniform between them
        (Order 00447's category 2: 8-10 years). The terms are drawn from `rng`, the stream of the
        court that passed the sentence: the gamma draws first for everyone, so that a range
        changes no other sentence's term. `reviewable` marks those sentenced by a troika or an
        album, whose sentences were reviewed after the halt (`CampParams.post_halt_review`).
        """
        if len(ids) == 0:
            return
        term = rng.gamma(4.0, mean_years * 365.25 / 4.0, size=len(ids))
        if term_range is not None:
            low, high = term_range
            ranged = ~np.isnan(low)
            if ranged.any():
                term[ranged] = rng.uniform(low[ranged], high[ranged]) * 365.25
        self.release_due.add(state.day + 1 + term.astype(np.int64), ids)
        self.sentenced.extend(ids)
        if reviewable is not None:
            self.reviewable.extend(ids[reviewable])

    def step(self, state: SimState) -> None:
        """Releases at the end of terms, deaths, early releases.

        While `CampParams.releases_held` is on, those whose terms end are kept (`held`) and no
        one is released early or on review; the day it goes off, every one of them still in the
        camps is released.
        """
        params = state.scenario.camps
        ids, _ = self.release_due.pop(state.day)
        if params.releases_held:
            self.held.extend(ids)
            ids = ids[:0]
        elif len(self.held):
            ids = np.concatenate([self.held.view(), ids])
            self.held = IdBuffer()
        ids = ids[state.people.fate[ids] == Fate.CAMP]
        state.transition_fate(ids, Fate.FREE, EventKind.RELEASED)
        prisoners = int(state.counts[:, Fate.CAMP].sum())
        if prisoners == 0:
            return
        in_camp = lambda ids, rng: state.people.fate[ids] == Fate.CAMP  # noqa: E731
        mortality = self.mortality_by_year.get(
            state.date(state.day).year, params.mortality_per_year
        )
        deaths = int(self.rng.binomial(prisoners, min(1.0, mortality / 365.25)))
        if deaths:
            dead = state.sample_people(self.rng, deaths, in_camp, among=self.sentenced.view())
            state.transition_fate(dead, Fate.DIED, EventKind.DIED_IN_CAMP)
            self.release_due.cancel(dead)
        if params.releases_held:
            return
        early = int(self.rng.binomial(prisoners, min(1.0, params.early_release_per_year / 365.25)))
        if early:
            freed = state.sample_people(self.rng, early, in_camp, among=self.sentenced.view())
            state.transition_fate(freed, Fate.FREE, EventKind.RELEASED)
            self.release_due.cancel(freed)
        if params.post_halt_review and params.review_release_per_year > 0:
            self.review(state, params.review_release_per_year)

    def review(self, state: SimState, rate_per_year: float) -> None:
        """Release troika and album prisoners whose cases had no basis (not hostile).

        After the halt the NKVD and the Procurator let regional NKVD chiefs cut the former
        troikas' sentences or release on time served (docs/decisions.md [GulagBezRetushi]); the
        model releases, at `rate_per_year`, those the mass operations sentenced who were not in
        fact hostile to the regime.

        Each entry of the list of mass-operation prisoners comes up for review on a day with
        probability rate / 365.25: a binomial number of distinct entries drawn at random, which
        is the same as one draw per entry, but with work that grows with the cases reviewed, not
        with the prisoners (a scan of every prisoner each day took a quarter of the day loop at full
        scale). Those still in the camps and not hostile are released, once each.
        """
        entries = self.reviewable.view()
        reviewed = self.rng.binomial(len(entries), rate_per_year / 365.25)
        if reviewed == 0:
            return
        picked = entries[self.rng.choice(len(entries), size=reviewed, replace=False)]
        people = state.people
        chosen = np.unique(picked[(people.fate[picked] == Fate.CAMP) & ~people.hostile[picked]])
        state.transition_fate(chosen, Fate.FREE, EventKind.RELEASED)
        self.release_due.cancel(chosen)
