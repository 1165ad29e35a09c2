"""Ensembles: 64 seeds of great-terror at default scale, serially and on all local cores.

Runs the seeds one after the other in this process, then with joblib on every core (the backend
of `chistka sweep`), prints both wall times and the parallel speedup (target at least 1.8x on 2
cores), and checks that every seed gives identical results both ways: the same stored summary
(observables, campaigns, yearly membership) and the same event log, bit for bit.

Usage: python bench/ensemble.py [--seeds 64] [--jobs -1]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import console, machine, table  # noqa: E402

from chistka import Sim  # noqa: E402
from chistka.regression import regression_summary  # noqa: E402

TARGET = 1.8
"""Smallest acceptable speedup on all cores of this 2-core machine."""


def run_seed(seed: int) -> tuple[dict, str]:
    """One run's summary and a digest of its whole event log."""
    results = Sim.from_scenario("great-terror", seed=seed).run()
    digest = hashlib.sha256()
    for name in sorted(results.events):
        digest.update(name.encode())
        digest.update(results.events[name].tobytes())
    return regression_summary(results), digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=64, help="seeds 1..N")
    parser.add_argument("--jobs", type=int, default=-1, help="worker processes (-1: all cores)")
    args = parser.parse_args()
    if args.seeds < 1 or args.jobs == 0:
        parser.error("--seeds must be >= 1 and --jobs must not be 0")
    seeds = list(range(1, args.seeds + 1))
    workers = os.cpu_count() if args.jobs < 0 else args.jobs
    console.print(f"[bold]machine[/]: {machine()}")
    run_seed(1)  # warm up: load the compiled kernels, fill the file cache

    started = time.perf_counter()
    serial = [run_seed(seed) for seed in seeds]
    serial_seconds = time.perf_counter() - started

    started = time.perf_counter()
    parallel = Parallel(n_jobs=args.jobs)(delayed(run_seed)(seed) for seed in seeds)
    parallel_seconds = time.perf_counter() - started

    identical = all(a == b for a, b in zip(serial, parallel, strict=True))
    speedup = serial_seconds / parallel_seconds
    table(
        f"great-terror at default scale, {args.seeds} seeds",
        ["mode", "wall (s)", "per run (s)"],
        [
            ["serial", f"{serial_seconds:.1f}", f"{serial_seconds / args.seeds:.2f}"],
            [
                f"joblib, {workers} workers",
                f"{parallel_seconds:.1f}",
                f"{parallel_seconds / args.seeds:.2f}",
            ],
        ],
    )
    ok = speedup >= TARGET and identical
    verdict = "met" if speedup >= TARGET else "[red]missed[/]"
    console.print(
        f"speedup {speedup:.2f}x (target >= {TARGET:g}x: {verdict}); "
        f"results identical serial and parallel: {'yes' if identical else '[red]no[/]'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
