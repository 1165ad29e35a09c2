"""The comparison with the record: each compared figure, the model beside the record.

A run's section gives the fit on calibration rows and on validation rows apart (see
`chistka.analysis.comparison`), then the rows of each role folded away in `<details>`, each
summary saying how many rows are inside and outside: the full tables put the report's first chart
some 13,000 px down (QA 44). Each row is named by its label, its record_id (as in comparison.csv
and the CLI's table) and its observable, with its fit next to the name, visible on a narrow
screen where the table scrolls.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from chistka.analysis.comparison import SCORED_STATUSES, budget_text, fit
from chistka.analysis.observables import is_share
from chistka.analysis.spread import FEWEST_FOR_QUANTILES, spread_name
from chistka.record import GRADES, RELIABLE_GRADES, SCORED_ROLES
from chistka.report.common import (
    RunReport,
    count,
    esc,
    header_cells,
    missing,
    section,
    share,
    table,
)
from chistka.report.ensemble_runs import bands, observable_values

if TYPE_CHECKING:
    from chistka.report.common import FigureRenderer
    from chistka.report.ensemble_runs import EnsembleRuns

KEY = "comparison"
TITLE = "Model against the record"
ENSEMBLE_TITLE = "Every compared figure: the ensemble against the record"

COLUMNS = (
    "figure",
    "fit",
    "model",
    "record",
    "accepted range",
    "tolerance",
    "read in source",
    "grade",
    "source",
)
"""Columns of the run's comparison tables: the fit next to the figure it judges, on screen at
400 px where the table scrolls (it was the sixth column, off-screen)."""

GROUPS = (
    ("calibration", "Calibration rows: figures parameters may be fitted to"),
    ("validation", "Validation rows: figures kept out of every fit, to judge the model"),
    ("not scored", "Not scored: inputs, claims and kinds this scenario does not model"),
)
"""The run's comparison tables: key and title (rows not scored are folded away)."""


def run_section(report: RunReport) -> str:
    """The fit on calibration and on validation rows apart, and every compared row by role.

    Rows outside tolerance are shaded; each row shows whether its figure was read in the cited
    source and the source's grade; inputs, claims and kinds the scenario does not model are
    listed apart and never counted.
    """
    comparison = report.comparison
    if comparison.empty:
        return section(KEY, TITLE, "<p>No figure of the record falls inside this run.</p>")
    summary = fit(comparison)
    cells: dict[str, list[str]] = {"rows compared": [], "inside": [], "share inside": []}
    for entry in summary.values():
        cells["rows compared"].append(str(entry["rows"]))
        cells["inside"].append(str(entry["inside"]) if entry["rows"] else "-")
        cells["share inside"].append(f"{entry['share']:.0%}" if entry["rows"] else "-")
    validation = summary.get("validation", {})
    if validation.get("fitted_now"):
        cells["of them fitted by hand in the present timeline"] = [
            "-",
            str(validation["fitted_now"]),
        ]
    side_by_side = (
        "<table><tr><th></th>"
        + "".join(f"<th>{esc(role)}</th>" for role in summary)
        + "</tr>"
        + "".join(
            f"<tr><td>{esc(name)}</td>"
            + "".join(f'<td class="num">{esc(v)}</td>' for v in values)
            + "</tr>"
            for name, values in cells.items()
        )
        + "</table>"
    )
    intro = (
        side_by_side + "\n"
        f"<p>{esc(budget_text(report.summary['parameter_budget']))}. The values of this "
        "scenario fitted to the record are listed in its free file and in provenance.json "
        "('fitted'; those this run's scenario changed from the fit under 'fitted_changed'); "
        "the calibration rows are those compared here. Rows outside tolerance are "
        "shaded red; a row is inside "
        "when the model lies in the record's range widened to the tolerance."
        f"{_convictions_note(comparison)}</p>"
    )
    scored = comparison["status"].isin(SCORED_STATUSES)
    groups = {
        "calibration": comparison[(comparison["role"] == "calibration") & scored],
        "validation": comparison[(comparison["role"] == "validation") & scored],
        "not scored": comparison[~scored],
    }
    tables = []
    for key, title in GROUPS:
        rows = groups[key]
        if rows.empty:
            continue
        tables.append(
            f"<details><summary>{esc(title)} ({_rows_count(rows, key != 'not scored')})"
            f"</summary>\n{_rows_table(rows)}</details>"
        )
    return section(KEY, TITLE, intro + "\n".join(tables))


def _convictions_note(comparison: pd.DataFrame) -> str:
    """What political_convictions counts, where the run models it (else the report shows none).

    A scenario without arrests (party-purges-1921-1936) lists the record's convictions only as
    not modelled, with no model value to explain.
    """
    kinds = comparison["observable"].str.partition(":")[0]
    shown = (kinds == "political_convictions") & (comparison["status"] != "not modelled")
    if not shown.any():
        return ""
    return (
        " <code>political_convictions</code> counts death and camp sentences and is compared "
        "with the same two columns of the 1953 MVD table (<code>death_or_camp_YEAR</code>)."
    )


def _rows_count(rows: pd.DataFrame, scored: bool) -> str:
    """How many rows a folded table holds and, of scored rows, how many are inside and outside."""
    text = f"{len(rows)} rows"
    if scored:
        outside = int((rows["status"] == "outside").sum())
        text += f": {len(rows) - outside} inside, {outside} outside"
    return text


def _rows_table(rows: pd.DataFrame) -> str:
    """One table of comparison rows: status, accepted range, read in source and grade."""
    body = []
    for row in rows.itertuples(index=False):
        value = share if is_share(row.observable) else count
        status = str(row.status)
        mark = {"inside": "✓ inside", "outside": "✗ outside"}.get(status, status)
        note = f'<br><span class="note">{esc(row.note)}</span>' if row.note else ""
        grade = f'title="{esc(GRADES.get(row.grade, row.grade))}">{esc(row.grade)}'
        cells = [
            f"<td>{esc(row.label)}<br><code>{esc(row.record_id)}</code> "
            f'<span class="note">{esc(row.observable)}</span>{note}</td>',
            f'<td class="inside {"yes" if status == "inside" else "no"}">{esc(mark)}</td>',
            '<td class="num">-</td>'
            if status == "not modelled"
            else f'<td class="num">{value(row.model)}</td>',
            f'<td class="num">{value(row.record)}</td>',
            f'<td class="num">{value(row.low)} – {value(row.high)}</td>',
            f'<td class="num">{esc(row.tolerance)}</td>',
            "<td>yes</td>" if row.read_in_source else '<td class="unverified">not read</td>',
            f"<td {grade}</td>"
            if row.grade in RELIABLE_GRADES
            else f'<td class="unverified" {grade}</td>',
            f'<td class="source">{esc(row.source)}</td>',
        ]
        css = ' class="outside"' if status == "outside" else ""
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    return table(header_cells(COLUMNS), body)


def ensemble_section(ensemble: EnsembleRuns, figures: FigureRenderer) -> str:
    """The fit per parameter set, then each compared row by role: median, band, runs inside.

    As in a run's section, calibration and validation rows are listed apart and the rows not
    scored (inputs, claims, kinds the scenario does not model) folded away; one table row per
    record row, since two rows of the record can compare the same observable.
    """
    records = ensemble.record_rows()
    if not records:
        return section(KEY, ENSEMBLE_TITLE, "<p>No run has figures to compare with the record.</p>")
    by_group: dict[str, list[str]] = {key: [] for key, _ in GROUPS}
    for record_id, row in records.items():
        scored = row["status"] in SCORED_STATUSES
        by_group[str(row["role"]) if scored else "not scored"].append(record_id)
    tables = []
    for key, title in GROUPS:
        if not by_group[key]:
            continue
        rows = _ensemble_table(ensemble, by_group[key])
        if key == "not scored":
            tables.append(
                f"<details><summary>{esc(title)} ({len(by_group[key])} rows)</summary>\n"
                f"{rows}</details>"
            )
        else:
            tables.append(f"<h3>{esc(title)}</h3>\n{rows}")
    note = (
        "For each parameter set: the median of the model's value across its seeds, its spread "
        f"in brackets (the lowest and highest value under {FEWEST_FOR_QUANTILES} seeds, else the "
        "5th and 95th percentiles), and in how many runs the value lies inside the record's "
        "tolerance. Rows of kinds the scenario does not model show no model value."
    )
    return section(KEY, ENSEMBLE_TITLE, _ensemble_fit(ensemble) + "\n".join(tables), esc(note))


def _ensemble_fit(ensemble: EnsembleRuns) -> str:
    """Calibration and validation rows inside per run of each parameter set (lowest to highest)."""
    head = "<tr><th>parameter set</th>" + "".join(
        f"<th>{esc(role)} rows inside</th>" for role in SCORED_ROLES
    )
    body = []
    for set_id, runs in ensemble.by_set().items():
        fits = [fit(run.comparison) for run in runs if not run.comparison.empty]
        cells = [f"<td>{esc(ensemble.set_label(set_id))}</td>"]
        for role in SCORED_ROLES:
            inside = sorted(entry[role]["inside"] for entry in fits)
            rows = max((entry[role]["rows"] for entry in fits), default=0)
            if not rows:
                cells.append('<td class="num">-</td>')
                continue
            spread = f"{inside[0]}" if inside[0] == inside[-1] else f"{inside[0]} to {inside[-1]}"
            cells.append(f'<td class="num">{spread} of {rows}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = (
        "<p>Rows inside the record's tolerance in each run of a parameter set: the same count in "
        "every run, or the lowest to the highest.</p>"
    )
    return "<table>\n" + head + "</tr>\n" + "\n".join(body) + "\n</table>\n" + note


def _ensemble_table(ensemble: EnsembleRuns, record_ids: list[str]) -> str:
    """One table of record rows: per parameter set the median [low, high] and runs inside.

    The bracket is the spread over the set's seeds, named in the heading ("median
    [lowest-highest over 2 seeds]", `chistka.analysis.spread`).

    Inputs and claims show their status where a scored row shows its runs inside; rows of a
    kind the scenario does not model show no model value.
    """
    records = ensemble.record_rows()
    grouped = ensemble.by_set()
    stats = {
        set_id: (
            observable_values(runs, "model", key="record_id"),
            observable_values(runs, "inside", key="record_id"),
        )
        for set_id, runs in grouped.items()
    }
    head = "<tr><th>figure</th><th>record</th><th>tolerance</th>" + "".join(
        f"<th>{esc(ensemble.set_label(s))}: median [{esc(spread_name(len(runs)))}]</th>"
        "<th>inside</th>"
        for s, runs in grouped.items()
    )
    rows = [head + "</tr>"]
    for record_id in record_ids:
        row = records[record_id]
        as_share = is_share(row["observable"])
        status = str(row["status"])
        cells = [
            f"<td>{esc(row['label'])}<br><code>{esc(record_id)}</code> "
            f'<span class="note">{esc(row["observable"])}</span></td>',
            f'<td class="num">{_number(row.get("record"), as_share)}'
            + ("" if row.get("read_in_source") else ' <span class="unverified">not read</span>')
            + "</td>",
            f"<td>{esc(row.get('tolerance', ''))}</td>",
        ]
        for set_id in grouped:
            values, inside = stats[set_id]
            if status == "not modelled":
                cells.append('<td class="num">-</td>')
            else:
                low, mid, high = bands(values.get(record_id, np.array([math.nan])))
                cells.append(
                    f'<td class="num">{_number(mid, as_share)} [{_number(low, as_share)}, '
                    f"{_number(high, as_share)}]</td>"
                )
            if status in SCORED_STATUSES:
                flags = inside.get(record_id, np.array([math.nan]))
                hits, runs = int(np.nansum(flags)), int(np.count_nonzero(~np.isnan(flags)))
                cells.append(f'<td class="num">{hits} of {runs}</td>')
            else:
                cells.append(f"<td>{esc(status)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def _number(value: Any, as_share: bool) -> str:
    """A median or band edge: a percentage for shares, else a count of persons, written whole."""
    if missing(value):
        return "-"
    value = float(value)
    if as_share:
        return f"{value:.1%}"
    return f"{value:,.0f}"
