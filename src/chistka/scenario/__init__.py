"""Scenarios: the TOML schema, the loader and the built-in scenarios shipped as package data."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chistka.errors import ScenarioError, closest
from chistka.scenario.schema import Scenario

__all__ = ["Scenario", "builtin_scenarios", "load_scenario", "scenario_from_dict"]


def _builtin_dir() -> Any:
    return resources.files("chistka.scenario") / "builtin"


def builtin_scenarios() -> dict[str, str]:
    """Names of the built-in scenarios with their one-line descriptions."""
    found: dict[str, str] = {}
    for entry in sorted(_builtin_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            found[entry.name.removesuffix(".toml")] = data.get("scenario", {}).get(
                "description", ""
            )
    return found


def _format_location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def format_validation_error(exc: ValidationError, origin: str) -> str:
    """One readable message per problem: the field as a dotted path, what is wrong, the value."""
    lines = []
    for error in exc.errors(include_url=False):
        where = _format_location(tuple(error["loc"]))
        message = error["msg"]
        if error["type"] not in {"unknown_key", "missing"} and "input" in error:
            value = error["input"]
            if not isinstance(value, dict | list):
                message += f" (got {value!r})"
        lines.append(f"{where}: {message}" if where else message)
    return f"invalid scenario {origin}:\n  " + "\n  ".join(lines)


def scenario_from_dict(data: dict[str, Any], origin: str = "<dict>") -> Scenario:
    """Validate a scenario given as a dictionary (the parsed TOML)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, origin)) from None


def load_scenario(ref: str | Path) -> Scenario:
    """Load a scenario by built-in name or from a TOML file path.

    Raises:
        ScenarioError: the file is missing, is not valid TOML, or does not fit the schema.
    """
    text: str
    origin: str
    path = Path(ref)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ScenarioError(f"scenario file not found: {path}")
        text, origin = path.read_text(encoding="utf-8"), f"'{path}'"
    else:
        names = builtin_scenarios()
        if str(ref) not in names:
            match = closest(str(ref), list(names))
            hint = f" Did you mean '{match}'?" if match else ""
            raise ScenarioError(
                f"no built-in scenario or file named '{ref}'.{hint} "
                f"Built-in scenarios: {', '.join(names)}"
            )
        text = (_builtin_dir() / f"{ref}.toml").read_text(encoding="utf-8")
        origin = f"'{ref}' (built-in)"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"scenario {origin} is not valid TOML: {exc}") from None
    return scenario_from_dict(data, origin)
