"""How to read a run's report: what the counts stand for and what "inside" means."""

from __future__ import annotations

from chistka.report.common import RunReport, grades_text, section

KEY = "reading"
TITLE = "How to read this"

TEXT = (
    "<p>This is one stochastic run of an agent-based model, not a reconstruction of history. "
    "Each simulated person stands for several real persons (its weight: 1/scale, or "
    "1/party_scale for the party and former members), and all counts are given in "
    "represented persons. The table compares the run with figures from the historical "
    "record: a row is <em>inside</em> when the model's value is within the stated tolerance "
    "of the record's (absolute points for shares, a percentage for counts). Calibration rows "
    "are figures parameters may be fitted to; validation rows are kept out of every fit and "
    "judge the model out of sample; inputs and claims are shown but never counted. Figures "
    'marked <span class="unverified">not read</span> have not been checked against their '
    "cited source, and grades below <em>scholarly</em> are marked too: give them less "
    f"weight. The grades of the sources, best first: {grades_text()}. Single runs vary with "
    "the seed; compare "
    "several seeds before reading much into a small difference. Hover over any point or bar "
    "for its exact value and source.</p>"
)


def run_section(report: RunReport) -> str:
    """The reading guide (the same for every run)."""
    return section(KEY, TITLE, TEXT)
