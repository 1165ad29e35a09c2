"""The browser app (FastAPI): run a built-in scenario, watch it, read its report and its data.

Pages:
- `/`: the scenarios, a form to run one (with a what-if: changed parameters, decisions left
  out) and the runs so far;
- `/scenarios/NAME`: its documented decisions with their sources, its operations and
  campaigns, the values fitted to the record with their ranges and reasons, and the form with a
  box for each decision to leave out;
- `/runs/ID`: a run's progress, then its fit against the record, its comparison row by row,
  its report and every file behind the charts; `/runs/ID/files/NAME`: one of those files;
- `/experiments/NAME`: an experiment's design (its question, arms and outcomes) and a form to
  run it; a submitted experiment is a run whose page gives each arm's effect on each outcome
  with its 90% interval, the experiment's report and its files (`chistka.web.experiments`);
  with values of one parameter to vary, the whole design once per value, each arm's effect over
  all the values, the variants' report and each value's experiment;
- `/compare?run=A&run=B`: two done runs, the later against the earlier, figure by figure, with
  the charts and differences.csv of `chistka compare`.

The same as JSON under `/api/...` (`/api/scenarios/NAME` gives a scenario's page as data,
`/api/experiments/NAME` a design's; `POST /api/experiments` takes {"experiment", "seeds",
"scale", "set", "vary"}, "vary" one `PARAM=V1,V2,...` string that runs the design once per value,
as `chistka experiment run --vary`):
`POST /api/runs` takes {"scenario", "seed", "seeds", "scale",
"set", "without"}: more than one seed runs an ensemble (as `chistka sweep --seeds`), and the last
two are lists of `PARAM=VALUE` changes and of decisions to leave out, as `chistka run --set` and
`--without` take them. A bad request (an unknown scenario, a seed or
scale out of range, an unknown parameter or decision, a value a parameter does not allow) gets
422 with a message naming the field and what is allowed; an unknown run or file 404. An HTTP
error (an unknown run, file, scenario, design or page; a method a route does not take) is JSON
({"detail": ...}) under /api/ and elsewhere a page in the app's layout with the message and a
link back (`error_page`). A design
of the experiments folder that the loader refuses (a field it does not allow, two arms of one
label, a file that is not TOML) is named on the index with its file and the loader's message,
and in `GET /api/experiments` as {"name", "file", "refused"} beside the others' facts; its page,
and a form submitting it, is an HTML page with the message and a link back (422), as JSON
only under /api/.
`chistka serve` starts it.
"""

from __future__ import annotations

import csv
import html
import http
import json
import math
import os
import re
import shutil
import textwrap
import threading
from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, Form, HTTPException, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.exceptions import HTTPException as StarletteHTTPException

from chistka.errors import ChistkaError
from chistka.outputs import RUN_FILES
from chistka.web.experiments import (
    EXPERIMENT_FILES,
    VARIANTS_FILES,
    Designs,
    design_body,
    design_facts,
    effects_rows,
    error_message,
    experiment_body,
    experiment_form,
    scenario_link,
    variants_body,
)
from chistka.web.jobs import RUN_ID, RunJobs

TICK_SECONDS = 1.0
"""How often the server looks for queued runs to start."""

REFRESH_SECONDS = 2
"""A running run's page reloads itself this often."""

MAX_SEED = 2**63 - 1
"""The largest seed a scenario takes (`RunInfo.seed`)."""

MAX_SEEDS = 64
"""The most seeds one submission runs (an ensemble of great-terror at 64 seeds takes about an
hour on this 2-core machine)."""

ENSEMBLE_FILES = frozenset({"ensemble.html", "plan.json"})
"""The files at the top of an ensemble's output folder (its runs are in folders below)."""

SEED_RUN = re.compile(r"^p\d{3,}-s\d{3,}$")
"""An ensemble's run folder (`chistka.analysis.ensemble.RunSpec.run_id`)."""

OUTPUT_FOLDER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,80}$")
"""A folder inside a run's output that the app shows: an experiment's arm, a value's experiment,
a seed's run (hidden folders, being built, are not)."""


class RequestError(ValueError):
    """A request's field holds a value it does not allow (and `more`: other fields that do)."""

    def __init__(self, field: str, message: str, more: list[RequestError] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.more = list(more or [])

    @property
    def every(self) -> list[RequestError]:
        """This field's error and those of the other fields refused in the same request."""
        return [self, *self.more]


EXPERIMENT_FIELDS = ("experiment", "seeds", "scale", "set", "vary")
"""The experiment form's fields in the form's order, the order its errors are given in."""


def refuse(errors: list[RequestError]) -> None:
    """Raise the errors of several fields as one RequestError (in the form's order), if any."""
    if errors:
        first, *more = sorted(errors, key=lambda e: EXPERIMENT_FIELDS.index(e.field))
        raise RequestError(first.field, first.message, more)


def check_request(
    scenario: str,
    seed: str,
    scale: str,
    changes: list[str] | None = None,
    removed: list[str] | None = None,
    seeds: str = "",
) -> tuple[str, int | None, float | None, list[str], list[str], int]:
    """The run a form or JSON body asks for: a built-in scenario, a seed, a scale, a what-if.

    Blank seed and scale mean the scenario's own; `changes` are `PARAM=VALUE` settings, as
    `chistka run --set` takes them (e.g. `sentencing.album_death_share=0.3`); `removed` names
    decisions to run without, as `chistka run --without` takes them (e.g.
    `operations.order_00447`); `seeds` how many seeds, counted up from the seed (blank: one
    run; more: an ensemble, as `chistka sweep --seeds`). Raises RequestError naming the field.
    """
    from chistka.commands.preflight import check_scale
    from chistka.commands.sweep import apply_set_options
    from chistka.scenario import builtin_scenarios, load_scenario
    from chistka.scenario.whatif import without

    names = list(builtin_scenarios())
    if scenario not in names:
        raise RequestError(
            "scenario", f"scenario must be one of {', '.join(names)} (got {scenario!r})"
        )
    chosen_seed = None
    if str(seed).strip():
        try:
            chosen_seed = int(str(seed).strip())
        except ValueError:
            raise RequestError(
                "seed", f"seed must be a whole number from 0 to {MAX_SEED} (got {seed!r})"
            ) from None
        if not 0 <= chosen_seed <= MAX_SEED:
            raise RequestError(
                "seed", f"seed must be a whole number from 0 to {MAX_SEED} (got {chosen_seed})"
            )
    chosen_scale = scale_field(scale)
    chosen_seeds = seeds_field(seeds) or 1
    if chosen_seed is not None and chosen_seed + chosen_seeds - 1 > MAX_SEED:
        raise RequestError(
            "seeds",
            f"the seeds count up from seed {chosen_seed}, so at most "
            f"{MAX_SEED - chosen_seed + 1} of them (got {chosen_seeds})",
        )
    chosen_removed = [line.strip() for line in removed or [] if line.strip()]
    try:
        loaded = without(load_scenario(scenario), chosen_removed)
    except ChistkaError as exc:
        raise RequestError("without", str(exc)) from None
    chosen_changes = [line.strip() for line in changes or [] if line.strip()]
    try:
        loaded = apply_set_options(loaded, chosen_changes or None)
    except ChistkaError as exc:
        raise RequestError("set", str(exc)) from None
    if chosen_scale is not None:
        try:
            check_scale(loaded, chosen_scale)
        except ChistkaError as exc:
            raise RequestError("scale", str(exc)) from None
    return scenario, chosen_seed, chosen_scale, chosen_changes, chosen_removed, chosen_seeds


def scale_field(scale: str) -> float | None:
    """A request's scale: blank for the scenario's own, else a number in (0, 1]."""
    if not str(scale).strip():
        return None
    try:
        chosen = float(str(scale).strip())
    except ValueError:
        raise RequestError("scale", f"scale must be a number in (0, 1] (got {scale!r})") from None
    if not (0 < chosen <= 1) or math.isnan(chosen):
        raise RequestError("scale", f"scale must be in (0, 1] (got {chosen:g})")
    return chosen


def seeds_field(seeds: str) -> int | None:
    """A request's number of seeds: blank for the default, else a whole number 1..MAX_SEEDS."""
    if not str(seeds).strip():
        return None
    try:
        chosen = int(str(seeds).strip())
    except ValueError:
        chosen = 0
    if not 1 <= chosen <= MAX_SEEDS:
        raise RequestError(
            "seeds", f"seeds must be a whole number from 1 to {MAX_SEEDS} (got {seeds!r})"
        )
    return chosen


def check_experiment_request(
    designs: Designs,
    name: str,
    seeds: str,
    scale: str,
    changes: list[str] | None = None,
    vary: str = "",
) -> tuple[str, Any, int, float | None, list[str], str]:
    """The experiment a form or JSON body asks for.

    Returns (design ref, design, seeds, scale, variant, vary): blank seeds and scale mean the
    design's and the scenario's own; `changes` are a variant's `PARAM=VALUE` settings, made in
    the baseline and every arm (as `chistka experiment run --set`); `vary` is one line
    `PARAM=V1,V2,...` that runs the whole design once per value (as `--vary`), returned stripped
    ('' for none). Raises RequestError naming the field (an unknown design, seeds outside
    1..MAX_SEEDS, a scale at which an arm would have a needed stratum without an agent, an
    unknown parameter or a value it does not allow, fewer than two values to vary or more than
    `chistka.analysis.variants.MAX_VALUES`).
    """
    from chistka.analysis.variants import load_variants
    from chistka.commands.preflight import check_scale
    from chistka.commands.sweep import parse_set_options, single_values

    if name not in designs.refs:
        raise RequestError(
            "experiment", f"experiment must be one of {', '.join(designs.names())} (got {name!r})"
        )
    errors: list[RequestError] = []  # QA of session 43: the first bad field alone was named
    chosen_changes = [line.strip() for line in changes or [] if line.strip()]
    experiments = []
    try:
        variant = single_values(chosen_changes, "an experiment", "run it once per value")
        experiments = [designs.load(name, variant)]
    except ChistkaError as exc:
        if not (chosen_changes and ("variant" in str(exc) or "--set" in str(exc))):
            raise RequestError("experiment", str(exc)) from None  # the design itself
        errors.append(RequestError("set", str(exc)))
    chosen_vary = vary.strip()
    if chosen_vary and experiments:
        try:
            try:
                [(parameter, values)] = parse_set_options([chosen_vary]).items()
            except ChistkaError as exc:
                raise ChistkaError(str(exc).replace("--set", "--vary", 2)) from None
            experiments = load_variants(designs.refs[name], parameter, values, variant)
        except ChistkaError as exc:
            message = str(exc).replace("--vary", "vary").replace("--set", "set")
            errors.append(RequestError("vary", message))
            experiments = []
    chosen_scale = None
    try:
        chosen_scale = scale_field(scale)
    except RequestError as error:
        errors.append(error)
    if chosen_scale is not None:
        checked = [(arm, s) for e in experiments for arm, s in e.scenarios.items()]
        for arm, scenario in checked:
            try:
                check_scale(scenario, chosen_scale)
            except ChistkaError as exc:
                errors.append(RequestError("scale", f"arm '{arm}': {exc}"))
                break
    count = None
    try:
        count = seeds_field(seeds)
    except RequestError as error:
        errors.append(error)
    refuse(errors)
    first = experiments[0]
    count = count or first.design.experiment.seeds
    return designs.refs[name], first, count, chosen_scale, chosen_changes, chosen_vary


# --- HTML ----------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em;
  color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
table:not(#timeline) { display: block; max-width: 100%; overflow-x: auto; }
textarea, input { max-width: 100%; box-sizing: border-box; }
fieldset label { display: inline-block; }
h1 { overflow-wrap: anywhere; }
@media (max-width: 40em) { #timeline { display: block; overflow-x: auto; } }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left;
  vertical-align: top; overflow-wrap: break-word; }
#timeline td:first-child, #campaigns td:nth-child(n+2):nth-child(-n+3),
#operations td:nth-child(n+2):nth-child(-n+3), #fitted td:nth-child(-n+3) { white-space: nowrap; }
#timeline { table-layout: fixed; width: 100%; }
#timeline th:nth-child(1) { width: 7em; } #timeline th:nth-child(2) { width: 34%; }
#timeline th:nth-child(3) { width: 24%; }
#timeline td:nth-child(n+3), #operations td:last-child, #campaigns td:last-child {
  overflow-wrap: anywhere; }
#fitted td:nth-child(4) { min-width: 22em; }
#differences td:nth-child(n+2) { text-align: right; font-variant-numeric: tabular-nums; }
#comparison td:nth-child(n+3) { white-space: nowrap; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.error { background: #fde8e8; border: 1px solid #c33; padding: 0.5em 1em; }
.inside { color: #17631b; } .outside { color: #a11; }
label { margin-right: 1em; }
"""


def page(title: str, body: str, *, refresh: bool = False) -> str:
    """A whole page around `body` (already HTML)."""
    meta = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{meta}'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} - chistka</title><style>{STYLE}</style></head>"
        f'<body><p><a href="/">chistka</a></p><h1>{html.escape(title)}</h1>{body}</body></html>'
    )


def escape(value: Any) -> str:
    """A value as HTML text."""
    return html.escape("" if value is None else str(value))


DECISION_NOTE_CHARACTERS = 90
"""How long a decision's note beside its box may be (the whole note is in the box's title)."""


def decision_notes(scenario: Any) -> dict[str, str]:
    """What each decision a what-if can leave out was, in words, by its name (`removable`).

    A date of the timeline: the notes of its events; an operation or a campaign: its label and
    dates; a show trial: its verdict's date and its defendants. QA of session 43: the boxes
    gave the codes alone (`events.1938-11-17`).
    """
    notes: dict[str, list[str]] = {}
    for event in scenario.events:
        if event.note:
            notes.setdefault(f"events.{event.date}", []).append(event.note)
    named = {name: "; ".join(texts) for name, texts in notes.items()}
    for section in ("operations", "campaigns"):
        for item in getattr(scenario, section, []):
            named[f"{section}.{item.name}"] = (
                f"{item.label or item.name}, {item.start} to {item.end}"
            )
    for trial in getattr(scenario, "show_trials", []):
        named[f"show_trials.{trial.name}"] = (
            f"show trial, verdict on {trial.date}: {trial.defendants} defendants, {trial.shot} shot"
        )
    return named


def decision_box(name: str, note: str) -> str:
    """A decision's box: its code, and beside it what it was (shortened; whole in the title)."""
    short = textwrap.shorten(note, DECISION_NOTE_CHARACTERS, placeholder=" …") if note else ""
    words = f': <span class="decision-note">{escape(short)}</span>' if short else ""
    title = f' title="{escape(note)}"' if note else ""
    return (
        f'<label{title}><input type="checkbox" name="without" value="{escape(name)}">'
        f"<code>{escape(name)}</code>{words}</label><br>"
    )


def run_form(
    scenarios: dict[str, str],
    values: dict[str, str],
    error: RequestError | None,
    decisions: list[str] | None = None,
    notes: dict[str, str] | None = None,
) -> str:
    """The form that starts a run, with the values sent and the error if they were refused.

    The decisions to run without are typed, one a line, or, on a scenario's page, where they
    are known (`decisions`), ticked, each with what it was (`notes`, by name).
    """
    if decisions is None:
        removal = (
            '<br><label for="without">without: one decision a line (as <code>chistka run'
            " --without</code>; e.g. <code>operations.order_00447</code>, "
            "<code>events.1938-11-17</code>; each scenario's page lists its own)</label><br>"
            f'<textarea name="without" id="without" rows="2" cols="60">'
            f"{escape(values.get('without'))}</textarea>"
        )
    else:
        removal = (
            '<fieldset id="without"><legend>without (a what-if: the run leaves these decisions'
            " out)</legend>"
            + "".join(decision_box(name, (notes or {}).get(name, "")) for name in decisions)
            + "</fieldset>"
        )
    options = "".join(
        f'<option value="{escape(name)}"{" selected" if values.get("scenario") == name else ""}>'
        f"{escape(name)}</option>"
        for name in scenarios
    )
    return (
        f'{error_message(error)}<form method="post" action="/runs" id="run-form">'
        f'<label>scenario <select name="scenario" id="scenario">{options}</select></label>'
        f'<label>seed <input name="seed" id="seed" size="6" value="{escape(values.get("seed"))}"'
        ' placeholder="default"></label>'
        '<label>seeds <input name="seeds" id="seeds" size="3"'
        f' value="{escape(values.get("seeds"))}" placeholder="1"></label>'
        '<label>scale <input name="scale" id="scale" size="6"'
        f' value="{escape(values.get("scale"))}"'
        ' placeholder="default"></label>'
        '<br><label for="set">what if: one change a line, PARAM=VALUE (as <code>chistka run'
        " --set</code>; e.g. <code>sentencing.album_death_share=0.3</code>)</label><br>"
        f'<textarea name="set" id="set" rows="3" cols="60">{escape(values.get("set"))}</textarea>'
        f'{removal}<br><button type="submit" id="run">Run</button></form>'
        "<p>Blank seed and scale run the scenario's own; a smaller scale (agents per person, in"
        f" (0, 1]) runs faster and noisier. Seeds above 1 (at most {MAX_SEEDS}) run an ensemble"
        " from the seed up, to see how much the answer moves between runs.</p>"
    )


def whatif_text(state: dict[str, Any]) -> str:
    """A run's what-if in words: its changes and the decisions it ran without, or 'none'."""
    parts = list(state.get("set") or []) + [f"without {n}" for n in state.get("without") or []]
    return "; ".join(parts) or "none"


def seed_text(state: dict[str, Any]) -> str:
    """The seed a run used (once started), or the one asked for, or 'default'.

    For an ensemble, its first and last seed.
    """
    seed = state.get("seed_used", state["seed"])
    count = state.get("seeds") or 1
    if seed is None:
        return "default" if count == 1 else f"{count} from the default"
    return str(seed) if count == 1 else f"{seed}-{seed + count - 1}"


def seeds_phrase(state: dict[str, Any]) -> str:
    """The seeds in a sentence: 'seed 3', 'seeds 1-8', '2 seeds from the default'.

    QA of session 40: a run page read 'seed 2 from the default' for seeds 1-2.
    """
    seed = state.get("seed_used", state["seed"])
    count = state.get("seeds") or 1
    if seed is None:
        return "the default seed" if count == 1 else f"{count} seeds from the default"
    return f"seed {seed}" if count == 1 else f"seeds {seed_text(state)}"


def progress_text(state: dict[str, Any]) -> str:
    """A run's progress in words, e.g. 'running: day 400 of 2,222' or 'running: 3 of 8 seeds'.

    QA of session 42: before the first day (the scenario loaded, the population built) it read
    a bare 'running', and after the last, while the files and the report are written, 'day N
    of N', for seconds at a time.
    """
    if state["status"] != "running":
        return state["status"]
    done, total = state.get("runs_done"), state.get("runs_total")
    if total:
        text = f"running: {done} of {total} {'runs' if state.get('experiment') else 'seeds'} done"
        return text + ("; writing the report" if done == total else "")
    done, total = state.get("days_done"), state.get("days_total")
    if total and done == total:
        return f"running: all {total:,} days done; writing the files and the report"
    if total:
        return f"running: day {done:,} of {total:,}"
    return "running: starting (loading the scenario, building the population)"


def what_ran(state: dict[str, Any]) -> str:
    """A run's scenario, or for an experiment its design and scenario."""
    if state.get("experiment") and state.get("vary"):
        parameter = state["vary"].partition("=")[0].strip()
        return f"experiment {state['experiment']} ({state['scenario']}) at values of {parameter}"
    if state.get("experiment"):
        return f"experiment {state['experiment']} ({state['scenario']})"
    return state["scenario"]


def runs_table(
    states: list[dict[str, Any]],
    error: RequestError | None = None,
    ticked: list[str] | None = None,
) -> str:
    """The runs so far, newest first, each linked to its page; two done runs can be compared.

    A refused comparison's `error` is given under the table, above the Compare button, and the
    runs that were ticked (`ticked`) stay ticked; the page opens there (the button has the
    focus).
    QA of session 43: the message was at the top of the page, the ticks at its bottom.
    """
    if not states:
        return f"{error_message(error)}<p>No runs yet.</p>"
    kept = set(ticked or [])

    def tick(state: dict[str, Any]) -> str:
        if state["status"] != "done" or state.get("experiment"):
            return ""
        checked = " checked" if state["id"] in kept else ""
        return f'<input type="checkbox" name="run" value="{escape(state["id"])}"{checked}>'

    rows = "".join(
        f"<tr><td>{tick(s)}</td>"
        f'<td><a href="/runs/{escape(s["id"])}">{escape(s["id"])}</a></td>'
        f"<td>{escape(what_ran(s))}</td><td>{escape(seed_text(s))}</td>"
        f"<td>{escape(s['scale'] if s['scale'] is not None else 'default')}</td>"
        f"<td>{escape(whatif_text(s))}</td>"
        f'<td class="status">{escape(progress_text(s))}</td>'
        f"<td>{escape(s['submitted'][:19])}</td></tr>"
        for s in states
    )
    focus = " autofocus" if error is not None else ""
    return (
        '<form method="get" action="/compare" id="compare-form">'
        '<table id="runs"><tr><th></th><th>run</th><th>scenario</th><th>seed</th><th>scale</th>'
        f"<th>what if</th><th>status</th><th>submitted</th></tr>{rows}</table>"
        f'{error_message(error)}<button type="submit" id="compare"{focus}>'
        "Compare the two ticked runs</button> (the later"
        " against the earlier: each compared figure on both sides and the difference)</form>"
    )


def comparison_rows(path: Path) -> Iterator[dict[str, str]]:
    """The rows of a run's comparison.csv."""
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def number(text: str, share: bool | None = None) -> str:
    """A figure of comparison.csv for the table: shares as per cent, the rest with separators.

    `share` says which the figure is (`chistka.analysis.observables.is_share` of its row's
    observable); without it, a figure below 1 is taken for a share. QA of session 42: that guess
    gave a share of 0 or 1 (no one expelled, a range up to 100%) as a count, "0" and "1".
    """
    try:
        value = float(text)
    except ValueError:
        return escape(text)
    if math.isnan(value):
        return ""
    if share is None:
        share = abs(value) < 1 and value != 0
    return f"{value:.1%}" if share else f"{value:,.0f}"


def has_label(label: Any) -> bool:
    """Whether a compared row's label is there: not None, NaN (pandas' empty cell) or blank."""
    if label is None or (isinstance(label, float) and math.isnan(label)):
        return False
    return bool(str(label).strip())


def row_name(label: Any, record_id: str) -> str:
    """A compared row as a reader names it, with its id below (the id alone without a label).

    QA of session 40: the pages gave the id alone, and 'convicted_1937' does not say that it
    counts every sentence.
    """
    code = f"<code>{escape(record_id)}</code>"
    return f"{escape(label)}<br>{code}" if has_label(label) else code


def row_text(label: Any, record_id: str) -> str:
    """A compared row named in plain text: "label (id)", or the id alone without a label.

    pandas reads an empty label as NaN, which the ensemble's page showed as "nan (id)".
    """
    return f"{label} ({record_id})" if has_label(label) else record_id


def model_number(text: str, status: str, share: bool | None = None) -> str:
    """The model's figure of a row, '-' where the scenario does not model its kind."""
    return "-" if status == "not modelled" else number(text, share)


def row_is_share(row: Any) -> bool | None:
    """Whether a row of comparison.csv is a share, from its observable (None if it has none)."""
    from chistka.analysis.observables import is_share

    observable = row.get("observable")
    return is_share(str(observable)) if has_label(observable) else None


def comparison_table(path: Path) -> str:
    """The run against every record row its scenario compares, as comparison.csv has it."""
    head = "".join(
        f"<th>{name}</th>" for name in ("row", "role", "model", "record", "range", "status")
    )
    rows = "".join(
        f"<tr><td>{row_name(r.get('label'), r['record_id'])}</td><td>{escape(r['role'])}</td>"
        f'<td class="number">{model_number(r["model"], r["status"], share)}</td>'
        f'<td class="number">{number(r["record"], share)}</td>'
        f'<td class="number">{number(r["low"], share)} - {number(r["high"], share)}</td>'
        f'<td class="{escape(r["status"]).replace(" ", "-")}">{escape(r["status"])}</td></tr>'
        for r in comparison_rows(path)
        for share in [row_is_share(r)]
    )
    return f'<table id="comparison"><tr>{head}</tr>{rows}</table>'


def fit_summary(summary: dict[str, Any]) -> str:
    """Calibration and validation rows inside, and the fitted parameters against the budget."""
    parts = []
    for role in ("calibration", "validation"):
        entry = summary["fit"].get(role, {})
        if entry.get("rows"):
            parts.append(f"{role}: {entry['inside']} of {entry['rows']} rows inside")
    budget = summary["parameter_budget"]
    parts.append(
        f"{budget['fitted']} fitted parameters for {budget['calibration_rows']} calibration rows"
        f" (at most {budget['at_most']})"
    )
    return '<ul id="fit">' + "".join(f"<li>{escape(p)}</li>" for p in parts) + "</ul>"


def run_page(jobs: RunJobs, state: dict[str, Any]) -> str:
    """A run's page: its progress while it goes; its fit, report and files when it is done."""
    run_id = state["id"]
    scenario = f'Scenario <a href="/scenarios/{escape(state["scenario"])}">'
    scenario += f"<b>{escape(state['scenario'])}</b></a>"
    if state.get("experiment"):
        count = state["seeds"]
        scenario = (
            f'Experiment <a href="/experiments/{escape(state["experiment"])}">'
            f"<b>{escape(state['experiment'])}</b></a> ({escape(count)}"
            f" seed{'' if count == 1 else 's'} per arm) on scenario"
            f" {scenario_link(state['scenario'])}"
        )
    facts = (
        f"<p>{scenario}, "
        f"{escape(seeds_phrase(state))}, scale "
        f"{escape(state['scale'] if state['scale'] is not None else 'default')}; submitted "
        f"{escape(state['submitted'][:19])}. "
        f'Status: <b id="status">{escape(state["status"])}</b></p>'
    )
    if state.get("experiment") and state.get("set"):
        facts += (
            f'<p>Variant, in the scenario and every arm: <code id="changes">'
            f"{escape(whatif_text(state))}</code></p>"
        )
    elif state.get("set") or state.get("without"):
        facts += f'<p>What if: <code id="changes">{escape(whatif_text(state))}</code></p>'
    if state.get("experiment") and state.get("vary"):
        facts += (
            "<p>The whole experiment once per value (each in the scenario and every arm):"
            f' <code id="vary">{escape(state["vary"])}</code></p>'
        )
    if state["status"] in ("queued", "running"):
        done, total = state.get("days_done") or 0, state.get("days_total")
        if state.get("runs_total"):
            done, total = state.get("runs_done") or 0, state["runs_total"]
        bar = (
            f'<p><progress id="progress" max="{total}" value="{done}"></progress> '
            f"{escape(progress_text(state))}</p>"
            if total
            else f"<p>{escape(progress_text(state))}</p>"
        )
        return page(f"Run {run_id}", facts + bar, refresh=True)
    if state["status"] == "failed":
        return page(f"Run {run_id}", facts + f'<p class="error">{escape(state["error"])}</p>')
    output = jobs.output(run_id)
    if state.get("experiment") and state.get("vary"):
        return page(f"Run {run_id}", facts + variants_body(run_id, output))
    if state.get("experiment"):
        return page(f"Run {run_id}", facts + experiment_body(run_id, output))
    if (state.get("seeds") or 1) > 1:
        return page(f"Run {run_id}", facts + ensemble_body(run_id, output))
    summary = json.loads((output / "summary.json").read_text(encoding="utf-8"))
    files = "".join(
        f'<li><a href="/runs/{run_id}/files/{name}">{name}</a></li>'
        for name in sorted(RUN_FILES)
        if (output / name).is_file()
    )
    body = (
        facts
        + fit_summary(summary)
        + f'<p><a id="report" href="/runs/{run_id}/files/report.html">The report</a> (every'
        " chart, with the record beside the model)</p>"
        + f"<h2>The data behind the charts</h2><ul id='files'>{files}</ul>"
        + "<h2>The model against the record</h2>"
        + comparison_table(output / "comparison.csv")
    )
    return page(f"Run {run_id}", body)


def seed_runs(output: Path) -> list[Path]:
    """An ensemble's run folders, in order of their ids (seed by seed)."""
    return sorted(p for p in output.iterdir() if p.is_dir() and SEED_RUN.match(p.name))


def ensemble_fit(output: Path) -> list[dict[str, Any]]:
    """Each seed's fit (`summary.json`): calibration and validation rows inside."""
    return [
        {"run": run.name, "seed": summary["seed"], "fit": summary["fit"]}
        for run in seed_runs(output)
        for summary in [json.loads((run / "summary.json").read_text(encoding="utf-8"))]
    ]


def ensemble_body(run_id: str, output: Path) -> str:
    """An ensemble's fit seed by seed, its report, its runs' files and the record over the seeds.

    Each compared row shows the model's mean, its 5-95% spread and the seeds at which it is
    inside.
    """
    by_seed = ensemble_fit(output)
    parts = []
    for role in ("calibration", "validation"):
        inside = [entry["fit"][role]["inside"] for entry in by_seed if role in entry["fit"]]
        rows = by_seed[0]["fit"].get(role, {}).get("rows", 0) if by_seed else 0
        if rows:
            parts.append(
                f"{role}: {min(inside)}-{max(inside)} of {rows} rows inside by seed "
                f"({len(by_seed)} seeds)"
            )
    fit = '<ul id="fit">' + "".join(f"<li>{escape(p)}</li>" for p in parts) + "</ul>"
    runs = "".join(
        f"<li>seed {entry['seed']}: "
        + ", ".join(
            f'<a href="/runs/{run_id}/seeds/{entry["run"]}/{name}">{name}</a>'
            for name in sorted(RUN_FILES)
            if (output / entry["run"] / name).is_file()
        )
        + "</li>"
        for entry in by_seed
    )
    frames = [pd.read_csv(run / "comparison.csv") for run in seed_runs(output)]
    table = pd.concat(frames, keys=range(len(frames)), names=["run", None]).reset_index(0)
    rows = []
    for record_id, group in table.groupby("record_id", sort=False):
        first = group.iloc[0]
        model = group["model"].to_numpy(dtype=float)
        model = model[~np.isnan(model)]
        scored = group["status"].isin(["inside", "outside"])
        share = row_is_share(first)
        spread = (
            f"{number(str(np.quantile(model, 0.05)), share)} - "
            f"{number(str(np.quantile(model, 0.95)), share)}"
            if len(model)
            else ""
        )
        not_modelled = first["status"] == "not modelled"
        rows.append(
            (
                row_text(first.get("label"), str(record_id)),
                first["role"],
                "-" if not_modelled else number(str(model.mean()), share) if len(model) else "",
                "" if not_modelled else spread,
                number(str(first["record"]), share),
                f"{number(str(first['low']), share)} - {number(str(first['high']), share)}",
                f"{int((group['status'] == 'inside').sum())} of {len(group)}"
                if scored.any()
                else first["status"],
            )
        )
    head = ("row", "role", "model (mean)", "5-95% over seeds", "record", "range", "inside at")
    return (
        fit
        + f'<p><a id="report" href="/runs/{run_id}/files/ensemble.html">The ensemble\'s report</a>'
        " (every chart, with the spread over the seeds)</p>"
        + plan_link(run_id, output)
        + f"<h2>The runs, seed by seed</h2><ul id='files'>{runs}</ul>"
        + "<h2>The model against the record, over the seeds</h2>"
        + table_html("comparison", head, rows)
    )


def plan_link(run_id: str, output: Path) -> str:
    """A link to an ensemble's plan.json, with what it holds (empty where there is none).

    QA of session 43: the file was served but not linked.
    """
    if not (output / "plan.json").is_file():
        return ""
    return (
        f'<p><a id="plan" href="/runs/{run_id}/files/plan.json">plan.json</a>: the ensemble\'s'
        " plan, as data: the scenario as it ran (its every parameter, with the what-if's changes),"
        " the scale, the seeds and each seed's run (the command line's <code>chistka sweep"
        " --resume</code> checks a folder against it)</p>"
    )


def table_html(element_id: str, head: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    """An HTML table of escaped cells."""
    header = "".join(f"<th>{escape(name)}</th>" for name in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f'<table id="{element_id}"><tr>{header}</tr>{body}</table>'


def fitted_text(value: float) -> str:
    """A fitted value to four significant digits, a large one in full with separators.

    QA of session 40: the scenario pages gave 16 digits.
    """
    if abs(value) >= 1_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


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
    run = scenario.scenario
    free_file = default_free_file(name)
    free = load_free(free_file, scenario, name) if free_file is not None else []
    return {
        "name": name,
        "description": run.description,
        "start": str(run.start),
        "end": str(run.end),
        "seed": run.seed,
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
        f" default seed {facts['seed']}.</p>",
        run_form(scenarios, {"scenario": name}, None, facts["decisions"], facts["decision_notes"]),
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


def compare_page(jobs: RunJobs, first: dict[str, Any], second: dict[str, Any]) -> str:
    """Two done runs side by side: the later (B) against the earlier (A), figure by figure.

    The charts, differences.csv and the table's wording are those of `chistka compare`
    (written once under RUNS/compare/A--B/, and again where an earlier version wrote them with
    other columns), so the page and the command agree.
    """
    from chistka.analysis.compare import differences, load_side
    from chistka.report.compare import TABLE_HEADINGS, table_cells, write_comparison_report

    folder = comparison_folder(jobs, first["id"], second["id"])
    if not comparison_is_current(folder):
        a, b = load_side(jobs.output(first["id"])), load_side(jobs.output(second["id"]))
        table = differences(a, b)
        building = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
        building.mkdir(parents=True, exist_ok=True)
        write_comparison_report(a, b, table, building / "compare.html")
        table.to_csv(building / "differences.csv", index=False)
        if folder.is_dir():  # an earlier version's: moved aside, then removed
            stale = folder.with_name(f".{folder.name}.{os.getpid()}.stale.tmp")
            os.replace(folder, stale)
            shutil.rmtree(stale)
        os.replace(building, folder)
    table = pd.read_csv(folder / "differences.csv")
    rows = [table_cells(row) for row in table.itertuples(index=False)]
    link = f"/compare/{first['id']}--{second['id']}"
    body = (
        f'<p>A: <a href="/runs/{first["id"]}">{first["id"]}</a> ({escape(whatif_text(first))});'
        f' B: <a href="/runs/{second["id"]}">{second["id"]}</a> ({escape(whatif_text(second))})'
        f'</p><p><a id="charts" href="{link}/compare.html">The charts side by side</a>; '
        f'<a href="{link}/differences.csv">differences.csv</a> (with the spread over seeds)</p>'
        + table_html("differences", TABLE_HEADINGS, rows)
    )
    return page("B against A", body)


def comparison_folder(jobs: RunJobs, first: str, second: str) -> Path:
    """Where the comparison of two runs is kept."""
    return jobs.folder / "compare" / f"{first}--{second}"


def comparison_is_current(folder: Path) -> bool:
    """Whether the folder holds a comparison with today's columns.

    One an earlier version wrote lacks what the page shows (rows not modelled, one row per
    record row), and is written again.
    """
    from chistka.analysis.compare import DIFFERENCE_COLUMNS

    path = folder / "differences.csv"
    if not path.is_file():
        return False
    with path.open(encoding="utf-8") as handle:
        return handle.readline().strip() == ",".join(DIFFERENCE_COLUMNS)


def error_page(jobs: RunJobs, path: str, status: int, detail: Any) -> str:
    """The page of an HTTP error on an HTML route: what went wrong and a link back.

    QA of session 42: an unknown run, file, scenario or design answered a browser with JSON.
    """
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    message = str(detail) if detail else phrase
    if status == 404 and message == phrase:  # no route: the router's bare "Not Found"
        message = f"there is no page {path}"
    elif status == 405:
        message = f"{path} does not take this method ({message})"
    back = '<a href="/" id="back">Back to the scenarios, experiments and runs</a>'
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "runs" and RUN_ID.match(parts[2]):
        if jobs.state_file(parts[2]).is_file():
            back = f'<a href="/runs/{parts[2]}" id="back">Back to run {parts[2]}</a>'
    body = f'<p class="error" id="error">{escape(message)}</p><p>{back}</p>'
    return page(f"{status} {phrase}".strip(), body)


# --- the app -------------------------------------------------------------------------------------


def create_app(
    runs_folder: Path, *, max_running: int = 1, experiments_folder: Path | None = None
) -> FastAPI:
    """The browser app, keeping its runs under `runs_folder`.

    `experiments_folder` adds its experiment designs (``*.toml``) to the built-in ones.
    """
    from chistka.scenario import builtin_scenarios

    jobs = RunJobs(Path(runs_folder), max_running=max_running)
    designs = Designs(experiments_folder)
    scenarios = builtin_scenarios()
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(TICK_SECONDS):
            jobs.start_queued()

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        ticker = threading.Thread(target=tick, name="chistka-runs", daemon=True)
        ticker.start()
        yield
        stop.set()
        ticker.join()
        jobs.stop_all()

    app = FastAPI(title="chistka", lifespan=lifespan)
    app.state.jobs = jobs

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        """An HTTP error (an unknown run, file or page, a method a route does not take).

        As JSON ({"detail": ...}) under /api/; elsewhere a page in the app's layout with the
        message and a link back: to the run's page for a file of a known run, else to the index.
        """
        path = request.url.path
        if path == "/api" or path.startswith("/api/"):
            return await http_exception_handler(request, error)
        return HTMLResponse(
            error_page(jobs, path, error.status_code, error.detail),
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )

    def index_page(
        values: dict[str, str],
        error: RequestError | None = None,
        compare_error: RequestError | None = None,
        ticked: list[str] | None = None,
    ) -> str:
        """The index: a refused run's `error` above its form, a comparison's beside the runs.

        `ticked`: the runs a refused comparison had ticked, ticked again.
        """
        items = "".join(
            f'<li><a href="/scenarios/{escape(name)}">{escape(name)}</a>: {escape(description)}'
            "</li>"
            for name, description in scenarios.items()
        )
        problems = {name: designs.problem(name) for name in designs.names()}
        designs_list = "".join(
            f'<li><a href="/experiments/{escape(name)}">{escape(name)}</a>: <b>{escape(title)}</b>'
            f'<br><span class="question">{escape(question)}</span></li>'
            for name, problem in problems.items()
            if problem is None
            for title, question in [designs.about(name)]
        )
        refused = "".join(
            f'<li><a href="/experiments/{escape(name)}">{escape(name)}</a>'
            f" ({escape(designs.file(name))}): "
            f'<span class="error" data-design="{escape(name)}">{escape(problem)}</span></li>'
            for name, problem in problems.items()
            if problem is not None
        )
        if refused:
            refused = (
                "<p>Refused: these designs cannot be run as they stand (fix the file and"
                f" reload this page):</p><ul id='refused-experiments'>{refused}</ul>"
            )
        return page(
            "Scenarios",
            f"<ul id='scenarios'>{items}</ul>{run_form(scenarios, values, error)}"
            "<h2>Experiments</h2><p>A scenario against arms that each take a lever away, at the"
            f" same seeds, with each arm's effect and its 90% interval:</p>"
            f"<ul id='experiments'>{designs_list}</ul>{refused}"
            f"<h2>Runs</h2>{runs_table(jobs.all(), compare_error, ticked)}",
        )

    def loaded_design(name: str) -> Any:
        """Design `name`; 404 if unknown, RequestError naming the field if the loader refuses it."""
        if name not in designs.refs:
            raise HTTPException(status_code=404, detail=f"no experiment {name!r}")
        try:
            return designs.load(name)
        except ChistkaError as exc:
            raise RequestError("experiment", str(exc)) from None

    def design_of(name: str) -> Any:
        """Design `name` for the JSON API: 404 if unknown, 422 with the loader's message."""
        try:
            return loaded_design(name)
        except RequestError as error:
            raise HTTPException(status_code=422, detail=error.message) from None

    def experiment_page(name: str, values: dict[str, str], error: RequestError | None) -> str:
        facts = design_facts(loaded_design(name))
        form = experiment_form(name, facts["seeds"], values, error)
        return page(facts["title"], design_body(facts, form))

    def refused_page(name: str, error: RequestError) -> HTMLResponse:
        """A design the loader refuses, as a page: its message above a link back (422).

        As a refused form's message (`error_message`): the page layout, not JSON, for a browser.
        """
        body = (
            f"<p>The design in {escape(designs.file(name))} cannot be run as it stands:</p>"
            f"{error_message(error)}"
            '<p><a href="/" id="back">Back to the scenarios and experiments</a> (fix the file'
            " and reload this page)</p>"
        )
        return HTMLResponse(page(f"Experiment {name}: refused", body), status_code=422)

    def submit_experiment(
        name: str, seeds: str, scale: str, changes: list[str] | None = None, vary: str = ""
    ) -> dict[str, Any]:
        ref, experiment, count, chosen_scale, variant, chosen_vary = check_experiment_request(
            designs, name, seeds, scale, changes, vary
        )
        return jobs.submit(
            experiment.design.experiment.scenario,
            None,
            chosen_scale,
            variant,
            seeds=count,
            experiment=(name, ref),
            vary=chosen_vary or None,
        )

    def state_of(run_id: str) -> dict[str, Any]:
        try:
            return jobs.get(run_id)
        except KeyError:
            raise HTTPException(status_code=404, detail=f"no run {run_id!r}") from None

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return index_page({})

    @app.get("/scenarios/{name}", response_class=HTMLResponse)
    def show_scenario(name: str) -> str:
        if name not in scenarios:
            raise HTTPException(status_code=404, detail=f"no built-in scenario {name!r}")
        return scenario_page(name, scenarios)

    @app.post("/runs", response_model=None)
    def submit_form(
        scenario: Annotated[str, Form()] = "",
        seed: Annotated[str, Form()] = "",
        scale: Annotated[str, Form()] = "",
        changes: Annotated[str, Form(alias="set")] = "",
        removed: Annotated[list[str] | None, Form(alias="without")] = None,
        seeds: Annotated[str, Form()] = "",
    ) -> HTMLResponse | RedirectResponse:
        names = [line for text in removed or [] for line in text.splitlines()]
        values = {
            "scenario": scenario,
            "seed": seed,
            "scale": scale,
            "set": changes,
            "without": "\n".join(names),
            "seeds": seeds,
        }
        try:
            state = jobs.submit(
                *check_request(scenario, seed, scale, changes.splitlines(), names, seeds)
            )
        except RequestError as error:
            return HTMLResponse(index_page(values, error), status_code=422)
        return RedirectResponse(f"/runs/{state['id']}", status_code=303)

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def show_run(run_id: str) -> str:
        return run_page(jobs, state_of(run_id))

    served = RUN_FILES | ENSEMBLE_FILES | EXPERIMENT_FILES | VARIANTS_FILES

    def output_entry(run_id: str, relative: str) -> Response:
        """A file of a run's output, or a page listing a folder of it (an experiment's arm).

        Folders must be named as chistka names them (`OUTPUT_FOLDER`) and files be among
        those a run, an ensemble or an experiment writes; nothing outside the output is
        reached.
        """
        state_of(run_id)
        parts = [part for part in relative.split("/") if part]
        if not parts:  # /runs/ID/files/: the run's page lists its files (QA of session 42)
            return RedirectResponse(f"/runs/{run_id}", status_code=307)
        path = jobs.output(run_id).joinpath(*parts)
        folders_ok = parts and all(OUTPUT_FOLDER.match(part) for part in parts[:-1])
        if folders_ok and OUTPUT_FOLDER.match(parts[-1]) and path.is_dir():
            return HTMLResponse(folder_page(run_id, parts, path))
        if folders_ok and parts[-1] in served and path.is_file():
            return FileResponse(path)
        raise HTTPException(status_code=404, detail=f"run {run_id!r} has no file {relative!r}")

    def folder_page(run_id: str, parts: list[str], path: Path) -> str:
        """The links to what a folder of a run's output holds."""
        base = f"/runs/{run_id}/files/{'/'.join(parts)}"
        entries = sorted(path.iterdir())
        links = [
            f'<li><a href="{base}/{entry.name}/">{entry.name}/</a></li>'
            for entry in entries
            if entry.is_dir() and OUTPUT_FOLDER.match(entry.name)
        ] + [
            f'<li><a href="{base}/{entry.name}">{entry.name}</a></li>'
            for entry in entries
            if entry.is_file() and entry.name in served
        ]
        body = (
            f'<p><a href="/runs/{run_id}">{run_id}</a> / {escape("/".join(parts))}</p>'
            f'<ul id="folder">{"".join(links)}</ul>'
        )
        return page(f"{run_id}: {'/'.join(parts)}", body)

    @app.get("/runs/{run_id}/files/{name}")
    def run_file(run_id: str, name: str) -> Response:
        return output_entry(run_id, name)

    @app.get("/runs/{run_id}/files/{path:path}")
    def output_file(run_id: str, path: str) -> Response:
        """Deeper in a run's output: an arm's runs, a value's experiment (v01/experiment.html)."""
        return output_entry(run_id, path)

    def inner_file(run_id: str, folder: str, name: str, folders: Any, names: Any) -> FileResponse:
        """A file one folder down in a run's output: a seed's run or a value's experiment."""
        state_of(run_id)
        path = jobs.output(run_id) / folder / name
        if not folders.match(folder) or name not in names or not path.is_file():
            raise HTTPException(
                status_code=404, detail=f"run {run_id!r} has no file {folder}/{name}"
            )
        return FileResponse(path)

    @app.get("/runs/{run_id}/seeds/{seed_run}/{name}")
    def seed_file(run_id: str, seed_run: str, name: str) -> FileResponse:
        return inner_file(run_id, seed_run, name, SEED_RUN, RUN_FILES)

    @app.get("/compare", response_class=HTMLResponse)
    def compare(run: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
        ids = run or []
        states = []
        for run_id in ids:
            try:
                states.append(jobs.get(run_id))
            except KeyError:
                states.append({"id": run_id, "status": "unknown"})
        error = None
        if len(ids) != 2 or ids[0] == ids[1]:
            error = f"tick two different runs to compare (got {len(set(ids))})"
        elif any(state["status"] != "done" for state in states):
            error = "only done runs can be compared: " + ", ".join(
                f"{s['id']} is {s['status']}" for s in states if s["status"] != "done"
            )
        elif any("experiment" in state for state in states):
            error = "an experiment's arms are compared on its own page, not here: " + ", ".join(
                s["id"] for s in states if "experiment" in s
            )
        if error:
            refused = RequestError("run", error)
            return HTMLResponse(index_page({}, None, refused, ids), status_code=422)
        first, second = sorted(states, key=lambda state: state["submitted"])
        return HTMLResponse(compare_page(jobs, first, second))

    @app.get("/compare/{pair}/{name}")
    def compare_file(pair: str, name: str) -> FileResponse:
        first, _, second = pair.partition("--")
        path = comparison_folder(jobs, first, second) / name
        valid = RUN_ID.match(first) and RUN_ID.match(second)
        if not valid or name not in ("compare.html", "differences.csv") or not path.is_file():
            raise HTTPException(status_code=404, detail=f"no comparison file {pair}/{name}")
        return FileResponse(path)

    @app.get("/experiments/{name}", response_class=HTMLResponse)
    def show_experiment(name: str) -> HTMLResponse:
        try:
            return HTMLResponse(experiment_page(name, {}, None))
        except RequestError as error:
            return refused_page(name, error)

    @app.post("/experiments", response_model=None)
    def submit_experiment_form(
        experiment: Annotated[str, Form()] = "",
        seeds: Annotated[str, Form()] = "",
        scale: Annotated[str, Form()] = "",
        changes: Annotated[str, Form(alias="set")] = "",
        vary: Annotated[str, Form()] = "",
    ) -> HTMLResponse | RedirectResponse:
        try:
            state = submit_experiment(experiment, seeds, scale, changes.splitlines(), vary)
        except RequestError as error:
            if experiment not in designs.refs:
                return HTMLResponse(index_page({}, error), status_code=422)
            values = {"seeds": seeds, "scale": scale, "set": changes, "vary": vary}
            try:
                form_page = experiment_page(experiment, values, error)
            except RequestError as refused:  # the design itself, not what the form asks
                return refused_page(experiment, refused)
            return HTMLResponse(form_page, status_code=422)
        return RedirectResponse(f"/runs/{state['id']}", status_code=303)

    @app.get("/api/experiments")
    def api_experiments() -> list[dict[str, Any]]:
        """Every design's facts and its file, or for one the loader refuses its message.

        A refused one is {"name", "file", "refused"}: the name its page takes
        (/experiments/NAME) and the loader's message naming the field.
        """
        listed = []
        for name in designs.names():
            try:
                listed.append({**design_facts(loaded_design(name)), "file": designs.file(name)})
            except RequestError as error:
                listed.append({"name": name, "file": designs.file(name), "refused": error.message})
        return listed

    @app.get("/api/experiments/{name}")
    def api_experiment(name: str) -> dict[str, Any]:
        return design_facts(design_of(name))

    @app.post("/api/experiments", status_code=202)
    async def api_submit_experiment(request: Request) -> JSONResponse:
        body = await json_body(request, ("experiment", "seeds", "scale", "set", "vary"))
        if isinstance(body, JSONResponse):
            return body
        changes = body.get("set") or []
        if not isinstance(changes, list) or not all(isinstance(i, str) for i in changes):
            return request_error(RequestError("set", "set must be a list of 'PARAM=VALUE' strings"))
        vary = body.get("vary") or ""
        if not isinstance(vary, str):
            return request_error(RequestError("vary", "vary must be one 'PARAM=V1,V2,...' string"))
        try:
            state = submit_experiment(
                str(body.get("experiment", "")),
                "" if body.get("seeds") is None else str(body["seeds"]),
                "" if body.get("scale") is None else str(body["scale"]),
                changes,
                vary,
            )
        except RequestError as error:
            return request_error(error)
        return JSONResponse(state, status_code=202)

    @app.get("/api/scenarios")
    def api_scenarios() -> list[dict[str, str]]:
        return [{"name": name, "description": text} for name, text in scenarios.items()]

    @app.get("/api/scenarios/{name}")
    def api_scenario(name: str) -> dict[str, Any]:
        if name not in scenarios:
            raise HTTPException(status_code=404, detail=f"no built-in scenario {name!r}")
        return scenario_facts(name)

    @app.get("/api/runs")
    def api_runs() -> list[dict[str, Any]]:
        return jobs.all()

    @app.post("/api/runs", status_code=202)
    async def api_submit(request: Request) -> JSONResponse:
        body = await json_body(request, ("scenario", "seed", "seeds", "scale", "set", "without"))
        if isinstance(body, JSONResponse):
            return body
        lists = {}
        for field, what in (("set", "'PARAM=VALUE' strings"), ("without", "decision names")):
            items = body.get(field) or []
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                return request_error(RequestError(field, f"{field} must be a list of {what}"))
            lists[field] = items
        try:
            wanted = check_request(
                str(body.get("scenario", "")),
                "" if body.get("seed") is None else str(body["seed"]),
                "" if body.get("scale") is None else str(body["scale"]),
                lists["set"],
                lists["without"],
                "" if body.get("seeds") is None else str(body["seeds"]),
            )
        except RequestError as error:
            return request_error(error)
        return JSONResponse(jobs.submit(*wanted), status_code=202)

    @app.get("/api/runs/{run_id}")
    def api_run(run_id: str) -> dict[str, Any]:
        state = state_of(run_id)
        summary_file = jobs.output(run_id) / "summary.json"
        if state["status"] == "done" and state.get("experiment") and state.get("vary"):
            state = {**state, "spread": effects_rows(jobs.output(run_id) / "spread.csv")}
        elif state["status"] == "done" and state.get("experiment"):
            state = {**state, "effects": effects_rows(jobs.output(run_id) / "effects.csv")}
        elif state["status"] == "done" and (state.get("seeds") or 1) > 1:
            state = {**state, "fit_by_seed": ensemble_fit(jobs.output(run_id))}
        elif state["status"] == "done" and summary_file.is_file():
            summary = json.loads(summary_file.read_text(encoding="utf-8"))
            state = {
                **state,
                "fit": summary["fit"],
                "parameter_budget": summary["parameter_budget"],
            }
        return state

    return app


async def json_body(request: Request, allowed: tuple[str, ...]) -> dict[str, Any] | JSONResponse:
    """A request's JSON object, or the 422 answer naming what is wrong with it.

    The body must be a JSON object with no field outside `allowed`.
    """
    try:
        body = await request.json()
    except RecursionError:  # nested deeper than the JSON decoder goes
        return request_error(RequestError("body", "the body is nested too deeply"))
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return request_error(RequestError("body", "the body must be a JSON object"))
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        return request_error(RequestError(unknown[0], f"allowed fields are {', '.join(allowed)}"))
    return body


def request_error(error: RequestError) -> JSONResponse:
    """A 422 answer naming the field and what it allows."""
    return JSONResponse(
        {"detail": [{"loc": ["body", e.field], "msg": e.message} for e in error.every]},
        status_code=422,
    )
