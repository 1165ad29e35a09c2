"""Membership flows around the purges: admissions, promotion, voluntary exits, natural deaths.

- Admissions: new candidates, chosen among non-party adults with the origin mix the party sought
  (workers first; "alien elements" barred), at a usual yearly rate, replaced by the documented
  rate of a recruitment drive while the timeline keeps one open: the Lenin enrolment of 1924
  (241,600 admitted 22 Jan - 15 May 1924; Great Soviet Encyclopedia, 3rd ed., "Lenin Enrollment
  in the Party"), the recruitment of 1930 and of 1931-32 (their figures count the growth of the
  ranks, so admissions also replace the party's losses meanwhile: more than 500,000 in 1930,
  Kotkin, *Stalin* vol. II; 1.4 M in the two years before the CC/CCC resolution of 28 Apr 1933);
  the timeline also suspends admissions, as in the freeze from Dec 1932 to
  1 Nov 1936 (Henderson despatch No. 2063, FRUS 1933-39 doc. 309; records.csv
  party_admissions_frozen).
- Promotion: a candidate becomes a full member after the candidate stage (6 months to 2 years by
  social category under the 1922 and 1925 rules; Great Soviet Encyclopedia, "Kandidatskii stazh").
- Exits: members and candidates leave or are dropped "mechanically" (unpaid dues, lost
  registration); candidates may leave at a rate of their own.
- Deaths: natural mortality of everyone at liberty, party or not (those in custody and in the
  camps die at the camps' rate); ordinary citizens' deaths are counted, not logged
  (`SimState.natural_deaths`).

Each draws from its own random stream.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from chistka import kernels
from chistka.mechanisms.base import Mechanism, peer
from chistka.people import Fate, Status
from chistka.rng import stream
from chistka.scenario.schema import (
    COHORT_START_YEARS,
    ORIGINS,
    AdmissionsParams,
    ExitsParams,
    MortalityParams,
    PromotionParams,
)
from chistka.state import Calendar, EventKind, IdBuffer, SimState

DENSITY_CAP = 4.0
"""Largest workplace party density (see `people.PartyDensity`)."""

COMPACT_BELOW = 1 / 8
"""Acceptance below which an origin's recruitment pool drops those no longer eligible.

Admitted, arrested or dead people stay in the pool and are drawn in vain; once fewer than one
draw in eight is eligible the pool is rebuilt from the eligible alone (the same law: each drawn
in proportion to its workplace's density), so a pool running dry costs no more draws than a full
one, and an empty pool none (before, up to 100,000 draws a day per origin)."""

COMPACT_MIN_JUDGED = 64
"""Draws an admission day must judge before its acceptance can trigger a rebuild."""


def cohort_of_year(year: int) -> int:
    """Join cohort index of an admission in a given year."""
    return int(np.searchsorted(np.array(COHORT_START_YEARS), year, side="right") - 1)


class Promotion(Mechanism):
    """Candidates promoted to full members when their candidate stage is over.

    While promotion is off (the freeze of 1933-36) a candidate whose stage ends waits; when it
    resumes, each waiting candidate goes through a new candidate stage before the transfer, as
    the reopening of Nov 1936 asked for the careful checking of each case "regardless of how
    much time it takes" (Politburo resolution of Oct 1936, in K. Abramyan, *1937 god: N. S.
    Khrushchev i moskovskaia partorganizatsiia*, 2018, http://loveread.me/read_book.php?id=102037&p=72)
    and district committees asked candidates for new recommendations before the transfer
    (Kaluga, Sept 1937: https://private.bibliboba.com/books/1937-god-n-s-khrushchev-i-moskovskaia-partorganizatsi/p/99).
    Until 2026-12-03 the waiting candidates were all transferred within two months of the
    reopening (the party's candidates fell to a tenth by early 1937, against nine tenths in
    Rigby's series; docs/decisions.md 26.3).
    """

    name = "promotion"
    section = "promotion"
    params = PromotionParams
    always = True
    streams = ("promotion",)
    events = (EventKind.PROMOTED,)

    def __init__(self, state: SimState) -> None:
        """Start with the initial candidates' stages already running."""
        self.rng = stream(state.seed, self.name)
        # a new candidate stage replaces an unfinished one; candidates are all in the stratum
        self.due = Calendar(replace=True, slots=state.stratum_slots())
        stratum = state.stratum_ids()
        candidates = stratum[state.people.status[stratum] == Status.CANDIDATE]
        self.schedule(state, candidates, self.rng, remaining=True)
        self.waiting = IdBuffer()  # candidates whose stage ended while promotion was off

    def schedule(
        self,
        state: SimState,
        ids: np.ndarray,
        rng: np.random.Generator,
        *,
        remaining: bool = False,
    ) -> None:
        """Start (or, for the initial candidates, continue) the candidate stage of `ids`.

        The stage is drawn from `rng`, the stream of the mechanism that makes the candidates
        (admissions, review, appeals), so that each mechanism draws only from its own stream.
        """
        mean = state.scenario.promotion.stage_days
        stage = rng.gamma(4.0, mean / 4.0, size=len(ids))
        if remaining:
            stage *= rng.random(len(ids))
        self.due.add(state.day + 1 + stage.astype(np.int64), ids)

    def step(self, state: SimState) -> None:
        """Promote the candidates whose stage ends today (or keep them waiting while it is off).

        On the first day promotion is on again, the waiting candidates still candidates (and not
        given a stage since, as a reinstated candidate is) start a new stage.
        """
        enabled = state.scenario.promotion.enabled
        if enabled and len(self.waiting):
            waiting = self.waiting.view()
            _, first = np.unique(waiting, return_index=True)
            waiting = waiting[np.sort(first)]  # once each, in the order they began to wait
            self.waiting = IdBuffer()
            waiting = waiting[state.people.status[waiting] == Status.CANDIDATE]
            self.schedule(state, waiting[~self.due.scheduled(waiting)], self.rng)
        ids, _ = self.due.pop(state.day)
        ids = ids[state.people.status[ids] == Status.CANDIDATE]
        if len(ids) == 0:
            return
        if enabled:
            state.transition(ids, Status.MEMBER, EventKind.PROMOTED)
        else:
            self.waiting.extend(ids)


class Admissions(Mechanism):
    """New candidates admitted at the usual rate, or at a documented drive's while one is open.

    The timeline opens and closes documented drives (`AdmissionsParams.drive_per_year`, whose
    figure counts everyone admitted meanwhile) and suspends admissions by central decision
    (`AdmissionsParams.suspended`), so that the usual rate stays a constant of the run.
    """

    name = "admissions"
    section = "admissions"
    params = AdmissionsParams
    always = True
    needs = ("promotion",)
    streams = ("admissions", "admissions.stages")
    events = (EventKind.ADMITTED,)

    def __init__(self, state: SimState) -> None:
        """Index the recruitment pool by origin.

        The pool is the non-party part of the party-scale stratum.
        """
        self.rng = stream(state.seed, self.name)
        self.stage_rng = stream(state.seed, f"{self.name}.stages")  # the new candidates' stages
        stratum = state.stratum_ids()
        pool = stratum[state.people.status[stratum] == Status.NONPARTY]
        origin = state.people.origin[pool]
        self.pool = [pool[origin == o] for o in range(len(ORIGINS))]
        # each pool position weighted by its workplace's party density: drawn in proportion
        self.pool_density = [
            state.party_density(state.network.workplace(ids)) / DENSITY_CAP for ids in self.pool
        ]
        self.pool_weight = [kernels.alias_table(density) for density in self.pool_density]
        self.size_after = state.party_size()  # the party after the last admissions (agents)

    def setup(self, state: SimState, peers: Mapping[str, Mechanism]) -> None:
        """Admitted candidates start their stage with promotion."""
        self.promotion = peer(peers, Promotion)

    def step(self, state: SimState) -> None:
        """Admit today's candidates: pool positions drawn in proportion to workplace density.

        Until 2026-11-30 positions were drawn uniformly and kept with probability density / 4:
        the same law, but 40 draws for each person admitted.
        """
        params = state.scenario.admissions
        lost = max(0, self.size_after - state.party_size())
        self.size_after = state.party_size()
        if params.suspended:
            return
        rate = params.drive_per_year if params.drive_per_year > 0 else params.rate_per_year
        expected = rate / state.party_weight / 365.25
        k = int(self.rng.poisson(expected)) if expected > 0 else 0
        if params.drive_per_year > 0 and params.drive_is_growth:
            k += lost
        if k == 0:
            return
        per_origin = self.rng.multinomial(k, params.origin_preference.as_array())
        people = state.people
        admitted = []
        for origin, count in enumerate(per_origin):
            if count == 0:
                continue
            pool = self.pool[origin]
            judged = [0, 0]  # draws judged, of which eligible

            def eligible(
                at: np.ndarray,
                rng: np.random.Generator,
                pool: np.ndarray = pool,
                judged: list[int] = judged,
            ) -> np.ndarray:
                ok = self.eligible(state, pool[at])
                judged[0] += len(at)
                judged[1] += int(ok.sum())
                return ok

            at = state.sample_people(
                self.rng, int(count), eligible, alias=self.pool_weight[origin], pure=True
            )
            admitted.append(pool[at])
            if judged[0] >= COMPACT_MIN_JUDGED and judged[1] < COMPACT_BELOW * judged[0]:
                self.compact(state, origin)
        ids = np.concatenate(admitted)
        if len(ids) == 0:
            return
        people.cohort[ids] = cohort_of_year(state.date(state.day).year)
        people.join_day[ids] = state.day
        people.opposition[ids] = self.rng.random(len(ids)) < params.opposition_share
        state.transition(ids, Status.CANDIDATE, EventKind.ADMITTED)
        self.promotion.schedule(state, ids, self.stage_rng)
        self.size_after = state.party_size()

    @staticmethod
    def eligible(state: SimState, ids: np.ndarray) -> np.ndarray:
        """Whether each of `ids` can still be admitted: outside the party and at liberty."""
        people = state.people
        return (people.status[ids] == Status.NONPARTY) & (people.fate[ids] == Fate.FREE)

    def compact(self, state: SimState, origin: int) -> None:
        """Keep in an origin's pool only those still eligible, with their alias table.

        Draws no random numbers: the other origins' and mechanisms' draws are unchanged.
        """
        keep = self.eligible(state, self.pool[origin])
        self.pool[origin] = self.pool[origin][keep]
        self.pool_density[origin] = self.pool_density[origin][keep]
        self.pool_weight[origin] = kernels.alias_table(self.pool_density[origin])


class Exits(Mechanism):
    """Voluntary exits and mechanical drop-outs of candidates and members."""

    name = "exits"
    section = "exits"
    params = ExitsParams
    always = True
    streams = ("exits",)
    events = (EventKind.LEFT,)

    def __init__(self, state: SimState) -> None:
        """Create the mechanism's random stream."""
        self.rng = stream(state.seed, self.name)

    def step(self, state: SimState) -> None:
        """Today's leavers, drawn uniformly among candidates and members.

        With a candidates' rate of their own (`candidate_rate_per_year`), members and candidates
        are drawn apart, each at its rate: a candidate stuck in his stage while transfers were
        frozen (1933-36) leaves at the candidates' rate however long he waits.
        """
        params = state.scenario.exits
        if params.candidate_rate_per_year is None:
            self.leave(state, state.party_size(), params.rate_per_year, state.in_party)
            return
        for status, rate in (
            (Status.MEMBER, params.rate_per_year),
            (Status.CANDIDATE, params.candidate_rate_per_year),
        ):
            self.leave(
                state,
                int(state.counts[status].sum()),
                rate,
                lambda ids, status=status: state.people.status[ids] == status,
            )

    def leave(
        self,
        state: SimState,
        present: int,
        rate: float,
        among: Callable[[np.ndarray], np.ndarray],
    ) -> None:
        """Draw today's leavers among `present` agents that `among` admits, at `rate` a year."""
        k = int(self.rng.binomial(present, min(1.0, rate / 365.25)))
        if k == 0:
            return
        ids = state.sample_people(
            self.rng, k, lambda ids, rng: among(ids), among=state.party_stratum, pure=True
        )
        state.transition(ids, Status.LEFT, EventKind.LEFT)


class Mortality(Mechanism):
    """Natural deaths of everyone at liberty: party members, former members and citizens.

    The number of deaths of the day is drawn in aggregate from the counts, and the dead are
    drawn among all agents (each living agent at liberty equally likely, whatever the persons
    it stands for), so that the work follows the deaths, not the population. The population is
    the cohort alive on the first day: nobody comes of age during a run (assumption), so the
    living population shrinks by the death rate while the denominators read from the first day
    (`SimState.population_summary`, `region_persons`) stay as they were. The deaths of party
    members, former members, officers and anyone the log has followed are logged one by one;
    those of other citizens are counted by day, region and origin (`SimState.natural_deaths`).
    """

    name = "mortality"
    section = "mortality"
    params = MortalityParams
    always = True
    streams = ("mortality",)
    events = (EventKind.DIED,)

    def __init__(self, state: SimState) -> None:
        """Create the mechanism's random stream."""
        self.rng = stream(state.seed, self.name)

    def step(self, state: SimState) -> None:
        """Today's deaths."""
        rate = state.scenario.mortality.rate_per_year
        at_risk = int(state.counts[: Status.DEAD, Fate.FREE].sum())
        k = int(self.rng.binomial(at_risk, min(1.0, rate / 365.25)))
        if k == 0:
            return
        ids = state.sample_people(self.rng, k, lambda ids, rng: state.free(ids), pure=True)
        state.natural_deaths(ids)
