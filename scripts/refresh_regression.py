"""Refresh the stored regression summaries of the built-in scenarios (explicit step only).

A regression test diffs a fresh run of each built-in scenario (its default seed and scale)
against the summary stored here, so that any change in results shows up in review. Run this
script only when a change in results is intended, and commit the new summaries with it.

Usage: python scripts/refresh_regression.py [SCENARIO ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from chistka import Sim, builtin_scenarios
from chistka.regression import regression_summary

TARGET = Path(__file__).resolve().parent.parent / "tests" / "regression"


def main(names: list[str]) -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in names or list(builtin_scenarios()):
        summary = regression_summary(Sim.from_scenario(name).run())
        path = TARGET / f"{name}.json"
        path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    known = list(builtin_scenarios())
    parser.add_argument("scenarios", nargs="*", help=f"any of {', '.join(known)} (default: all)")
    names = parser.parse_args().scenarios
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; allowed: {', '.join(known)}")
    main(names)
