"""The report of an ensemble: median and 90% band across seeds, against the historical record.

`write_ensemble_report` reads the complete runs of an ensemble directory
(`chistka.report.ensemble_runs`) and writes ensemble.html, a composition of the sections in
`chistka.report.sections`: the parameter sets, party membership over time, yearly
convictions and death sentences (for runs that have them), the expelled share of each purge
campaign, and a table of every compared figure, each parameter set with the median across its
seeds and the band from the 5th to the 95th percentile, beside the record.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from chistka.report.common import FigureRenderer, page
from chistka.report.ensemble_runs import load_ensemble
from chistka.report.sections import (
    comparison,
    expulsions,
    header,
    membership,
    sets,
    terror_camps,
    terror_record,
)

REPORT_FILE = "ensemble.html"

FIGURE_HEIGHT = 480

SECTIONS = (header, sets, membership, terror_record, terror_camps, expulsions, comparison)
"""The ensemble report's sections in order; a section with nothing to show renders as ""."""

TITLES = {
    membership.KEY: membership.TITLE,
    terror_record.ENSEMBLE_KEY: terror_record.ENSEMBLE_TITLE,
    terror_camps.KEY: terror_camps.TITLE,
    expulsions.KEY: expulsions.TITLE,
    comparison.KEY: comparison.ENSEMBLE_TITLE,
    sets.KEY: sets.TITLE,
}
"""Section titles (tests look for them)."""


def write_ensemble_report(
    out_dir: str | Path, path: str | Path | None = None, *, directory: str | Path | None = None
) -> Path:
    """Write ensemble.html for the complete runs of an ensemble directory.

    Args:
        out_dir: the ensemble's directory (with plan.json and one directory per run).
        path: where to write the report (default: ``out_dir/ensemble.html``).
        directory: the directory the report names as the ensemble's (default: `out_dir`); for
            one built in a staging folder and then moved (the web app's), where it will be.
            The app's ensemble reports named their hidden staging folder,
            gone once the ensemble was done.

    Returns:
        The path of the report.

    Raises:
        ChistkaError: the directory holds no complete run.
    """
    out_dir = Path(out_dir)
    ensemble = load_ensemble(out_dir)
    if directory is not None:  # only the header reads it (the runs are loaded)
        ensemble = dataclasses.replace(ensemble, out_dir=Path(directory))
    figures = FigureRenderer("chistka-ensemble-figure", FIGURE_HEIGHT)
    body = [module.ensemble_section(ensemble, figures) for module in SECTIONS]
    target = Path(path) if path is not None else out_dir / REPORT_FILE
    target.write_text(page(f"chistka ensemble: {ensemble.scenario}", body), encoding="utf-8")
    return target
