"""Free parameters: the mechanism parameters calibration and sensitivity analysis may vary.

A free-parameter file is a small TOML file, kept apart from the scenario (whose schema rejects
unknown keys), with one ``[[free]]`` table per parameter::

    [[free]]
    path = "arrest.named_arrest_probability"   # 'section.field' or 'operations.NAME.field'
    low = 0.0
    high = 0.6
    log = false                                 # sample on a log scale (needs low > 0)
    note = "why this range"                     # optional

A file may also give start points, tried (after the scenario's own values) before the sampler
draws any, each with the reason it was chosen; parameters it leaves out keep the scenario's
values. They are part of the fit's record, so that rerunning the fit tries them again::

    [[start]]
    values = { "arrest.named_arrest_probability" = 0.2 }
    note = "why this point"

Where no file is given, `load_free` looks for ``SCENARIO.free.toml`` next to a scenario file,
then for the defaults shipped with the package for the scenario's name
(``chistka/scenario/free/NAME.toml``). Every entry is checked against the scenario: the path must
name a numeric mechanism parameter and both ends of the range must be values it accepts
(`Scenario.with_parameters`).

Parameters are applied to a run as the scenario's own values and again by a policy event dated
the scenario's start (see `as_start_event`), exactly as `chistka calibrate` writes them into a
fitted scenario and scripts/fit_scenario.py into a built-in one; a few parameters that the
engine reads only once while building the run cannot be free: the limits of an operation.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from chistka.errors import ChistkaError, did_you_mean, read_text
from chistka.scenario import Scenario, apply_overrides
from chistka.scenario.fitted import current_value, parse_fitted
from chistka.scenario.schema import PolicyEvent

ENTRY_KEYS = ("path", "low", "high", "log", "note")
"""Keys a ``[[free]]`` entry may have."""

BUILD_TIME_FIELDS = {
    "operations": ("limit_shoot", "limit_camp"),
    "campaigns": ("start", "end"),
}
"""Fields read once when the run is built: section -> fields. They are documented inputs (an
order's limits, a campaign's dates), and a trial's free values are also set again by an event on
its first day (`as_start_event`), which cannot set these."""


@dataclass(frozen=True)
class FreeParameter:
    """A mechanism parameter left free between two bounds.

    Attributes:
        path: 'section.field' (or 'section.group.field', 'operations.NAME.field').
        low: lowest value (inclusive).
        high: highest value (inclusive).
        log: sample on a logarithmic scale.
        integer: the parameter takes whole numbers (from the scenario's field).
        note: why this range, from the file.
    """

    path: str
    low: float
    high: float
    log: bool = False
    integer: bool = False
    note: str = ""

    @property
    def section(self) -> str:
        """The mechanism the parameter belongs to (the first part of its path)."""
        return self.path.split(".")[0]

    def value(self, x: float) -> float | int:
        """A value of the parameter (rounded to a whole number for integer parameters)."""
        return int(round(x)) if self.integer else float(x)


def default_free_file(scenario_name: str) -> Path | None:
    """The free-parameter file shipped with the package for a scenario's name, if any."""
    entry = resources.files("chistka.scenario") / "free" / f"{scenario_name}.toml"
    return Path(str(entry)) if entry.is_file() else None


def recorded_loss(free_file: Path | None) -> str:
    """The loss a free file's last fit minimised: its `[calibration]` loss_kind.

    "msle" for a file without one (fits before session 19) and without a file. The fit script
    refits with it and `bench/calibration.py` times the fit with it.
    """
    if free_file is None:
        return "msle"
    table = tomllib.loads(free_file.read_text(encoding="utf-8")).get("calibration", {})
    return str(table.get("loss_kind", "msle"))


def find_free_file(scenario_ref: str | Path, scenario: Scenario) -> Path:
    """The free-parameter file of a scenario when none is given.

    ``STEM.free.toml`` next to a scenario file, else the package's file for the scenario's name.

    Raises:
        ChistkaError: there is neither.
    """
    path = Path(scenario_ref)
    if path.suffix == ".toml":
        beside = path.with_name(f"{path.stem}.free.toml")
        if beside.is_file():
            return beside
    shipped = default_free_file(scenario.scenario.name)
    if shipped is not None:
        return shipped
    raise ChistkaError(
        f"no free parameters for scenario '{scenario.scenario.name}': pass a file with --free "
        '(entries like [[free]] path = "review.noise_sd" low = 0.3 high = 3.0)'
        + (f", or write {path.with_name(path.stem + '.free.toml')}" if path.suffix else "")
    )


def start_value(scenario: Scenario, path: str) -> Any:
    """The parameter's value on the first day: the scenario's, after its events of that day."""
    value = current_value(scenario, path)
    for event in scenario.events:
        if event.date != scenario.scenario.start:
            continue
        for key, new in event.set.items():
            if path == key:
                value = new
            elif path.startswith(key + ".") and isinstance(new, dict):
                value = new.get(path[len(key) + 1 :], value)
            elif key.startswith(path + ".") and isinstance(value, dict):
                value = {**value, key[len(path) + 1 :]: new}  # a field of the group `path`
    return value


def as_start_event(
    scenario: Scenario, values: Mapping[str, Any], note: str = "", source: str = ""
) -> Scenario:
    """The scenario with the values as its own, and set again by a policy event on its first day.

    As its own values they hold from the spin-up on (`RunInfo.spin_up_days`), as in a scenario
    file the values are written into; only setting them on the first day ran the spin-up on the
    values before the fit, so that the loss a study recorded was not the written scenario's
    (docs/decisions.md 34.3). The event comes after the scenario's own events, so it is applied
    after any other change dated the first day, before the first day's mechanisms; a later event
    of the scenario that sets the same parameter overrides it on its date, as it would in a
    fitted scenario file.
    """
    changed = apply_overrides(scenario, values, where="free parameters")
    event = PolicyEvent(date=scenario.scenario.start, set=dict(values), note=note, source=source)
    return changed.model_copy(update={"events": [*changed.events, event]})


def reset_on(scenario: Scenario, path: str) -> dt.date | None:
    """The first date after the start on which one of the scenario's events sets the parameter.

    A free parameter is set on the first day; from this date on the timeline's value holds, so
    the parameter only acts before it (None: it acts over the whole run).
    """
    start = scenario.scenario.start
    dates = [
        event.date
        for event in scenario.events
        if event.date > start
        and any(path == key or path.startswith(key + ".") for key in event.set)
    ]
    return min(dates, default=None)


def _number(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ChistkaError(f"{where}: '{key}' must be a number (got {value!r})")
    if not math.isfinite(value):
        raise ChistkaError(f"{where}: '{key}' must be finite (got {value!r})")
    return float(value)


def check_entry(scenario: Scenario, entry: Mapping[str, Any], where: str) -> FreeParameter:
    """One ``[[free]]`` entry, checked against the scenario.

    Raises:
        ChistkaError: a missing or unknown key, a path that is no numeric mechanism parameter,
            a bad range, or an end of the range the parameter does not accept.
    """
    if not isinstance(entry, Mapping):
        raise ChistkaError(f"{where}: expected a table with keys {', '.join(ENTRY_KEYS)}")
    for key in entry:
        if key not in ENTRY_KEYS:
            raise ChistkaError(
                f"{where}: unknown key '{key}'; {did_you_mean(str(key), ENTRY_KEYS)}"
                f"allowed: {', '.join(ENTRY_KEYS)}"
            )
    for key in ("path", "low", "high"):
        if key not in entry:
            raise ChistkaError(f"{where}: missing key '{key}'")
    path = entry["path"]
    if not isinstance(path, str) or not path.strip():
        raise ChistkaError(f"{where}: 'path' must be a parameter name such as 'review.noise_sd'")
    path = path.strip()
    where = f"{where} ('{path}')"
    low = _number(entry["low"], "low", where)
    high = _number(entry["high"], "high", where)
    log = entry.get("log", False)
    if not isinstance(log, bool):
        raise ChistkaError(f"{where}: 'log' must be true or false (got {log!r})")
    note = entry.get("note", "")
    if not isinstance(note, str):
        raise ChistkaError(f"{where}: 'note' must be a string")
    if not low < high:
        raise ChistkaError(f"{where}: low ({low:g}) must be below high ({high:g})")
    if log and low <= 0:
        raise ChistkaError(f"{where}: log = true needs low > 0 (got {low:g})")
    parts = path.split(".")
    if parts[-1] in BUILD_TIME_FIELDS.get(parts[0], ()):
        raise ChistkaError(
            f"{where}: cannot be free: the run reads it once when it is built, and it is a "
            "documented input (an order's limits, a campaign's dates), not a fit; a trial also "
            "sets its free values again by an event on the first day, which cannot set it"
        )
    if isinstance(current_value(scenario, path), bool):  # before the override, which refuses it
        raise ChistkaError(f"{where}: not a numeric parameter (it is true or false)")
    apply_overrides(scenario, {path: low}, where=where)  # an unknown path is reported here
    value = current_value(scenario, path)
    if not isinstance(value, int | float):
        raise ChistkaError(
            f"{where}: not a numeric parameter (its value in the scenario is {value!r})"
        )
    integer = isinstance(value, int)
    if integer and (low != int(low) or high != int(high)):
        raise ChistkaError(f"{where}: a whole-number parameter needs whole-number low and high")
    for bound in (low, high):
        apply_overrides(scenario, {path: int(bound) if integer else bound}, where=where)
    return FreeParameter(path, low, high, log=log, integer=integer, note=note)


def parse_free(data: Mapping[str, Any], scenario: Scenario, origin: str) -> list[FreeParameter]:
    """The free parameters of a parsed free-parameter file (see `check_entry`)."""
    unknown = [key for key in data if key not in ("free", "start", "fitted", "calibration")]
    if unknown:
        raise ChistkaError(
            f"{origin}: unknown key '{unknown[0]}' (a free-parameter file holds [[free]], "
            "[[start]] and [[fitted]] tables, and the [calibration] table "
            "scripts/fit_scenario.py writes; see chistka.scenario.fitted)"
        )
    try:
        parse_fitted(data, origin)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ChistkaError(
            f"{origin}: [[fitted]]: {detail} (each table: path, targets, optionally date, "
            "by = 'calibrate' or 'hand', note)"
        ) from None
    entries = data.get("free")
    if not isinstance(entries, list) or not entries:
        raise ChistkaError(
            f"{origin}: no [[free]] entries (each with path, low, high and optionally log)"
        )
    free: list[FreeParameter] = []
    for i, entry in enumerate(entries):
        parameter = check_entry(scenario, entry, f"{origin}: free[{i}]")
        if any(p.path == parameter.path for p in free):
            raise ChistkaError(f"{origin}: free[{i}] ('{parameter.path}') is given twice")
        free.append(parameter)
    return free


def parse_starts(
    data: Mapping[str, Any], free: Sequence[FreeParameter], origin: str
) -> list[dict[str, float | int]]:
    """The ``[[start]]`` points of a parsed free-parameter file: free path -> value.

    Raises:
        ChistkaError: a start point that is no table, has keys other than values and note, or
            sets a path that is not free or a value outside the parameter's range.
    """
    entries = data.get("start", [])
    if not isinstance(entries, list):
        raise ChistkaError(f"{origin}: 'start' must be [[start]] tables")
    by_path = {p.path: p for p in free}
    starts: list[dict[str, float | int]] = []
    for i, entry in enumerate(entries):
        where = f"{origin}: start[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("values"), Mapping):
            raise ChistkaError(f"{where}: expected a table with 'values' (free path = value)")
        extra = [key for key in entry if key not in ("values", "note")]
        if extra:
            raise ChistkaError(f"{where}: unknown key '{extra[0]}'; allowed: values, note")
        point: dict[str, float | int] = {}
        for path, value in entry["values"].items():
            if path not in by_path:
                raise ChistkaError(
                    f"{where}: '{path}' is not a free parameter; "
                    f"{did_you_mean(str(path), list(by_path))}free: {', '.join(by_path)}"
                )
            parameter = by_path[path]
            number = _number(value, path, where)
            if not parameter.low <= number <= parameter.high:
                raise ChistkaError(
                    f"{where}: '{path}' = {number:g} lies outside its range "
                    f"[{parameter.low:g}, {parameter.high:g}]"
                )
            point[path] = parameter.value(number)
        starts.append(point)
    return starts


def read_free_file(
    path: str | Path | None, scenario: Scenario, scenario_ref: str | Path = ""
) -> tuple[list[FreeParameter], list[dict[str, float | int]]]:
    """The free parameters and the start points of a file (see `load_free`, `parse_starts`)."""
    file = Path(path) if path is not None else find_free_file(scenario_ref, scenario)
    data = _read_toml(file)
    free = parse_free(data, scenario, f"'{file}'")
    return free, parse_starts(data, free, f"'{file}'")


def load_free(
    path: str | Path | None, scenario: Scenario, scenario_ref: str | Path = ""
) -> list[FreeParameter]:
    """The free parameters of a file (None: the scenario's default file, see `find_free_file`).

    Raises:
        ChistkaError: the file is missing or not TOML, or an entry is bad (the message names the
            file and the entry).
    """
    return read_free_file(path, scenario, scenario_ref)[0]


def _read_toml(file: Path) -> dict[str, Any]:
    """A free-parameter file's TOML, or a ChistkaError naming the file."""
    text = read_text(file, "free-parameter file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ChistkaError(f"free-parameter file '{file}' is not valid TOML: {exc}") from None
    except RecursionError:
        raise ChistkaError(f"free-parameter file '{file}' is nested too deeply") from None
    except ValueError as exc:  # a whole number of thousands of digits
        raise ChistkaError(f"free-parameter file '{file}' is not usable TOML: {exc}") from None
    return data


def problem(free: Sequence[FreeParameter]) -> dict[str, Any]:
    """The free parameters as a SALib problem (names and bounds)."""
    return {
        "num_vars": len(free),
        "names": [p.path for p in free],
        "bounds": [[p.low, p.high] for p in free],
    }
