"""Enemy detection: the precision and recall of the arrests, category and network victims."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from chistka.analysis import terror
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

KEY = "terror_detection"
TITLE = "Enemy detection: precision, recall, category and network victims"

NOTE = (
    "Precision: share of the arrested whose hidden type is hostile. Recall: share of all hostile "
    "persons in the population who were arrested. Each person counted once, by the channel of "
    "the first arrest. A precision close to the population's share of hostile persons means the "
    "arrests were no better than chance at finding them."
)
"""The note under the detection table (persons)."""

YEARLY_NOTE = (
    "Arrests per year by kind of victim. This table counts arrests: a person arrested twice "
    "counts twice (the table of precision and recall above counts each person once)."
)
"""The note under the yearly table (arrests). One note under both said "the yearly table
below" of the table above it (QA 44)."""

SUMMARY_GROUPS = ("all", "category victims", "network victims")
"""Rows of the detection table shown in bold and even when empty."""


def run_section(report: RunReport) -> str:
    """The detection table and the yearly split into category and network victims."""
    results = report.results
    detection = _detection_table(terror.enemy_detection(results))
    size = results.provenance.get("parameters", {}).get("population", {}).get("size")
    chance = _chance_text(terror.population(results), size)
    victims = _victims_table(terror.victims_by_origin(results), results.start, results.last_day)
    return section(
        KEY,
        TITLE,
        f'{detection}\n<p class="note">{NOTE}</p>\n{chance}\n{victims}\n'
        f'<p class="note">{YEARLY_NOTE}</p>',
    )


def _detection_table(detection: pd.DataFrame) -> str:
    total = detection.loc["all", "arrested"]
    head = header_cells(
        ("arrested as", "persons", "share of arrests", "hostile", "precision", "recall")
    )
    rows = []
    for group, row in detection.iterrows():
        if group not in SUMMARY_GROUPS and not row["arrested"]:
            continue
        label = "all arrests" if group == "all" else str(group).replace("_", " ")
        cell = (
            f"<td><b>{esc(label)}</b></td>" if group in SUMMARY_GROUPS else f"<td>{esc(label)}</td>"
        )
        rows.append(
            f'<tr>{cell}<td class="num">{count(row["arrested"])}</td>'
            f'<td class="num">{share(row["arrested"] / total if total else math.nan)}</td>'
            f'<td class="num">{count(row["hostile_arrested"])}</td>'
            f'<td class="num">{small_share(row["precision"])}</td>'
            f'<td class="num">{small_share(row["recall"])}</td></tr>'
        )
    return table(head, rows)


def small_share(value: Any) -> str:
    """A share as a percentage, with two significant digits below 1% ("0.042%").

    Recalls of a few hostile persons among millions read "0.0%", as if none was found.
    """
    if missing(value) or not 0 < abs(float(value)) < 0.01:
        return share(value)
    return f"{float(value) * 100:.2g}%"


def _victims_table(victims: pd.DataFrame, first: dt.date, last: dt.date) -> str:
    """Arrests per year by kind of victim; the run's first and last years say if they are part.

    Arrests, not persons: a person arrested twice counts twice (the table above counts each
    person once), and a year the run covers only in part would read as a whole year beside the
    record's yearly figures.
    """
    head = header_cells(
        ("year", "category victims", "network victims", "all arrests", "network share")
    )
    rows = []
    for year, row in victims.iterrows():
        network = row["network_victims"] / row["total"] if row["total"] else math.nan
        rows.append(
            f"<tr><td>{esc(_year_label(int(year), first, last))}</td>"
            f'<td class="num">{count(row["category_victims"])}</td>'
            f'<td class="num">{count(row["network_victims"])}</td>'
            f'<td class="num">{count(row["total"])}</td>'
            f'<td class="num">{share(network)}</td></tr>'
        )
    return table(head, rows)


def _year_label(year: int, first: dt.date, last: dt.date) -> str:
    """The year, with the part of it the run covers where that is not all of it."""
    begin = max(first, dt.date(year, 1, 1))
    end = min(last, dt.date(year, 12, 31))
    if (begin, end) == (dt.date(year, 1, 1), dt.date(year, 12, 31)):
        return str(year)
    return f"{year} ({begin.day} {begin:%b} - {end.day} {end:%b} only)"  # %-d is glibc's only


def _chance_text(summary: dict[str, Any], size: float | None = None) -> str:
    """The population's share of hostile persons: the precision arrests at random would have.

    The population is the scenario's `size` where given. The agents stand for a little less or
    more: each region's citizens are a whole number of agents of 1/scale persons, so that
    great-terror's 162,000,000 read "161,999,999" (158,241,286 citizens at one agent per 5 are
    31,648,257 agents, 158,241,285 persons; QA 44). The share is of the persons the agents
    stand for, whom the hostile persons are counted among.
    """
    hostile, total = summary.get("hostile_persons"), summary.get("total_persons")
    if not hostile or not total:
        return ""
    population = count(size if size else total)
    if size and round(float(size)) != round(float(total)):
        population += (
            f" (its agents stand for {count(total)} persons: the citizens are counted in whole "
            "agents)"
        )
    return (
        f"<p>Hostile persons in the population on the first day: {count(hostile)} of "
        f"{population} ({share(hostile / total)}), the precision of arrests at random.</p>"
    )
