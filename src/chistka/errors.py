"""Errors that reach the user as one clear message (exit status 2, no traceback)."""

from __future__ import annotations


class ChistkaError(Exception):
    """A problem with the user's input: a scenario, a parameter, a path."""


class ScenarioError(ChistkaError):
    """A scenario that cannot be loaded or validated.

    The message names the field (as a dotted path) and what is allowed.
    """
