"""Two runs or ensembles compared figure by figure: each side's spread and the difference B - A.

Each side is one saved run or one ensemble's runs of a single parameter point: a sweep of
several points is refused unless the side names one of its points (`point`, the sweep's `p000`),
so that one point of a sweep can be compared with another or with a run.
Each record row both sides compare gets its mean on each side with the 5-95% spread over the
seeds (none where that side's scenario does not model its kind), and the difference B - A with a
90% interval where both sides have several seeds. The interval is that of the mean difference:
paired by seed where both sides ran the same seeds (common random numbers), else from the two
sides' variances (Welch), with Student's t in both: with a few seeds a side the normal
approximation gave intervals several times too narrow (3.8 times at two seeds). `chistka
compare` and the web app's comparison page use it; `chistka.report.compare` draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from chistka.analysis.experiment import paired_effect, seed_spread
from chistka.errors import ChistkaError

INTERVAL = 0.90
"""The two-sided confidence of the interval of the difference B - A."""


QUANTILES = (0.05, 0.95)
"""The spread over the seeds shown for each side."""


NOT_MODELLED = "not modelled"
"""The status comparison.csv gives a row whose kind the run's scenario does not model (its model
value is written as 0, which is no result of the model)."""


DIFFERENCE_COLUMNS = (
    "record_id",
    "observable",
    "label",
    "record",
    "a_mean",
    "a_low",
    "a_high",
    "b_mean",
    "b_low",
    "b_high",
    "difference",
    "difference_low",
    "difference_high",
    "relative",
    "a_modelled",
    "b_modelled",
)
"""Columns of differences.csv: one row per record row (a side that does not model it has no
mean, spread or difference)."""


@dataclass
class Side:
    """One side of a comparison: its runs' compared figures and party membership.

    Figures are keyed by record row (record_id), not by observable: two sources may give the
    same observable (the 17th Congress and Rigby on 1 January 1934), and each is compared.
    """

    name: str
    scenario: str
    paths: list[Path]
    seeds: list[int]
    figures: pd.DataFrame  # one row per run, one column per record_id (model values; NaN if
    # not modelled)
    observables: dict[str, str]  # record_id -> its observable
    records: dict[str, float]  # record_id -> the record's value
    labels: dict[str, str]  # record_id -> its label
    not_modelled: set[str]  # record_ids whose kind the side's scenario does not model
    membership: pd.DataFrame  # one row per date, one column per run (party total, persons)
    scale: float = math.nan  # agents per represented person (the runs' provenance)
    where: str = ""  # the folder as given, whole: `name` is its last part (a served page named
    # the server's folders, "A: /tmp/.../runs/great-terror-3-..."), this for a command's user


def scale_warning(a: Side, b: Side) -> str:
    """A warning where the two sides ran at different scales (empty where they did not).

    The scale changes the model's resolution (how many agents stand for the population) and
    with it what the runs give: a difference between sides at two scales is partly the scale's.
    """
    if math.isnan(a.scale) or math.isnan(b.scale) or a.scale == b.scale:
        return ""
    return (
        f"the two sides ran at different scales: A at {a.scale:g}, B at {b.scale:g} agents per "
        "represented person; their differences are partly the scale's (the model's resolution), "
        "not only what else sets them apart: run both at one scale (--scale) to read an effect"
    )


def _membership(run_dir: Path) -> pd.Series:
    path = run_dir / "daily.parquet"
    try:
        daily = pd.read_parquet(path, columns=["date", "status", "persons"])
    except (OSError, ValueError) as exc:  # pyarrow's errors of a damaged file are ValueErrors
        raise ChistkaError(f"cannot read {path}: {exc}") from None
    party = daily[daily["status"].astype(str).isin(["candidate", "member"])]
    return party.groupby("date", observed=True)["persons"].sum()


def _comparison(path: Path) -> pd.DataFrame | None:
    """A run's comparison.csv (None if it has none: a run with no compared figure).

    Raises:
        ChistkaError: the file is there but cannot be read as one (damaged, or another file).
    """
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(path)
        missing = sorted({"record_id", "observable", "status", "model", "record"} - set(table))
        if missing:
            raise ValueError(f"no column {', '.join(missing)}")
        for column in ("model", "record"):
            table[column] = pd.to_numeric(table[column])
    except (OSError, ValueError) as exc:
        raise ChistkaError(f"cannot read {path}: {exc}") from None
    return table


def load_side(path: Path, point: str | None = None, option: str = "the point") -> Side:
    """A side from a run's or an ensemble's directory, or from one point of a sweep.

    `point` names a sweep's parameter set (`p000`); `option` is how the caller lets the user give
    it (the command's `--a-point`), for the messages.

    Raises:
        ChistkaError: no saved run; runs of several parameter points or scales and no point
            named; a point the directory does not hold.
    """
    from chistka.analysis.grouping import group_runs
    from chistka.analysis.saved import find_runs

    groups = group_runs(find_runs(path))
    listed = "; ".join(g.label for g in groups)
    if point is not None:
        chosen = [g for g in groups if g.point == point]
        if not chosen:
            only = groups[0].point if len(groups) == 1 else ""
            held = (
                f"it holds: {listed}"
                if listed
                else f"it holds only {only}"
                if only
                else "its runs are not a sweep's: leave the option out"
            )
            raise ChistkaError(f"{option}: '{path}' holds no point '{point}' ({held})")
        groups = chosen
    if len(groups) > 1:
        named = [g.point for g in groups if g.point]
        how = f"; name one with {option} (e.g. {named[0]})" if len(named) == len(groups) else ""
        raise ChistkaError(
            f"'{path}' holds runs of {len(groups)} parameter points or scales ({listed}): give "
            f"one point's runs on each side{how}"
        )
    group = groups[0]
    figures, observables, records, labels, membership = [], {}, {}, {}, {}
    not_modelled: set[str] = set()
    for run in group.paths:
        table = _comparison(run / "comparison.csv")
        values = {}
        if table is not None and len(table):
            for row in table.itertuples(index=False):
                modelled = row.status != NOT_MODELLED
                values[row.record_id] = float(row.model) if modelled else math.nan
                if not modelled:
                    not_modelled.add(row.record_id)
                observables.setdefault(row.record_id, row.observable)
                records.setdefault(row.record_id, float(row.record))
                labels.setdefault(row.record_id, str(getattr(row, "label", row.observable)))
        figures.append(values)
        membership[run.name] = _membership(run)
    folder = Path(path).resolve().name or str(path)
    return Side(
        name=f"{folder} {group.label or point}" if point is not None else folder,
        where=f"{path} {group.label or point}" if point is not None else str(path),
        scenario=group.scenario,
        paths=group.paths,
        seeds=group.seeds,
        figures=pd.DataFrame(figures, index=[p.name for p in group.paths]),
        observables=observables,
        records=records,
        labels=labels,
        not_modelled=not_modelled,
        membership=pd.DataFrame(membership),
        scale=group.scale if group.scale > 0 else math.nan,
    )


def _difference_interval(
    a: Side, b: Side, a_values: np.ndarray, b_values: np.ndarray
) -> tuple[float, float, float]:
    """The mean difference B - A and its 90% interval (NaN bounds with one seed a side).

    Paired by seed where both sides ran the same seeds (`experiment.paired_effect`, as an
    experiment's effects), else Welch's interval from the two sides' variances, with Student's
    t on the Welch-Satterthwaite degrees of freedom.
    """
    from scipy.stats import t as student_t

    difference = float(np.nanmean(b_values) - np.nanmean(a_values))
    if a.seeds == b.seeds and len(a.seeds) > 1:
        mean, low, high, seeds = paired_effect(a_values, b_values, INTERVAL)
        return (mean, low, high) if seeds > 1 else (difference, math.nan, math.nan)
    a_values, b_values = a_values[~np.isnan(a_values)], b_values[~np.isnan(b_values)]
    if len(a_values) < 2 or len(b_values) < 2:
        return difference, math.nan, math.nan
    a_part = a_values.var(ddof=1) / len(a_values)
    b_part = b_values.var(ddof=1) / len(b_values)
    error = math.sqrt(a_part + b_part)
    if error == 0:
        return difference, difference, difference
    freedom = (a_part + b_part) ** 2 / (
        a_part**2 / (len(a_values) - 1) + b_part**2 / (len(b_values) - 1)
    )
    half = float(student_t.ppf(0.5 + INTERVAL / 2, freedom)) * error
    return difference, difference - half, difference + half


def differences(a: Side, b: Side) -> pd.DataFrame:
    """The record rows both sides compare, with each side's spread and the difference B - A.

    A side that does not model a row's kind has no mean or spread there, and the row no
    difference (its model value 0 is no result).
    """
    rows = []
    for record_id in [r for r in a.figures.columns if r in b.figures.columns]:
        a_values = a.figures[record_id].to_numpy(dtype=np.float64)
        b_values = b.figures[record_id].to_numpy(dtype=np.float64)
        a_mean, a_low, a_high = seed_spread(a_values)
        b_mean, b_low, b_high = seed_spread(b_values)
        both_modelled = record_id not in a.not_modelled | b.not_modelled
        difference, low, high = (
            _difference_interval(a, b, a_values, b_values)
            if both_modelled
            else (math.nan, math.nan, math.nan)
        )
        rows.append(
            {
                "record_id": record_id,
                "observable": a.observables[record_id],
                "label": a.labels.get(record_id, record_id),
                "record": a.records.get(record_id, math.nan),
                "a_mean": a_mean,
                "a_low": a_low,
                "a_high": a_high,
                "b_mean": b_mean,
                "b_low": b_low,
                "b_high": b_high,
                "difference": difference,
                "difference_low": low,
                "difference_high": high,
                "relative": difference / a_mean if a_mean else math.nan,
                "a_modelled": record_id not in a.not_modelled,
                "b_modelled": record_id not in b.not_modelled,
            }
        )
    return pd.DataFrame(rows, columns=list(DIFFERENCE_COLUMNS))
