"""A small TOML writer for tests: turns a scenario dictionary into the text a user would write.

The package reads TOML (tomllib) but never writes scenarios this way, and no TOML writer is a
dependency, so tests that feed files to the loader and the CLI write them with this. Every key is
quoted and every table below a section or an array entry is inline, which keeps the writer
short while still producing ordinary ``[section]`` and ``[[array]]`` files; non-finite floats
are written as TOML's nan and inf.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any


def value(item: Any) -> str:
    """One TOML value (inline tables and arrays for containers)."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        if math.isnan(item):
            return "nan"
        if math.isinf(item):
            return "inf" if item > 0 else "-inf"
        return repr(item)
    if isinstance(item, dt.date):
        return item.isoformat()
    if isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)
    if isinstance(item, dict):
        return "{" + ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items()) + "}"
    if isinstance(item, list | tuple):
        return "[" + ", ".join(value(v) for v in item) + "]"
    raise TypeError(f"no TOML for {type(item).__name__}")


def key(name: str) -> str:
    """A quoted key (section keys such as 'admissions.rate_per_year' hold dots)."""
    return json.dumps(str(name), ensure_ascii=False)


def _tables(item: Any) -> bool:
    return isinstance(item, list) and bool(item) and all(isinstance(v, dict) for v in item)


def to_toml(data: dict[str, Any]) -> str:
    """A scenario dictionary as TOML: top-level values, one [section] per table, then one
    [[name]] block per entry of a list of tables (campaigns, events, operations)."""
    lines = [
        f"{key(k)} = {value(v)}"
        for k, v in data.items()
        if not isinstance(v, dict) and not _tables(v)
    ]
    for section, table in data.items():
        if isinstance(table, dict):
            lines.append(f"[{key(section)}]")
            lines.extend(f"{key(k)} = {value(v)}" for k, v in table.items())
    for name, entries in data.items():
        if _tables(entries):
            for entry in entries:
                lines.append(f"[[{key(name)}]]")
                lines.extend(f"{key(k)} = {value(v)}" for k, v in entry.items())
    return "\n".join(lines) + "\n"
