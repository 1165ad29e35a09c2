"""The purge review (chistka): autobiography, commission, audience, outcome.

Each member present when a campaign starts is called before the purge commission once, on a day
drawn within the campaign. The member tells an autobiography, in which a compromising social
origin or opposition past may be concealed; the commission scores the member on the purge
criteria (origin, revolutionary merit, conduct, passivity, opposition past, concealment found
out); people of the member's workplace attending the meeting speak for or against, and their
accusations help the commission find out a concealment. The member is kept, sent back to
candidate, or expelled.

Historical basis: DESIGN.md section 1; Getty, *Origins of the Great Purges* (1985), ch. 2 on the
1933 purge's criteria and procedure; the 28 Apr 1933 CC/CCC resolution "O chistke partii"
(RGASPI f.17 op.3 d.922) listing the categories to be purged; public purge meetings with
non-party audiences in 1929 (Rigby, *Communist Party Membership in the USSR*, 1968, ch. 5).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import ndtr

from chistka.mechanisms.appeals import Appeals
from chistka.mechanisms.base import Mechanism, peer
from chistka.mechanisms.membership import Promotion
from chistka.people import Status
from chistka.rng import stream
from chistka.scenario.schema import COHORTS, ORIGINS, Campaign, ReviewParams, Scenario
from chistka.state import Calendar, EventKind, SimState


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return float(np.log(p / (1 - p)))


def _origin_and_merit(weights: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Score weights by origin and by cohort (the merit of the revolution's veterans)."""
    origin_weight = np.zeros(len(ORIGINS))
    origin_weight[ORIGINS.index("alien")] = weights["origin_alien"]
    origin_weight[ORIGINS.index("employee")] = weights["origin_employee"]
    origin_weight[ORIGINS.index("peasant")] = weights["origin_peasant"]
    merit = np.zeros(len(COHORTS))
    merit[COHORTS.index("pre1917")] = weights["merit_pre1917"]
    merit[COHORTS.index("civil_war")] = weights["merit_civil_war"]
    return origin_weight, merit


def campaign_threshold(scenario: Scenario, campaign: Campaign) -> float:
    """The score above which a campaign expels: its own threshold, else the review's shared one.

    A scenario with few fitted parameters gives its campaigns one strictness
    (``review.threshold``) and lets them differ by their documented emphasis and by whom they
    review; a campaign with a threshold of its own keeps it.
    """
    return scenario.review.threshold if campaign.threshold is None else campaign.threshold


class Review(Mechanism):
    """Purge campaigns: scheduling of the reviews and the commission's decisions."""

    name = "review"
    section = "review"
    params = ReviewParams
    needs = ("promotion", "appeals")
    streams = ("review", "review.stages", "review.appeals", "review.flight")
    events = (EventKind.KEPT, EventKind.DEMOTED, EventKind.EXPELLED, EventKind.LEFT)

    @classmethod
    def used_by(cls, scenario: Scenario) -> bool:
        """Whether the scenario has purge campaigns (or sets the review's parameters)."""
        return bool(scenario.campaigns) or super().used_by(scenario)

    def __init__(self, state: SimState) -> None:
        """Index the scenario's campaigns by start day."""
        self.rng = stream(state.seed, self.name)
        # the stages of the demoted and the appeals of the expelled: streams of their own, so
        # that the outcomes do not shift the draws of the next reviews
        self.stage_rng = stream(state.seed, f"{self.name}.stages")
        self.appeal_rng = stream(state.seed, f"{self.name}.appeals")
        # who flees the review and when: a stream of its own, so that without flight the
        # reviews draw as before
        self.flight_rng = stream(state.seed, f"{self.name}.flight")
        self.due = Calendar()
        self.flights = Calendar()
        self.campaigns: list[Campaign] = list(state.scenario.campaigns)
        self.starts: dict[int, list[int]] = {}
        for index, campaign in enumerate(self.campaigns):
            day = (campaign.start - state.start).days
            self.starts.setdefault(day, []).append(index)

    def setup(self, state: SimState, peers: Mapping[str, Mechanism]) -> None:
        """Demoted members start a new candidate stage; the expelled may appeal."""
        self.promotion = peer(peers, Promotion)
        self.appeals = peer(peers, Appeals)

    def open_campaigns(self, state: SimState) -> None:
        """Schedule a review day for every candidate and member when a campaign opens.

        A campaign with a documented count of those it put through (`Campaign.reviewed`) calls
        that many persons, drawn at random among the members and candidates present; the others
        are not reviewed, but may leave while it runs, as those called may before their day
        (`schedule_flights`): nobody knew whether the commission would reach him.
        """
        for index in self.starts.get(state.day, []):
            campaign = state.scenario.campaigns[index]  # as the timeline has left it
            stratum = state.stratum_ids()
            present = stratum[state.in_party(stratum)]
            length = (campaign.end - campaign.start).days + 1
            called = np.ones(len(present), dtype=bool)
            if campaign.reviewed is not None:
                called = self.called(state, present, campaign.reviewed)
            days = state.day + self.rng.integers(0, length, size=int(called.sum()))
            self.due.add(days, present[called], np.full(len(days), index))
            deadline = np.full(len(present), state.day + length)
            deadline[called] = days
            self.schedule_flights(state, present, deadline, index)

    def called(self, state: SimState, ids: np.ndarray, persons: int) -> np.ndarray:
        """Which of `ids` a campaign calls to reach `persons` represented persons (a mask).

        Drawn at random (a random order, taken until the persons are reached); everyone when the
        party has fewer.
        """
        order = self.rng.permutation(len(ids))
        represented = np.cumsum(state.people.weight[ids[order]].astype(np.float64))
        count = int(np.searchsorted(represented, persons, side="left")) + 1
        called = np.zeros(len(ids), dtype=bool)
        called[order[:count]] = True
        return called

    def schedule_flights(
        self, state: SimState, ids: np.ndarray, deadlines: np.ndarray, index: int
    ) -> None:
        """Members who foresee expulsion may leave before the review reaches them (`flight`).

        Each member's chance is `flight` times the chance of expulsion his known record gives
        (`foreseen_risk`); who leaves leaves on a day drawn from the campaign's opening to the
        day before his deadline: his review day, or for one the campaign does not call the day
        after it ends (the opening day itself when the deadline is that day).
        """
        flight = state.scenario.review.flight
        if flight == 0 or len(ids) == 0:
            return
        campaign = state.scenario.campaigns[index]
        risk = self.foreseen_risk(state, ids, campaign)
        leaves = self.flight_rng.random(len(ids)) < np.minimum(1.0, flight * risk)
        wait = deadlines[leaves] - state.day
        days = state.day + np.floor(self.flight_rng.random(len(wait)) * wait).astype(np.int64)
        self.flights.add(days, ids[leaves], np.full(len(days), index))

    def step(self, state: SimState) -> None:
        """Open today's campaigns, let today's leavers go and hold today's reviews."""
        self.open_campaigns(state)
        ids, campaign_index = self.flights.pop(state.day)
        for index in np.unique(campaign_index):
            leaving = ids[campaign_index == index]
            state.transition(leaving[state.in_party(leaving)], Status.LEFT, EventKind.LEFT, index)
        ids, campaign_index = self.due.pop(state.day)
        for index in np.unique(campaign_index):
            due = ids[campaign_index == index]
            self.review(state, due[state.in_party(due)], int(index))

    @staticmethod
    def weights(state: SimState, campaign: Campaign) -> dict[str, float]:
        """The criteria's weights in a campaign: the review's, times the campaign's emphasis.

        A listed emphasis weighs each criterion it names by the review's one factor
        (`review.emphasis`); a table gives each criterion a multiplier of its own.
        """
        review = state.scenario.review
        weights = review.criteria.model_dump()
        emphasis = campaign.emphasis
        factors = (
            emphasis if isinstance(emphasis, dict) else dict.fromkeys(emphasis, review.emphasis)
        )
        for criterion, factor in factors.items():
            weights[criterion] *= factor
        return weights

    def foreseen_risk(self, state: SimState, ids: np.ndarray, campaign: Campaign) -> np.ndarray:
        """The chance of expulsion each member can foresee from his own record.

        The part of the commission's score he knows (origin, opposition past, conduct,
        passivity, merit), against the campaign's threshold and the commission's spread
        (`noise_sd`); what the audience will say and whether a concealment would be found out
        he cannot know. No draws.
        """
        params = state.scenario.review
        weights = self.weights(state, campaign)
        people = state.people
        origin_weight, merit = _origin_and_merit(weights)
        known = (
            origin_weight[people.origin[ids]]
            + weights["opposition"] * people.opposition[ids]
            + weights["misconduct"] * people.misconduct[ids]
            + weights["passivity"] * people.passivity[ids]
            + merit[np.maximum(people.cohort[ids], 0)]
        )
        threshold = campaign_threshold(state.scenario, campaign)
        return ndtr((known - threshold) / params.noise_sd)

    def scores(self, state: SimState, ids: np.ndarray, campaign: Campaign) -> np.ndarray:
        """The commission's score of each reviewed member (higher = worse)."""
        params = state.scenario.review
        weights = self.weights(state, campaign)
        people = state.people
        rng = self.rng
        k = len(ids)
        origin = people.origin[ids]
        opposition = people.opposition[ids]
        compromised = (origin == ORIGINS.index("alien")) | opposition

        # the audience of the member's workplace speaks for or against
        audience = state.network.random_workmates(ids, params.audience_size, rng)
        present = audience >= 0
        misconduct = people.misconduct[ids].astype(np.float64)
        passivity = people.passivity[ids].astype(np.float64)
        against_logit = _logit(params.speak_against) + 0.8 * misconduct + 0.4 * passivity
        for_logit = _logit(params.speak_for) - 0.8 * misconduct - 0.4 * passivity
        u = rng.random(audience.shape)
        speaks_against = present & (u < _sigmoid(against_logit)[:, None])
        speaks_for = present & ~speaks_against & (u > 1 - _sigmoid(for_logit)[:, None])
        n_against = speaks_against.sum(axis=1)
        n_for = speaks_for.sum(axis=1)

        # autobiography: a compromising past may be concealed, and found out
        conceals = compromised & (rng.random(k) < params.conceal_probability)
        p_found = 1 - (1 - params.detect_probability) * (1 - params.detect_per_accuser) ** n_against
        found_out = conceals & (rng.random(k) < p_found)
        hidden = conceals & ~found_out

        origin_weight, merit = _origin_and_merit(weights)

        score = (
            np.where(hidden, 0.0, origin_weight[origin] + weights["opposition"] * opposition)
            + weights["misconduct"] * misconduct
            + weights["passivity"] * passivity
            + weights["concealment"] * found_out
            + merit[np.maximum(people.cohort[ids], 0)]
            + params.audience_weight * (n_against - n_for)
            + rng.normal(0.0, params.noise_sd, size=k)
        )
        return score

    def review(self, state: SimState, ids: np.ndarray, index: int) -> None:
        """Review members of one campaign today and carry out the outcomes."""
        if len(ids) == 0:
            return
        campaign = state.scenario.campaigns[index]  # its threshold as the timeline has left it
        threshold = campaign_threshold(state.scenario, campaign)
        score = self.scores(state, ids, campaign)
        was_member = state.people.status[ids] == Status.MEMBER
        expelled = score > threshold
        demoted = ~expelled & was_member & (score > threshold - campaign.demote_band)
        kept = ~expelled & ~demoted
        previous = state.people.status[ids[expelled]].copy()
        state.log.add(state.day, ids[kept], EventKind.KEPT, index, score[kept])
        state.transition(ids[demoted], Status.CANDIDATE, EventKind.DEMOTED, index, score[demoted])
        state.transition(ids[expelled], Status.EXPELLED, EventKind.EXPELLED, index, score[expelled])
        self.promotion.schedule(state, ids[demoted], self.stage_rng)
        self.appeals.lodge(state, ids[expelled], previous, index, self.appeal_rng)
