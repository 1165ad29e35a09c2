"""Helpers every report section shares: the page, a section's frame, figures, tables, numbers.

The run report (`chistka.report.html`) and the ensemble report (`chistka.report.ensemble`) are
compositions of the sections in `chistka.report.sections`; all of them build on these helpers so
that a table, a record marker or a count looks the same wherever it appears.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from chistka.figures import figure_html, file_name
from chistka.record import GRADES, grade_text

if TYPE_CHECKING:
    from chistka.results import Results

TEMPLATE = "plotly_white"
FIGURE_HEIGHT = 460

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; display: block;
        max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.source { font-size: 0.85em; color: #555; max-width: 22em; min-width: 18em; }
td.inside { white-space: nowrap; }
tr.outside { background: #fde8e8; }
tr.outside td.inside { color: #b00; font-weight: bold; }
td.inside.yes { color: #1a7f1a; }
.unverified { color: #a15c00; font-weight: bold; }
.meta td:first-child { font-weight: bold; background: #f7f7f7; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.note { color: #555; font-size: 0.9em; }
.chart-title { margin: 1em 0 0; }
nav.contents ul { columns: 2 18em; padding-left: 1.2em; }
details > summary { cursor: pointer; margin: 0.8em 0; font-weight: 600; }
.chart-title .chart-main { font-weight: 600; }
.chart-title .chart-subtitle { color: #555; font-size: 0.9em; }
"""

CHANNEL_COLOURS = {
    "category": "#8c564b",
    "national": "#bcbd22",
    "routine": "#c7c7c7",
    "expelled": "#9467bd",
    "testimony": "#d62728",
    "denunciation": "#1f77b4",
    "self_protection": "#17becf",
    "family": "#e377c2",
    "army": "#2ca02c",
    "show_trial": "#000000",
}
"""Colour per arrest channel: category victims in earth tones, network victims in colours."""


class FigureRenderer:
    """Renders figures to HTML fragments, inlining plotly.js in the first one only."""

    def __init__(self, prefix: str = "chistka-figure", height: int = FIGURE_HEIGHT) -> None:
        """Figures get the div ids PREFIX-0, PREFIX-1 ... so the same run gives the same file."""
        self.count = 0
        self.prefix = prefix
        self.height = height
        self.names: set[str] = set()

    def add(
        self,
        fig: go.Figure,
        name: str | None = None,
        height: int | None = None,
        heading: str = "",
    ) -> str:
        """The figure as an HTML fragment, with the link to its numbers (`name`.csv).

        A name already given on the page gets a number after it, so no download replaces another.
        `height` overrides the renderer's for this figure (one sized by its rows). `heading` is
        the heading the chart sits under, which its title above it does not repeat.
        """
        height = height if height is not None else self.height
        if name is not None:
            base = file_name(name)
            name, again = base, 1
            while name in self.names:
                again += 1
                name = f"{base}-{again}"
            self.names.add(name)
        fig.update_layout(template=TEMPLATE, height=height)
        fragment = figure_html(
            fig,
            f"{self.prefix}-{self.count}",
            include_plotlyjs=self.count == 0,
            height=height,
            name=name,
            heading=heading,
        )
        self.count += 1
        return fragment


@dataclass
class RunReport:
    """What the sections of a run's report read: the run, its comparison and summary."""

    results: Results
    comparison: pd.DataFrame
    summary: dict[str, Any]
    figures: FigureRenderer


# --- page structure ----------------------------------------------------------------------------


def page(title: str, body: Sequence[str]) -> str:
    """A whole HTML document: the title, the shared style sheet and the sections in order.

    A list of contents, linking to each section, goes before the first section (`contents`).
    """
    parts = [part for part in body if part]
    first = next((i for i, part in enumerate(parts) if part.startswith("<section ")), len(parts))
    parts.insert(first, contents(parts))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in parts if part)
        + "\n</body>\n</html>\n"
    )


SECTION_HEAD = re.compile(r'^<section id="([^"]+)">\n<h2>(.*?)</h2>')
"""The start of a section as `section` writes it: its id and its (escaped) title."""


def contents(parts: Sequence[str]) -> str:
    """A list of links to the page's sections, "" with fewer than three.

    A run's report had no navigation, and its first chart was 13,000 px down (QA 44).
    """
    links = [
        f'<li><a href="#{key}">{title}</a></li>'
        for key, title in (
            match.groups() for match in map(SECTION_HEAD.match, parts) if match is not None
        )
    ]
    if len(links) < 3:
        return ""
    return '<nav class="contents"><h2>Contents</h2>\n<ul>\n' + "\n".join(links) + "\n</ul>\n</nav>"


def section(key: str, title: str, content: str, note: str = "") -> str:
    """One titled section: the content and an explanatory note (HTML) under it."""
    note_html = f'<p class="note">{note}</p>' if note else ""
    return f'<section id="{key}">\n<h2>{esc(title)}</h2>\n{content}\n{note_html}\n</section>'


def figure_section(
    report: RunReport, key: str, title: str, fig: go.Figure, note: str, below: str = ""
) -> str:
    """A run report's section holding one figure (and `below` it, e.g. its table) with its note."""
    return section(key, title, report.figures.add(fig, key, heading=title) + below, note)


def meta_table(rows: Sequence[tuple[str, Any]]) -> str:
    """A two-column table of labels and values (the identity of a run or an ensemble)."""
    cells = "\n".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="meta">\n{cells}\n</table>'


def table(head: str, rows: Sequence[str]) -> str:
    """A table from its header cells and its rows (HTML)."""
    return (
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>"
    )


def header_cells(names: Sequence[str]) -> str:
    """Header cells of a table."""
    return "".join(f"<th>{name}</th>" for name in names)


# --- figures -----------------------------------------------------------------------------------


def stacked_monthly_area(
    x: Any,
    y: Any,
    label: str,
    colour: str | None,
    group: str,
    *,
    name: str = "",
    number: str = ",.0f",
) -> go.Scatter:
    """One layer of a stacked area chart of monthly values; hovering shows the month and value.

    `label` names the layer in the hover text, `name` in the legend (the label unless given);
    `number` is the d3 format of the value.
    """
    return go.Scatter(
        x=x,
        y=y,
        name=name or label,
        mode="lines",
        stackgroup=group,
        line={"width": 0.5, "color": colour},
        hovertemplate=f"{label}<br>%{{x|%Y-%m}}: %{{y:{number}}}<extra></extra>",
    )


def persons_over_time_layout(fig: go.Figure, title: str) -> None:
    """Title, axes and legend of a figure of persons against dates (membership, the camps)."""
    fig.update_layout(
        title=title,
        xaxis_title="date",
        yaxis_title="persons",
        hovermode="closest",
    )
    fig.update_yaxes(tickformat=",.0f", rangemode="tozero")


RECORD_RANGE = "record's range ± tolerance"
"""What the error bars of the record's markers are, as their numbers' columns say."""

RECORD_TOLERANCE = "record ± its tolerance"
"""What the error bars of the record's bars of a share are (the expelled share per campaign)."""


def band_name(spread: str) -> str:
    """What an ensemble's shaded band and its error bars are, as their numbers say.

    `spread` is the spread's name with its seeds (`chistka.analysis.spread.spread_name`): "band:
    lowest-highest over 2 seeds" (the 5-95% quantiles of two seeds left out both seeds).
    """
    return f"band: {spread}"


def record_markers(
    x: Sequence[Any],
    values: Sequence[float],
    low: Sequence[Any],
    high: Sequence[Any],
    filled: Sequence[bool],
    hover: Sequence[str],
    label: str,
    colour: str,
) -> go.Scatter:
    """Markers for figures of the record: filled or open (see the caller); error bars low-high."""
    values = np.asarray(values, dtype=np.float64)
    upper = np.array([_gap(h, v) for h, v in zip(high, values, strict=True)])
    lower = np.array([_gap(v, lo) for v, lo in zip(values, low, strict=True)])
    return go.Scatter(
        x=list(x),
        y=values,
        mode="markers",
        name=label,
        marker={
            "color": colour,
            "size": 10,
            "symbol": ["diamond" if v else "diamond-open" for v in filled],
            "line": {"color": colour, "width": 2},
        },
        error_y={
            "type": "data",
            "array": upper,
            "arrayminus": lower,
            "visible": bool(upper.any() or lower.any()),
            "color": colour,
        },
        meta={"error_y": RECORD_RANGE},
        hovertext=list(hover),
        hoverinfo="text",
    )


def _gap(high: Any, low: Any) -> float:
    """`high - low`, at least 0; 0 where either end is missing."""
    if missing(high) or missing(low):
        return 0.0
    return max(float(high) - float(low), 0.0)


def band_traces(
    x: Sequence[Any],
    low: np.ndarray,
    mid: np.ndarray,
    high: np.ndarray,
    *,
    name: str,
    colour: str,
    dash: str = "solid",
    group: str,
    mode: str = "lines",
    hover: str = "%{x|%Y-%m-%d}: %{y:,.0f}",
    spread: str = "spread over the seeds",
) -> list[go.Scatter]:
    """A shaded band from `low` to `high` and the median line on top.

    `spread` names the band ("lowest-highest over 2 seeds", `chistka.analysis.spread`).
    """
    x = list(x)
    return [
        go.Scatter(
            x=x + x[::-1],
            y=np.concatenate([high, low[::-1]]),
            fill="toself",
            fillcolor=rgba(colour, 0.18),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
            name=f"{name}: {band_name(spread)}",
        ),
        go.Scatter(
            x=x,
            y=mid,
            mode=mode,
            name=name,
            legendgroup=group,
            line={"color": colour, "width": 2, "dash": dash},
            customdata=np.stack([low, high], axis=-1),
            hovertemplate=f"{esc(name)}<br>{hover} (median)<br>"
            f"{esc(spread)}: " + "%{customdata[0]:,.0f} to %{customdata[1]:,.0f}<extra></extra>",
        ),
    ]


def rgba(colour: str, alpha: float) -> str:
    """A hex colour with transparency, for the fill of a band."""
    red, green, blue = plotly.colors.hex_to_rgb(colour)
    return f"rgba({red},{green},{blue},{alpha})"


# --- formatting --------------------------------------------------------------------------------


def esc(value: Any) -> str:
    """Text escaped for HTML (None becomes empty)."""
    return html.escape("" if value is None else str(value))


def missing(value: Any) -> bool:
    """Whether a value is absent: None, NaN or not a number at all."""
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def count(value: Any) -> str:
    """A count of persons with thousands separators."""
    return "—" if missing(value) else f"{float(value):,.0f}"


def share(value: Any) -> str:
    """A share as a percentage."""
    return "—" if missing(value) else f"{float(value):.1%}"


def reading(read_in_source: bool, grade: str) -> str:
    """Whether a record figure was read in its source, and its source's grade.

    The grade is named as comparison.csv and the CLI name it ("scholarly"), its meaning in
    brackets; the report said "scholarly secondary" where the CLI said "scholarly" (QA 44).
    """
    read = "read in the source" if read_in_source else "NOT READ in the source"
    return f"{read}; grade {grade_text(grade)}"


def grades_text() -> str:
    """The grades of the record's sources, each with its meaning, best first (HTML)."""
    return ", ".join(f"<em>{esc(grade)}</em> ({esc(meaning)})" for grade, meaning in GRADES.items())


def wrap(text: str, width: int = 60) -> str:
    """Break a long hover text into lines."""
    words, lines, line = html.escape(str(text), quote=False).split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return "<br>".join(lines)
