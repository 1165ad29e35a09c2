"""`chistka compare RUN_A RUN_B`: two runs or ensembles side by side, and what differs.

Each side is one saved run or one ensemble's runs of a single parameter point (a sweep of
several points is refused: compare one point with another by giving their runs' directories).
Writes OUT/compare.html (party membership and the compared figures of both sides side by side)
and OUT/differences.csv, and prints the table of differences: each record row both sides
compare, its mean on each side with the 5-95% spread over the seeds (or "not modelled" where
that side's scenario does not model its kind), and the difference B - A with a 90% interval
where both sides have several seeds (a difference of shares is in percentage points). The
interval is that of the mean difference: paired by seed where both sides ran the same seeds
(common random numbers), else from the two sides' variances (normal approximation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from chistka.analysis.observables import difference_number, observable_number
from chistka.commands.options import (
    errors,
    fail,
    output_console,
)
from chistka.commands.preflight import check_output_folder
from chistka.errors import ChistkaError

console = output_console()

Z90 = 1.6448536269514722
"""The standard normal quantile of a two-sided 90% interval."""

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

SIDES = {"A": "#1f77b4", "B": "#ff7f0e"}
"""Each side's name in the charts and its colour."""

TABLE_HEADINGS = ("figure", "record", "A", "B", "B - A (90% interval)", "relative")
"""Columns of the table of differences, printed and in compare.html."""


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
    return Side(
        name=str(path),
        scenario=group.scenario,
        paths=group.paths,
        seeds=group.seeds,
        figures=pd.DataFrame(figures, index=[p.name for p in group.paths]),
        observables=observables,
        records=records,
        labels=labels,
        not_modelled=not_modelled,
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
    """The record rows both sides compare, with each side's spread and the difference B - A.

    A side that does not model a row's kind has no mean or spread there, and the row no
    difference (its model value 0 is no result).
    """
    rows = []
    for record_id in [r for r in a.figures.columns if r in b.figures.columns]:
        a_values = a.figures[record_id].to_numpy(dtype=np.float64)
        b_values = b.figures[record_id].to_numpy(dtype=np.float64)
        a_mean, a_low, a_high = _spread(a_values)
        b_mean, b_low, b_high = _spread(b_values)
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


def _band(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    return (
        frame.median(axis=1),
        frame.quantile(QUANTILES[0], axis=1),
        frame.quantile(QUANTILES[1], axis=1),
    )


def _rgba(colour: str, alpha: float) -> str:
    """A "#rrggbb" colour as a CSS rgba() with the given opacity."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def write_comparison_report(a: Side, b: Side, table: pd.DataFrame, path: Path) -> Path:
    """compare.html: membership and the compared figures of both sides, side by side.

    Every trace is named after its side ("A: party"), so the charts' numbers (CSV) say which
    side each row is; the ratio chart leaves out the rows a side does not model.
    """
    from plotly.subplots import make_subplots

    from chistka.figures import figure_html

    titles = (f"A: {a.name}", f"B: {b.name}")
    membership = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=titles)
    for column, (side, (letter, colour)) in enumerate(
        zip((a, b), SIDES.items(), strict=True), start=1
    ):
        median, low, high = _band(side.membership)
        dates = list(side.membership.index)
        if len(side.paths) > 1:
            membership.add_scatter(
                x=dates + dates[::-1],
                y=list(high) + list(low[::-1]),
                fill="toself",
                line={"width": 0},
                fillcolor=_rgba(colour, 0.2),
                name=f"{letter}: 5-95% over the seeds",
                row=1,
                col=column,
            )
        membership.add_scatter(
            x=dates,
            y=list(median),
            name=f"{letter}: party (median)" if len(side.paths) > 1 else f"{letter}: party",
            line={"color": colour},
            row=1,
            col=column,
        )
    membership.update_layout(title="Party membership (candidates and members, persons)")
    charted = table[table["a_modelled"] | table["b_modelled"]]
    ratios = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=titles)
    for column, (prefix, colour) in enumerate(
        zip(("a", "b"), SIDES.values(), strict=True), start=1
    ):
        rows = charted[charted[f"{prefix}_modelled"]]
        record = rows["record"].replace(0, np.nan)
        mean = rows[f"{prefix}_mean"]
        ratios.add_bar(
            y=rows["label"],
            x=mean / record,
            orientation="h",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": ((rows[f"{prefix}_high"] - mean) / record).fillna(0).tolist(),
                "arrayminus": ((mean - rows[f"{prefix}_low"]) / record).fillna(0).tolist(),
            },
            name=f"{prefix.upper()}: model / record",
            marker_color=colour,
            row=1,
            col=column,
        )
        ratios.add_vline(x=1.0, line_dash="dot", line_color="grey", row=1, col=column)
    ratios.update_layout(
        title="Compared figures: model / record (1 = the record; rows not modelled left out)",
        height=max(400, 28 * len(charted) + 150),
        yaxis={
            "autorange": "reversed",
            "categoryorder": "array",
            "categoryarray": list(charted["label"]),
        },
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
        + differences_html(table)
        + "</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path


def _span(low: float, high: float, observable: str, number: Callable[[float, str], str]) -> str:
    """The spread " (low to high)" written with `number`; nothing for a single value.

    "to", not a dash: beside a negative bound a dash read as a minus sign ("(-1.2 points -
    0.3 points)", QA of session 40).
    """
    if math.isnan(low) or low == high:
        return ""
    return f" ({number(low, observable)} to {number(high, observable)})"


def table_cells(row: Any) -> tuple[str, ...]:
    """A row of differences.csv as the tables show it (`TABLE_HEADINGS`).

    Figures with separators, shares in %, their differences in points; "not modelled" for a
    side whose scenario does not model the row's kind.
    """
    name = row.observable

    def side(prefix: str) -> str:
        if not getattr(row, f"{prefix}_modelled"):
            return NOT_MODELLED
        low, high = getattr(row, f"{prefix}_low"), getattr(row, f"{prefix}_high")
        mean = observable_number(getattr(row, f"{prefix}_mean"), name)
        return mean + _span(low, high, name, observable_number)

    interval = _span(row.difference_low, row.difference_high, name, difference_number)
    return (
        row.label,
        observable_number(row.record, name),
        side("a"),
        side("b"),
        difference_number(row.difference, name) + interval,
        "-" if math.isnan(row.relative) else f"{row.relative:+.1%}",
    )


def differences_html(table: pd.DataFrame) -> str:
    """The table of differences as HTML, written as the printed table is."""
    from html import escape as html_escape

    head = "".join(f"<th>{html_escape(name)}</th>" for name in TABLE_HEADINGS)
    body = "".join(
        "<tr><td>"
        + html_escape(cells[0])
        + "</td>"
        + "".join(f'<td style="text-align:right">{html_escape(c)}</td>' for c in cells[1:])
        + "</tr>"
        for cells in map(table_cells, table.itertuples(index=False))
    )
    return f'<table id="differences"><tr>{head}</tr>{body}</table>'


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
    for column in TABLE_HEADINGS:
        view.add_column(column, justify="left" if column == "figure" else "right")
    for row in table.itertuples(index=False):
        view.add_row(*(escape(cell) for cell in table_cells(row)))
    console.print(view)
    console.print(
        f"wrote {escape(str(report))}, {escape(str(target / 'differences.csv'))}",
        highlight=False,
        soft_wrap=True,
    )
