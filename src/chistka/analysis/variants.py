"""An experiment at several values of one parameter: how its answer moves with that value.

An experiment's intervals are the seeds' only (`chistka.analysis.experiment`); its answer also
rests on values the calibration cannot pin down (a rate chosen by hand, a fitted cap). A set of
variants runs the whole design once per value of one parameter, the value changed in the
baseline and in every arm (an arm's own setting of it wins), and puts the answers side by side,
each with whether its baseline still fits the calibration rows: nothing is refitted, so a value
far from the scenario's may answer for a model that no longer matches the record.

Layout: ``variants.json`` (the design, the parameter and its values, the seeds, the scale), one
experiment folder per value (``v01/``, ``v02/``, ... in the order given; each is an experiment's
folder that `chistka experiment report` reads), and ``variants.csv``: for every value, arm and
outcome, the arm's relative effect with its 90% interval and the baseline's calibration rows
inside (fewest over the seeds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from chistka.analysis.experiment import (
    BASELINE,
    EFFECTS_FILE,
    FIT_FILE,
    Experiment,
    check_target,
    load_experiment,
    plan_document,
    read_document,
    run_experiment,
    seed_list,
    shown_value,
)
from chistka.errors import ChistkaError

VARIANTS_FILE = "variants.json"
"""The file at the top of a set of variants' folder: the design, the parameter and its values."""

TABLE_FILE = "variants.csv"

MAX_VALUES = 12
"""The most values one set of variants runs (each is a whole experiment)."""


def variant_folder(index: int) -> str:
    """The folder of the value at `index` (0-based): v01, v02, ..."""
    return f"v{index + 1:02d}"


def load_variants(
    ref: str | Path,
    parameter: str,
    values: Sequence[Any],
    changes: Mapping[str, Any] | None = None,
) -> list[Experiment]:
    """The design at each value of `parameter` (with `changes` too), each built and checked.

    Raises:
        ChistkaError: fewer than two values, more than `MAX_VALUES`, a repeated value, a
            parameter also in `changes`, or any value the design refuses (as `load_experiment`).
    """
    values = list(values)
    if not 2 <= len(values) <= MAX_VALUES:
        raise ChistkaError(
            f"--vary {parameter}: give 2 to {MAX_VALUES} values (got {len(values)}); --set "
            "changes one value"
        )
    shown = [shown_value(v) for v in values]
    if len(set(shown)) != len(shown):
        raise ChistkaError(f"--vary {parameter}: a value is repeated ({', '.join(shown)})")
    if parameter in (changes or {}):
        raise ChistkaError(f"--vary {parameter}: also given with --set; give it in one place")
    experiments = []
    for value in values:
        try:
            experiments.append(load_experiment(ref, {**(changes or {}), parameter: value}))
        except ChistkaError as exc:
            raise ChistkaError(f"--vary {parameter}={shown_value(value)}: {exc}") from None
    return experiments


def run_variants(
    experiments: Sequence[Experiment],
    parameter: str,
    out_dir: str | Path,
    *,
    seeds: int | None = None,
    scale: float | None = None,
    n_jobs: int = -1,
    resume: bool = False,
    progress: Callable[[str, str, int, int], None] | None = None,
) -> pd.DataFrame:
    """Run the experiment at each value (`load_variants`) and write variants.csv; return it.

    Each value's experiment goes into its own folder (`variant_folder`); a stopped set is
    finished with `resume`, complete runs kept. `progress(folder, arm, done, total)` counts the
    runs of all the values together.

    Raises:
        ChistkaError: an output folder it must not write into (nothing is written then).
    """
    from chistka.analysis.ensemble import _write_json_atomic

    out_dir = Path(out_dir).expanduser().resolve()
    first = experiments[0]
    seed_values = seed_list(first, seeds)
    document = {
        **plan_document(first, seed_values, scale),
        "vary": {parameter: [shown_value(e.changes[parameter]) for e in experiments]},
        "folders": [variant_folder(i) for i in range(len(experiments))],
    }
    document["set"] = {k: shown_value(v) for k, v in first.changes.items() if k != parameter}
    check_target(out_dir, document, resume, plan_file=VARIANTS_FILE)
    _write_json_atomic(out_dir / VARIANTS_FILE, document)
    per_value = len(seed_values) * len(first.scenarios)
    total = per_value * len(experiments)
    for index, experiment in enumerate(experiments):
        folder = variant_folder(index)
        before = index * per_value

        def advance(arm: str, done: int, _total: int, folder: str = folder, before: int = before):
            if progress is not None:
                progress(folder, arm, before + done, total)

        run_experiment(
            experiment,
            out_dir / folder,
            seeds=seeds,
            scale=scale,
            n_jobs=n_jobs,
            resume=resume or (out_dir / folder).exists(),
            progress=advance,
        )
    table = variant_table(out_dir)
    table.to_csv(out_dir / TABLE_FILE, index=False)
    return table


def read_variants_document(out_dir: Path) -> dict[str, Any]:
    """A set of variants' variants.json.

    Raises:
        ChistkaError: the folder holds no set of variants.
    """
    import json

    path = Path(out_dir) / VARIANTS_FILE
    if not path.is_file():
        raise ChistkaError(f"{out_dir}: not a set of variants' folder (no {VARIANTS_FILE})")
    return json.loads(path.read_text(encoding="utf-8"))


def variant_table(out_dir: Path) -> pd.DataFrame:
    """Every value's arms' relative effects with their intervals, and its baseline's fit.

    Columns: parameter, value, folder, arm, label, group, outcome, baseline_mean, relative,
    relative_low, relative_high, baseline_calibration_inside (fewest over the seeds),
    calibration_rows.
    """
    document = read_variants_document(out_dir)
    [(parameter, values)] = document["vary"].items()
    frames = []
    for value, folder in zip(values, document["folders"], strict=True):
        read_document(out_dir / folder)
        effects = pd.read_csv(out_dir / folder / EFFECTS_FILE)
        fit = pd.read_csv(out_dir / folder / FIT_FILE)
        baseline = fit[fit["arm"] == BASELINE]
        effects = effects[effects["arm"] != BASELINE].copy()
        effects.insert(0, "folder", folder)
        effects.insert(0, "value", value)
        effects.insert(0, "parameter", parameter)
        effects["baseline_calibration_inside"] = int(baseline["calibration_inside"].min())
        effects["calibration_rows"] = int(baseline["calibration_rows"].max())
        frames.append(effects)
    columns = [
        "parameter",
        "value",
        "folder",
        "arm",
        "label",
        "group",
        "outcome",
        "baseline_mean",
        "relative",
        "relative_low",
        "relative_high",
        "baseline_calibration_inside",
        "calibration_rows",
    ]
    return pd.concat(frames, ignore_index=True)[columns]
