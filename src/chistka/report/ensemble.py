"""The report of an ensemble: median and 90% band across seeds, against the historical record.

`write_ensemble_report` reads the runs of an ensemble directory (written by
`chistka.analysis.ensemble.run_ensemble`): each run's summary.json and comparison.csv, and its
daily.parquet for the membership. It writes ensemble.html: party membership over time, yearly
arrests, convictions and death sentences (for runs that have them), the expelled share of each
purge campaign, and a table of every compared figure, each parameter set with the median across
its seeds and the band from the 5th to the 95th percentile, beside the record.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from chistka.analysis.ensemble import COMPLETE_MARKER, format_value, read_plan
from chistka.errors import ChistkaError
from chistka.report.html import CSS, FigureRenderer, expulsions_layout

QUANTILES = (0.05, 0.5, 0.95)
"""Lower band edge, median and upper band edge across the seeds of a parameter set."""

REPORT_FILE = "ensemble.html"

TEMPLATE = "plotly_white"
FIGURE_HEIGHT = 480

SERIES = {
    "total": ("members + candidates", "#2ca02c", "solid"),
    "members": ("full members", "#1f77b4", "dash"),
    "candidates": ("candidates", "#ff7f0e", "dot"),
}
"""Membership series: label, colour (with one parameter set), dash (with several)."""

MEMBERSHIP_KINDS = {
    "party_total": "total",
    "party_members": "members",
    "party_candidates": "candidates",
}

TERROR_KINDS = {
    "arrests": ("arrests", "#1f77b4"),
    "political_convictions": ("political convictions", "#ff7f0e"),
    "death_sentences": ("death sentences", "#d62728"),
}
"""Yearly observables of the terror shown in the report: label and colour (one parameter set)."""

TITLES = {
    "membership": "Party membership over time against the record",
    "terror": "Arrests, convictions and death sentences per year against the record",
    "expulsions": "Expulsions per campaign against the record",
    "comparison": "Every compared figure: the ensemble against the record",
    "sets": "Parameter sets",
}
"""Section titles (tests look for them)."""

_BAND_NOTE = (
    "Lines: the median across the seeds of each parameter set; shaded bands: from the 5th to "
    "the 95th percentile across them (a 90% band). Markers: the historical record (filled: "
    "read in the cited source, open: not read), with its range where the record gives one."
)


@dataclass
class _Run:
    run_id: str
    set_id: str
    seed: int | None
    summary: dict[str, Any]
    comparison: pd.DataFrame
    membership: pd.DataFrame | None = None


@dataclass
class _Ensemble:
    out_dir: Path
    scenario: str
    scale: Any
    sets: dict[str, dict[str, Any]]
    runs: list[_Run]
    missing: list[str] = field(default_factory=list)

    def by_set(self) -> dict[str, list[_Run]]:
        grouped: dict[str, list[_Run]] = {set_id: [] for set_id in self.sets}
        for run in self.runs:
            grouped.setdefault(run.set_id, []).append(run)
        return {k: v for k, v in grouped.items() if v}


def write_ensemble_report(out_dir: str | Path, path: str | Path | None = None) -> Path:
    """Write ensemble.html for the complete runs of an ensemble directory.

    Args:
        out_dir: the ensemble's directory (with plan.json and one directory per run).
        path: where to write the report (default: ``out_dir/ensemble.html``).

    Returns:
        The path of the report.

    Raises:
        ChistkaError: the directory holds no complete run.
    """
    out_dir = Path(out_dir)
    ensemble = _load(out_dir)
    colours = _set_colours(list(ensemble.sets))
    figures = FigureRenderer("chistka-ensemble-figure", FIGURE_HEIGHT)
    body = [_header(ensemble), _sets_section(ensemble)]
    membership = _membership_figure(ensemble, colours)
    if membership is not None:
        body.append(_section("membership", figures.add(membership), _BAND_NOTE))
    terror = _terror_figure(ensemble, colours)
    if terror is not None:
        body.append(
            _section(
                "terror",
                figures.add(terror),
                _BAND_NOTE + " The vertical axis is logarithmic; years the record has no figure "
                "for are not computed.",
            )
        )
    expulsions = _expulsions_figure(ensemble, colours)
    if expulsions is not None:
        body.append(
            _section(
                "expulsions",
                figures.add(expulsions),
                "Bars: the median share expelled across the seeds, with the 5th to 95th "
                "percentile as error bars; grey: the record with its tolerance.",
            )
        )
    body.append(_comparison_section(ensemble))
    title = f"chistka ensemble: {ensemble.scenario}"
    document = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
    target = Path(path) if path is not None else out_dir / REPORT_FILE
    target.write_text(document, encoding="utf-8")
    return target


# --- reading -----------------------------------------------------------------------------------


def _load(out_dir: Path) -> _Ensemble:
    plan = read_plan(out_dir)
    if plan is not None:
        entries = [(r["run_id"], r["set_id"], r.get("seed")) for r in plan.get("runs", [])]
        sets = {k: dict(v) for k, v in plan.get("sets", {}).items()}
        scenario = plan.get("scenario_ref") or plan.get("scenario", {}).get("scenario", {}).get(
            "name", "ensemble"
        )
        scale = plan.get("scale")
    else:
        entries = []
        sets = {}
        for run_dir in sorted(p for p in out_dir.iterdir() if p.is_dir()):
            if (run_dir / COMPLETE_MARKER).is_file():
                entries.append((run_dir.name, run_dir.name.split("-")[0], None))
        scenario, scale = out_dir.name, None
    runs, missing = [], []
    for run_id, set_id, seed in entries:
        run_dir = out_dir / run_id
        if not (run_dir / COMPLETE_MARKER).is_file():
            missing.append(run_id)
            continue
        runs.append(_read_run(run_dir, run_id, set_id, seed))
        if set_id not in sets:
            sets[set_id] = dict(
                runs[-1].summary.get("provenance", {}).get("ensemble", {}).get("overrides", {})
            )
    if not runs:
        raise ChistkaError(f"{out_dir} holds no complete run (no */{COMPLETE_MARKER})")
    if scale is None:
        scale = runs[0].summary.get("scale")
    return _Ensemble(out_dir, str(scenario), scale, sets, runs, missing)


def _read_run(run_dir: Path, run_id: str, set_id: str, seed: int | None) -> _Run:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    comparison_path = run_dir / "comparison.csv"
    comparison = pd.read_csv(comparison_path) if comparison_path.is_file() else pd.DataFrame()
    return _Run(
        run_id=run_id,
        set_id=set_id,
        seed=summary.get("seed", seed),
        summary=summary,
        comparison=comparison,
        membership=_read_membership(run_dir / "daily.parquet"),
    )


def _read_membership(path: Path) -> pd.DataFrame | None:
    """Candidates, full members and their total on the first day of each month (persons)."""
    if not path.is_file():
        return None
    daily = pd.read_parquet(path, columns=["date", "status", "persons"])
    status = daily["status"].astype(str)
    party = daily[status.isin(["candidate", "member"])]
    dates = pd.DatetimeIndex(daily["date"].unique()).sort_values()
    table = (
        party.assign(status=party["status"].astype(str))
        .groupby(["date", "status"])["persons"]
        .sum()
        .unstack(fill_value=0.0)
        .reindex(index=dates, columns=["candidate", "member"], fill_value=0.0)
    )
    frame = pd.DataFrame(
        {
            "candidates": table["candidate"],
            "members": table["member"],
            "total": table["candidate"] + table["member"],
        }
    )
    keep = (frame.index.day == 1) | (np.arange(len(frame)) == len(frame) - 1)
    return frame[keep]


# --- statistics --------------------------------------------------------------------------------


def _bands(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """5th percentile, median and 95th percentile along the last axis (runs), NaN ignored."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or np.all(np.isnan(values)):
        nan = np.full(values.shape[:-1], np.nan)
        return nan, nan, nan
    with np.errstate(all="ignore"):
        low, mid, high = np.nanquantile(values, QUANTILES, axis=-1)
    return low, mid, high


def _observable_values(runs: Sequence[_Run], column: str = "model") -> dict[str, np.ndarray]:
    """A column of comparison.csv for each compared observable across the runs.

    NaN where a run lacks the observable; `inside` (a bool column) comes as 1.0 / 0.0.
    """
    observables: list[str] = []
    for run in runs:
        if "observable" in run.comparison:
            for name in run.comparison["observable"]:
                if name not in observables:
                    observables.append(name)
    values = {name: np.full(len(runs), np.nan) for name in observables}
    for i, run in enumerate(runs):
        if "observable" not in run.comparison or column not in run.comparison:
            continue
        for name, value in zip(run.comparison["observable"], run.comparison[column], strict=True):
            values[name][i] = np.nan if _missing(value) else float(value)
    return values


def _record_rows(ensemble: _Ensemble) -> dict[str, dict[str, Any]]:
    """The record row of each compared observable (the same in every run; first one wins)."""
    rows: dict[str, dict[str, Any]] = {}
    for run in ensemble.runs:
        for row in run.comparison.to_dict(orient="records"):
            rows.setdefault(row["observable"], row)
    return rows


def _tolerance(row: dict[str, Any]) -> float:
    """A record row's tolerance as an absolute amount (from '±0.03' or '±10%')."""
    text = str(row.get("tolerance") or "").replace("±", "").strip()
    record = row.get("record")
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100 * abs(float(record))
        return float(text)
    except (TypeError, ValueError):
        return math.nan


# --- figures -----------------------------------------------------------------------------------


def _set_colours(set_ids: list[str]) -> dict[str, str]:
    palette = plotly.colors.qualitative.Plotly
    return {set_id: palette[i % len(palette)] for i, set_id in enumerate(set_ids)}


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = plotly.colors.hex_to_rgb(colour)
    return f"rgba({red},{green},{blue},{alpha})"


def _band_traces(
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
) -> list[go.Scatter]:
    """A shaded band from `low` to `high` and the median line on top."""
    x = list(x)
    return [
        go.Scatter(
            x=x + x[::-1],
            y=np.concatenate([high, low[::-1]]),
            fill="toself",
            fillcolor=_rgba(colour, 0.18),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
            name=f"{name} (90% band)",
        ),
        go.Scatter(
            x=x,
            y=mid,
            mode=mode,
            name=name,
            legendgroup=group,
            line={"color": colour, "width": 2, "dash": dash},
            customdata=np.stack([low, high], axis=-1),
            hovertemplate=f"{_esc(name)}<br>{hover} (median)<br>"
            "90% band: %{customdata[0]:,.0f} to %{customdata[1]:,.0f}<extra></extra>",
        ),
    ]


def _record_trace(
    points: list[dict[str, Any]], x: list[Any], label: str, colour: str, share: bool = False
) -> go.Scatter:
    """Markers for record rows: filled if read in the source, open if not; bars from low/high."""
    values = np.array([p["record"] for p in points], dtype=np.float64)
    upper = np.array([_gap(p.get("high"), p["record"]) for p in points])
    lower = np.array([_gap(p["record"], p.get("low")) for p in points])
    number = "{:.1%}" if share else "{:,.0f}"
    hover = [
        f"<b>{_esc(p['record_id'])}</b>: {_esc(p['label'])}<br>record: "
        + number.format(p["record"])
        + f"<br>{'read in the source' if p.get('read_in_source') else 'NOT READ in the source'}"
        + f"<br>{_esc(p.get('source', ''))}"
        for p in points
    ]
    return go.Scatter(
        x=x,
        y=values,
        mode="markers",
        name=label,
        marker={
            "color": colour,
            "size": 10,
            "symbol": ["diamond" if p.get("read_in_source") else "diamond-open" for p in points],
            "line": {"color": colour, "width": 2},
        },
        error_y={
            "type": "data",
            "array": upper,
            "arrayminus": lower,
            "visible": bool(upper.any() or lower.any()),
            "color": colour,
        },
        hovertext=hover,
        hoverinfo="text",
    )


def _gap(high: Any, low: Any) -> float:
    if _missing(high) or _missing(low):
        return 0.0
    return max(float(high) - float(low), 0.0)


def _set_label(ensemble: _Ensemble, set_id: str) -> str:
    overrides = ensemble.sets.get(set_id) or {}
    if not overrides:
        return set_id if len(ensemble.sets) > 1 else "model"
    return f"{set_id}: " + ", ".join(f"{k}={format_value(v)}" for k, v in overrides.items())


def _membership_figure(ensemble: _Ensemble, colours: dict[str, str]) -> go.Figure | None:
    grouped = ensemble.by_set()
    several = len(grouped) > 1
    fig = go.Figure()
    for set_id, runs in grouped.items():
        frames = [run.membership for run in runs if run.membership is not None]
        if not frames:
            continue
        index = frames[0].index
        for frame in frames[1:]:
            index = index.union(frame.index)
        for series, (label, colour, dash) in SERIES.items():
            stack = np.stack([f[series].reindex(index).to_numpy() for f in frames], axis=-1)
            low, mid, high = _bands(stack)
            name = f"{_set_label(ensemble, set_id)}: {label}" if several else f"model: {label}"
            for trace in _band_traces(
                index,
                low,
                mid,
                high,
                name=name,
                colour=colours[set_id] if several else colour,
                dash=dash if several else "solid",
                group=f"{set_id}-{series}",
            ):
                fig.add_trace(trace)
    if not fig.data:
        return None
    records = _record_rows(ensemble)
    for kind, series in MEMBERSHIP_KINDS.items():
        points = [r for name, r in records.items() if name.split(":")[0] == kind]
        points = sorted(
            (p for p in points if not _missing(p.get("record"))), key=lambda p: p["observable"]
        )
        if points:
            dates = [pd.Timestamp(p["observable"].split(":", 1)[1]) for p in points]
            label, colour, _ = SERIES[series]
            fig.add_trace(_record_trace(points, dates, f"record: {label}", colour))
    fig.update_layout(
        title=TITLES["membership"],
        xaxis_title="date",
        yaxis_title="persons",
        hovermode="closest",
        legend={"orientation": "h", "y": -0.15},
    )
    fig.update_yaxes(tickformat=",.0f", rangemode="tozero")
    return fig


def _terror_figure(ensemble: _Ensemble, colours: dict[str, str]) -> go.Figure | None:
    grouped = ensemble.by_set()
    several = len(grouped) > 1
    fig = go.Figure()
    shown = False
    for set_id, runs in grouped.items():
        values = _observable_values(runs)
        for kind, (label, colour) in TERROR_KINDS.items():
            names = sorted((n for n in values if n.split(":")[0] == kind), key=_year_of)
            if not names:
                continue
            stack = np.stack([values[n] for n in names])
            if np.nansum(stack) > 0:
                shown = True
            low, mid, high = _bands(stack)
            name = f"{_set_label(ensemble, set_id)}: {label}" if several else f"model: {label}"
            for trace in _band_traces(
                [_year_of(n) for n in names],
                low,
                mid,
                high,
                name=name,
                colour=colours[set_id] if several else colour,
                dash="solid",
                group=f"{set_id}-{kind}",
                mode="lines+markers",
                hover="%{x}: %{y:,.0f}",
            ):
                fig.add_trace(trace)
    if not shown:
        return None
    records = _record_rows(ensemble)
    for kind, (label, colour) in TERROR_KINDS.items():
        points = [r for name, r in records.items() if name.split(":")[0] == kind]
        points = sorted(
            (p for p in points if not _missing(p.get("record"))),
            key=lambda p: _year_of(p["observable"]),
        )
        if points:
            years = [_year_of(p["observable"]) for p in points]
            fig.add_trace(_record_trace(points, years, f"record: {label}", colour))
    fig.update_layout(
        title=TITLES["terror"],
        xaxis_title="year",
        yaxis_title="persons per year",
        hovermode="closest",
        legend={"orientation": "h", "y": -0.15},
    )
    fig.update_yaxes(type="log", tickformat=",.0f")
    fig.update_xaxes(dtick=1)
    return fig


def _year_of(observable: str) -> int:
    try:
        return int(observable.split(":", 1)[1])
    except (IndexError, ValueError):
        return 0


def _expulsions_figure(ensemble: _Ensemble, colours: dict[str, str]) -> go.Figure | None:
    grouped = ensemble.by_set()
    campaigns: list[str] = []
    for run in ensemble.runs:
        for row in run.summary.get("campaigns", []):
            name = str(row.get("campaign"))
            if name not in campaigns:
                campaigns.append(name)
    if not campaigns:
        return None
    fig = go.Figure()
    for set_id, runs in grouped.items():
        stack = np.full((len(campaigns), len(runs)), np.nan)
        for j, run in enumerate(runs):
            for row in run.summary.get("campaigns", []):
                share = row.get("expelled_share")
                if not _missing(share):
                    stack[campaigns.index(str(row.get("campaign"))), j] = share
        low, mid, high = _bands(stack)
        fig.add_trace(
            go.Bar(
                x=campaigns,
                y=mid,
                name=_set_label(ensemble, set_id),
                marker_color=colours[set_id],
                error_y={
                    "type": "data",
                    "array": np.nan_to_num(high - mid),
                    "arrayminus": np.nan_to_num(mid - low),
                },
                customdata=np.stack([low, high], axis=-1),
                hovertemplate="campaign %{x}<br>median: %{y:.1%}<br>90% band: "
                "%{customdata[0]:.1%} to %{customdata[1]:.1%}<extra></extra>",
            )
        )
    records = _record_rows(ensemble)
    points = [
        r
        for name, r in records.items()
        if name.split(":")[0] == "expelled_share" and not _missing(r.get("record"))
    ]
    if points:
        fig.add_trace(
            go.Bar(
                x=[p["observable"].split(":", 1)[1] for p in points],
                y=[p["record"] for p in points],
                name="record (± tolerance)",
                marker_color="#7f7f7f",
                error_y={"type": "data", "array": [_tolerance(p) for p in points]},
                hovertext=[
                    f"<b>{_esc(p['label'])}</b><br>record: {p['record']:.1%} ({p['tolerance']})"
                    f"<br>{'read in the source' if p.get('read_in_source') else 'NOT READ'}<br>"
                    f"{_esc(p.get('source', ''))}"
                    for p in points
                ],
                hoverinfo="text",
            )
        )
    fig.update_layout(**expulsions_layout(campaigns), legend={"orientation": "h", "y": -0.15})
    return fig


# --- page structure ----------------------------------------------------------------------------


def _section(key: str, content: str, note: str = "") -> str:
    note_html = f'<p class="note">{_esc(note)}</p>' if note else ""
    return f'<section id="{key}">\n<h2>{_esc(TITLES[key])}</h2>\n{content}\n{note_html}\n</section>'


def _header(ensemble: _Ensemble) -> str:
    runs = ensemble.runs
    seeds = sorted({run.seed for run in runs if run.seed is not None})
    first = runs[0].summary
    version = first.get("provenance", {}).get("package_version", "")
    rows = [
        ("Scenario", ensemble.scenario),
        ("Directory", str(ensemble.out_dir)),
        (
            "Runs",
            f"{len(runs)} complete"
            + (f", {len(ensemble.missing)} missing" if ensemble.missing else "")
            + f"; {len(ensemble.by_set())} parameter set(s)",
        ),
        ("Seeds", _seed_text(seeds)),
        ("Scale", f"{ensemble.scale}"),
        ("Dates", f"{first.get('start')} to {first.get('end')}"),
        ("Package version", f"chistka {version}"),
    ]
    if ensemble.missing:
        rows.append(("Missing runs", ", ".join(ensemble.missing)))
    cells = "\n".join(f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>" for k, v in rows)
    return (
        f"<h1>chistka ensemble: {_esc(ensemble.scenario)}</h1>\n"
        f'<table class="meta">\n{cells}\n</table>'
    )


def _seed_text(seeds: list[int]) -> str:
    if not seeds:
        return "-"
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f"{seeds[0]} to {seeds[-1]} ({len(seeds)} seeds)"
    return ", ".join(str(s) for s in seeds)


def _sets_section(ensemble: _Ensemble) -> str:
    counts = {k: len(v) for k, v in ensemble.by_set().items()}
    rows = []
    for set_id, overrides in ensemble.sets.items():
        text = ", ".join(f"{k} = {format_value(v)}" for k, v in overrides.items())
        rows.append(
            f"<tr><td>{_esc(set_id)}</td><td>{_esc(text or 'the scenario as it is')}</td>"
            f'<td class="num">{counts.get(set_id, 0)}</td></tr>'
        )
    table = (
        "<table>\n<tr><th>set</th><th>parameters</th><th>complete runs</th></tr>\n"
        + "\n".join(rows)
        + "\n</table>"
    )
    note = (
        "Parameters are set from the first day; a dated policy event of the scenario that sets "
        "the same parameter still changes it on its date."
    )
    return _section("sets", table, note)


def _comparison_section(ensemble: _Ensemble) -> str:
    records = _record_rows(ensemble)
    if not records:
        return _section("comparison", "<p>No run has figures to compare with the record.</p>")
    grouped = ensemble.by_set()
    stats = {}
    for set_id, runs in grouped.items():
        inside = {
            name: (int(np.nansum(flags)), int(np.count_nonzero(~np.isnan(flags))))
            for name, flags in _observable_values(runs, "inside").items()
        }
        stats[set_id] = (_observable_values(runs), inside)
    head = "<tr><th>figure</th><th>record</th><th>tolerance</th>" + "".join(
        f"<th>{_esc(_set_label(ensemble, s))}: median [5%, 95%]</th><th>inside</th>"
        for s in grouped
    )
    rows = [head + "</tr>"]
    for name, row in records.items():
        share = name.split(":")[0].endswith("share")
        cells = [
            f'<td>{_esc(row["label"])}<br><span class="note">{_esc(name)}</span></td>',
            f'<td class="num">{_number(row.get("record"), share)}'
            + ("" if row.get("read_in_source") else ' <span class="unverified">not read</span>')
            + "</td>",
            f"<td>{_esc(row.get('tolerance', ''))}</td>",
        ]
        for set_id in grouped:
            values, inside = stats[set_id]
            data = values.get(name, np.array([]))
            low, mid, high = _bands(data) if data.size else (math.nan,) * 3
            hits, total = inside.get(name, (0, 0))
            cells.append(
                f'<td class="num">{_number(mid, share)} [{_number(low, share)}, '
                f"{_number(high, share)}]</td>"
            )
            cells.append(f'<td class="num">{hits} of {total}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    table = "<table>\n" + "\n".join(rows) + "\n</table>"
    note = (
        "For each parameter set: the median of the model's value across its seeds, the 5th and "
        "95th percentiles in brackets, and in how many runs the value lies inside the record's "
        "tolerance."
    )
    return _section("comparison", table, note)


def _number(value: Any, share: bool) -> str:
    if _missing(value):
        return "-"
    value = float(value)
    if share:
        return f"{value:.1%}"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:g}"


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)
