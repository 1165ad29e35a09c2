"""Errors that reach the user as one clear message (exit status 2, no traceback)."""

from __future__ import annotations


class ChistkaError(Exception):
    """A problem with the user's input: a scenario, a parameter, a path."""


class ScenarioError(ChistkaError):
    """A scenario that cannot be loaded or validated.

    The message names the field (as a dotted path) and what is allowed.
    """


def closest(name: str, allowed: list[str] | tuple[str, ...]) -> str | None:
    """The allowed name closest to a mistyped one (prefix or similar spelling), if any."""
    name = str(name)
    prefixed = [a for a in allowed if a.startswith(name) or name.startswith(a)]
    if prefixed:
        return min(prefixed, key=lambda a: abs(len(a) - len(name)))
    import difflib

    found = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.4)
    return found[0] if found else None


def did_you_mean(name: str, allowed: list[str] | tuple[str, ...]) -> str:
    """'did you mean 'x'? ' for the closest allowed name, or an empty string."""
    match = closest(name, allowed)
    return f"did you mean '{match}'? " if match else ""
