"""The fitted scenario of a calibration: the original TOML with the best values on their lines.

`write_fitted_scenario` writes fitted.toml (the values as the scenario's own, and an event on the
first day that records the study), keeping the line and the stamp of a value the study left as
the scenario's own (`unchanged_parameters`); `set_line` and `with_values` edit a scenario file's
values in place, as `scripts/fit_scenario.py` does for the built-in scenarios.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chistka.analysis.calibrate import LOSSES
from chistka.analysis.free import start_value
from chistka.analysis.toml_places import Key, key_text, toml_places
from chistka.errors import ChistkaError
from chistka.outputs import CALIBRATE_MARKS, write_atomic
from chistka.scenario import Scenario, scenario_text
from chistka.scenario.fitted import FITTED_NOTE

FITTED_MARK = CALIBRATE_MARKS["fitted.toml"]
"""The line that marks a fitted.toml as written by `chistka calibrate`."""

if TYPE_CHECKING:
    from chistka.analysis.calibrate import CalibrationResult


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text if re.search(r"[.eE]", text) else text + ".0"


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def targets_place(path: str | Path, given: str = "") -> str:
    """Where a targets file is, for fitted.toml and calibration.html: findable from any folder.

    Its absolute path (a path as typed, such as 'pp-targets.csv', names no file once read from
    another folder), then the name it was typed as where that was a relative path.
    """
    place = str(Path(path).resolve())
    return place if not given or given == place else f"{place} (given as {given})"


def unchanged_parameters(result: CalibrationResult) -> list[str]:
    """The free parameters whose best values are the scenario's own.

    A value counts as the scenario's own where it equals the scenario's value on its line and
    on the first day (`current_value`, `start_value`: no event of the first day sets it to
    another); the study's first trial runs exactly these values, so a best trial that is that
    trial leaves every value unchanged.
    """
    best = result.best_params
    return [p.path for p in result.free if is_own_value(result.scenario, p.path, best[p.path])]


def is_own_value(scenario: Scenario, path: str, value: Any) -> bool:
    """Whether `value` is the scenario's own for `path`: on its line and on the first day."""
    from chistka.analysis.free import current_value

    own, first = current_value(scenario, path), start_value(scenario, path)
    return _same(value, own) and _same(value, first)


def _same(value: Any, own: Any) -> bool:
    """Whether a best value is a scenario's value (to storage's float precision)."""
    if not isinstance(own, int | float) or isinstance(own, bool):
        return False
    return math.isclose(float(value), float(own), rel_tol=1e-12, abs_tol=1e-15)


def own_values_stayed_best(result: CalibrationResult) -> bool:
    """Whether every best value is the scenario's own: the study moved none of them."""
    return len(unchanged_parameters(result)) == len(result.free)


def fitted_event_text(
    scenario: Scenario,
    params: dict[str, Any],
    *,
    targets_path: str | Path,
    loss: float,
    trials: int,
    seeds: Sequence[int],
    when: dt.date | None = None,
    scale: float | None = None,
    loss_kind: str = "msle",
    targets_given: str = "",
    unchanged: Sequence[str] = (),
) -> str:
    """The TOML of the ``[[events]]`` entry that sets the fitted parameters on the first day.

    The scale the parameters were fitted at (default: the scenario's) is recorded in a comment
    and in the event's source, since a fit at one scale need not hold at another. The targets
    file is named by its absolute path, so that it can be found from any folder, followed by
    the name it was typed as where that was relative (`targets_place`). `unchanged` are the
    parameters whose best values are the scenario's own (`unchanged_parameters`): the comment
    says so. Where every value is unchanged there is no event, only the comment that records
    the study (see `write_fitted_scenario`).
    """
    when = when or dt.date.today()
    scale = scenario.population.scale if scale is None else scale
    place = targets_place(targets_path, targets_given)
    study = f"{LOSSES[loss_kind]} {loss:.6g} over {trials} trials"
    header = (
        f"\n{FITTED_MARK}"
        f"{when.isoformat()} against {place}\n"
        f"# at population.scale = {scale:g} (agents per represented person).\n"
    )
    if set(params) <= set(unchanged):
        return (
            header + f"# ({study}; seeds {', '.join(str(s) for s in seeds)}).\n"
            "# The scenario's own values stayed the best: no value changed, and no event sets\n"
            "# them (their lines keep their comments).\n"
        )
    settings = ", ".join(f"{_toml_string(k)} = {_toml_value(v)}" for k, v in params.items())
    source = (
        f"chistka calibrate on {when.isoformat()}: targets {Path(targets_path).name}, "
        f"{LOSSES[loss_kind]} {loss:.6g}, {trials} trials, seeds "
        f"{', '.join(str(s) for s in seeds)}, population.scale {scale:g}"
    )
    kept = [k for k in params if k in unchanged]
    same = (
        f"# The scenario's own values stayed the best for {', '.join(kept)}: their lines keep\n"
        "# their comments, and the event sets them to the same values.\n"
        if kept
        else ""
    )
    return (
        header + f"# ({study}). The event sets the fitted\n"
        "# parameters on the first day, after the scenario's own events of that day; later\n"
        "# events that set the same parameters still apply on their dates.\n"
        f"{same}"
        "[[events]]\n"
        f"date = {scenario.scenario.start.isoformat()}\n"
        f"set = {{ {settings} }}\n"
        f"note = {_toml_string(FITTED_NOTE)}\n"
        f"source = {_toml_string(source)}\n"
    )


LIST_SECTIONS = ("operations", "campaigns")
"""The scenario's lists of tables: a path into one is 'operations.NAME.field'."""


FIT_STAMP = re.compile(r"#\s*fitted \(chistka calibrate[^)]*\)(?P<explanation>.*)$")
"""An earlier fit's comment: its stamp, then what a person wrote after it (kept by `set_line`)."""


def value_text(value: float | int) -> str:
    """The TOML text of a fitted value: a float's shortest text that reads back as the same float.

    The study's loss is the loss of its trial's exact values, and the runs are chaotic (a change
    in the sixth digit moves the small rows by their seed noise), so the scenario must hold the
    trial's values exactly for its recorded loss to be the scenario's own (rounding them to six
    digits did not, docs/decisions.md 34.1).
    """
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    return _toml_value(value)


def _explanation(line: str) -> str:
    """What follows an earlier fit's stamp on a scenario line ('' if none).

    A refit replaces the stamp (its date) and keeps the explanation written after it (the
    value's meaning, its source, why it is free), which the fit has no means to know.
    """
    match = FIT_STAMP.search(line)
    return match.group("explanation").rstrip() if match else ""


def parameter_keys(text: str, path: str) -> Key:
    """A parameter path as the key of its value in a scenario's TOML (`toml_places`).

    'section.field' (or deeper) names its tables; 'operations.NAME.field' and
    'campaigns.NAME.field' name the item whose `name` is NAME, by its index in the list.

    Raises:
        ChistkaError: the text is not TOML, or its list has no item of that name.
    """
    parts = path.split(".")
    if parts[0] not in LIST_SECTIONS:
        return tuple(parts)
    try:
        items = tomllib.loads(text).get(parts[0], [])
    except tomllib.TOMLDecodeError as exc:
        raise ChistkaError(f"the scenario file is not TOML: {exc}") from None
    names = [item.get("name") if isinstance(item, dict) else None for item in items]
    if parts[1] not in names:
        raise ChistkaError(f"'{path}': the scenario file has no {parts[0]} item '{parts[1]}'")
    return (parts[0], names.index(parts[1]), *parts[2:])


def _line_span(text: str, at: int) -> tuple[int, int]:
    """The start and the end (before its newline) of the line that holds `at`."""
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    return text.rfind("\n", 0, at) + 1, end - (text[end - 1 : end] == "\r")


def _stamp_shared_line(text: str, at: int, path: str, comment: str) -> str:
    """The text with the comment of the line that holds `at` stamped for `path`.

    A value inside an inline table (or an inline array) shares its line with others: its comment
    names the paths the stamp is for ('# fitted (...) for review.criteria.origin_peasant'), those
    of the same stamp gathered, and keeps what the comment said besides (after '; '), as the
    line speaks for every value on it. A line that ends inside a multi-line string keeps its
    text (no comment can go there).
    """
    _, line_end = _line_span(text, at)
    found = toml_places(text)
    if found.in_multiline(line_end):
        return text
    span = found.comment_on_line(at, line_end)
    body = text[span[0] + 1 : span[1]].strip() if span else ""
    stamp = re.match(
        rf"(?:(?P<stamp>{re.escape(comment)}|fitted \(chistka calibrate[^)]*\)) for "
        r"(?P<paths>[\w.-]+(?:, [\w.-]+)*))?(?:;\s*)?(?P<rest>.*)$",
        body,
        re.S,
    )
    assert stamp is not None  # the pattern matches any text
    paths = stamp.group("paths").split(", ") if stamp.group("stamp") == comment else []
    paths += [path] if path not in paths else []
    rest = stamp.group("rest").strip()
    words = f"# {comment} for {', '.join(paths)}" + (f"; {rest}" if rest else "")
    if span is None:
        return text[:line_end].rstrip(" \t") + f"  {words}" + text[line_end:]
    return text[: span[0]] + words + text[span[1] :]


def _set_written(text: str, keys: Key, path: str, value: float | int, comment: str) -> str | None:
    """The text with the value at `keys` replaced where it is written (None: it is not)."""
    place = toml_places(text).places.get(keys)
    if place is None or place.kind != "value":
        return None
    if not place.line:
        text = text[: place.start] + value_text(value) + text[place.end :]
        return _stamp_shared_line(text, place.start, path, comment)
    line_start, line_end = _line_span(text, place.start)
    field = text[place.key_start : place.key_end]
    line = f"{field} = {value_text(value)}".ljust(29) + f" # {comment}"
    line += _explanation(text[line_start:line_end])
    return text[: place.key_start] + line + text[line_end:]


def set_line(text: str, path: str, value: float | int, comment: str) -> str:
    """The scenario TOML with the value of `path` replaced where it is written, with `comment`.

    A value on a line of its own (``threshold = 2.0``, ``criteria.origin_peasant = 1.0``, in its
    table, its ``[section.sub]`` table or its item of a list of tables) gets the line
    ``field = value # comment``, keeping an earlier fit's explanation after its stamp. A value
    inside an inline table (``criteria = { origin_peasant = 1.0, ... }``, as `chistka scenarios
    show` writes it) is replaced there, the rest of the line kept, and the line's comment
    stamped for it (`_stamp_shared_line`). `path` is 'section.field' (or deeper), or
    'operations.NAME.field' / 'campaigns.NAME.field' for an item of a list of tables.

    Raises:
        ChistkaError: the text is not TOML, or no value of `path` is written in it.
    """
    text = text if text.endswith("\n") else text + "\n"
    written = _set_written(text, parameter_keys(text, path), path, value, comment)
    if written is None:
        raise ChistkaError(f"no line for '{path}' in the scenario file")
    return written


_KIND_WORDS = {
    "value": "a value",
    "array": "an array",
    "tables": "an array of tables",
    "implicit": "a table only a header names",
}


def _add_value(text: str, keys: Key, path: str, value: float | int, comment: str) -> str:
    """The text with a value its file leaves at the schema's default added (see `with_values`).

    Raises:
        ChistkaError: a name on the way is not a table (a value, an array), or the value's table
            is an item of a list of tables that a new header cannot name.
    """
    found = toml_places(text).places
    depth = next((k for k in range(len(keys) - 1, 0, -1) if keys[:k] in found), 0)
    table = keys[:depth]
    place = found.get(table) if depth else None
    owner = found.get(place.owner) if place is not None and place.kind == "dotted" else None
    if place is not None and owner is not None and owner.kind == "inline":
        table, place = place.owner, owner
    entry = f"{key_text(keys[len(table) :])} = {value_text(value)}"
    if place is not None and place.kind == "inline":
        if place.last is None:
            text = text[: place.start] + "{ " + entry + " }" + text[place.end :]
            return _stamp_shared_line(text, place.start, path, comment)
        text = text[: place.last] + f", {entry}" + text[place.last :]
        return _stamp_shared_line(text, place.last, path, comment)
    if place is not None and place.kind == "dotted":
        at = place.after
        entry = f"{key_text(keys[len(place.owner) :])} = {value_text(value)}"
    elif place is not None and place.kind == "header":
        name = found.get((*table, "name"))
        named = isinstance(table[-1], int) and name is not None and name.owner == table
        at = name.after if named and name is not None else place.after
    elif place is None or (place.kind == "implicit" and all(isinstance(k, str) for k in table)):
        table = table or keys[:1]
        entry = f"{key_text(keys[len(table) :])} = {value_text(value)}"
        return text.rstrip("\n") + f"\n\n[{key_text(table)}]\n{entry}  # {comment}\n"
    else:
        raise ChistkaError(
            f"cannot add '{path}' to the scenario file: '{key_text(table)}' is "
            f"{_KIND_WORDS.get(place.kind, place.kind)} there"
        )
    return text[:at] + f"{entry}  # {comment}\n" + text[at:]


def _put(data: dict[str, Any], keys: Key, value: Any) -> None:
    """Set `value` at `keys` in parsed TOML, making the tables on the way."""
    node: Any = data
    for key in keys[:-1]:
        node = node[key] if isinstance(key, int) else node.setdefault(key, {})
    node[keys[-1]] = value


def with_values(text: str, values: dict[str, Any], comment: str) -> str:
    """The scenario TOML with `values` as its own: each where it is written, or added.

    A value is set where the file writes it (`set_line`). One the file leaves at the schema's
    default is added to its table: a line after its table's header (after the `name` of its
    item of a list of tables), among the dotted keys that make its table, into its inline table,
    or in a new table at the end. The result is read back: it must hold `values` and every other
    value of `text` as it was.

    Raises:
        ChistkaError: the text is not TOML, a value cannot be placed (see `_add_value`), or the
            result does not read back as `text` with `values` (naming the paths).
    """
    if not text.endswith("\n"):
        text += "\n"
    original = text
    for path, value in values.items():
        keys = parameter_keys(text, path)
        if len(keys) < 2:
            raise ChistkaError(f"'{path}' names no value of a section")
        written = _set_written(text, keys, path, value, comment)
        text = written if written is not None else _add_value(text, keys, path, value, comment)
    expected = tomllib.loads(original)
    for path, value in values.items():
        _put(expected, parameter_keys(original, path), value)
    try:
        written = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ChistkaError(
            f"setting {', '.join(values)} made a file that is not TOML ({exc})"
        ) from None
    if written != expected:
        wrong = [k for k in expected.keys() | written.keys() if expected.get(k) != written.get(k)]
        raise ChistkaError(
            f"setting {', '.join(values)} did not give the scenario with those values and its "
            f"others (the tables that differ: {', '.join(sorted(wrong))})"
        )
    return text


def _with_event(text: str, event: str) -> str:
    """The scenario text with the fit's comment and event (`fitted_event_text`) at its end.

    A file that writes its events as an inline array (``events = []``, as `chistka scenarios
    show` writes a scenario without events) cannot take an ``[[events]]`` table: the event goes
    into that array as an inline table, and the comment says where it is.
    """
    comment, header, table = event.partition("[[events]]\n")
    events = toml_places(text).places.get(("events",))
    if not header or events is None or events.kind != "array":
        return text + event
    entry = "{ " + ", ".join(line for line in table.splitlines() if line) + " }"
    if events.last is None:
        text = text[: events.start + 1] + entry + text[events.end - 1 :]
    else:
        text = text[: events.last] + f", {entry}" + text[events.last :]
    return text + comment + "# The event is the last of the scenario's `events` above.\n"


def write_fitted_scenario(
    result: CalibrationResult, path: str | Path, *, when: dt.date | None = None
) -> Path:
    """Write the fitted scenario: the original TOML with the best values as its own, and an event.

    The values are written on their lines (`with_values`), so that a spin-up runs on them as the
    trials did (`as_start_event`); the event on the first day sets them again and records the fit.

    A best value that is the scenario's own (`unchanged_parameters`: the study's best trial is
    often its first, the scenario as it stands) keeps its line and its comment, so that an
    earlier fit's stamp is not replaced by a fit that did not move it. Where every value is the
    scenario's own, the file is the scenario with a comment that records the study (the date,
    the targets, the loss, the trials, the seeds and the scale) and says that no value changed,
    and no event: there is no fit to record as one.

    The file is loaded back and checked before it is kept.

    Raises:
        ChistkaError: the fitted file does not load, or `path` holds something chistka
            calibrate did not write (see `check_output_file`).
    """
    from chistka.scenario import scenario_from_dict

    path = Path(path)
    unchanged = unchanged_parameters(result)
    text = (
        with_values(
            scenario_text(result.scenario_ref),
            {k: v for k, v in result.best_params.items() if k not in unchanged},
            f"fitted (chistka calibrate, {(when or dt.date.today()).isoformat()})",
        ).rstrip("\n")
        + "\n"
    )
    text = _with_event(
        text,
        fitted_event_text(
            result.scenario,
            result.best_params,
            targets_path=result.targets_path,
            targets_given=result.targets_given,
            unchanged=unchanged,
            loss=result.best_loss,
            trials=len(result.trials),
            seeds=result.seeds,
            when=when,
            scale=result.scale,
            loss_kind=result.loss,
        ),
    )
    try:
        scenario_from_dict(tomllib.loads(text), f"'{path}'")
    except (tomllib.TOMLDecodeError, ChistkaError) as exc:
        raise ChistkaError(f"the fitted scenario does not load: {exc}") from None
    return write_atomic(path, text, FITTED_MARK, "chistka calibrate")


def best_words(result: CalibrationResult) -> str:
    """Whether the best trial moved the scenario's values: '' where it did.

    Where the best values are all the scenario's own, the words say that the study moved none
    (fitted.toml is then the scenario with a comment, see `write_fitted_scenario`).
    """
    if not own_values_stayed_best(result):
        return ""
    return (
        f"the scenario's own values stayed the best (trial {result.study.best_trial.number} of "
        f"{len(result.trials)}): the fit changed no value"
    )
