"""Appeals of the expelled to the higher control commissions, which reinstate a share.

About a quarter of those expelled in the 1929-30 purge were reinstated on appeal (records.csv
purge1929_reinstated_share, 0.25). A reinstated person returns to the status held before the
expulsion.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from chistka.mechanisms.base import Mechanism, peer
from chistka.mechanisms.membership import Promotion
from chistka.people import Status
from chistka.rng import stream
from chistka.scenario.schema import AppealsParams
from chistka.state import Calendar, EventKind, SimState


class Appeals(Mechanism):
    """Appeals lodged after an expulsion and decided some months later."""

    name = "appeals"
    section = "appeals"
    params = AppealsParams
    needs = ("promotion",)
    streams = ("appeals", "appeals.stages")
    events = (EventKind.APPEALED, EventKind.REINSTATED, EventKind.APPEAL_REJECTED)

    def __init__(self, state: SimState) -> None:
        """Start with no appeal pending."""
        self.rng = stream(state.seed, self.name)
        self.stage_rng = stream(state.seed, f"{self.name}.stages")  # reinstated candidates
        self.pending = Calendar()

    def setup(self, state: SimState, peers: Mapping[str, Mechanism]) -> None:
        """Reinstated candidates go back to promotion to finish their stage."""
        self.promotion = peer(peers, Promotion)

    def lodge(
        self,
        state: SimState,
        ids: np.ndarray,
        previous: np.ndarray,
        campaign: int,
        rng: np.random.Generator,
    ) -> None:
        """Some of the newly expelled appeal; their cases are decided after a delay.

        Drawn from `rng`, the stream of the review that expelled them.
        """
        params = state.scenario.appeals
        appeal = rng.random(len(ids)) < params.appeal_share
        ids, previous = ids[appeal], previous[appeal]
        state.log.add(state.day, ids, EventKind.APPEALED, campaign)
        delay = 1 + rng.exponential(params.delay_days, size=len(ids)).astype(np.int64)
        self.pending.add(state.day + delay, ids, previous.astype(np.int64) * 256 + campaign)

    def step(self, state: SimState) -> None:
        """Decide the appeals due today."""
        ids, payload = self.pending.pop(state.day)
        still_expelled = (state.people.status[ids] == Status.EXPELLED) & state.free(ids)
        ids, payload = ids[still_expelled], payload[still_expelled]
        if len(ids) == 0:
            return
        previous, campaign = payload // 256, payload % 256
        reinstated = self.rng.random(len(ids)) < state.scenario.appeals.reinstate_share
        for c in np.unique(campaign):
            in_campaign = campaign == c
            for status in (Status.CANDIDATE, Status.MEMBER):
                chosen = in_campaign & reinstated & (previous == status)
                state.transition(ids[chosen], status, EventKind.REINSTATED, int(c))
                if status == Status.CANDIDATE:
                    self.promotion.schedule(state, ids[chosen], self.stage_rng)
            state.log.add(
                state.day, ids[in_campaign & ~reinstated], EventKind.APPEAL_REJECTED, int(c)
            )
