"""compare.html, the page of `chistka compare` (and of the web app's comparison of two runs).

Party membership and the compared figures of both sides side by side, and the table of the
differences B - A (`chistka.analysis.compare.differences`), written as the printed table is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape as html_escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chistka.analysis.compare import NOT_MODELLED, QUANTILES, Side, scale_warning
from chistka.analysis.observables import difference_number, observable_number

ABOUT = (
    "Each record row both sides compare: its mean on each side with the 5-95% spread over the "
    'seeds (or "not modelled" where that side\'s scenario does not model its kind), and the '
    "difference B - A with a 90% interval where both sides have several seeds (a difference of "
    "shares is in percentage points). The interval is that of the mean difference: paired by "
    "seed where both sides ran the same seeds (common random numbers), else from the two sides' "
    "variances (Welch), with Student's t in both."
)
"""What the page says of its table, under the names of the two sides."""


SIDES = {"A": "#1f77b4", "B": "#ff7f0e"}
"""Each side's name in the charts and its colour."""


TABLE_HEADINGS = ("figure", "record", "A", "B", "B - A (90% interval)", "relative")
"""Columns of the table of differences, printed and in compare.html."""


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

    def describe(side: Side) -> str:
        seeds = ", ".join(str(s) for s in side.seeds)
        scale = "" if math.isnan(side.scale) else f" at scale {side.scale:g}"
        return (
            f"{html_escape(side.name)}: {html_escape(side.scenario)}{scale}, "
            f"{len(side.paths)} run(s), seeds {html_escape(seeds)}"
        )

    warning = scale_warning(a, b)
    warned = (
        f"<p class='warning'><strong>Warning:</strong> {html_escape(warning)}.</p>"
        if warning
        else ""
    )

    document = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>chistka compare: {html_escape(a.name)} and {html_escape(b.name)}</title>"
        f"</head><body><h1>{heading(a, b)}</h1>"
        f"<p>A: {describe(a)}<br>B: {describe(b)}</p>{warned}"
        f"<p>{html_escape(ABOUT)}</p>"
        + "".join(parts)
        + "<h2>Differences (B - A)</h2>"
        + differences_html(table)
        + "</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path


def heading(a: Side, b: Side) -> str:
    """The page's heading: two runs, or two sets of runs (ensembles, sweep points)."""
    if len(a.paths) == 1 and len(b.paths) == 1:
        return "Two runs side by side"
    return "Two sets of runs side by side"


def _span(low: float, high: float, observable: str, number: Callable[[float, str], str]) -> str:
    """The spread " (low to high)" written with `number`; nothing for a single value.

    "to", not a dash: beside a negative bound a dash read as a minus sign ("(-1.2 points -
    0.3 points)").
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


def modelled_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows of differences.csv that at least one side models, and a line on the others.

    A row neither side's scenario models has no number on either side; listed, such rows were
    half of a comparison of two party-purges runs (52 of 105). differences.csv keeps them.
    """
    shown = table[table["a_modelled"] | table["b_modelled"]]
    left = len(table) - len(shown)
    if not left:
        return shown, ""
    rows = "row" if left == 1 else "rows"
    return shown, (
        f"{left} record {rows} that neither side's scenario models (of their kinds) are left "
        "out here; differences.csv lists every row."
    )


def differences_html(table: pd.DataFrame) -> str:
    """The table of differences as HTML, written as the printed table is.

    Rows neither side models are left out, with a line saying how many (`modelled_rows`).
    """
    shown, left_out = modelled_rows(table)
    head = "".join(f"<th>{html_escape(name)}</th>" for name in TABLE_HEADINGS)
    body = "".join(
        "<tr><td>"
        + html_escape(cells[0])
        + "</td>"
        + "".join(f'<td style="text-align:right">{html_escape(c)}</td>' for c in cells[1:])
        + "</tr>"
        for cells in map(table_cells, shown.itertuples(index=False))
    )
    note = f'<p id="left-out">{html_escape(left_out)}</p>' if left_out else ""
    return f'<table id="differences"><tr>{head}</tr>{body}</table>{note}'
