"""The web app's page of a scenario (`/scenarios/NAME`, and its data under /api/).

Its documented decisions with their sources, its operations and campaigns, the values fitted to
the record, and the run form with a box per decision to leave out.
"""

from __future__ import annotations

from typing import Any

from chistka.scenario.whatif import decision_notes
from chistka.web.layout import escape, page, table_html
from chistka.web.run_pages import run_form


def fitted_text(value: float) -> str:
    """A fitted value to four significant digits, a large one in full with separators.

    The scenario pages gave 16 digits.
    """
    if abs(value) >= 1_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def scale_words(facts: dict[str, Any]) -> str:
    """A scenario's default scale in words: what a blank scale runs.

    E.g. 'default scale 0.2 (an agent per 5 persons; the party and former members at 1: an
    agent each)'. The page gave the default seed, not the scale, so a blank scale was a run
    of unsaid size.
    """

    def per(scale: float) -> str:
        return "an agent each" if scale == 1 else f"an agent per {1 / scale:,.4g} persons"

    text = f"default scale {facts['scale']:g} ({per(facts['scale'])}"
    party = facts.get("party_scale")
    if party is not None and party != facts["scale"]:
        text += f"; the party and former members at {party:g}: {per(party)}"
    return text + ")"


def scenario_facts(name: str) -> dict[str, Any]:
    """A built-in scenario as a historian reads it, as plain data.

    Its dates, the documented decisions of its timeline with the parameters each sets and its
    source, its purge campaigns and operations, the decisions a what-if can leave out (and
    what each was, `decision_notes`), and the values fitted to the record (from its free
    file), each with its range and reason.
    """
    from chistka.analysis.free import current_value, default_free_file, load_free
    from chistka.scenario import load_scenario
    from chistka.scenario.whatif import removable

    scenario = load_scenario(name)
    run = scenario.scenario  # its default scale ("scale", "party_scale"): what a blank runs
    free_file = default_free_file(name)
    free = load_free(free_file, scenario, name) if free_file is not None else []
    return {
        "name": name,
        "description": run.description,
        "start": str(run.start),
        "end": str(run.end),
        "seed": run.seed,
        "scale": scenario.population.scale,
        "party_scale": getattr(scenario.population, "party_scale", None),
        "timeline": [
            {"date": str(e.date), "note": e.note, "set": dict(e.set), "source": e.source}
            for e in sorted(scenario.events, key=lambda event: event.date)
        ],
        "campaigns": [
            {
                "name": c.name,
                "label": c.label,
                "start": str(c.start),
                "end": str(c.end),
                "source": c.source,
            }
            for c in scenario.campaigns
        ],
        "operations": [
            {
                "name": o.name,
                "label": o.label,
                "start": str(o.start),
                "end": str(o.end),
                "targets": list(o.targets),
                "source": o.source,
            }
            for o in scenario.operations
        ],
        "decisions": removable(scenario),
        "decision_notes": decision_notes(scenario),
        "fitted": [
            {
                "path": p.path,
                "value": current_value(scenario, p.path),
                "low": p.low,
                "high": p.high,
                "note": p.note,
            }
            for p in free
        ],
    }


def scenario_page(name: str, scenarios: dict[str, str]) -> str:
    """A built-in scenario's page: `scenario_facts` as tables, and the run form."""
    facts = scenario_facts(name)
    parts = [
        f"<p>{escape(facts['description'])}</p><p>From {facts['start']} to {facts['end']};"
        f" default seed {facts['seed']}; {escape(scale_words(facts))}.</p>",
        run_form(
            scenarios,
            {"scenario": name},
            None,
            facts["decisions"],
            facts["decision_notes"],
            facts["scale"],
        ),
        "<h2>The timeline: documented decisions</h2>",
        table_html(
            "timeline",
            ("date", "what happened", "parameters it sets", "source"),
            [
                (
                    e["date"],
                    e["note"],
                    ", ".join(f"{k} = {v}" for k, v in e["set"].items()) or "none",
                    e["source"],
                )
                for e in facts["timeline"]
            ],
        ),
    ]
    sections = [
        (
            "Purge campaigns",
            "campaigns",
            ("campaign", "from", "to", "source"),
            [
                (c["label"] or c["name"], c["start"], c["end"], c["source"])
                for c in facts["campaigns"]
            ],
        ),
        (
            "Operations under limits",
            "operations",
            ("operation", "from", "to", "targets", "source"),
            [
                (
                    o["label"] or o["name"],
                    o["start"],
                    o["end"],
                    ", ".join(o["targets"]),
                    o["source"],
                )
                for o in facts["operations"]
            ],
        ),
        (
            "Values fitted to the record (chistka calibrate)",
            "fitted",
            ("parameter", "value", "range", "why free"),
            [
                (f["path"], fitted_text(f["value"]), f"{f['low']:g} to {f['high']:g}", f["note"])
                for f in facts["fitted"]
            ],
        ),
    ]
    for title, element_id, head, rows in sections:
        if rows:
            parts += [f"<h2>{escape(title)}</h2>", table_html(element_id, head, rows)]
    return page(name, "".join(parts))
