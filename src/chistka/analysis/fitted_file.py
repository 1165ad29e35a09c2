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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chistka.analysis.calibrate import FITTED_NOTE, LOSSES
from chistka.analysis.free import start_value
from chistka.errors import ChistkaError
from chistka.outputs import write_atomic
from chistka.scenario import Scenario, scenario_text

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


def _table_lines(lines: list[str], path: str) -> tuple[str, int | None, list[int]]:
    """Where a path's value goes in a scenario's TOML lines.

    Returns the field's name (dotted below the table), the line after which a new line of it
    would go (its table's header, or its item's `name` line; None: the table is not there), and
    the numbers of its table's lines. A field below a table the file writes as a table of its
    own (``[review.criteria]``) is placed in it, else dotted below its section (``[review]``).
    """
    parts = path.split(".")
    if parts[0] in LIST_SECTIONS:
        header, name, field = f"[[{parts[0]}]]", parts[1], parts[2]
    else:
        headers = {line.strip() for line in lines if line.strip().startswith("[")}
        depth = next(
            (k for k in range(len(parts) - 1, 1, -1) if f"[{'.'.join(parts[:k])}]" in headers), 1
        )
        header, name, field = f"[{'.'.join(parts[:depth])}]", None, ".".join(parts[depth:])
    inside = False
    after: int | None = None
    table: list[int] = []
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped == header and name is None
            if inside:
                after = number
            elif stripped == header:
                end = next(
                    (k for k in range(number + 1, len(lines)) if lines[k].startswith("[")),
                    len(lines),
                )
                named = [
                    k
                    for k in range(number + 1, end)
                    if re.match(rf'name\s*=\s*"{re.escape(str(name))}"', lines[k].strip())
                ]
                inside = bool(named)
                if inside:
                    after = named[0]
            continue
        if inside:
            table.append(number)
    if after is None and name is None:
        return _root_lines(lines, path, field, table)
    return field, after, table


def _root_lines(
    lines: list[str], path: str, field: str, table: list[int]
) -> tuple[str, int | None, list[int]]:
    """Where a path goes when its section has no table header: dotted keys at the top of the file.

    A file that writes ``review.threshold = 2.0`` before any header defines ``[review]`` by
    those keys, and TOML refuses a header for it after them: the value goes on a dotted line
    there. Without such keys the section gets a new table (None).
    """
    first_header = next(
        (k for k, line in enumerate(lines) if line.strip().startswith("[")), len(lines)
    )
    root = list(range(first_header))
    section = path.split(".")[0]
    dotted = [k for k in root if re.match(rf"{re.escape(section)}\s*\.", lines[k].strip())]
    if not dotted:
        return field, None, table
    return path, dotted[-1], root


def set_line(text: str, path: str, value: float | int, comment: str) -> str:
    """The scenario TOML with the value of `path` replaced on its line, with `comment`.

    An earlier fit's explanation after its stamp is kept. `path` is 'section.field', or
    'operations.NAME.field' / 'campaigns.NAME.field' for an item of a list of tables.

    Raises:
        ChistkaError: the table or the field's line is not in the text.
    """
    lines = text.splitlines()
    field, _, table = _table_lines(lines, path)
    for number in table:
        line = lines[number]
        if re.match(rf"{re.escape(field)}\s*=", line.strip()):
            lines[number] = f"{field} = {value_text(value)}".ljust(29) + f" # {comment}"
            lines[number] += _explanation(line)
            return "\n".join(lines) + "\n"
    raise ChistkaError(f"no line for '{path}' in the scenario file")


def with_values(text: str, values: dict[str, Any], comment: str) -> str:
    """The scenario TOML with `values` as its own: each on its line, or on a new line of its table.

    A value the file leaves at the schema's default gets a line after its table's header (or
    after the `name` of its item of a list of tables), or a new table at the end.
    """
    for path, value in values.items():
        try:
            text = set_line(text, path, value, comment)
            continue
        except ChistkaError:
            pass
        lines = text.splitlines()
        field, after, _ = _table_lines(lines, path)
        line = f"{field} = {value_text(value)}  # {comment}"
        if after is None:
            lines += ["", f"[{path.split('.')[0]}]", line]
        else:
            lines.insert(after + 1, line)
        text = "\n".join(lines) + "\n"
    return text


FITTED_MARK = "# Fitted by chistka calibrate on "
"""The line that marks a fitted.toml as written by `chistka calibrate`."""


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
        ChistkaError: the fitted file does not load (e.g. the original lists its events as an
            inline array, which a ``[[events]]`` table cannot extend), or `path` holds something
            chistka calibrate did not write (see `check_output_file`).
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
    text += fitted_event_text(
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
    )
    import tomllib

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
