"""Exile and "other measures": the political sentences besides death and the camps.

The 1953 MVD table of convictions in cases of the OGPU/NKVD/MGB (the "Pavlov spravka", GARF
f.9401 op.1 d.4157 ll.201-205; reproduced by Kurashvili, Istoricheskaia logika stalinizma, 1996,
pp.159-60, and in Lewin, The Soviet Century, 2005, Appendix 1: records.csv convicted_YEAR) gives
for every year from 1921 to 1953 the convicted and four sentences: death, camps (with colonies and
prisons), exile (ssylka, to a set place under surveillance, and vysylka, banishment from a place)
and other measures. Exile was common before the Great Terror and rare during it: 58,816 of the
208,069 convicted in 1930 (28%), 23,719 of 274,670 in 1936 (9%), 1,366 of 790,665 in 1937
(0.2%); other measures 14,609, 30,415 and 6,914. Exile terms were fixed: the special commission
of the NKVD of 10 Aug 1922 (predecessor of the OGPU's Special Board) could exile for up to three
years; later terms ran to five or ten years (Memorial Krasnoyarsk, "Internal exile with a fixed
term", memorial.krsk.ru/eng/Exile/101.htm).

Sentencing offers each ordinary political case spared death (not a troika's or an album's case)
to this mechanism, which takes the scenario's shares for exile and for other measures: both leave
custody (their fate is FREE again), an exile until the day its term ends (`Exile.until`). The
shares default to 0 and the section to absent: exile changes nothing unless a scenario asks for it.

The terms are kept for the exiled only, in a compiled hash table (`state.IdDays`): until
2026-12-05 they were a person attribute of 4 bytes per agent, 0.6 GiB of a full-scale run's
peak memory (docs/scale.md), for the few tens of thousands ever exiled.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from chistka.mechanisms.base import Mechanism, peer
from chistka.mechanisms.sentencing import Sentencing
from chistka.people import Fate
from chistka.rng import stream
from chistka.scenario.terror import ExileParams
from chistka.state import EventKind, IdDays, SimState


class Exile(Mechanism):
    """Sentences to exile and to other measures, taken from sentencing's ordinary cases."""

    name = "exile"
    section = "exile"
    params = ExileParams
    needs = ("sentencing",)
    streams = ("exile",)
    events = (EventKind.SENTENCED_EXILE, EventKind.SENTENCED_OTHER)

    def __init__(self, state: SimState) -> None:
        """Create the mechanism's random stream and an empty table of exile terms."""
        self.rng = stream(state.seed, self.name)
        self.until = IdDays()
        """The day each exiled person's latest exile term ends (the never exiled are absent)."""

    def setup(self, state: SimState, peers: Mapping[str, Mechanism]) -> None:
        """Offer exile and other measures at sentencing."""
        peer(peers, Sentencing).measures.append(self)

    def sentence(self, state: SimState, ids: np.ndarray, channel: np.ndarray) -> np.ndarray:
        """Sentence the scenario's shares of `ids` to exile and to other measures.

        Returns the mask of those sentenced here; the rest go to the camps.
        """
        params = state.scenario.exile
        u = self.rng.random(len(ids))
        exiled = u < params.exile_share
        other = ~exiled & (u < params.exile_share + params.other_share)
        term = self.rng.gamma(4.0, params.exile_years * 365.25 / 4.0, size=int(exiled.sum()))
        self.until.set(ids[exiled], state.day + 1 + term.astype(np.int64))
        state.transition_fate(
            ids[exiled], Fate.FREE, EventKind.SENTENCED_EXILE, channel=channel[exiled]
        )
        state.transition_fate(
            ids[other], Fate.FREE, EventKind.SENTENCED_OTHER, channel=channel[other]
        )
        return exiled | other

    def in_exile(self, state: SimState) -> np.ndarray:
        """Ids of the people in exile today (in increasing order): term not over, at liberty."""
        ids, until = self.until.items()
        ids = ids[until > state.day]
        return ids[state.free(ids)]
