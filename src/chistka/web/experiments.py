"""The browser app's experiments: the designs, a form to run one, and a finished one's effects.

An experiment (`chistka.analysis.experiment`) runs a scenario as it stands and arms that each
take a lever away, at the same seeds. The app offers the built-in designs, and the designs
(``*.toml``) of a folder given to `chistka serve --experiments`; a submission is a run like any
other (a state file, a worker process, a queue), whose output folder is the experiment's
folder: `effects.csv`, `outcomes.csv`, `experiment.json`, `experiment.html` and one ensemble per
arm.
"""

from __future__ import annotations

import csv
import html
import math
import re
import threading
import tomllib
from pathlib import Path
from typing import Any

from chistka.analysis.observables import is_share, title, unit
from chistka.analysis.variants import direction_words
from chistka.errors import ChistkaError

EXPERIMENT_FILES = frozenset(
    {"experiment.html", "experiment.json", "outcomes.csv", "effects.csv", "fit.csv"}
)
"""The files at the top of an experiment's folder the app serves."""

VARIANTS_FILES = frozenset({"variants.html", "variants.json", "variants.csv", "spread.csv"})
"""The files at the top of a set of variants' folder the app serves (each value's experiment
is in a folder of its own, `VALUE_FOLDER`)."""

VALUE_FOLDER = re.compile(r"^v[0-9]{2}$")
"""A value's folder in a set of variants (`chistka.analysis.variants.variant_folder`)."""


DESIGN_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
"""A design file's name the app offers (its stem begins the run's id)."""


class Designs:
    """The designs the app offers: the built-in ones and those of an optional folder.

    A folder's design the loader refuses (a field it does not allow, two arms of one label,
    a file that is not TOML) is kept among them: the pages name it with the loader's message
    (`problem`) rather than hide it. A design file whose name the app cannot offer
    (`file_name_problem`) is named in `refused_files` with the reason; it was dropped without a
    word. The folder is read again (`refresh`, at each request that lists or opens designs)
    when a file has come, gone or changed: it was read once, at the server's start, so that a
    new, fixed or renamed design needed a restart.
    """

    def __init__(self, folder: Path | None = None) -> None:
        from chistka.analysis.experiment import builtin_experiments

        self.builtin = frozenset(builtin_experiments())
        self.folder = None if folder is None else Path(folder)
        self.refs: dict[str, str] = {name: name for name in builtin_experiments()}
        """Each design's ref for the loader, by its name: a built-in's name, a file's path."""
        self.refused_files: dict[str, str] = {}
        """A design file of the folder that is not offered, by its name: why not."""
        self._problems: dict[str, str | None] = {}
        self._listing: tuple[tuple[str, int, int, int], ...] | None = None
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Read the folder's designs again if its listing changed since the last look.

        Cheap when nothing changed: the files' names, sizes, times and inodes are compared,
        and no file is read. A change of any TOML file of the folder (a design, or a scenario
        a design names) forgets the loader's messages for the folder's designs.
        """
        if self.folder is None:
            return
        listing = folder_listing(self.folder)
        with self._lock:
            if listing == self._listing:
                return
            refs = {name: ref for name, ref in self.refs.items() if name in self.builtin}
            refused_files = {}
            for file_name, *_ in listing:
                path = self.folder / file_name
                if not is_design(path):
                    continue
                reason = file_name_problem(path.stem, self.builtin)
                if reason is None:
                    refs[path.stem] = str(path.resolve())
                else:
                    refused_files[path.name] = reason
            self._problems = {
                name: message for name, message in self._problems.items() if name in self.builtin
            }
            self.refs, self.refused_files, self._listing = refs, refused_files, listing

    def names(self) -> list[str]:
        """The designs' names, as the pages list them."""
        return list(self.refs)

    def load(self, name: str, changes: dict[str, Any] | None = None) -> Any:
        """The design `name`, with a variant's `changes`, checked; KeyError if unknown.

        Raises:
            ChistkaError: the loader refuses it; the message names the field, and the design's
                file by its name in the folder (not the server's path to it).
        """
        from chistka.analysis.experiment import load_experiment

        ref = self.refs[name]
        try:
            return load_experiment(ref, changes)
        except ChistkaError as exc:
            if name in self.builtin:
                raise
            raise ChistkaError(str(exc).replace(ref, self.file(name))) from None

    def file(self, name: str) -> str:
        """The file a design comes from: its name in the folder, or 'built-in'.

        A design whose file went while a page was being made (another request's `refresh`
        dropped it) is named by the file it had, not a KeyError and a server error.
        """
        if name in self.builtin:
            return "built-in"
        ref = self.refs.get(name)
        return Path(ref).name if ref is not None else f"{name}.toml"

    def about(self, name: str) -> tuple[str, str]:
        """A design's title and question, as its file gives them ('' where it has none).

        The index listed the designs by name only, where each scenario has
        its description.
        """
        from chistka.analysis.experiment import _builtin_dir

        ref = self.refs.get(name)  # None: its file went meanwhile (`file`)
        if name not in self.builtin and ref is None:
            return "", ""
        source = _builtin_dir() / f"{name}.toml" if name in self.builtin else Path(str(ref))
        try:
            header = tomllib.loads(source.read_text(encoding="utf-8")).get("experiment", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return "", ""
        return str(header.get("title", "")), str(header.get("question", ""))

    def problem(self, name: str) -> str | None:
        """The loader's message refusing design `name` as it stands, or None if it loads.

        Remembered until a TOML file of the folder changes (`refresh`).
        """
        problems = self._problems  # a refresh meanwhile forgets this one, not its own
        if name in problems:
            return problems[name]
        try:
            self.load(name)
            message = None
        except ChistkaError as exc:
            message = str(exc)
        problems[name] = message
        return message


def folder_listing(folder: Path) -> tuple[tuple[str, int, int, int], ...]:
    """The TOML files of a folder of designs, each as (name, size, mtime in ns, inode).

    What `Designs.refresh` compares to see whether a file came, went or changed: an editor
    that saves by renaming a new file over the old changes the inode if not the size or time.
    """
    listing = []
    for path in sorted(folder.glob("*.toml")):
        try:
            info = path.stat()
        except OSError:  # removed between the listing and the look
            continue
        listing.append((path.name, info.st_size, info.st_mtime_ns, info.st_ino))
    return tuple(listing)


def file_name_problem(stem: str, builtin: frozenset[str]) -> str | None:
    """Why the app cannot offer a design file of this name (`stem`), or None if it can.

    Its name must be one `DESIGN_NAME` allows (it begins the runs' ids and is the page's
    address) and not a built-in design's (the built-in has that page). A renamed file is
    offered at the next request (`Designs.refresh`).
    """
    if not DESIGN_NAME.match(stem):
        tidy = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:41]
        example = f" (e.g. {tidy}.toml)" if DESIGN_NAME.match(tidy) and tidy not in builtin else ""
        return (
            "not offered: a design file's name must be lower-case letters, digits and hyphens"
            " (at most 41 characters, not beginning with a hyphen), as it begins the runs' ids;"
            f" rename the file{example}; it is offered at once, with no restart"
        )
    if stem in builtin:
        return (
            f"not offered: a built-in design is named {stem}, and its page is /experiments/{stem};"
            " rename the file; it is offered at once, with no restart"
        )
    return None


def is_design(path: Path) -> bool:
    """Whether a TOML file of the folder is offered as an experiment's design.

    It is if it has an [experiment] table, and also if it cannot be read as TOML (loading it
    then says why, so that a broken design is named rather than hidden). A folder of designs
    may hold the scenario files they name, which are not offered.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True
    return isinstance(data.get("experiment"), dict)


def escape(value: Any) -> str:
    """A value as HTML text."""
    return html.escape("" if value is None else str(value))


def design_facts(experiment: Any) -> dict[str, Any]:
    """A design as data: its question, scenario, outcomes and arms (what each changes, why)."""
    header = experiment.design.experiment
    return {
        "name": experiment.name,
        "title": header.title,
        "question": header.question,
        "scenario": header.scenario,
        "seeds": header.seeds,
        "outcomes": list(header.outcomes),
        "note": header.note,
        "arms": [
            {
                "name": arm.name,
                "label": arm.label,
                "group": arm.group,
                "without": list(arm.without),
                "set": {key: str(value) for key, value in arm.set.items()},
                "why": arm.why,
            }
            for arm in experiment.arms
        ],
    }


def design_body(facts: dict[str, Any], form: str) -> str:
    """A design's page: the question, the arms, the outcomes and the form that runs it."""
    rows = "".join(
        f"<tr><td>{escape(arm['name'])}</td><td>{escape(arm['label'])}</td>"
        f"<td>{escape(arm['group'])}</td><td>"
        + "<br>".join(
            [f"without {escape(n)}" for n in arm["without"]]
            + [f"{escape(k)} = {escape(v)}" for k, v in arm["set"].items()]
        )
        + f"</td><td>{escape(arm['why'])}</td></tr>"
        for arm in facts["arms"]
    )
    outcomes = "".join(f"<li>{outcome_name(o, ' ')}</li>" for o in facts["outcomes"])
    note = f'<p id="note">{escape(facts["note"])}</p>' if facts["note"] else ""
    return (
        f'<p id="question"><b>Question.</b> {escape(facts["question"])}</p>'
        f"<p>Scenario {scenario_link(facts['scenario'])} as it stands, and each arm below, at"
        " the same seeds "
        "(each arm's effect is read seed by seed, with its 90% interval).</p>"
        "<h2>Arms</h2>"
        '<table id="arms"><tr><th>arm</th><th>label</th><th>group</th>'
        f"<th>what it changes</th><th>why</th></tr>{rows}</table>"
        f"<h2>Outcomes</h2><ul id='outcomes'>{outcomes}</ul>{note}<h2>Run it</h2>{form}"
    )


def outcome_name(outcome: str, between: str = "<br>") -> str:
    """An outcome as a reader names it, in words, with its code (as in the files) after it.

    The experiment pages named each outcome by its code alone.
    """
    return f"{escape(title(outcome))}{between}<code>{escape(outcome)}</code>"


def error_message(error: Any) -> str:
    """A refused request's message above its form, naming the field (empty without an error).

    One paragraph a field where several were refused (`RequestError.every`), the first
    `id="error"`, the others `id="error-FIELD"`.
    """
    if error is None:
        return ""
    return "".join(
        f'<p class="error" id="{"error" if i == 0 else f"error-{escape(e.field)}"}"'
        f' data-field="{escape(e.field)}">{escape(e.message)}</p>'
        for i, e in enumerate(getattr(error, "every", [error]))
    )


RUN_MINUTES = {"great-terror": 0.5}
"""About how long one run of a built-in scenario takes here at its default scale, in minutes."""


def runs_words(seeds: int, runs_per_seed: int, scenario: str) -> str:
    """What blank seeds run: how many runs and, where known, about how long they take.

    E.g. 'Blank seeds run 8 seeds per arm: 24 runs (the scenario as it stands and 2 arms, at
    each seed), about 12 minutes at the default scale.'

    The form's placeholder (8) gave the seeds per arm, not the runs, nor how long they take.
    """
    runs = seeds * runs_per_seed
    arms = runs_per_seed - 1
    text = (
        f"Blank seeds run {seeds} seed{'' if seeds == 1 else 's'} per arm: {runs:,} runs (the"
        f" scenario as it stands and {arms} arm{'' if arms == 1 else 's'}, at each seed)"
    )
    minutes = RUN_MINUTES.get(scenario)
    if minutes is not None:
        text += f", about {max(1, round(runs * minutes)):,} minutes at the default scale"
    return text + "."


def experiment_form(
    name: str,
    seeds: int,
    values: dict[str, str],
    error: Any = None,
    runs_per_seed: int = 0,
    scenario: str = "",
) -> str:
    """The form that runs a design: the seeds per arm (a count or a span A-B) and the scale.

    `runs_per_seed`: the scenario as it stands and each arm; with it, the form says how many
    runs blank seeds make and, for a scenario of known speed (`RUN_MINUTES`), how long.
    """
    message = error_message(error)
    total = f" {runs_words(seeds, runs_per_seed, scenario)}" if runs_per_seed else ""
    return (
        f'{message}<form method="post" action="/experiments" id="experiment-form">'
        f'<input type="hidden" name="experiment" value="{escape(name)}">'
        '<label>seeds per arm <input name="seeds" id="seeds" size="3"'
        f' value="{escape(values.get("seeds"))}" placeholder="{seeds}"></label>'
        '<label>scale <input name="scale" id="scale" size="6"'
        f' value="{escape(values.get("scale"))}" placeholder="default"></label>'
        '<br><label for="set">variant: one change a line, PARAM=VALUE, made in the scenario and'
        " every arm (an arm's own setting wins), to see how the answer depends on a value</label>"
        f'<br><textarea name="set" id="set" rows="2" cols="60">{escape(values.get("set"))}'
        "</textarea>"
        '<br><label for="vary">values of one parameter: PARAM=V1,V2,... (2 to 12 values), the'
        " whole experiment once per value and the answers side by side, to see whether the"
        " answer depends on a value the record cannot pin down</label>"
        f'<br><input name="vary" id="vary" size="60" value="{escape(values.get("vary"))}"'
        ' placeholder="e.g. denunciation.arrest_probability=0.01,0.02,0.04">'
        '<br><button type="submit" id="run">Run the experiment</button></form>'
        "<p>Seeds per arm: a count N (that many seeds from the scenario's) or the seeds A to"
        " B, e.g. 9-16, as <code>chistka experiment run --seeds</code> takes them."
        " Every arm runs at each seed (and at each value), one run after another (a run of"
        " great-terror takes about half a minute here); <code>chistka experiment run</code> uses"
        f' every core.<span id="runs-total">{escape(total)}</span></p>'
    )


def effects_rows(path: Path) -> list[dict[str, str]]:
    """The rows of an experiment's effects.csv."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _figure(text: str, signed: bool = False, percent: bool = False) -> str:
    try:
        value = float(text)
    except ValueError:
        return ""
    if math.isnan(value):
        return ""
    if percent:
        return f"{value:+.1%}"
    return f"{value:+,.0f}" if signed else f"{value:,.0f}"


def outcome_figure(text: str, outcome: str, signed: bool = False) -> str:
    """An outcome's value (or, `signed`, its change): a share in % (its change in points)."""
    if not is_share(outcome) or not _figure(text):
        return _figure(text, signed=signed)
    value = float(text)
    return f"{value * 100:+.1f} points" if signed else f"{value:.1%}"


def unit_text(outcome: str) -> str:
    """What an outcome's mean and change are counted in (no unit)."""
    return f"{unit(outcome)} (change in points)" if is_share(outcome) else unit(outcome)


def effects_table(path: Path) -> str:
    """Each arm's mean, change and relative change with their 90% intervals, outcome by outcome.

    Mean and change are in the outcome's unit (a count, or a share in % changing in points).
    An arm the scenario's equal at every seed reads "no change at any seed", as in the report
    (`chistka.report.experiment.no_change`), not "+0 (+0 to +0)".
    """
    head = "".join(
        f"<th>{name}</th>"
        for name in (
            "outcome",
            "unit",
            "arm",
            "mean",
            "change",
            "90% interval",
            "relative change",
            "90% interval",
        )
    )
    from chistka.report.experiment import NO_CHANGE, no_change

    rows = []
    for row in effects_rows(path):
        name = row["outcome"]
        named = (
            f"<tr><td>{outcome_name(name)}</td><td>{escape(unit_text(name))}</td>"
            f"<td>{escape(row['label'])}</td>"
            f'<td class="number">{outcome_figure(row["arm_mean"], name)}</td>'
        )
        if row["arm"] != "baseline" and no_change(
            row["difference"], row["difference_low"], row["difference_high"]
        ):
            rows.append(f'{named}<td class="number" colspan="4">{NO_CHANGE}</td></tr>')
            continue
        interval = ""
        relative_interval = ""
        if _figure(row["difference_low"]):
            interval = (
                f"{outcome_figure(row['difference_low'], name, signed=True)} to "
                f"{outcome_figure(row['difference_high'], name, signed=True)}"
            )
            relative_interval = (
                f"{_figure(row['relative_low'], percent=True)} to "
                f"{_figure(row['relative_high'], percent=True)}"
            )
        rows.append(
            f"{named}"
            f'<td class="number">{outcome_figure(row["difference"], name, signed=True)}</td>'
            f'<td class="number">{interval}</td>'
            f'<td class="number">{_figure(row["relative"], percent=True)}</td>'
            f'<td class="number">{relative_interval}</td></tr>'
        )
    return f'<table id="effects"><tr>{head}</tr>{"".join(rows)}</table>'


def effects_note(path: Path) -> str:
    """How to read the effects table: what change and relative change are, what a blank means.

    The page gave the numbers without the report's reading of them, and a
    blank row (an outcome the arm leaves out) or an interval past -100% (too few seeds)
    unexplained.
    """
    from chistka.report.experiment import few_seeds_note, no_change_note

    rows = effects_rows(path)
    seeds = sorted({row["seeds"] for row in rows if row["arm"] == "baseline"})
    count = int(seeds[-1]) if seeds and seeds[-1].isdigit() else 0
    return (
        '<p class="note" id="effects-note">Change: the mean over the seeds of the arm\'s value '
        "less the scenario's at the same seed, in the outcome's unit; relative change: that "
        "change divided by the scenario's mean; 90% interval: Student's t over the seeds. "
        "Blank: the outcome names what the arm leaves out (missing, not zero), or no interval "
        "from one seed."
        + escape(
            no_change_note(
                (row["difference"], row["difference_low"], row["difference_high"])
                for row in rows
                if row["arm"] != "baseline"
            )
        )
        + escape(few_seeds_note([row["relative_low"] for row in rows], count))
        + "</p>"
    )


def baseline_fit(path: Path) -> str:
    """The baseline's calibration rows inside, seed by seed: is the scenario (or variant) a fit?"""
    if not path.is_file():
        return ""
    with path.open(newline="", encoding="utf-8") as handle:
        runs = [row for row in csv.DictReader(handle) if row["arm"] == "baseline"]
    if not runs or not int(runs[0]["calibration_rows"]):
        return ""
    inside = ", ".join(row["calibration_inside"] for row in runs)
    return (
        f'<p id="baseline-fit">The scenario as the experiment ran it: {escape(inside)} of '
        f"{escape(runs[0]['calibration_rows'])} calibration rows inside, seed by seed (only it is"
        " meant to fit; the arms are what-ifs).</p>"
    )


def interval_text(low: str, high: str) -> str:
    """A relative interval of spread.csv, '-30.5% to -12.0%', or '' where it has none.

    With one seed per arm there is no interval, and the cell read a bare 'to'.
    """
    low, high = _figure(low, percent=True), _figure(high, percent=True)
    return f"{low} to {high}" if low and high else ""


def _direction(row: dict[str, str]) -> str:
    """A spread.csv row's "same direction" in words (`direction_words`)."""
    lowest, highest = float(row["lowest"]), float(row["highest"])
    return direction_words(row["same_direction"] == "True", lowest, highest)


def spread_table(path: Path) -> str:
    """Each arm's relative effect over all the values: lowest, highest, and whether they agree."""
    head = "".join(
        f"<th>{name}</th>"
        for name in (
            "outcome",
            "arm",
            "lowest",
            "highest",
            "widest 90% interval",
            "same direction",
            "intervals agree",
        )
    )
    with path.open(newline="", encoding="utf-8") as handle:
        rows = "".join(
            f"<tr><td>{outcome_name(row['outcome'])}</td><td>{escape(row['label'])}</td>"
            f'<td class="number">{_figure(row["lowest"], percent=True)}</td>'
            f'<td class="number">{_figure(row["highest"], percent=True)}</td>'
            f'<td class="number">{interval_text(row["lowest_low"], row["highest_high"])}</td>'
            f"<td>{_direction(row)}</td>"
            f"<td>{'yes' if row['intervals_agree'] == 'True' else 'no'}</td></tr>"
            for row in csv.DictReader(handle)
        )
    return f'<table id="spread"><tr>{head}</tr>{rows}</table>'


def variants_body(run_id: str, output: Path) -> str:
    """A finished set of variants' page: the report, the spread over the values, every file."""
    from chistka.analysis.variants import read_variants_document, variant_axis

    parameter, values = variant_axis(read_variants_document(output))
    folders = "".join(
        f'<li><a href="/runs/{escape(run_id)}/files/{folder}/experiment.html">{folder}/</a>:'
        f" the experiment at {escape(parameter)} = {escape(value)}</li>"
        for folder, value in zip(
            sorted(p.name for p in output.iterdir() if VALUE_FOLDER.match(p.name)),
            values,
            strict=True,
        )
    )
    return (
        f'<p><a id="report" href="/runs/{escape(run_id)}/files/variants.html">The variants\''
        " report</a> (each arm's effect at every value, side by side)</p>"
        f"<h2>Over all the values of {escape(parameter)}: each arm's relative effect</h2>"
        + spread_table(output / "spread.csv")
        + f"<h2>Each value's experiment</h2><ul id='values'>{folders}</ul>"
        + files_list(run_id, output, VARIANTS_FILES)
    )


def files_list(run_id: str, output: Path, names: frozenset[str]) -> str:
    """The data behind a page's charts: a link to each of `names` the output folder holds."""
    files = "".join(
        f'<li><a href="/runs/{escape(run_id)}/files/{name}">{name}</a></li>'
        for name in sorted(names)
        if (output / name).is_file()
    )
    return f"<h2>The data behind the charts</h2><ul id='files'>{files}</ul>"


def experiment_body(run_id: str, output: Path) -> str:
    """A finished experiment's page: its report, its effects and the files behind them."""
    return (
        f'<p><a id="report" href="/runs/{escape(run_id)}/files/experiment.html">The'
        " experiment's report</a> (each arm's effect on each outcome with its 90% interval,"
        " and the values seed by seed)</p>"
        + baseline_fit(output / "fit.csv")
        + "<h2>Effects: each arm against the scenario as it stands (paired by seed)</h2>"
        + effects_table(output / "effects.csv")
        + effects_note(output / "effects.csv")
        + files_list(run_id, output, EXPERIMENT_FILES)
        + arms_list(run_id, output)
    )


def arms_list(run_id: str, output: Path) -> str:
    """A link to each arm's runs (one ensemble per arm, a folder of the experiment's output).

    The page said the arms' runs were "on the server" though the app serves
    each arm's folder.
    """
    folders = sorted(
        (p.name for p in output.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda name: (name != "baseline", name),
    )
    links = ", ".join(
        f'<a href="/runs/{escape(run_id)}/files/{escape(name)}/">{escape(name)}/</a>'
        for name in folders
    )
    return (
        f"<p id='arms'>Each arm's runs, one ensemble per arm (the scenario as it stands in"
        f" <code>baseline/</code>): {links}. <code>chistka report</code> and <code>chistka"
        " compare</code> read them.</p>"
    )


def scenario_link(name: str) -> str:
    """A design's scenario: a link to its page if it is built in, else its file's name.

    A design of the experiments folder names its scenario by a file
    (`small.toml`), and the link to /scenarios/small.toml led to a 404.
    """
    from chistka.scenario import builtin_scenarios

    if name in builtin_scenarios():
        return f'<a href="/scenarios/{escape(name)}">{escape(name)}</a>'
    return f"<code>{escape(name)}</code> (a file of the experiments folder)"
