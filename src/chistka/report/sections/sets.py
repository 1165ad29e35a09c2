"""The parameter sets of an ensemble: each one's overrides and its complete runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chistka.analysis.ensemble import format_value
from chistka.report.common import esc, section
from chistka.report.ensemble_runs import AS_IT_IS

if TYPE_CHECKING:
    from chistka.report.common import FigureRenderer
    from chistka.report.ensemble_runs import EnsembleRuns

KEY = "sets"
TITLE = "Parameter sets"

NOTE = (
    "Parameters are set from the first day; a dated policy event of the scenario that sets "
    "the same parameter still changes it on its date."
)


def ensemble_section(ensemble: EnsembleRuns, figures: FigureRenderer) -> str:
    """A table of the parameter sets."""
    counts = {k: len(v) for k, v in ensemble.by_set().items()}
    rows = []
    for set_id, overrides in ensemble.sets.items():
        text = ", ".join(f"{k} = {format_value(v)}" for k, v in overrides.items())
        rows.append(
            f"<tr><td>{esc(set_id)}</td><td>{esc(text or AS_IT_IS)}</td>"
            f'<td class="num">{counts.get(set_id, 0)}</td></tr>'
        )
    content = (
        "<table>\n<tr><th>set</th><th>parameters</th><th>complete runs</th></tr>\n"
        + "\n".join(rows)
        + "\n</table>"
    )
    return section(KEY, TITLE, content, esc(NOTE))
