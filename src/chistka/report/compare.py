"""compare.html, the page of `chistka compare` (and of the web app's comparison of two runs).

Party membership and the compared figures of both sides side by side, and the table of the
differences B - A (`chistka.analysis.compare.differences`), written as the printed table is.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from html import escape as html_escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chistka.analysis.compare import NOT_MODELLED, Side, scale_warning
from chistka.analysis.observables import difference_number, observable_number, unsigned_zero
from chistka.analysis.spread import spread_along, spread_name

STYLE = (
    "html{overflow-y:scroll}"
    "body{font-family:sans-serif;max-width:1200px;margin:0 auto;padding:0 8px;"
    "overflow-wrap:anywhere}"
    ".wide{overflow-x:auto}table{border-collapse:collapse}"
    "td,th{padding:2px 6px;border-bottom:1px solid #ddd;vertical-align:top}"
)
"""The page's style: text that wraps anywhere (a folder's name has no space) and a wide table
that scrolls in its own box, and the scroll bar from the start (the charts drawn before the rest
of the page took the width it then took: 7 px too wide at 400 px), so that the page is never
wider than the screen."""

ABOUT = (
    "Each record row both sides compare: its mean on each side with its spread over the "
    'seeds ({spreads}; or "not modelled" where that side\'s scenario does not model its kind), '
    "and the difference B - A with a 90% interval where both sides have several seeds (a "
    "difference of shares is in percentage points). The interval is that of the mean "
    "difference: paired by seed where both sides ran the same seeds (common random numbers), "
    "else from the two sides' variances (Welch), with Student's t in both."
)
"""What the page says of its table, under the names of the two sides (`about`)."""


def about(a: Side, b: Side) -> str:
    """`ABOUT` with each side's spread named by its seeds ("A: lowest-highest over 2 seeds")."""
    spreads = "; ".join(
        f"{letter}: {spread_name(len(side.paths))}"
        for letter, side in (("A", a), ("B", b))
        if len(side.paths) > 1
    )
    return ABOUT.format(spreads=spreads or "none with one run a side")


SIDES = {"A": "#1f77b4", "B": "#ff7f0e"}
"""Each side's name in the charts and its colour."""


TABLE_HEADINGS = ("figure", "record", "A", "B", "B - A (90% interval)", "relative")
"""Columns of the table of differences, printed and in compare.html, where the differences have
intervals (`table_headings`)."""

NO_INTERVAL = "no interval: one seed on a side"
"""The note under a table of differences without intervals (a side of one seed)."""


def has_intervals(table: pd.DataFrame) -> bool:
    """Whether any difference of the table has its interval (none with one seed on a side)."""
    return bool(table["difference_low"].notna().any()) if len(table) else False


def table_headings(table: pd.DataFrame) -> tuple[str, ...]:
    """`TABLE_HEADINGS` for this table: "B - A" alone where no difference has an interval.

    With one seed on a side the column read "B - A (90% interval)" and held no interval.
    """
    if has_intervals(table):
        return TABLE_HEADINGS
    return tuple("B - A" if h == "B - A (90% interval)" else h for h in TABLE_HEADINGS)


def interval_note(table: pd.DataFrame) -> str:
    """`NO_INTERVAL` where the table's differences have no interval, else ""."""
    return "" if has_intervals(table) else NO_INTERVAL


def _band(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Median and spread over the runs (columns) of each date (`chistka.analysis.spread`)."""
    low, high = spread_along(frame.to_numpy(dtype=np.float64))
    return frame.median(axis=1), pd.Series(low, frame.index), pd.Series(high, frame.index)


TITLE_WIDTH = 16
"""Characters on a line of a side's title under its chart: at 400 px a chart is ~170 px wide."""


def side_title(letter: str, side: Side) -> str:
    """A side's name under its chart: "A: " and its folder's name, wrapped to a narrow column.

    Under the chart, not above it: above, B's title ran under plotly's modebar at 1280 px, and
    at 400 px the two titles overprinted each other.
    """
    from chistka.figures import wrap_label  # plotly: not at the command's start

    return wrap_label(f"{letter}: {side.name}", TITLE_WIDTH)


def ratio_chart_height(labels: list[str]) -> int:
    """The compared figures' chart's height: each row as tall as its wrapped label's lines.

    28 px a row let labels of three or four lines overwrite each other.
    """
    from chistka.figures import LABEL_WIDTH

    lines = sum(max(1, len(textwrap.wrap(str(label), LABEL_WIDTH["y"]))) for label in labels)
    return max(400, 15 * lines + 12 * len(labels) + 170)


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

    titles = (side_title("A", a), side_title("B", b))
    membership = make_subplots(rows=1, cols=2, shared_yaxes=True)
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
                name=f"{letter}: {spread_name(len(side.paths))}",
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
    membership.update_layout(
        title="Party membership (candidates and members, persons)",
        xaxis_title=titles[0],
        xaxis2_title=titles[1],
    )
    charted = table[table["a_modelled"] | table["b_modelled"]]
    ratios = make_subplots(rows=1, cols=2, shared_yaxes=True)
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
        height=ratio_chart_height(list(charted["label"])),
        xaxis_title=titles[0],
        xaxis2_title=titles[1],
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
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>chistka compare: {html_escape(a.name)} and {html_escape(b.name)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{heading(a, b)}</h1>"
        f"<p>A: {describe(a)}<br>B: {describe(b)}</p>{warned}"
        f"<p>{html_escape(about(a, b))}</p>"
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
    relative = "-" if math.isnan(row.relative) else unsigned_zero(f"{row.relative:+.1%}")
    return (
        row.label,
        observable_number(row.record, name),
        side("a"),
        side("b"),
        difference_number(row.difference, name) + interval,
        relative,
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
    head = "".join(f"<th>{html_escape(name)}</th>" for name in table_headings(table))
    body = "".join(
        "<tr><td>"
        + html_escape(cells[0])
        + "</td>"
        + "".join(f'<td style="text-align:right">{html_escape(c)}</td>' for c in cells[1:])
        + "</tr>"
        for cells in map(table_cells, shown.itertuples(index=False))
    )
    notes = [
        (name, text)
        for name, text in (("no-interval", interval_note(shown)), ("left-out", left_out))
        if text
    ]
    note = "".join(f'<p id="{name}">{html_escape(text)}</p>' for name, text in notes)
    return f'<div class="wide"><table id="differences"><tr>{head}</tr>{body}</table></div>{note}'
