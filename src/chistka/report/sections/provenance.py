"""A run's provenance: versions, seed, timings, and the parameters it ran with."""

from __future__ import annotations

import json

from chistka.report.common import RunReport, esc, section
from chistka.results import jsonable

KEY = "provenance"
TITLE = "Provenance"


def run_section(report: RunReport) -> str:
    """The run's provenance as JSON, with the (long) parameters folded away."""
    provenance = report.results.provenance
    shown = {k: v for k, v in provenance.items() if k != "parameters"}
    content = f"<pre>{esc(json.dumps(jsonable(shown), indent=2))}</pre>"
    if "parameters" in provenance:
        params = json.dumps(jsonable(provenance["parameters"]), indent=2)
        content += (
            "\n<details>\n<summary>Parameters of the run</summary>\n"
            f"<pre>{esc(params)}</pre>\n</details>"
        )
    return section(KEY, TITLE, content)
