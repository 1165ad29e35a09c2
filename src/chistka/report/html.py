"""The report of a run as one self-contained HTML file: the model against the historical record.

Plotly's JavaScript is inlined once (with the first figure) so that the report works offline;
daily series are thinned to weekly or monthly points to keep the file small.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from chistka.analysis import terror
from chistka.analysis.comparison import fit, fit_text
from chistka.record import GRADES, RELIABLE_GRADES, compared_observables, records
from chistka.scenario.schema import ORIGINS
from chistka.state import EventKind

if TYPE_CHECKING:
    from chistka.results import Results

COLOURS = {"members": "#1f77b4", "candidates": "#ff7f0e", "total": "#2ca02c"}
"""Line colour per membership series; the record's markers take the colour of their series."""

OUTCOME_COLOURS = {
    "kept": "#2ca02c",
    "demoted": "#ff7f0e",
    "expelled": "#d62728",
    "reinstated": "#9467bd",
}

ORIGIN_COLOURS = {
    "worker": "#1f77b4",
    "peasant": "#8c564b",
    "employee": "#17becf",
    "alien": "#7f7f7f",
}

RECORD_SERIES = {
    "party_total_": "total",
    "party_full_": "members",
    "rigby_full_": "members",
    "party_cand_": "candidates",
    "rigby_cand_": "candidates",
}
"""Record-id prefix -> the membership series those record rows are compared with."""

TEMPLATE = "plotly_white"
FIGURE_HEIGHT = 460

TITLES = {
    "comparison": "Model against the record",
    "membership": "Party membership over time against the record",
    "expulsions": "Expulsions per campaign against the record",
    "outcomes": "Review outcomes per campaign",
    "origins": "Party composition by social origin",
    "reading": "How to read this",
    "provenance": "Provenance",
}
"""Section titles (tests look for them)."""

TERROR_TITLES = {
    "terror_record": "Arrests, convictions and death sentences per month against the record",
    "terror_channels": "Arrests by origin (channel) per month",
    "terror_rank": "Risk of arrest and execution by rank",
    "terror_reproduction": "Reproduction number of the arrest cascade",
    "terror_tree": "An example cascade: who brought about whose arrest",
    "terror_detection": "Enemy detection: precision, recall, category and network victims",
}
"""Titles of the sections shown only for runs with arrests (tests look for them)."""

TERROR_COLOURS = {"arrests": "#1f77b4", "convictions": "#ff7f0e", "death_sentences": "#d62728"}

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

RANK_NAMES = ("rank and file", "cell secretary", "district", "regional", "central")

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.source { font-size: 0.85em; color: #555; max-width: 22em; }
tr.outside { background: #fde8e8; }
tr.outside td.inside { color: #b00; font-weight: bold; }
td.inside.yes { color: #1a7f1a; }
.unverified { color: #a15c00; font-weight: bold; }
.meta td:first-child { font-weight: bold; background: #f7f7f7; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.note { color: #555; font-size: 0.9em; }
"""


def write_report(results: Results, path: Path) -> None:
    """Write the run's report (tables, plots, provenance) as one offline HTML file at `path`."""
    summary = results.summary()
    comparison = results.comparison()
    figures = FigureRenderer()
    body = [
        _header(results, summary),
        _comparison_section(comparison, results.provenance),
        _section("membership", figures.add(_membership_figure(results)), _MEMBERSHIP_NOTE),
        _section(
            "expulsions",
            figures.add(_expulsions_figure(results, comparison)),
            _EXPULSIONS_NOTE,
        ),
        _section(
            "outcomes",
            figures.add(_outcomes_figure(results)) + _campaign_table(results),
            _OUTCOMES_NOTE,
        ),
        _section("origins", figures.add(_origins_figure(results)), _ORIGINS_NOTE),
        *_terror_sections(results, figures),
        _reading_section(),
        _provenance_section(results),
    ]
    title = f"chistka report: {summary.get('scenario') or 'run'}"
    document = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
    Path(path).write_text(document, encoding="utf-8")


# --- page structure ----------------------------------------------------------------------------


def expulsions_layout(campaigns: list[str]) -> dict[str, Any]:
    """Layout of the expulsions-per-campaign chart (shared by the run and ensemble reports)."""
    return {
        "title": TITLES["expulsions"],
        "barmode": "group",
        "xaxis": {
            "title": "campaign",
            "type": "category",
            "categoryorder": "array",
            "categoryarray": campaigns,
        },
        "yaxis": {"title": "share of those reviewed who were expelled", "tickformat": ".0%"},
    }


class FigureRenderer:
    """Renders figures to HTML fragments, inlining plotly.js in the first one only."""

    def __init__(self, prefix: str = "chistka-figure", height: int = FIGURE_HEIGHT) -> None:
        """Figures get the div ids PREFIX-0, PREFIX-1 ... so the same run gives the same file."""
        self.count = 0
        self.prefix = prefix
        self.height = height

    def add(self, fig: go.Figure) -> str:
        """The figure as an HTML fragment."""
        fig.update_layout(template=TEMPLATE, height=self.height, margin={"t": 60, "b": 50})
        fragment = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=self.count == 0,
            div_id=f"{self.prefix}-{self.count}",
            default_height=f"{self.height}px",
            config={"displaylogo": False, "responsive": True},
        )
        self.count += 1
        return fragment


def _section(key: str, content: str, note: str = "") -> str:
    """One titled section: the content and an explanatory note under it."""
    note_html = f'<p class="note">{note}</p>' if note else ""
    title = TITLES.get(key) or TERROR_TITLES[key]
    return f'<section id="{key}">\n<h2>{_esc(title)}</h2>\n{content}\n{note_html}\n</section>'


def _header(results: Results, summary: dict[str, Any]) -> str:
    """Title and the run's identity: scenario, seed, scale, version, dates, headline figures."""
    prov = results.provenance
    scenario = prov.get("scenario_name") or summary.get("scenario") or "unnamed scenario"
    version = prov.get("package_version") or _package_version()
    rows = [
        ("Scenario", scenario),
        ("Seed", summary.get("seed")),
        ("Scale", _scale_text(results)),
        ("Package version", f"chistka {version}"),
        ("Dates", f"{summary['start']} to {summary['end']}"),
        (
            "Party (members + candidates)",
            f"{_count(summary['party_total_first_day'])} on the first day, "
            f"{_count(summary['party_total_last_day'])} on the last; peak "
            f"{_count(summary['party_total_peak'])} on {summary['party_total_peak_date']}",
        ),
        ("Against the record", fit_text(summary["fit"])),
    ]
    table = "\n".join(f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>" for k, v in rows)
    return (
        f"<header>\n<h1>{_esc(scenario)}</h1>\n"
        '<p class="note">Report of one run of chistka, an agent-based simulator of the Soviet '
        "party purges.</p>\n"
        f'<table class="meta">\n{table}\n</table>\n</header>'
    )


def _package_version() -> str:
    from chistka import __version__

    return __version__


# --- tables ------------------------------------------------------------------------------------


_COMPARISON_GROUPS = (
    ("calibration", "Calibration rows: figures parameters may be fitted to"),
    ("validation", "Validation rows: figures kept out of every fit, to judge the model"),
    ("not scored", "Not scored: inputs, claims and kinds this scenario does not model"),
)


def _comparison_section(comparison: pd.DataFrame, provenance: dict[str, Any]) -> str:
    """The comparison: the fit on calibration and on validation rows, and every row by role.

    Rows outside tolerance are shaded; each row shows whether its figure was read in the cited
    source and the source's grade; inputs, claims and kinds the scenario does not model are
    listed apart and never counted.
    """
    if comparison.empty:
        return _section("comparison", "<p>No figure of the record falls inside this run.</p>")
    summary = fit(comparison)
    fitted = provenance.get("fitted") or []
    parts = []
    for role, entry in summary.items():
        if not entry["rows"]:
            parts.append(f"<li><b>{role}</b>: no row compared in this run</li>")
            continue
        text = (
            f"<b>{role}</b>: {entry['inside']} of {entry['rows']} rows inside "
            f"({entry['share']:.0%})"
        )
        if entry.get("fitted_now"):
            text += (
                f"; {entry['fitted_now']} of these rows were fitted by hand in the present "
                "timeline, so they are not yet out of sample"
            )
        parts.append(f"<li>{text}</li>")
    intro = (
        "<ul>" + "".join(parts) + "</ul>\n"
        f"<p>{len(fitted)} values of this scenario were fitted to the record (listed in its free "
        f"file and in provenance.json, 'fitted'), against {summary['calibration']['rows']} "
        "calibration rows compared here. Rows outside tolerance are shaded red; a row is inside "
        "when the model lies in the record's range widened to the tolerance. "
        "<code>political_convictions</code> counts death and camp sentences and is compared "
        "with the same two columns of the 1953 MVD table (<code>death_or_camp_YEAR</code>).</p>"
    )
    groups = {
        "calibration": comparison[
            (comparison["role"] == "calibration") & comparison["inside"].notna()
        ],
        "validation": comparison[
            (comparison["role"] == "validation") & comparison["inside"].notna()
        ],
        "not scored": comparison[comparison["inside"].isna()],
    }
    tables = []
    for key, title in _COMPARISON_GROUPS:
        rows = groups[key]
        if rows.empty:
            continue
        table = _comparison_rows(rows)
        if key == "not scored":
            table = (
                f"<details><summary>{_esc(title)} ({len(rows)} rows)</summary>\n{table}</details>"
            )
        else:
            table = f"<h3>{_esc(title)}</h3>\n{table}"
        tables.append(table)
    return _section("comparison", intro + "\n".join(tables))


def _comparison_rows(rows: pd.DataFrame) -> str:
    """One table of comparison rows."""
    columns = [
        "figure",
        "model",
        "record",
        "accepted range",
        "tolerance",
        "fit",
        "read in source",
        "grade",
        "source",
    ]
    head = "".join(f"<th>{c}</th>" for c in columns)
    body = []
    for row in rows.itertuples(index=False):
        share = _is_share(row.observable)
        value = _share if share else _count
        status = str(row.status)
        mark = {"inside": "✓ inside", "outside": "✗ outside"}.get(status, status)
        note = f'<br><span class="note">{_esc(row.note)}</span>' if row.note else ""
        cells = [
            f"<td>{_esc(row.label)}<br><code>{_esc(row.observable)}</code>{note}</td>",
            f'<td class="num">{value(row.model)}</td>',
            f'<td class="num">{value(row.record)}</td>',
            f'<td class="num">{value(row.low)} – {value(row.high)}</td>',
            f'<td class="num">{_esc(_tolerance(row.tolerance, share))}</td>',
            f'<td class="inside {"yes" if status == "inside" else "no"}">{_esc(mark)}</td>',
            "<td>yes</td>" if row.read_in_source else '<td class="unverified">not read</td>',
            f"<td>{_esc(GRADES.get(row.grade, row.grade))}</td>"
            if row.grade in RELIABLE_GRADES
            else f'<td class="unverified">{_esc(GRADES.get(row.grade, row.grade))}</td>',
            f'<td class="source">{_esc(row.source)}</td>',
        ]
        css = ' class="outside"' if status == "outside" else ""
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    return (
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n"
        "</table>"
    )


def _campaign_table(results: Results) -> str:
    """Per-campaign figures in persons, for exact reading of the bars above it."""
    table = results.campaigns()
    if table.empty:
        return ""
    columns = ["reviewed", "kept", "demoted", "expelled", "appealed", "reinstated"]
    head = "<th>campaign</th>" + "".join(f"<th>{c}</th>" for c in columns)
    head += "<th>expelled share</th><th>reinstated share</th>"
    rows = []
    for row in table.itertuples(index=False):
        cells = [f"<td>{_esc(row.campaign)}</td>"]
        cells += [f'<td class="num">{_count(getattr(row, c))}</td>' for c in columns]
        cells.append(f'<td class="num">{_share(row.expelled_share)}</td>')
        cells.append(f'<td class="num">{_share(row.reinstated_share)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>"
    )


# --- figures -----------------------------------------------------------------------------------


def _membership_figure(results: Results) -> go.Figure:
    """Candidates, members and total (weekly) with the record's membership figures as markers."""
    membership = _weekly(results.membership())
    fig = go.Figure()
    for column, name in (("members", "full members"), ("candidates", "candidates")):
        fig.add_trace(_line(membership, column, name))
    fig.add_trace(_line(membership, "total", "total (members + candidates)"))
    first, last = results.dates[0], results.dates[-1]
    points = _record_points(first, last)
    for series, label in (
        ("total", "record: total"),
        ("members", "record: full members"),
        ("candidates", "record: candidates"),
    ):
        part = [p for p in points if p["series"] == series]
        if part:
            fig.add_trace(_record_trace(part, label, COLOURS[series]))
    fig.update_layout(
        title=TITLES["membership"],
        xaxis_title="date",
        yaxis_title="persons",
        hovermode="closest",
        legend={"orientation": "h", "y": -0.15},
    )
    fig.update_yaxes(tickformat=",.0f", rangemode="tozero")
    return fig


def _line(frame: pd.DataFrame, column: str, name: str) -> go.Scatter:
    return go.Scatter(
        x=frame.index,
        y=frame[column].round(0),
        mode="lines",
        name=f"model: {name}",
        line={"color": COLOURS[column], "width": 2},
        hovertemplate=f"{name}<br>%{{x|%Y-%m-%d}}: %{{y:,.0f}}<extra>model</extra>",
    )


def _record_trace(points: list[dict[str, Any]], label: str, colour: str) -> go.Scatter:
    """Markers for record figures: filled if reliable (read in a graded source), open if not."""
    values = np.array([p["value"] for p in points])
    upper = np.array(
        [max(p["high"] - p["value"], 0) if p["high"] is not None else 0 for p in points]
    )
    lower = np.array([max(p["value"] - p["low"], 0) if p["low"] is not None else 0 for p in points])
    has_range = bool(upper.any() or lower.any())
    hover = [
        f"<b>{p['id']}</b> ({p['period']})<br>{p['value']:,.0f} persons"
        + (f" [{p['low']:,.0f}–{p['high']:,.0f}]" if p["low"] is not None else "")
        + f"<br>{_reading(p['read_in_source'], p['grade'])}<br>{_wrap(p['source'])}"
        for p in points
    ]
    return go.Scatter(
        x=[p["date"] for p in points],
        y=values,
        mode="markers",
        name=label,
        marker={
            "color": colour,
            "size": 10,
            "symbol": ["diamond" if p["reliable"] else "diamond-open" for p in points],
            "line": {"color": colour, "width": 2},
        },
        error_y={
            "type": "data",
            "array": upper,
            "arrayminus": lower,
            "visible": has_range,
            "color": colour,
        },
        hovertext=hover,
        hoverinfo="text",
    )


def _record_points(first: pd.Timestamp, last: pd.Timestamp) -> list[dict[str, Any]]:
    """Membership figures of the record that can be dated and fall inside the run."""
    points = []
    for row in records().values():
        series = next((s for p, s in RECORD_SERIES.items() if row.id.startswith(p)), None)
        if series is None or row.value is None:
            continue
        date = _parse_period(row.period)
        if date is None or not first <= pd.Timestamp(date) <= last:
            continue
        points.append(
            {
                "id": row.id,
                "series": series,
                "date": pd.Timestamp(date),
                "period": row.period,
                "value": row.value,
                "low": row.low,
                "high": row.high,
                "read_in_source": row.read_in_source,
                "grade": row.grade,
                "reliable": row.reliable,
                "source": row.source,
            }
        )
    return sorted(points, key=lambda p: p["date"])


def _reading(read_in_source: bool, grade: str) -> str:
    """Whether a record figure was read in its source, and its source's grade, in words."""
    read = "read in the source" if read_in_source else "NOT READ in the source"
    return f"{read}; {GRADES.get(grade, grade)}"


_PERIOD = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*$")


def _parse_period(period: str) -> dt.date | None:
    """A record's period as a date ("1928-07-01"; "1921-03" means the 1st); None if not a day."""
    match = _PERIOD.match(period or "")
    if not match:
        return None
    year, month, day = match.groups()
    try:
        return dt.date(int(year), int(month), int(day or 1))
    except ValueError:
        return None


def _expulsions_figure(results: Results, comparison: pd.DataFrame) -> go.Figure:
    """The model's expelled share per campaign beside the record's, with the tolerance band."""
    campaigns = results.campaigns()
    names = [str(c) for c in campaigns["campaign"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=names,
            y=campaigns["expelled_share"],
            name="model",
            marker_color=COLOURS["members"],
            hovertemplate="campaign %{x}<br>model: %{y:.1%}<extra></extra>",
        )
    )
    record = _record_shares(comparison)
    if record:
        fig.add_trace(
            go.Bar(
                x=[r["campaign"] for r in record],
                y=[r["record"] for r in record],
                name="record (± tolerance)",
                marker_color="#7f7f7f",
                error_y={"type": "data", "array": [r["tolerance"] for r in record]},
                hovertext=[
                    f"<b>{r['label']}</b><br>record: {r['record']:.1%} "
                    f"(± {r['tolerance'] * 100:.3g} points)<br>model: {r['model']:.1%} — "
                    f"{'inside' if r['inside'] else 'OUTSIDE'} tolerance<br>"
                    f"{_reading(r['read_in_source'], r['grade'])}<br>{_wrap(r['source'])}"
                    for r in record
                ],
                hoverinfo="text",
            )
        )
    fig.update_layout(**expulsions_layout(names))
    return fig


def _record_shares(comparison: pd.DataFrame) -> list[dict[str, Any]]:
    """Comparison rows of expelled shares, with each one's absolute tolerance."""
    if comparison.empty:
        return []
    specs = {s.record_id: s for s in compared_observables()}
    rows = []
    for row in comparison.itertuples(index=False):
        if not row.observable.startswith("expelled_share:"):
            continue
        spec = specs.get(row.record_id)
        if spec is None:
            tolerance = 0.03
        elif spec.tolerance_kind == "absolute":
            tolerance = spec.tolerance
        else:
            tolerance = spec.tolerance * abs(row.record)
        rows.append(
            {
                "campaign": row.observable.split(":", 1)[1],
                "record": row.record,
                "model": row.model,
                "tolerance": tolerance,
                "inside": row.status == "inside",
                "read_in_source": bool(row.read_in_source),
                "grade": row.grade,
                "label": row.label,
                "source": row.source,
            }
        )
    return rows


def _outcomes_figure(results: Results) -> go.Figure:
    """Stacked review outcomes per campaign; the reinstated are split off the expelled."""
    campaigns = results.campaigns()
    names = [str(c) for c in campaigns["campaign"]]
    upheld = (campaigns["expelled"] - campaigns["reinstated"]).clip(lower=0)
    parts = (
        ("kept", campaigns["kept"], "kept"),
        ("demoted", campaigns["demoted"], "demoted to candidate"),
        ("expelled", upheld, "expelled (not reinstated)"),
        ("reinstated", campaigns["reinstated"], "expelled, reinstated on appeal"),
    )
    fig = go.Figure()
    for key, values, name in parts:
        fig.add_trace(
            go.Bar(
                x=names,
                y=values.round(0),
                name=name,
                marker_color=OUTCOME_COLOURS[key],
                hovertemplate=f"campaign %{{x}}<br>{name}: %{{y:,.0f}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=TITLES["outcomes"],
        barmode="stack",
        xaxis={"title": "campaign", "type": "category"},
        yaxis={"title": "persons reviewed", "tickformat": ",.0f"},
    )
    return fig


def _origins_figure(results: Results) -> go.Figure:
    """Members and candidates by social origin, sampled on the first of each month."""
    frame = results.to_frame()
    frame = frame[frame["status"].isin(["candidate", "member"])]
    table = frame.pivot_table(
        index="date", columns="origin", values="persons", aggfunc="sum", observed=False
    )
    order = [o for o in ORIGINS if o in table.columns]
    table = _monthly(table[order + [c for c in table.columns if c not in order]])
    fig = go.Figure()
    for origin in table.columns:
        fig.add_trace(
            go.Scatter(
                x=table.index,
                y=table[origin].round(0),
                name=str(origin),
                mode="lines",
                stackgroup="party",
                line={"width": 0.5, "color": ORIGIN_COLOURS.get(str(origin))},
                hovertemplate=f"{origin}<br>%{{x|%Y-%m}}: %{{y:,.0f}}<extra></extra>",
            )
        )
    fig.update_layout(
        title="Party members and candidates by social origin (first of each month)",
        xaxis_title="date",
        yaxis={"title": "persons", "tickformat": ",.0f"},
        hovermode="x unified",
    )
    return fig


def _weekly(frame: pd.DataFrame) -> pd.DataFrame:
    """Every seventh day of a daily table, keeping the last day."""
    keep = np.zeros(len(frame), dtype=bool)
    keep[::7] = True
    keep[-1:] = True
    return frame[keep]


def _monthly(frame: pd.DataFrame) -> pd.DataFrame:
    """First day of each month of a daily table, plus its first and last day."""
    index = pd.DatetimeIndex(frame.index)
    keep = np.asarray(index.day == 1)
    keep[:1] = True
    keep[-1:] = True
    return frame[keep]


# --- the terror (runs with arrests only) -------------------------------------------------------


def _terror_sections(results: Results, figures: FigureRenderer) -> list[str]:
    """Sections on the terror: the record by month, channels, rank, R, a cascade, detection.

    None for a run without arrests, so that such a run's report is unchanged.
    """
    if not np.any(results.events["kind"] == int(EventKind.ARRESTED)):
        return []
    risk = terror.risk_by_rank(results)
    tree = terror.cascade_tree(results)
    tree_content = (
        figures.add(_tree_figure(tree)) if len(tree) else "<p>No arrest caused another.</p>"
    )
    return [
        _section(
            "terror_record",
            figures.add(_terror_record_figure(terror.monthly_against_record(results))),
            _TERROR_RECORD_NOTE,
        ),
        _section(
            "terror_channels",
            figures.add(_channels_figure(terror.arrests_by_channel(results))),
            _CHANNELS_NOTE,
        ),
        _section("terror_rank", figures.add(_rank_figure(risk)) + _rank_table(risk), _RANK_NOTE),
        _section(
            "terror_reproduction",
            figures.add(_reproduction_figure(terror.reproduction_number(results))),
            _REPRODUCTION_NOTE,
        ),
        _section("terror_tree", tree_content, _tree_note(tree)),
        _section(
            "terror_detection",
            _detection_table(terror.enemy_detection(results))
            + _victims_table(terror.victims_by_origin(results)),
            _DETECTION_NOTE,
        ),
    ]


def _terror_record_figure(monthly: pd.DataFrame) -> go.Figure:
    """The model's monthly arrests, convictions, death sentences; the record's monthly average."""
    fig = go.Figure()
    labels = {
        "arrests": "arrests",
        "convictions": "convictions",
        "death_sentences": "death sentences",
    }
    for column, name in labels.items():
        fig.add_trace(
            go.Scatter(
                x=monthly.index,
                y=monthly[column].round(0),
                mode="lines+markers",
                marker={"size": 4},
                name=f"model: {name} per month",
                line={"color": TERROR_COLOURS[column], "width": 2},
                hovertemplate=f"{name}<br>%{{x|%Y-%m}}: %{{y:,.0f}}<extra>model</extra>",
            )
        )
    end = monthly.index[-1] + pd.offsets.MonthBegin(1)
    record_labels = {**labels, "arrests": "arrests on all charges"}
    for column, name in record_labels.items():
        record = monthly[f"record_{column}"]
        if record.isna().all():
            continue
        fig.add_trace(
            go.Scatter(
                x=[*monthly.index, end],
                y=[*record.round(0), record.iloc[-1]],
                mode="lines",
                line_shape="hv",
                name=f"record: {name}, yearly total ÷ 12",
                line={"color": TERROR_COLOURS[column], "width": 1.5, "dash": "dash"},
                hovertemplate=(
                    f"{name}<br>%{{x|%Y}}: %{{y:,.0f}} a month (yearly total ÷ 12)"
                    "<extra>record</extra>"
                ),
            )
        )
    fig.update_layout(
        title=TERROR_TITLES["terror_record"],
        xaxis_title="month",
        yaxis={"title": "persons per month", "tickformat": ",.0f", "rangemode": "tozero"},
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def _channels_figure(channels: pd.DataFrame) -> go.Figure:
    """Monthly arrests stacked by channel, category channels at the bottom."""
    fig = go.Figure()
    for name in (*terror.CATEGORY_CHANNELS, *terror.NETWORK_CHANNELS):
        if name not in channels or not channels[name].any():
            continue
        label = name.replace("_", " ")
        fig.add_trace(
            go.Scatter(
                x=channels.index,
                y=channels[name].round(0),
                name=label,
                mode="lines",
                stackgroup="arrests",
                line={"width": 0.5, "color": CHANNEL_COLOURS.get(name)},
                hovertemplate=f"{label}<br>%{{x|%Y-%m}}: %{{y:,.0f}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=TERROR_TITLES["terror_channels"],
        xaxis_title="month",
        yaxis={"title": "persons arrested per month", "tickformat": ",.0f"},
        hovermode="x unified",
    )
    return fig


def _rank_figure(risk: pd.DataFrame) -> go.Figure:
    """Arrested and shot shares per rank tier and elite body (counts without a population)."""
    shares = bool(risk["population"].notna().any())
    columns = ("arrested_share", "shot_share") if shares else ("arrested", "shot")
    fig = go.Figure()
    for column, colour in zip(columns, ("#ff7f0e", "#d62728"), strict=True):
        label = "arrested" if column.startswith("arrested") else "shot"
        hover = [
            f"<b>{group}</b><br>{label}: {_count(row[label])} of {_count(row['population'])}"
            + (f" ({_share(row[column])})" if shares else "")
            for group, row in risk.iterrows()
        ]
        fig.add_trace(
            go.Bar(
                x=list(risk.index),
                y=risk[column],
                name=label,
                marker_color=colour,
                hovertext=hover,
                hoverinfo="text",
            )
        )
    fig.update_layout(
        title=TERROR_TITLES["terror_rank"],
        barmode="group",
        xaxis={"title": "rank tier in the party / elite body of 1934", "type": "category"},
        yaxis={
            "title": "share of the group on the first day" if shares else "persons",
            "tickformat": ".0%" if shares else ",.0f",
        },
    )
    return fig


def _reproduction_figure(frame: pd.DataFrame) -> go.Figure:
    """R per month, stacked by how the arrests were caused, with the R = 1 line."""
    arrested = frame["arrested"].where(frame["arrested"] > 0)
    fig = go.Figure()
    for column, label, colour in (
        ("caused_testimony", "by testimony", CHANNEL_COLOURS["testimony"]),
        (
            "caused_denunciation",
            "by self-protective denunciation",
            CHANNEL_COLOURS["self_protection"],
        ),
        ("caused_family", "as family", CHANNEL_COLOURS["family"]),
    ):
        fig.add_trace(
            go.Scatter(
                x=frame.index,
                y=(frame[column] / arrested).round(4),
                name=f"arrests caused {label}",
                mode="lines",
                stackgroup="r",
                line={"width": 0.5, "color": colour},
                hovertemplate=f"{label}<br>%{{x|%Y-%m}}: %{{y:.3f}}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=frame.index,
            y=frame["R"].round(4),
            name="R (all)",
            mode="lines",
            line={"color": "#222", "width": 2},
            hovertemplate="R<br>%{x|%Y-%m}: %{y:.3f}<extra></extra>",
        )
    )
    fig.add_hline(y=1, line={"color": "#7f7f7f", "dash": "dash"}, annotation_text="R = 1")
    top = float(np.nanmax(frame["R"].to_numpy())) if frame["R"].notna().any() else 0.0
    fig.update_layout(
        title=TERROR_TITLES["terror_reproduction"],
        xaxis_title="month of the arrests that caused others",
        yaxis={
            "title": "later arrests caused per person arrested",
            "range": [0, max(1.1, top * 1.1)],
        },
        hovermode="x unified",
    )
    return fig


def _tree_figure(tree: pd.DataFrame) -> go.Figure:
    """The cascade as a tree: the root on top, each level below, edges coloured by channel."""
    children: dict[int, list[int]] = {}
    for row, parent in enumerate(tree["parent"]):
        children.setdefault(int(parent), []).append(row)
    x: dict[int, float] = {}
    leaves = 0

    def place(node: int) -> float:
        nonlocal leaves
        kids = children.get(node, [])
        if not kids:
            x[node] = float(leaves)
            leaves += 1
        else:
            x[node] = float(np.mean([place(k) for k in kids]))
        return x[node]

    place(-1)  # -1 is the root
    depth = {-1: 0, **{row: int(d) for row, d in enumerate(tree["depth"])}}
    fig = go.Figure()
    for channel in dict.fromkeys(str(c) for c in tree["channel"]):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for row in np.flatnonzero((tree["channel"].astype(str) == channel).to_numpy()):
            parent = int(tree["parent"].iloc[row])
            xs += [x[parent], x[int(row)], None]
            ys += [-depth[parent], -depth[int(row)], None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=channel.replace("_", " "),
                line={"color": CHANNEL_COLOURS.get(channel, "#999"), "width": 1.5},
                hoverinfo="skip",
            )
        )
    rows = list(range(len(tree)))
    official = [(tree["rank"].iloc[r] >= 2) or (tree["elite"].iloc[r] > 0) for r in rows]
    fig.add_trace(
        go.Scatter(
            x=[x[r] for r in rows],
            y=[-depth[r] for r in rows],
            mode="markers",
            name="arrested",
            showlegend=False,
            marker={
                "size": [11 if o else 7 for o in official],
                "symbol": ["diamond" if o else "circle" for o in official],
                "color": [CHANNEL_COLOURS.get(str(c), "#999") for c in tree["channel"]],
                "line": {"color": "#333", "width": 0.5},
            },
            hovertext=[_tree_hover(tree.iloc[r]) for r in rows],
            hoverinfo="text",
        )
    )
    attrs = tree.attrs
    fig.add_trace(
        go.Scatter(
            x=[x[-1]],
            y=[0],
            mode="markers",
            name="root",
            marker={"size": 16, "symbol": "star", "color": "#000"},
            hovertext=[
                f"<b>person {attrs['root']}</b> (root)<br>{_rank_label(attrs['root_rank'])}"
                f"{_elite_label(attrs['root_elite'])}<br>arrested "
                f"{attrs['root_date']:%Y-%m-%d}<br>{attrs['root_descendants']} arrests below"
            ],
            hoverinfo="text",
        )
    )
    levels = int(tree["depth"].max())
    fig.update_layout(
        title=TERROR_TITLES["terror_tree"],
        xaxis={"visible": False},
        yaxis={
            "title": "generation of the cascade",
            "tickvals": [-d for d in range(levels + 1)],
            "ticktext": ["root", *(str(d) for d in range(1, levels + 1))],
            "zeroline": False,
        },
        hovermode="closest",
    )
    return fig


def _tree_hover(edge: pd.Series) -> str:
    channel = str(edge["channel"]).replace("_", " ")
    return (
        f"<b>person {edge['person']}</b><br>{_rank_label(edge['rank'])}"
        f"{_elite_label(edge['elite'])}<br>arrested {pd.Timestamp(edge['date']):%Y-%m-%d} "
        f"by {channel} of person {edge['cause']}<br>hidden type: "
        f"{'hostile' if edge['hostile'] else 'loyal'}<br>{edge['descendants']} arrests below"
    )


def _rank_label(rank: Any) -> str:
    rank = int(rank)
    return RANK_NAMES[rank] if 0 <= rank < len(RANK_NAMES) else f"rank {rank}"


def _elite_label(elite: Any) -> str:
    elite = int(elite)
    parts = [n for bit, n in ((1, "CC 1934"), (2, "17th Congress")) if elite & bit]
    return f" ({', '.join(parts)})" if parts else ""


def _tree_note(tree: pd.DataFrame) -> str:
    if not len(tree):
        return ""
    attrs = tree.attrs
    return (
        f"The root is person {attrs['root']}, {_rank_label(attrs['root_rank'])} official"
        f"{_elite_label(attrs['root_elite'])}, arrested on {attrs['root_date']:%Y-%m-%d}: "
        "of the arrested officials (district rank and above, or the 1934 elite) the one whose "
        f"arrest led to the most further arrests, {attrs['root_descendants']} in all. Each level "
        "below is one generation: people named in his testimony, denounced by his frightened "
        f"contacts, or arrested as his family, and so on ({len(tree)} arrests drawn, to depth "
        f"{int(tree['depth'].max())}). Diamonds are officials; hover for dates and ranks."
    )


def _rank_table(risk: pd.DataFrame) -> str:
    head = "".join(
        f"<th>{c}</th>"
        for c in ("group", "on the first day", "arrested", "shot", "arrested share", "shot share")
    )
    rows = [
        f'<tr><td>{_esc(group)}</td><td class="num">{_count(row["population"])}</td>'
        f'<td class="num">{_count(row["arrested"])}</td><td class="num">{_count(row["shot"])}</td>'
        f'<td class="num">{_share(row["arrested_share"])}</td>'
        f'<td class="num">{_share(row["shot_share"])}</td></tr>'
        for group, row in risk.iterrows()
    ]
    return _table(head, rows)


def _detection_table(detection: pd.DataFrame) -> str:
    total = detection.loc["all", "arrested"]
    head = "".join(
        f"<th>{c}</th>"
        for c in ("arrested as", "persons", "share of arrests", "hostile", "precision", "recall")
    )
    rows = []
    for group, row in detection.iterrows():
        if group not in ("all", "category victims", "network victims") and not row["arrested"]:
            continue
        label = "all arrests" if group == "all" else str(group).replace("_", " ")
        strong = group in ("all", "category victims", "network victims")
        cell = f"<td><b>{_esc(label)}</b></td>" if strong else f"<td>{_esc(label)}</td>"
        rows.append(
            f'<tr>{cell}<td class="num">{_count(row["arrested"])}</td>'
            f'<td class="num">{_share(row["arrested"] / total if total else math.nan)}</td>'
            f'<td class="num">{_count(row["hostile_arrested"])}</td>'
            f'<td class="num">{_share(row["precision"])}</td>'
            f'<td class="num">{_share(row["recall"])}</td></tr>'
        )
    return _table(head, rows)


def _victims_table(victims: pd.DataFrame) -> str:
    head = "".join(
        f"<th>{c}</th>"
        for c in ("year", "category victims", "network victims", "all arrests", "network share")
    )
    rows = []
    for year, row in victims.iterrows():
        network = row["network_victims"] / row["total"] if row["total"] else math.nan
        rows.append(
            f'<tr><td>{year}</td><td class="num">{_count(row["category_victims"])}</td>'
            f'<td class="num">{_count(row["network_victims"])}</td>'
            f'<td class="num">{_count(row["total"])}</td>'
            f'<td class="num">{_share(network)}</td></tr>'
        )
    return _table(head, rows)


def _table(head: str, rows: list[str]) -> str:
    return (
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>"
    )


# --- text sections -----------------------------------------------------------------------------

_MEMBERSHIP_NOTE = (
    "Lines: the model's party (weekly points, in represented persons). Markers: the record's "
    "membership figures dated inside the run, coloured like the series they compare with; filled "
    "diamonds are figures read in a reliable source, open diamonds the others; bars show the "
    "record's range "
    "where it gives one. Periods given as a month are placed on its first day."
)
_EXPULSIONS_NOTE = (
    "Share of those reviewed in each campaign whom the commission expelled, before appeals. "
    "Grey bars are the record's figures, with the scenario's tolerance as error bars; "
    "campaigns without a grey bar have no figure in the record."
)
_OUTCOMES_NOTE = (
    "Each bar is everyone reviewed in the campaign. The expelled are split into those whose "
    "expulsion stood and those reinstated on appeal, so the stack adds up to the number reviewed."
)
_ORIGINS_NOTE = (
    "Members and candidates together, stacked by social origin as recorded at admission."
)


_TERROR_RECORD_NOTE = (
    "Solid lines: the model per calendar month (convictions are death and camp sentences). "
    "Dashed steps: the record's total for each year divided by twelve, a monthly average (the "
    "record gives yearly figures only), so months above the step run ahead of the year's pace. "
    "The record's arrest figures count arrests on all charges (the model's only political "
    "ones) and were not read in their source; its convictions are the death and camp sentences "
    "of the 1953 MVD table, the scope of the model's."
)
_CHANNELS_NOTE = (
    "Persons arrested per month by how the arrest came about. Bottom (earth tones): category "
    "victims, arrested for what they were (Order 00447's registers, the national operations, "
    "the routine caseload). Above: network victims, arrested through testimony, denunciation, "
    "self-protective denunciation, a past expulsion, the army purge, family ties, show trials."
)
_RANK_NOTE = (
    "Each person counted once. Rank tiers count people who were ever in the party (rank and "
    "file includes former members expelled before the run); the elite bodies are the Central "
    "Committee elected in 1934 and the delegates to the 17th Congress. Shares divide by the "
    "group's size on the first day of the run."
)
_REPRODUCTION_NOTE = (
    "For the persons arrested in each month: the later arrests their arrest caused (people they "
    "named under interrogation, arrests after denunciations by their frightened contacts, their "
    "family after their sentence), per person arrested. Stacked areas split R by cause; the "
    "dashed line is R = 1, above which the cascade would feed itself. The last months understate "
    "R: the run ends before their victims' cases are opened."
)
_DETECTION_NOTE = (
    "Precision: share of the arrested whose hidden type is hostile. Recall: share of all hostile "
    "persons in the population who were arrested. Each person counted once, by the channel of "
    "the first arrest. A precision close to the population's share of hostile persons means the "
    "arrests were no better than chance at finding them."
)


def _scale_text(results: Results) -> str:
    """The run's scale: one weight, or the party's and the citizens' when they differ."""
    party_scale = results.provenance.get("parameters", {}).get("population", {}).get("party_scale")
    text = f"{results.scale:g} (one agent stands for {1 / results.scale:,.0f} persons)"
    if party_scale and party_scale != results.scale:
        text += (
            f"; party members, former members and officers: {party_scale:g} "
            f"(one agent per {1 / party_scale:,.0f} persons)"
        )
    return text


def _reading_section() -> str:
    text = (
        "<p>This is one stochastic run of an agent-based model, not a reconstruction of history. "
        "Each simulated person stands for several real persons (its weight: 1/scale, or "
        "1/party_scale for the party and former members), and all counts are given in "
        "represented persons. The table compares the run with figures from the historical "
        "record: a row is <em>inside</em> when the model's value is within the stated tolerance "
        "of the record's (absolute points for shares, a percentage for counts). Calibration rows "
        "are figures parameters may be fitted to; validation rows are kept out of every fit and "
        "judge the model out of sample; inputs and claims are shown but never counted. Figures "
        'marked <span class="unverified">not read</span> have not been checked against their '
        "cited source, and grades below scholarly secondary are marked too: give them less "
        "weight. Single runs vary with the seed; compare "
        "several seeds before reading much into a small difference. Hover over any point or bar "
        "for its exact value and source.</p>"
    )
    return _section("reading", text)


def _provenance_section(results: Results) -> str:
    """The run's provenance as JSON, with the (long) parameters folded away."""
    prov = {k: v for k, v in results.provenance.items() if k != "parameters"}
    content = f"<pre>{_esc(json.dumps(_plain(prov), indent=2))}</pre>"
    if "parameters" in results.provenance:
        params = json.dumps(_plain(results.provenance["parameters"]), indent=2)
        content += (
            "\n<details>\n<summary>Parameters of the run</summary>\n"
            f"<pre>{_esc(params)}</pre>\n</details>"
        )
    return _section("provenance", content)


# --- formatting --------------------------------------------------------------------------------


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def _count(value: Any) -> str:
    """A count of persons with thousands separators."""
    return "—" if _missing(value) else f"{float(value):,.0f}"


def _share(value: Any) -> str:
    """A share as a percentage."""
    return "—" if _missing(value) else f"{float(value):.1%}"


def _is_share(observable: str) -> bool:
    return observable.split(":", 1)[0].endswith("_share")


def _tolerance(text: str, share: bool) -> str:
    """Absolute share tolerances ('±0.03') as percentage points; others unchanged."""
    match = re.fullmatch(r"±([0-9.]+)", str(text))
    if share and match:
        return f"±{float(match.group(1)) * 100:g} points"
    return str(text)


def _wrap(text: str, width: int = 60) -> str:
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


def _plain(value: Any) -> Any:
    """Plain JSON types (NaN becomes null, dates become strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.date | pd.Timestamp | Path):
        return str(value)
    return value
