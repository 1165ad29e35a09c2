"""Fit each campaign's commission threshold to the record's expulsion share (calibration rows).

For every campaign of the scenario that has an `expelled_share:NAME` row in the record's
comparison table, the threshold is set to the quantile of the commission's scores that expels
the recorded share; the run is repeated because a campaign's population depends on the earlier
ones. The fitted thresholds are written back into the built-in scenario file in place.

Usage: python scripts/calibrate_review_thresholds.py [SCENARIO] [ROUNDS]
"""

from __future__ import annotations

import re
import sys
from importlib import resources

import numpy as np

from chistka import Sim
from chistka.record import compared_observables, get
from chistka.scenario import load_scenario
from chistka.state import EventKind

REVIEWED = {int(EventKind.KEPT), int(EventKind.DEMOTED), int(EventKind.EXPELLED)}


def main(name: str = "party-purges-1921-1936", rounds: int = 3) -> None:
    path = resources.files("chistka.scenario") / "builtin" / f"{name}.toml"
    targets = {
        spec.observable.split(":", 1)[1]: get(spec.record_id).value
        for spec in compared_observables()
        if spec.observable.startswith("expelled_share:")
    }
    for round_ in range(rounds):
        scenario = load_scenario(name)
        results = Sim(scenario, seed=scenario.scenario.seed).run()
        text = path.read_text(encoding="utf-8")
        ev = results.events
        for index, campaign in enumerate(scenario.campaigns):
            target = targets.get(campaign.name)
            if target is None:
                continue
            mask = (ev["campaign"] == index) & np.isin(ev["kind"], list(REVIEWED))
            scores = ev["score"][mask]
            threshold = float(np.quantile(scores, 1 - target))
            share = float(np.mean(scores > campaign.threshold))
            print(f"round {round_}: campaign {campaign.name}: share {share:.3f} "
                  f"(target {target}), threshold {campaign.threshold} -> {threshold:.3f}")
            pattern = re.compile(
                rf'(name = "{re.escape(campaign.name)}"(?:.|\n)*?threshold = )[-0-9.]+'
            )
            text, count = pattern.subn(rf"\g<1>{threshold:.3f}", text, count=1)
            if count != 1:
                raise SystemExit(f"could not find the threshold of campaign {campaign.name}")
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(*(sys.argv[1:2]), *(int(a) for a in sys.argv[2:3]))
