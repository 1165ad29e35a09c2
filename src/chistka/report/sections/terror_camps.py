"""The camps against the record: everyone serving a camp sentence, and the political prisoners.

The record counts the ITL camps on 1 January (Zemskov's table): all prisoners
(`gulag_camps_YEAR`) and those convicted of counter-revolutionary crimes
(`gulag_camps_political_YEAR`). The model has one place of confinement: its first day's
prisoners (the record's, all charges) and everyone it sentences to the camps, all in political
cases. Side by side, the two series show whether a match of the totals is one of like with like
(docs/decisions.md 18.2): it is not, since no ordinary convict enters the model's camps after the
first day, so the built-in terror scenarios score only the political prisoners and show the
totals for reference (docs/decisions.md 19.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from chistka.analysis.observables import political_prisoners_by_day
from chistka.people import Fate
from chistka.record import records
from chistka.report.common import (
    RunReport,
    esc,
    figure_section,
    persons_over_time_layout,
    reading,
    record_markers,
    section,
    wrap,
)
from chistka.report.ensemble_runs import add_observable_bands, band_note, record_markers_of
from chistka.report.sections.membership import compared_days

if TYPE_CHECKING:
    from chistka.record import RecordRow
    from chistka.report.common import FigureRenderer
    from chistka.report.ensemble_runs import EnsembleRuns
    from chistka.results import Results

KEY = "terror_camps"
TITLE = "The camps against the record: all prisoners and the political prisoners"

SERIES = {
    "all": ("everyone serving a camp sentence", "ITL camps: all prisoners", "#8c564b"),
    "political": (
        "sentenced in a political case",
        "ITL camps: convicted of counter-revolutionary crimes",
        "#9467bd",
    ),
}
"""Series -> the model's label, the record's label, the colour."""

ENSEMBLE_KINDS = {"all": "gulag_population", "political": "political_prisoners"}
"""Series -> the observable an ensemble's runs compare on each 1 January."""

NOTE = (
    "Lines: the model's prisoners in the camps (weekly points, in represented persons): everyone "
    "serving a camp sentence, and those of them sentenced in a political case (everyone the run "
    "sentenced to the camps, and of the first day's prisoners the record's political share). "
    "Markers: the record's ITL camps on 1 January (Zemskov's table), all prisoners and those "
    "convicted of counter-revolutionary crimes; filled diamonds are figures read in a reliable "
    "source, open diamonds the others (these were read in a popular book's reprint). The record "
    "counts the ITL camps only (the colonies and prisons held others); the model has one place "
    "of confinement, and no ordinary convict enters it after the first day: the record's totals "
    "are drawn for reference and the built-in terror scenarios score only the political "
    "prisoners. The same figures, row by row, are in the comparison above and in the run's "
    "comparison.csv (observables gulag_population, not modelled, and political_prisoners)."
)


def run_section(report: RunReport) -> str:
    """The camps' figure of one run; "" if nobody was ever in the camps."""
    results = report.results
    frame = camp_series(results)
    if not frame.to_numpy().any():
        return ""
    return figure_section(report, KEY, TITLE, _figure(frame), NOTE)


def camp_series(results: Results) -> pd.DataFrame:
    """Everyone in the camps and the political prisoners, on the morning of each day."""
    everyone = results.persons[:, :, int(Fate.CAMP), :].sum(axis=(1, 2))
    return pd.DataFrame(
        {"all": everyone, "political": political_prisoners_by_day(results)},
        index=pd.Index(results.dates, name="date"),
    )


def _figure(frame: pd.DataFrame) -> go.Figure:
    keep = np.zeros(len(frame), dtype=bool)
    keep[::7] = True
    keep[-1] = True
    weekly = frame[keep]
    fig = go.Figure()
    for column, (label, _, colour) in SERIES.items():
        fig.add_trace(
            go.Scatter(
                x=weekly.index,
                y=weekly[column].round(0),
                mode="lines",
                name=f"model: {label}",
                line={"color": colour, "width": 2},
                hovertemplate=f"{label}<br>%{{x|%Y-%m-%d}}: %{{y:,.0f}}<extra>model</extra>",
            )
        )
    first, last = frame.index[0], frame.index[-1]
    for column, (_, label, colour) in SERIES.items():
        points = _record_points(column, first, last)
        if not points:
            continue
        hover = [
            f"<b>{row.id}</b> ({row.period})<br>{row.value:,.0f} persons"
            f"<br>{reading(row.read_in_source, row.grade)}<br>{wrap(row.source)}"
            for _, row in points
        ]
        fig.add_trace(
            record_markers(
                [date for date, _ in points],
                [row.value for _, row in points],
                [row.low for _, row in points],
                [row.high for _, row in points],
                [row.reliable for _, row in points],
                hover,
                f"record: {label}",
                colour,
            )
        )
    persons_over_time_layout(fig, TITLE)
    return fig


def _record_points(
    series: str, first: pd.Timestamp, last: pd.Timestamp
) -> list[tuple[pd.Timestamp, RecordRow]]:
    """The record's compared camp figures of one series inside the run: (date, row) by date."""
    points = []
    days = compared_days()
    for row in records().values():
        political = row.id.startswith("gulag_camps_political_")
        if not row.id.startswith("gulag_camps_") or political != (series == "political"):
            continue
        date = days.get(row.id)
        if row.value is None or date is None or not first <= pd.Timestamp(date) <= last:
            continue
        points.append((pd.Timestamp(date), row))
    return sorted(points, key=lambda point: point[0])


def ensemble_section(ensemble: EnsembleRuns, figures: FigureRenderer) -> str:
    """The ensemble's camps on each compared 1 January: median and band per set.

    "" when no run had anyone in the camps on those days (a purge-only scenario compares empty
    camps).
    """
    fig = go.Figure()
    kinds = {
        kind: (SERIES[series][0], SERIES[series][2]) for series, kind in ENSEMBLE_KINDS.items()
    }
    if not add_observable_bands(fig, ensemble, kinds, _day, "%{x|%Y-%m-%d}: %{y:,.0f}"):
        return ""
    for series, kind in ENSEMBLE_KINDS.items():
        points = ensemble.record_points(kind, _day)
        if points:
            _, label, colour = SERIES[series]
            days = [_day(p["observable"]) for p in points]
            fig.add_trace(record_markers_of(points, days, f"record: {label}", colour))
    persons_over_time_layout(fig, TITLE)
    note = (
        "The prisoners on each 1 January the runs compare with the record: in the model, "
        "everyone in the camps and those sentenced in a political case; in the record, the ITL "
        "camps (Zemskov's table). " + band_note(ensemble)
    )
    return section(KEY, TITLE, figures.add(fig, KEY, heading=TITLE), esc(note))


def _day(observable: str) -> pd.Timestamp:
    """The date of an observable `KIND:YYYY-MM-DD`."""
    return pd.Timestamp(observable.split(":", 1)[1])
