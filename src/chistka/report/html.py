"""The report of a run as one self-contained HTML file: the model against the historical record.

A composition of the sections in `chistka.report.sections`, in reading order; the sections on the
terror appear only for runs with arrests, so that a purge-only run's report is unchanged. Plotly's
JavaScript is inlined once (with the first figure) so that the report works offline; daily series
are thinned to weekly or monthly points to keep the file small.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from chistka.analysis.comparison import comparison, run_summary
from chistka.report.common import FigureRenderer, RunReport, page
from chistka.report.sections import (
    comparison as comparison_section,
)
from chistka.report.sections import (
    expulsions,
    header,
    membership,
    origins,
    outcomes,
    provenance,
    reading,
    terror_camps,
    terror_channels,
    terror_detection,
    terror_limits,
    terror_rank,
    terror_record,
    terror_reproduction,
    terror_tree,
)
from chistka.state import EventKind

if TYPE_CHECKING:
    from chistka.results import Results

SECTIONS = (comparison_section, membership, expulsions, outcomes, origins)
"""Sections of every run's report, after its header, in order."""

TERROR_SECTIONS = (
    terror_record,
    terror_camps,
    terror_limits,
    terror_channels,
    terror_rank,
    terror_reproduction,
    terror_tree,
    terror_detection,
)
"""Sections shown only for runs with arrests, after the others."""

CLOSING_SECTIONS = (reading, provenance)
"""Sections that close every run's report."""

TITLES = {s.KEY: s.TITLE for s in (*SECTIONS, *CLOSING_SECTIONS)}
"""Section titles of every run's report (tests look for them)."""

TERROR_TITLES = {s.KEY: s.TITLE for s in TERROR_SECTIONS}
"""Titles of the sections shown only for runs with arrests (tests look for them)."""


def write_report(results: Results, path: Path) -> None:
    """Write the run's report (tables, plots, provenance) as one offline HTML file at `path`."""
    table = comparison(results)
    report = RunReport(results, table, run_summary(results, table), FigureRenderer())
    modules = [*SECTIONS]
    if np.any(results.events["kind"] == int(EventKind.ARRESTED)):
        modules += TERROR_SECTIONS
    modules += CLOSING_SECTIONS
    body = [header.run_section(report), *(module.run_section(report) for module in modules)]
    title = f"chistka report: {report.summary.get('scenario') or 'run'}"
    Path(path).write_text(page(title, body), encoding="utf-8")
