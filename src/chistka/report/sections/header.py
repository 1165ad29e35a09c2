"""The header of a report: the identity of the run or ensemble and its headline figures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chistka.analysis.comparison import budget_text, fit_text
from chistka.report.common import RunReport, count, esc, meta_table

if TYPE_CHECKING:
    from chistka.report.common import FigureRenderer
    from chistka.report.ensemble_runs import EnsembleRuns
    from chistka.results import Results


def run_section(report: RunReport) -> str:
    """Title and the run's identity: scenario, seed, scale, version, dates, headline figures."""
    results, summary = report.results, report.summary
    prov = results.provenance
    scenario = prov.get("scenario_name") or summary.get("scenario") or "unnamed scenario"
    version = prov.get("package_version") or _package_version()
    rows = [
        ("Scenario", scenario),
        ("Seed", summary.get("seed")),
        ("Scale", scale_text(results)),
        ("Package version", f"chistka {version}"),
        ("Dates", dates_text(summary, prov)),
        (
            "Party (members + candidates)",
            f"{count(summary['party_total_first_day'])} on the first day, "
            f"{count(summary['party_total_last_day'])} on the last; peak "
            f"{count(summary['party_total_peak'])} on {summary['party_total_peak_date']}",
        ),
        ("Against the record", fit_text(summary["fit"])),
        ("Fitted parameters", budget_text(summary["parameter_budget"])),
    ]
    what_if = prov.get("what_if")
    if what_if:
        changes = list(what_if.get("set") or []) + [
            f"without {name}" for name in what_if.get("without") or []
        ]
        rows.insert(1, ("What if", "; ".join(changes)))
    return (
        f"<header>\n<h1>{esc(scenario)}</h1>\n"
        '<p class="note">Report of one run of chistka, an agent-based simulator of the Soviet '
        "party purges.</p>\n"
        f"{meta_table(rows)}\n</header>"
    )


def ensemble_section(ensemble: EnsembleRuns, figures: FigureRenderer) -> str:
    """Title and the ensemble's identity: scenario, runs complete and missing, seeds, dates."""
    runs = ensemble.runs
    seeds = sorted({run.seed for run in runs if run.seed is not None})
    first = runs[0].summary
    version = first.get("provenance", {}).get("package_version", "")
    rows = [
        ("Scenario", ensemble.scenario),
        ("Folder", Path(ensemble.out_dir).name),  # a served report kept the server's path
        (
            "Runs",
            f"{len(runs)} complete"
            + (f", {len(ensemble.missing)} missing" if ensemble.missing else "")
            + f"; {len(ensemble.by_set())} parameter set(s)",
        ),
        ("Seeds", seed_text(seeds)),
        ("Scale", f"{ensemble.scale}"),
        ("Dates", f"{first.get('start')} to {first.get('end')}"),
        ("Package version", f"chistka {version}"),
    ]
    if ensemble.missing:
        rows.append(("Missing runs", ", ".join(ensemble.missing)))
    return f"<h1>chistka ensemble: {esc(ensemble.scenario)}</h1>\n{meta_table(rows)}"


def dates_text(summary: dict, provenance: dict) -> str:
    """The run's first and last day, and the spin-up before them if it had one."""
    text = f"{summary['start']} to {summary['end']}"
    spin_up = provenance.get("parameters", {}).get("scenario", {}).get("spin_up_days") or 0
    if spin_up:
        text += (
            f" (after a spin-up of {spin_up} days on the first day's parameters, not shown: "
            "the cases under way on the first day are its)"
        )
    return text


def scale_text(results: Results) -> str:
    """The run's scale: one weight, or the party's and the citizens' when they differ."""
    party_scale = results.provenance.get("parameters", {}).get("population", {}).get("party_scale")
    text = f"{results.scale:g} ({_agent_stands_for(results.scale)})"
    if party_scale and party_scale != results.scale:
        text += (
            f"; party members, former members and officers: {party_scale:g} "
            f"({_agent_stands_for(party_scale)})"
        )
    return text


def _agent_stands_for(scale: float) -> str:
    """What one agent is at a scale: "one agent per person" at 1 (not "per 1 persons")."""
    persons = 1 / scale
    if round(persons) == 1:
        return "one agent per person"
    return f"one agent stands for {persons:,.0f} persons"


def seed_text(seeds: list[int]) -> str:
    """Seeds as a range where they are consecutive ("1 to 20 (20 seeds)"), else listed."""
    if not seeds:
        return "-"
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f"{seeds[0]} to {seeds[-1]} ({len(seeds)} seeds)"
    return ", ".join(str(s) for s in seeds)


def _package_version() -> str:
    from chistka import __version__

    return __version__
