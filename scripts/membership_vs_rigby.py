"""Print a run's membership on 1 January of each year beside Rigby's series (calibration aid)."""

from __future__ import annotations

import argparse

import pandas as pd

from chistka import Sim, builtin_scenarios
from chistka.analysis.comparison import comparison
from chistka.record import records


def main(scenario: str = "party-purges-1921-1936", seed: int = 1) -> None:
    results = Sim.from_scenario(scenario, seed=seed).run()
    membership = results.membership()
    rows = records()
    table = []
    for year in range(1922, 1938):
        date = pd.Timestamp(f"{year}-01-01")
        if date not in membership.index:
            continue
        full, cand = rows.get(f"rigby_full_{year}"), rows.get(f"rigby_cand_{year}")
        table.append(
            {
                "year": year,
                "model_full": round(membership.loc[date, "members"]),
                "rigby_full": full.value if full else None,
                "model_cand": round(membership.loc[date, "candidates"]),
                "rigby_cand": cand.value if cand else None,
                "model_total": round(membership.loc[date, "total"]),
                "rigby_total": (full.value + cand.value) if full and cand else None,
            }
        )
    frame = pd.DataFrame(table)
    frame["ratio"] = frame["model_total"] / frame["rigby_total"]
    print(frame.to_string(index=False))
    print(results.campaigns()[["campaign", "reviewed", "expelled_share", "reinstated_share"]])
    print(comparison(results)[["observable", "model", "record", "inside"]].to_string())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenario", nargs="?", default="party-purges-1921-1936", choices=list(builtin_scenarios())
    )
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    main(arguments.scenario, arguments.seed)
