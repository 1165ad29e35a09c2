"""`chistka compare RUN_A RUN_B`: two runs or ensembles side by side, and what differs.

Each side is one saved run or one ensemble's runs of a single parameter point (a sweep of
several points is refused: compare one point with another by giving their runs' directories).
Writes OUT/compare.html (party membership and the compared figures of both sides side by side)
and OUT/differences.csv, and prints the table of differences: each figure both sides report,
its mean on each side with the 5-95% spread over the seeds, and the difference B - A with a
90% interval where both sides have several seeds. The interval is that of the mean difference:
paired by seed where both sides ran the same seeds (common random numbers), else from the two
sides' variances (normal approximation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from chistka.commands.options import errors, fail, observable_number, output_console
from chistka.commands.preflight import check_output_folder
from chistka.errors import ChistkaError

console = output_console()

Z90 = 1.6448536269514722
"""The standard normal quantile of a two-sided 90% interval."""

QUANTILES = (0.05, 0.95)
"""The spread over the seeds shown for each side."""

DIFFERENCE_COLUMNS = (
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
)
"""Columns of differences.csv."""


@dataclass
class Side:
    """One side of a comparison: its runs' compared figures and party membership."""

    name: str
    scenario: str
    paths: list[Path]
    seeds: list[int]
    figures: pd.DataFrame  # one row per run, one column per observable (model values)
    records: dict[str, float]  # observable -> the record's value
    labels: dict[str, str]  # observable -> its label
    membership: pd.DataFrame  # one row per date, one column per run (party total, persons)


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
        missing = sorted({"observable", "model", "record"} - set(table.columns))
        if missing:
            raise ValueError(f"no column {', '.join(missing)}")
        for column in ("model", "record"):
            table[column] = pd.to_numeric(table[column])
    except (OSError, ValueError) as exc:
        raise ChistkaError(f"cannot read {path}: {exc}") from None
    return table


def load_side(path: Path) -> Side:
    """A side from a run's or an ensemble's directory.

    Raises:
        ChistkaError: no saved run, or runs of several parameter points or scales.
    """
    from chistka.analysis.grouping import group_runs
    from chistka.analysis.saved import find_runs

    groups = group_runs(find_runs(path))
    if len(groups) > 1:
        labels = "; ".join(g.label for g in groups)
        raise ChistkaError(
            f"'{path}' holds runs of {len(groups)} parameter points or scales ({labels}): give "
            "one point's runs on each side"
        )
    group = groups[0]
    figures, records, labels, membership = [], {}, {}, {}
    for run in group.paths:
        table = _comparison(run / "comparison.csv")
        values = {}
        if table is not None and len(table):
            for row in table.itertuples(index=False):
                values[row.observable] = float(row.model)
                records.setdefault(row.observable, float(row.record))
                labels.setdefault(row.observable, str(getattr(row, "label", row.observable)))
        figures.append(values)
        membership[run.name] = _membership(run)
    return Side(
        name=str(path),
        scenario=group.scenario,
        paths=group.paths,
        seeds=group.seeds,
        figures=pd.DataFrame(figures, index=[p.name for p in group.paths]),
        records=records,
        labels=labels,
        membership=pd.DataFrame(membership),
    )


def _spread(values: np.ndarray) -> tuple[float, float, float]:
    values = values[~np.isnan(values)]
    if not len(values):
        return math.nan, math.nan, math.nan
    if len(values) == 1:
        return float(values[0]), float(values[0]), float(values[0])
    low, high = np.quantile(values, QUANTILES)
    return float(values.mean()), float(low), float(high)


def _difference_interval(a: Side, b: Side, a_values: np.ndarray, b_values: np.ndarray):
    """The mean difference B - A and its 90% interval (NaN bounds with one seed a side)."""
    difference = float(np.nanmean(b_values) - np.nanmean(a_values))
    if a.seeds == b.seeds and len(a.seeds) > 1:
        paired = b_values - a_values
        paired = paired[~np.isnan(paired)]
        if len(paired) > 1:
            half = Z90 * float(paired.std(ddof=1)) / math.sqrt(len(paired))
            return difference, difference - half, difference + half
        return difference, math.nan, math.nan
    a_values, b_values = a_values[~np.isnan(a_values)], b_values[~np.isnan(b_values)]
    if len(a_values) > 1 and len(b_values) > 1:
        half = Z90 * math.sqrt(
            a_values.var(ddof=1) / len(a_values) + b_values.var(ddof=1) / len(b_values)
        )
        return difference, difference - half, difference + half
    return difference, math.nan, math.nan


def differences(a: Side, b: Side) -> pd.DataFrame:
    """The figures both sides report, with each side's spread and the difference B - A."""
    rows = []
    for observable in [o for o in a.figures.columns if o in b.figures.columns]:
        a_values = a.figures[observable].to_numpy(dtype=np.float64)
        b_values = b.figures[observable].to_numpy(dtype=np.float64)
        a_mean, a_low, a_high = _spread(a_values)
        b_mean, b_low, b_high = _spread(b_values)
        difference, low, high = _difference_interval(a, b, a_values, b_values)
        rows.append(
            {
                "observable": observable,
                "label": a.labels.get(observable, observable),
                "record": a.records.get(observable, math.nan),
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
            }
        )
    return pd.DataFrame(rows, columns=list(DIFFERENCE_COLUMNS))


def _band(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    return (
        frame.median(axis=1),
        frame.quantile(QUANTILES[0], axis=1),
        frame.quantile(QUANTILES[1], axis=1),
    )


def write_comparison_report(a: Side, b: Side, table: pd.DataFrame, path: Path) -> Path:
    """compare.html: membership and the compared figures of both sides, side by side."""
    from plotly.subplots import make_subplots

    from chistka.figures import figure_html

    titles = (f"A: {a.name}", f"B: {b.name}")
    membership = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=titles)
    for column, side in enumerate((a, b), start=1):
        median, low, high = _band(side.membership)
        dates = list(side.membership.index)
        if len(side.paths) > 1:
            membership.add_scatter(
                x=dates + dates[::-1],
                y=list(high) + list(low[::-1]),
                fill="toself",
                line={"width": 0},
                fillcolor="rgba(31,119,180,0.2)",
                name="5-95% over the seeds",
                showlegend=column == 1,
                row=1,
                col=column,
            )
        membership.add_scatter(
            x=dates,
            y=list(median),
            name="party (median)" if len(side.paths) > 1 else "party",
            line={"color": "#1f77b4"},
            showlegend=column == 1,
            row=1,
            col=column,
        )
    membership.update_layout(title="Party membership (candidates and members, persons)")
    ratios = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=titles)
    for column, prefix in enumerate(("a", "b"), start=1):
        record = table["record"].replace(0, np.nan)
        ratios.add_bar(
            y=table["label"],
            x=table[f"{prefix}_mean"] / record,
            orientation="h",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": ((table[f"{prefix}_high"] - table[f"{prefix}_mean"]) / record)
                .fillna(0)
                .tolist(),
                "arrayminus": ((table[f"{prefix}_mean"] - table[f"{prefix}_low"]) / record)
                .fillna(0)
                .tolist(),
            },
            name="model / record",
            showlegend=column == 1,
            marker_color="#1f77b4",
            row=1,
            col=column,
        )
        ratios.add_vline(x=1.0, line_dash="dot", line_color="grey", row=1, col=column)
    ratios.update_layout(
        title="Compared figures: model / record (1 = the record)",
        height=max(400, 28 * len(table) + 150),
        yaxis={"autorange": "reversed"},
    )
    parts = [
        figure_html(fig, f"chistka-compare-figure-{index}", include_plotlyjs=index == 0)
        for index, fig in enumerate((membership, ratios))
    ]
    from html import escape as html_escape

    def describe(side: Side) -> str:
        seeds = ", ".join(str(s) for s in side.seeds)
        return (
            f"{html_escape(side.name)}: {html_escape(side.scenario)}, {len(side.paths)} run(s), "
            f"seeds {html_escape(seeds)}"
        )

    document = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>chistka compare: {html_escape(a.name)} and {html_escape(b.name)}</title>"
        "</head><body><h1>Two runs side by side</h1>"
        f"<p>A: {describe(a)}<br>B: {describe(b)}</p>"
        f"<p>{html_escape(__doc__.split(chr(10) + chr(10))[1].replace(chr(10), ' '))}</p>"
        + "".join(parts)
        + "<h2>Differences (B - A)</h2>"
        + table.to_html(index=False, float_format="{:.4g}".format, na_rep="-")
        + "</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path


def _span(low: float, high: float, observable: str) -> str:
    if math.isnan(low) or low == high:
        return ""
    return f" ({observable_number(low, observable)} - {observable_number(high, observable)})"


COMPARE_MARKS = {
    "compare.html": "<title>chistka compare: ",
    "differences.csv": "observable,label,record,a_mean",
}
"""What marks compare.html and differences.csv as written by `chistka compare` (an earlier
comparison is replaced; a file of those names chistka did not write is not)."""


def compare_command(
    run_a: Annotated[Path, typer.Argument(help="side A: a run or an ensemble's directory")],
    run_b: Annotated[Path, typer.Argument(help="side B: a run or an ensemble's directory")],
    out: Annotated[
        Path | None, typer.Option(help="output folder (default: out/compare-A-B)")
    ] = None,
) -> None:
    """Compare two runs or ensembles: charts side by side and a table of the differences."""
    try:
        target = out if out is not None else Path("out") / f"compare-{run_a.name}-{run_b.name}"
        check_output_folder(target, files=COMPARE_MARKS, writer="chistka compare")
        with errors.status("reading both sides"):
            a, b = load_side(run_a), load_side(run_b)
        table = differences(a, b)
        if table.empty:
            raise ChistkaError(
                f"'{run_a}' and '{run_b}' have no compared figure in common (comparison.csv)"
            )
        report = write_comparison_report(a, b, table, target / "compare.html")
        table.to_csv(target / "differences.csv", index=False)
    except ChistkaError as exc:
        fail(str(exc))
    view = Table(title=escape(f"B - A: {run_b} against {run_a}"))
    for column in ("figure", "record", "A", "B", "B - A (90% interval)", "relative"):
        view.add_column(column, justify="left" if column == "figure" else "right")
    for row in table.itertuples(index=False):
        name = row.observable
        interval = _span(row.difference_low, row.difference_high, name)
        view.add_row(
            escape(row.label),
            observable_number(row.record, name),
            observable_number(row.a_mean, name) + _span(row.a_low, row.a_high, name),
            observable_number(row.b_mean, name) + _span(row.b_low, row.b_high, name),
            observable_number(row.difference, name) + interval,
            "-" if math.isnan(row.relative) else f"{row.relative:+.1%}",
        )
    console.print(view)
    console.print(
        f"wrote {escape(str(report))}, {escape(str(target / 'differences.csv'))}",
        highlight=False,
        soft_wrap=True,
    )
