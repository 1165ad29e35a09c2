"""The comparison with the record: each compared figure, the model beside the record."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from chistka.analysis.observables import is_share
from chistka.report.common import RunReport, count, esc, missing, section, share
from chistka.report.ensemble_runs import bands, observable_values

if TYPE_CHECKING:
    from chistka.report.common import FigureRenderer
    from chistka.report.ensemble_runs import EnsembleRuns

KEY = "comparison"
TITLE = "Model against the record"
ENSEMBLE_TITLE = "Every compared figure: the ensemble against the record"

COLUMNS = (
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
)
"""Columns of the run's comparison table."""


def run_section(report: RunReport) -> str:
    """The comparison table: rows outside tolerance highlighted, unverified figures flagged."""
    comparison = report.comparison
    if comparison.empty:
        return section(KEY, TITLE, "<p>No figure of the record falls inside this run.</p>")
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    rows = []
    for row in comparison.itertuples(index=False):
        as_share = is_share(row.observable)
        value = share if as_share else count
        inside = bool(row.inside)
        verified = bool(row.verified)
        cells = [
            f"<td>{esc(row.label)}</td>",
            f"<td><code>{esc(row.observable)}</code></td>",
            f'<td class="num">{value(row.model)}</td>',
            f'<td class="num">{value(row.record)}</td>',
            f'<td class="num">{value(row.low)}</td>',
            f'<td class="num">{value(row.high)}</td>',
            f'<td class="num">{esc(row.tolerance)}</td>',
            f'<td class="inside {"yes" if inside else "no"}">'
            f"{'✓ inside' if inside else '✗ outside'}</td>",
            "<td>verified</td>" if verified else '<td class="unverified">unverified</td>',
            f'<td class="source">{esc(row.source)}</td>',
        ]
        css = "" if inside else ' class="outside"'
        rows.append(f"<tr{css}>{''.join(cells)}</tr>")
    inside_count = int(comparison["inside"].sum())
    content = (
        f"<p>{inside_count} of {len(comparison)} figures inside tolerance. Rows outside "
        "tolerance are shaded red; figures not checked against their source are marked "
        '<span class="unverified">unverified</span>.</p>\n'
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n"
        "</table>"
    )
    return section(KEY, TITLE, content)


def ensemble_section(ensemble: EnsembleRuns, figures: FigureRenderer) -> str:
    """Each compared figure: per parameter set the median and 90% band, and how often inside."""
    records = ensemble.record_rows()
    if not records:
        return section(KEY, ENSEMBLE_TITLE, "<p>No run has figures to compare with the record.</p>")
    grouped = ensemble.by_set()
    stats = {}
    for set_id, runs in grouped.items():
        inside = {
            name: (int(np.nansum(flags)), int(np.count_nonzero(~np.isnan(flags))))
            for name, flags in observable_values(runs, "inside").items()
        }
        stats[set_id] = (observable_values(runs), inside)
    head = "<tr><th>figure</th><th>record</th><th>tolerance</th>" + "".join(
        f"<th>{esc(ensemble.set_label(s))}: median [5%, 95%]</th><th>inside</th>" for s in grouped
    )
    rows = [head + "</tr>"]
    for name, row in records.items():
        as_share = is_share(name)
        cells = [
            f'<td>{esc(row["label"])}<br><span class="note">{esc(name)}</span></td>',
            f'<td class="num">{_number(row.get("record"), as_share)}'
            + ("" if row.get("verified") else ' <span class="unverified">unverified</span>')
            + "</td>",
            f"<td>{esc(row.get('tolerance', ''))}</td>",
        ]
        for set_id in grouped:
            values, inside = stats[set_id]
            data = values.get(name, np.array([]))
            low, mid, high = bands(data) if data.size else (math.nan,) * 3
            hits, total = inside.get(name, (0, 0))
            cells.append(
                f'<td class="num">{_number(mid, as_share)} [{_number(low, as_share)}, '
                f"{_number(high, as_share)}]</td>"
            )
            cells.append(f'<td class="num">{hits} of {total}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    content = "<table>\n" + "\n".join(rows) + "\n</table>"
    note = (
        "For each parameter set: the median of the model's value across its seeds, the 5th and "
        "95th percentiles in brackets, and in how many runs the value lies inside the record's "
        "tolerance."
    )
    return section(KEY, ENSEMBLE_TITLE, content, esc(note))


def _number(value: Any, as_share: bool) -> str:
    """A median or band edge: a percentage for shares, a count (or a small number) otherwise."""
    if missing(value):
        return "-"
    value = float(value)
    if as_share:
        return f"{value:.1%}"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:g}"
