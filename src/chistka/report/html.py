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

from chistka.record import compared_observables, records
from chistka.scenario.schema import ORIGINS

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
    figures = _Figures()
    body = [
        _header(results, summary),
        _comparison_section(comparison),
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


class _Figures:
    """Renders figures to HTML fragments, inlining plotly.js in the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, fig: go.Figure) -> str:
        fig.update_layout(template=TEMPLATE, height=FIGURE_HEIGHT, margin={"t": 60, "b": 50})
        fragment = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=self.count == 0,
            div_id=f"chistka-figure-{self.count}",
            default_height=f"{FIGURE_HEIGHT}px",
            config={"displaylogo": False, "responsive": True},
        )
        self.count += 1
        return fragment


def _section(key: str, content: str, note: str = "") -> str:
    """One titled section: the content and an explanatory note under it."""
    note_html = f'<p class="note">{note}</p>' if note else ""
    return f'<section id="{key}">\n<h2>{_esc(TITLES[key])}</h2>\n{content}\n{note_html}\n</section>'


def _header(results: Results, summary: dict[str, Any]) -> str:
    """Title and the run's identity: scenario, seed, scale, version, dates, headline figures."""
    prov = results.provenance
    scenario = prov.get("scenario_name") or summary.get("scenario") or "unnamed scenario"
    version = prov.get("package_version") or _package_version()
    rows = [
        ("Scenario", scenario),
        ("Seed", summary.get("seed")),
        ("Scale", f"{results.scale:g} (one agent stands for {1 / results.scale:,.0f} persons)"),
        ("Package version", f"chistka {version}"),
        ("Dates", f"{summary['start']} to {summary['end']}"),
        (
            "Party (members + candidates)",
            f"{_count(summary['party_total_first_day'])} on the first day, "
            f"{_count(summary['party_total_last_day'])} on the last; peak "
            f"{_count(summary['party_total_peak'])} on {summary['party_total_peak_date']}",
        ),
        (
            "Against the record",
            f"{summary['comparison_inside']} of {summary['comparison_rows']} compared figures "
            "inside tolerance",
        ),
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


def _comparison_section(comparison: pd.DataFrame) -> str:
    """The comparison table: rows outside tolerance highlighted, unverified figures flagged."""
    if comparison.empty:
        return _section("comparison", "<p>No figure of the record falls inside this run.</p>")
    columns = [
        "label",
        "observable",
        "model",
        "record",
        "low",
        "high",
        "tolerance",
        "inside",
        "verified",
        "source",
    ]
    head = "".join(f"<th>{c}</th>" for c in columns)
    rows = []
    for row in comparison.itertuples(index=False):
        share = _is_share(row.observable)
        value = _share if share else _count
        inside = bool(row.inside)
        verified = bool(row.verified)
        cells = [
            f"<td>{_esc(row.label)}</td>",
            f"<td><code>{_esc(row.observable)}</code></td>",
            f'<td class="num">{value(row.model)}</td>',
            f'<td class="num">{value(row.record)}</td>',
            f'<td class="num">{value(row.low)}</td>',
            f'<td class="num">{value(row.high)}</td>',
            f'<td class="num">{_esc(_tolerance(row.tolerance, share))}</td>',
            f'<td class="inside {"yes" if inside else "no"}">'
            f"{'✓ inside' if inside else '✗ outside'}</td>",
            "<td>verified</td>" if verified else '<td class="unverified">unverified</td>',
            f'<td class="source">{_esc(row.source)}</td>',
        ]
        css = "" if inside else ' class="outside"'
        rows.append(f"<tr{css}>{''.join(cells)}</tr>")
    inside_count = int(comparison["inside"].sum())
    table = (
        f"<p>{inside_count} of {len(comparison)} figures inside tolerance. Rows outside "
        "tolerance are shaded red; figures not checked against their source are marked "
        '<span class="unverified">unverified</span>.</p>\n'
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n"
        "</table>"
    )
    return _section("comparison", table)


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
    """Markers for record figures: filled if verified, open if not; error bars from low/high."""
    values = np.array([p["value"] for p in points])
    upper = np.array(
        [max(p["high"] - p["value"], 0) if p["high"] is not None else 0 for p in points]
    )
    lower = np.array([max(p["value"] - p["low"], 0) if p["low"] is not None else 0 for p in points])
    has_range = bool(upper.any() or lower.any())
    hover = [
        f"<b>{p['id']}</b> ({p['period']})<br>{p['value']:,.0f} persons"
        + (f" [{p['low']:,.0f}–{p['high']:,.0f}]" if p["low"] is not None else "")
        + f"<br>{'verified' if p['verified'] else 'UNVERIFIED'}<br>{_wrap(p['source'])}"
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
            "symbol": ["diamond" if p["verified"] else "diamond-open" for p in points],
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
                "verified": row.verified,
                "source": row.source,
            }
        )
    return sorted(points, key=lambda p: p["date"])


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
                    f"{'verified' if r['verified'] else 'UNVERIFIED'}<br>{_wrap(r['source'])}"
                    for r in record
                ],
                hoverinfo="text",
            )
        )
    fig.update_layout(
        title=TITLES["expulsions"],
        barmode="group",
        xaxis={
            "title": "campaign",
            "type": "category",
            "categoryorder": "array",
            "categoryarray": names,
        },
        yaxis={"title": "share of those reviewed who were expelled", "tickformat": ".0%"},
    )
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
                "inside": bool(row.inside),
                "verified": bool(row.verified),
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


# --- text sections -----------------------------------------------------------------------------

_MEMBERSHIP_NOTE = (
    "Lines: the model's party (weekly points, in represented persons). Markers: the record's "
    "membership figures dated inside the run, coloured like the series they compare with; filled "
    "diamonds are verified figures, open diamonds unverified ones; bars show the record's range "
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


def _reading_section() -> str:
    text = (
        "<p>This is one stochastic run of an agent-based model, not a reconstruction of history. "
        "Each simulated person stands for 1/scale real persons, and all counts are given in "
        "represented persons. The table compares the run with figures from the historical "
        "record: a row is <em>inside</em> when the model's value is within the stated tolerance "
        "of the record's (absolute points for shares, a percentage for counts). Figures marked "
        '<span class="unverified">unverified</span> have not been checked against their '
        "cited source and should be given less weight. Single runs vary with the seed; compare "
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
