"""Errors that reach the user as one clear message (exit status 2, no traceback)."""

from __future__ import annotations

from pathlib import Path


class ChistkaError(Exception):
    """A problem with the user's input: a scenario, a parameter, a path."""


class ScenarioError(ChistkaError):
    """A scenario that cannot be loaded or validated.

    The message names the field (as a dotted path) and what is allowed.
    """


SIMILAR_SPELLING = 0.6
"""How alike (difflib's ratio, 0 to 1) a name must be to an allowed one to be offered for it:
difflib's own default; at 0.4 'nonsense' was offered 'operation_sentenced' (QA 44)."""


def closest(name: str, allowed: list[str] | tuple[str, ...]) -> str | None:
    """The allowed name closest to a mistyped one (prefix or similar spelling), if any."""
    name = str(name)
    prefixed = [a for a in allowed if a.startswith(name) or name.startswith(a)]
    if prefixed:
        return min(prefixed, key=lambda a: abs(len(a) - len(name)))
    import difflib

    found = difflib.get_close_matches(name, list(allowed), n=1, cutoff=SIMILAR_SPELLING)
    return found[0] if found else None


def did_you_mean(name: str, allowed: list[str] | tuple[str, ...]) -> str:
    """'did you mean 'x'? ' for the closest allowed name, or an empty string."""
    match = closest(name, allowed)
    return f"did you mean '{match}'? " if match else ""


def read_text(
    path: Path,
    what: str,
    *,
    error: type[ChistkaError] = ChistkaError,
    max_bytes: int | None = None,
    encoding: str = "utf-8",
) -> str:
    """The text of a user's file, or one clear error: unreadable, too large, not text, not UTF-8.

    Args:
        path: the file.
        what: how messages name the file, e.g. 'scenario file'.
        error: the error raised (a ChistkaError).
        max_bytes: the largest size read (None: any).
        encoding: 'utf-8', or 'utf-8-sig' to drop a byte-order mark.
    """
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise error(
                f"{what} '{path}' is {size / 2**20:.1f} MiB; at most {max_bytes / 2**20:g} MiB "
                "is read"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {what} '{path}': {exc.strerror or exc}") from None
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw[:nul].count(b"\n") + 1
        raise error(f"{what} '{path}' is not a text file (a NUL byte on line {line})")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            f"{what} '{path}' is not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line} "
            "cannot be decoded (save the file as UTF-8)"
        ) from None
