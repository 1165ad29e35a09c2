"""An experiment at several values of one parameter: how its answer moves with that value.

An experiment's intervals are the seeds' only (`chistka.analysis.experiment`); its answer also
rests on values the calibration cannot pin down (a rate chosen by hand, a fitted cap). A set of
variants runs the whole design once per value of one parameter, the value changed in the
baseline and in every arm (an arm's own setting of it wins), and puts the answers side by side,
each with whether its baseline still fits the calibration rows: nothing is refitted, so a value
far from the scenario's may answer for a model that no longer matches the record.

The values may also be whole fits, each a calibration study's trial in place of the scenario's
fitted values (`chistka.analysis.fits`, `experiment run --fits`): the same layout, each value a
trial.

Layout: ``variants.json`` (the design, the parameter and its values or the study and its trials,
the seeds, the scale), one experiment folder per value (``v01/``, ``v02/``, ... in the order
given; each is an experiment's folder that `chistka experiment report` reads), ``variants.csv``:
for every value, arm and outcome, the arm's relative effect with its 90% interval and the
baseline's calibration rows inside (fewest over the seeds), and ``spread.csv``: each arm's effect
over all the values (`spread_table`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
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
from chistka.outputs import VARIANTS, VARIANTS_FILE

TABLE_FILE = "variants.csv"
SPREAD_FILE = "spread.csv"
FITS_FILE = "fits.csv"
"""A set of fits' trials: each value's folder, trial, loss and values (`fits_table`)."""

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


def vary_axis(experiments: Sequence[Experiment], parameter: str) -> dict[str, Any]:
    """The `vary` entry of variants.json for the values of one parameter (`load_variants`)."""
    return {"vary": {parameter: [shown_value(e.changes[parameter]) for e in experiments]}}


def variant_axis(document: dict[str, Any]) -> tuple[str, list[str]]:
    """What a set of variants varies, and the label of each value, from its variants.json.

    ('fit', ['trial 12', ...]) for a set of fits; (parameter, values) otherwise.
    """
    if "fits" in document:
        return "fit", [fit["label"] for fit in document["fits"]["fits"]]
    [(parameter, values)] = document["vary"].items()
    return parameter, list(values)


def run_variants(
    experiments: Sequence[Experiment],
    axis: dict[str, Any],
    out_dir: str | Path,
    *,
    seeds: int | Sequence[int] | None = None,
    scale: float | None = None,
    n_jobs: int = -1,
    resume: bool = False,
    force: bool = False,
    progress: Callable[[str, str, int, int], None] | None = None,
    day_progress: Callable[[str, str, int, int, int], None] | None = None,
) -> pd.DataFrame:
    """Run the experiment at each value; write variants.csv and spread.csv; return variants.csv.

    `axis` is what varies, as variants.json records it: `vary_axis` (the values of one
    parameter, `load_variants`) or ``{"fits": ...}`` (a study's trials, `load_fits`).

    Each value's experiment goes into its own folder (`variant_folder`); a stopped set is
    finished with `resume`, complete runs kept; with `force` it goes beside files chistka did
    not write (`check_target`). `progress(folder, arm, done, total)` counts the
    runs of all the values together. `day_progress(folder, arm, seed, days_done, days_total)`
    gives the day of the run under way (as `run_experiment`'s, which it needs ``n_jobs=1`` for).

    Raises:
        ChistkaError: an output folder it must not write into (nothing is written then).
        ValueError: `day_progress` with ``n_jobs`` other than 1 (nothing is written then).
    """
    from chistka.analysis.ensemble import _write_json_atomic, check_day_progress

    check_day_progress(day_progress, n_jobs)
    out_dir = Path(out_dir).expanduser()
    first = experiments[0]
    seed_values = seed_list(first, seeds)
    document = {
        **plan_document(first, seed_values, scale),
        **axis,
        "folders": [variant_folder(i) for i in range(len(experiments))],
    }
    document.pop("fit", None)
    document.pop("fit_label", None)
    varied = set(axis.get("vary", {}))
    document["set"] = {k: shown_value(v) for k, v in first.changes.items() if k not in varied}
    check_target(out_dir, document, resume, VARIANTS, force)
    out_dir = out_dir.resolve()
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
            day_progress=None if day_progress is None else partial(day_progress, folder),
        )
    table = variant_table(out_dir)
    write_tables(out_dir, table)
    return table


def write_tables(out_dir: Path, table: pd.DataFrame) -> None:
    """variants.csv, spread.csv and, for a set of fits, fits.csv."""
    table.to_csv(out_dir / TABLE_FILE, index=False)
    spread_table(table).to_csv(out_dir / SPREAD_FILE, index=False)
    document = read_variants_document(out_dir)
    if "fits" in document:
        fits_table(document).to_csv(out_dir / FITS_FILE, index=False)


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
    parameter, values = variant_axis(document)
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


SPREAD_COLUMNS = (
    "outcome",
    "arm",
    "label",
    "values",
    "lowest",
    "highest",
    "lowest_low",
    "highest_high",
    "same_direction",
    "intervals_agree",
)
"""Columns of spread.csv (`spread_table`)."""


def spread_table(table: pd.DataFrame) -> pd.DataFrame:
    """Each arm's relative effect on each outcome over all the values of variants.csv.

    Columns (`SPREAD_COLUMNS`): the values with an effect, the lowest and highest mean relative
    effect, the lowest and highest ends of their 90% intervals, `same_direction` (every value's
    mean effect on the same side of zero) and `intervals_agree` (every value's interval too: the
    answer's direction does not depend on the value; false with one seed, which has no interval).
    """
    rows = []
    for (outcome, arm), group in table.groupby(["outcome", "arm"], sort=False):
        relative = group["relative"].dropna()
        if relative.empty:
            continue
        lows, highs = group["relative_low"], group["relative_high"]
        bounded = bool(lows.notna().all() and highs.notna().all())
        rows.append(
            {
                "outcome": outcome,
                "arm": arm,
                "label": group["label"].iloc[0],
                "values": int(relative.size),
                "lowest": float(relative.min()),
                "highest": float(relative.max()),
                "lowest_low": float(lows.min()),
                "highest_high": float(highs.max()),
                "same_direction": bool((relative < 0).all() or (relative > 0).all()),
                "intervals_agree": bounded and bool((highs < 0).all() or (lows > 0).all()),
            }
        )
    return pd.DataFrame(rows, columns=list(SPREAD_COLUMNS))


def direction_words(same_direction: bool, lowest: float, highest: float) -> str:
    """The spread table's "same direction" cell: 'yes', 'no', or 'no change'.

    'no change' where every value's mean effect is zero: an arm that changes nothing the outcome
    depends on read 'no', as if its effect changed sign between the values.
    """
    if lowest == 0 and highest == 0:
        return "no change"
    return "yes" if same_direction else "no"


def fits_table(document: dict[str, Any]) -> pd.DataFrame:
    """fits.csv: per fit of a set of fits, its folder, label, trial, loss and values."""
    rows = [
        {
            "folder": variant_folder(index),
            "label": fit["label"],
            "trial": fit["trial"],
            "loss": fit["loss"],
            **fit["values"],
        }
        for index, fit in enumerate(document["fits"]["fits"])
    ]
    return pd.DataFrame(rows)
