"""The web app's pages of runs, and the comparison of two runs.

The run form, the list of runs, a run's or an ensemble's page with its fit against the record
and its files, and two done runs side by side.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import re
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chistka.outputs import RUN_FILES
from chistka.web.experiments import (
    error_message,
    experiment_body,
    scenario_link,
    variants_body,
)
from chistka.web.forms import MAX_SEEDS, RequestError
from chistka.web.jobs import RunJobs
from chistka.web.layout import escape, page, table_html

SEED_RUN = re.compile(r"^p\d{3,}-s\d{3,}$")
"""An ensemble's run folder (`chistka.analysis.ensemble.RunSpec.run_id`)."""


DECISION_NOTE_CHARACTERS = 90
"""How long a decision's note beside its box may be (the whole note is in the box's title)."""


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
    scale: float | None = None,
) -> str:
    """The form that starts a run, with the values sent and the error if they were refused.

    The decisions to run without are typed, one a line, or, on a scenario's page, where they
    are known (`decisions`), ticked, each with what it was (`notes`, by name). `scale`: the
    scenario's own, what a blank scale runs, shown in the blank box (else 'default').
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
        f' placeholder="{"default" if scale is None else f"{scale:g}"}"></label>'
        '<br><label for="set">what if: one change a line, PARAM=VALUE (as <code>chistka run'
        " --set</code>; e.g. <code>sentencing.album_death_share=0.3</code>)</label><br>"
        f'<textarea name="set" id="set" rows="3" cols="60">{escape(values.get("set"))}</textarea>'
        f'{removal}<br><button type="submit" id="run">Run</button></form>'
        "<p>Blank seed and scale run the scenario's own; a smaller scale (agents per person, in"
        f" (0, 1]) runs faster and noisier. Seeds above 1 (at most {MAX_SEEDS}) run an ensemble"
        " from the seed up, to see how much the answer moves between runs.</p>"
    )


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""The months as the pages write them (not the locale's `%b`)."""


def time_text(stamp: str) -> str:
    """A state file's time as the pages give it: '6 Dec 2026 02:42 UTC', kept on one line.

    The time is recorded in UTC with its zone (`jobs.now`); one without a zone, of an earlier
    version, is the server's local time. Something that is not a time is given as it is. The
    pages gave the raw '2026-12-06T02:42:09', with no zone.
    """
    try:
        when = dt.datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return escape(str(stamp)[:19])
    when = when.astimezone(dt.UTC)  # one without a zone is taken as the local time
    words = f"{when.day} {MONTHS[when.month - 1]} {when:%Y %H:%M} UTC"
    iso = when.isoformat(timespec="seconds")
    return f'<time class="when" datetime="{iso}">{words}</time>'


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

    A run page read 'seed 2 from the default' for seeds 1-2.
    """
    seed = state.get("seed_used", state["seed"])
    count = state.get("seeds") or 1
    if seed is None:
        return "the default seed" if count == 1 else f"{count} seeds from the default"
    return f"seed {seed}" if count == 1 else f"seeds {seed_text(state)}"


def arm_seeds_phrase(state: dict[str, Any]) -> str:
    """An experiment's seeds in a sentence: '2 seeds per arm', 'seeds 1-2 per arm'.

    Its page gave them twice: 'Experiment x (2 seeds per arm) on scenario y, 2 seeds from the
    default'.
    """
    count = state.get("seeds") or 1
    seed = state.get("seed_used", state["seed"])
    if seed is None:
        return f"{count} seed{'' if count == 1 else 's'} per arm"
    return f"{seeds_phrase(state)} per arm"


RUN_UNDER_WAY_SHARE = 0.999
"""The most of a whole run the bar counts for the run under way: one whose days are all done is
counted whole only once the words count it done (its files saved). The bar stood at the next
whole run (a full bar on the last) beside '5 of 6 runs done' for the seconds of the saving."""


def day_words(
    done: int, total: int, iso_date: str | None, spin_up: int | None, run: str = ""
) -> str:
    """A run's day in words, e.g. 'day 400 of 2,222 (20 Apr 1923)', after the run it is of.

    As the command line's bars give it (`engine.spin_up_words`: a spin-up's days say so); a
    state file of a worker that did not record the date has none.
    """
    from chistka.engine import spin_up_words  # the engine's imports only where a page needs it

    date = dt.date.fromisoformat(iso_date) if iso_date else None
    return spin_up_words(done, total, spin_up, date, run)


SIMULATED_DATE = re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}\b")
"""A simulated day's date as the progress gives it, '21 Sep 1936' (`engine.spin_up_words`)."""


def progress_html(text: str) -> str:
    """Progress words as HTML, each date kept on one line (`.when`).

    At 400 px the runs' status column and a run's progress broke a date, '(21' above
    'Sep 1936)'.
    """
    return SIMULATED_DATE.sub(lambda date: f'<span class="when">{date[0]}</span>', escape(text))


def progress_text(state: dict[str, Any]) -> str:
    """A run's status, with its progress while it runs: 'running: day 400 of 2,222 (...)'.

    The list of runs gives it in its status column (`progress_words` gives the progress).
    """
    if state["status"] != "running":
        return state["status"]
    return f"running: {progress_words(state)}"


def progress_words(state: dict[str, Any]) -> str:
    """A running run's progress in words, e.g. 'day 400 of 2,222 (20 Apr 1923)'.

    A set of runs: '3 of 8 seeds done; seed 4 at day 400 of 2,222'. Before the first
    day (the scenario loaded, the population built) it read a bare 'running', and after the
    last, while the files and the report are written, 'day N of N', for seconds at a time. A
    set of runs read '0 of 64 seeds done' for the whole of its first run, a minute at the
    default scale: the run under way gives its day (`run_under_way_text`), and between runs
    the next one is said to be starting (`next_run_text`). The days of a spin-up say so
    (`day_words`). A run's page gives it after its status, which it repeated ('Status:
    running' and 'running: day 781 of 2,343').
    """
    done, total = state.get("runs_done"), state.get("runs_total")
    if total:
        text = f"{done} of {total} {'runs' if state.get('experiment') else 'seeds'} done"
        if done == total:
            return text + "; writing the report"
        under_way = run_under_way_text(state) or next_run_text(state)
        return text + (f"; {under_way}" if under_way else "")
    done, total = state.get("days_done"), state.get("days_total")
    if total and done == total:
        days = total - (state.get("spin_up_days") or 0)
        return f"all {days:,} days done; writing the files and the report"
    if total:
        return day_words(done, total, state.get("day_date"), state.get("spin_up_days"))
    return "starting (loading the scenario, building the population)"


def run_under_way_text(state: dict[str, Any]) -> str:
    """The run under way of a set of runs and its day, e.g. 'seed 4 at day 400 of 2,222'.

    An experiment's: 'arm no-mass, seed 2 at day 400 of 2,222' (its baseline by the words of
    `arm_words`); at values of a parameter, with the value: 'review.x = 0.3, arm no-mass, seed
    2 at ...' (it read 'arm v01/no-mass', the value's folder). '' when the state has none
    (between runs, or a state file of a worker that did not record it). The day's date
    follows where the state has it, and a spin-up's days say so (`day_words`).
    """
    done, total = state.get("run_days_done"), state.get("run_days_total")
    if not total:
        return ""
    run = f"seed {state['run_seed']}"
    if state.get("experiment") and state.get("arm"):
        run = f"{arm_words(state)}, {run}"
    if state.get("vary") and state.get("value") is not None:
        run = f"{state['vary'].partition('=')[0].strip()} = {state['value']}, {run}"
    if done == total:
        days = total - (state.get("spin_up_days") or 0)
        return f"{run}: all {days:,} days done, saving its files"
    return day_words(done, total, state.get("run_day_date"), state.get("spin_up_days"), run)


def arm_words(state: dict[str, Any]) -> str:
    """The arm of an experiment's run under way as its pages name it.

    'arm no-mass', and the baseline 'great-terror as it stands' (`Experiment.label`): the
    progress called it 'arm baseline', an arm the design page does not list.
    """
    from chistka.analysis.experiment import BASELINE

    if state["arm"] == BASELINE:
        return f"{state['scenario']} as it stands"
    return f"arm {state['arm']}"


def next_run_text(state: dict[str, Any]) -> str:
    """What a set of runs does when no run of it is under way: the next run is starting.

    The gap (the next run's population built; the first's 24 s on a fresh server) read a bare
    'running: 0 of 3 seeds done', where a single run says it is starting. '' for a state file
    of a worker that did not record the run under way (no ``run_days_total``): it may be in a
    run.
    """
    if "run_days_total" not in state:
        return ""
    if not state.get("runs_done"):
        return "the first run is starting (loading the scenario, building its population)"
    return "the next run is starting (building its population)"


def progress_value(state: dict[str, Any]) -> tuple[float, int | None]:
    """The progress bar's value and maximum (None: no bar yet).

    The days of a run; for a set of runs the runs done and the share of the run under way
    (at most `RUN_UNDER_WAY_SHARE`), rounded to a thousandth after the sum (the share was
    rounded before it, and the page read value="1.6280000000000001").
    """
    if not state.get("runs_total"):
        return state.get("days_done") or 0, state.get("days_total")
    value = state.get("runs_done") or 0
    done, total = state.get("run_days_done"), state.get("run_days_total")
    if total and value < state["runs_total"]:
        value += min(done / total, RUN_UNDER_WAY_SHARE)
    return round(value, 3), state["runs_total"]


def bar_number(value: float) -> str:
    """A progress bar's value as the page writes it: '1.628', '2' (not '2.0'), '400'."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


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
    The message was at the top of the page, the ticks at its bottom. The status comes next to
    the run: it was the seventh column, out of sight in a 400 px window.
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
        f'<td class="status">{progress_html(progress_text(s))}</td>'
        f"<td>{escape(what_ran(s))}</td><td>{escape(seed_text(s))}</td>"
        f"<td>{escape(s['scale'] if s['scale'] is not None else 'default')}</td>"
        f"<td>{escape(whatif_text(s))}</td>"
        f"<td>{time_text(s['submitted'])}</td></tr>"
        for s in states
    )
    focus = " autofocus" if error is not None else ""
    return (
        '<form method="get" action="/compare" id="compare-form">'
        '<table id="runs"><tr><th></th><th>run</th><th>status</th><th>scenario</th><th>seed</th>'
        f"<th>scale</th><th>what if</th><th>submitted</th></tr>{rows}</table>"
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
    observable); without it, a figure below 1 is taken for a share. That guess
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

    The pages gave the id alone, and 'convicted_1937' does not say that it
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


def fit_summary(summary: dict[str, Any], compared: list[dict[str, str]] | None = None) -> str:
    """Calibration and validation rows inside, and the fitted parameters against the budget.

    `compared`: the rows of the run's comparison.csv. Its rows of kinds the scenario does not
    model are listed in the table but not counted, which the summary says: it read
    'calibration: 19 of 21 rows inside' above 22 calibration rows. The budget is in the words of
    the report and the command line (`budget_text`: 'at most 10 allowed').
    """
    from chistka.analysis.comparison import budget_text

    parts = []
    for role in ("calibration", "validation"):
        entry = summary["fit"].get(role, {})
        if entry.get("rows"):
            rows = f"row{'' if entry['rows'] == 1 else 's'}"
            parts.append(f"{role}: {entry['inside']} of {entry['rows']} {rows} inside")
    if parts and compared:
        parts[-1] += "; " + not_counted_text(compared)
    parts.append(budget_text(summary["parameter_budget"]))
    return '<ul id="fit">' + "".join(f"<li>{escape(p)}</li>" for p in parts if p) + "</ul>"


def not_counted_text(compared: list[dict[str, str]]) -> str:
    """The calibration and validation rows of kinds not modelled: listed, not counted.

    E.g. '1 calibration and 6 validation rows of kinds this scenario does not model are listed,
    not counted' ('' where there are none).
    """
    counts = [
        (sum(r["role"] == role and r["status"] == "not modelled" for r in compared), role)
        for role in ("calibration", "validation")
    ]
    named = [f"{n} {role}" for n, role in counts if n]
    if not named:
        return ""
    total = sum(n for n, _ in counts)
    rows = "row" if total == 1 else "rows"
    verb = "is" if total == 1 else "are"
    kind = "a kind" if total == 1 else "kinds"
    return (
        f"{' and '.join(named)} {rows} of {kind} this scenario does not model {verb} listed,"
        " not counted"
    )


READING_NOTE_TAIL = (
    " A row <em>not modelled</em> is of a kind this scenario does not model: it is listed,"
    " without the model's figure, and not counted."
)
"""What the report's guide leaves out: the status of a row the scenario does not model."""


def reading_note() -> str:
    """How to read the table of the model against the record: its roles and statuses.

    In the words of the report's "How to read this" (`chistka.report.sections.reading`), from
    what 'inside' means to the roles, and what 'not modelled' means: the run's page left 'claim',
    'input' and 'not modelled' unexplained.
    """
    from chistka.report.sections.reading import TEXT

    start = TEXT.index("The table compares")
    end = TEXT.index("never counted.") + len("never counted.")
    return f'<p id="reading"><b>How to read this.</b> {TEXT[start:end]}{READING_NOTE_TAIL}</p>'


def queue_text(jobs: RunJobs, state: dict[str, Any]) -> str:
    """Where a queued run stands: how many runs go before it, and how many go at once.

    The page said 'queued' twice, as the status and again as its progress.
    """
    ahead = sum(
        other["status"] == "running"
        or (other["status"] == "queued" and other["submitted"] < state["submitted"])
        for other in jobs.all()
    )
    if not ahead:
        return '<p id="queue">It starts in a moment.</p>'
    return (
        f'<p id="queue">Waiting for its turn: {ahead} run{"" if ahead == 1 else "s"} before it'
        f" (the server runs {jobs.max_running} at a time; <code>chistka serve"
        " --max-running</code> sets how many).</p>"
    )


def run_page(jobs: RunJobs, state: dict[str, Any]) -> str:
    """A run's page: its progress while it goes; its fit, report and files when it is done."""
    run_id = state["id"]
    scenario = f'Scenario <a href="/scenarios/{escape(state["scenario"])}">'
    scenario += f"<b>{escape(state['scenario'])}</b></a>"
    seeds = seeds_phrase(state)
    if state.get("experiment"):
        scenario = (
            f'Experiment <a href="/experiments/{escape(state["experiment"])}">'
            f"<b>{escape(state['experiment'])}</b></a> on scenario"
            f" {scenario_link(state['scenario'])}"
        )
        seeds = arm_seeds_phrase(state)
    facts = (
        f"<p>{scenario}, "
        f"{escape(seeds)}, scale "
        f"{escape(state['scale'] if state['scale'] is not None else 'default')}; submitted "
        f"{time_text(state['submitted'])}. "
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
    if state["status"] == "queued":
        return page(f"Run {run_id}", facts + queue_text(jobs, state), refresh=True)
    if state["status"] == "running":
        done, total = progress_value(state)
        bar = (
            f'<p><progress id="progress" max="{total}" value="{bar_number(done)}"></progress> '
            f"{progress_html(progress_words(state))}</p>"
            if total
            else f"<p>{progress_html(progress_words(state))}</p>"
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
    compared = list(comparison_rows(output / "comparison.csv"))
    files = "".join(
        f'<li><a href="/runs/{run_id}/files/{name}">{name}</a></li>'
        for name in sorted(RUN_FILES)
        if (output / name).is_file()
    )
    body = (
        facts
        + fit_summary(summary, compared)
        + f'<p><a id="report" href="/runs/{run_id}/files/report.html">The report</a> (every'
        " chart, with the record beside the model)</p>"
        + f"<h2>The data behind the charts</h2><ul id='files'>{files}</ul>"
        + "<h2>The model against the record</h2>"
        + reading_note()
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


def inside_by_seed(fewest: int, most: int, rows: int) -> str:
    """An ensemble's rows inside over its seeds: '5-7 of 9 rows inside by seed'.

    The same number at every seed is said once, '7 of 9 rows inside at every seed': the page
    read '0-0 of 8 rows inside by seed'.
    """
    counted = f"of {rows} row{'' if rows == 1 else 's'} inside"
    if fewest == most:
        return f"{most} {counted} at every seed"
    return f"{fewest}-{most} {counted} by seed"


def ensemble_body(run_id: str, output: Path) -> str:
    """An ensemble's fit seed by seed, its report, its runs' files and the record over the seeds.

    Each compared row shows the model's mean, its spread over the seeds (`analysis.spread`: the
    lowest and highest under 20 seeds, else 5-95%) and the seeds at which it is inside. The
    seeds are named once, above (`seeds_phrase`): each role's fit said "(2 seeds)" again.
    """
    from chistka.analysis.spread import spread as seed_spread
    from chistka.analysis.spread import spread_kind

    by_seed = ensemble_fit(output)
    parts = []
    for role in ("calibration", "validation"):
        inside = [entry["fit"][role]["inside"] for entry in by_seed if role in entry["fit"]]
        rows = by_seed[0]["fit"].get(role, {}).get("rows", 0) if by_seed else 0
        if rows:
            parts.append(f"{role}: {inside_by_seed(min(inside), max(inside), rows)}")
    first_run = seed_runs(output)[:1]
    if parts and first_run:  # the rows not modelled are those of every seed
        not_counted = not_counted_text(list(comparison_rows(first_run[0] / "comparison.csv")))
        parts[-1] += f"; {not_counted}" if not_counted else ""
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
        low, high = seed_spread(model)
        spread = f"{number(str(low), share)} - {number(str(high), share)}" if len(model) else ""
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
    spread_head = f"{spread_kind(len(frames))} over the seeds"  # their number is said above
    head = ("row", "role", "model (mean)", spread_head, "record", "range", "inside at")
    return (
        fit
        + f'<p><a id="report" href="/runs/{run_id}/files/ensemble.html">The ensemble\'s report</a>'
        " (every chart, with the spread over the seeds)</p>"
        + plan_link(run_id, output)
        + f"<h2>The runs, seed by seed</h2><ul id='files'>{runs}</ul>"
        + "<h2>The model against the record, over the seeds</h2>"
        + reading_note()
        + table_html("comparison", head, rows, numbers=(2, 3, 4, 5))
    )


def plan_link(run_id: str, output: Path) -> str:
    """A link to an ensemble's plan.json, with what it holds (empty where there is none).

    The file was served but not linked.
    """
    if not (output / "plan.json").is_file():
        return ""
    return (
        f'<p><a id="plan" href="/runs/{run_id}/files/plan.json">plan.json</a>: the ensemble\'s'
        " plan, as data: the scenario as it ran (its every parameter, with the what-if's changes),"
        " the scale, the seeds and each seed's run (the command line's <code>chistka sweep"
        " --resume</code> checks a folder against it)</p>"
    )


def compare_page(jobs: RunJobs, first: dict[str, Any], second: dict[str, Any]) -> str:
    """Two done runs side by side: the later (B) against the earlier (A), figure by figure.

    The charts, differences.csv and the table's wording are those of `chistka compare`
    (written once under RUNS/compare/A--B/, and again where an earlier version wrote them with
    other columns), so the page and the command agree.
    """
    from chistka.analysis.compare import differences, load_side
    from chistka.report.compare import (
        interval_note,
        table_cells,
        table_headings,
        write_comparison_report,
    )

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
        + table_html("differences", table_headings(table), rows)
        + (f"<p>{escape(interval_note(table))}</p>" if interval_note(table) else "")
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
