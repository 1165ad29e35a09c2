"""Where each value and table of a TOML text is written, so that a value can be set in place.

Python's tomllib reads TOML but writes none, and a scenario file must keep its comments and its
layout when a fit sets its values (`chistka.analysis.fitted_file`). `toml_places` reads a text
once and says where each value is, and where a table is that a new key could go in, in every
layout TOML allows: a key line of a ``[table]`` or of an ``[[array]]`` item, a dotted key
(``criteria.origin_peasant = 1``), an inline table (``criteria = { origin_peasant = 1 }``, as
`chistka scenarios show` writes one), an inline array of tables, and dotted keys before the first
header. A key is a tuple of names, with an item's index in an array of tables
(``("campaigns", 0, "reviewed")``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Literal

from chistka.errors import ChistkaError

Key = tuple[str | int, ...]
"""A key path: table and key names, and an item's index in an array."""

PlaceKind = Literal["value", "header", "inline", "dotted", "implicit", "array", "tables"]

_WS = re.compile(r"[ \t]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BASIC = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_LITERAL = re.compile(r"'[^'\n]*'")
_ML_BASIC = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""' + r'"{0,2}', re.S)
_ML_LITERAL = re.compile(r"'''(?:[^']|'(?!''))*'''" + r"'{0,2}", re.S)
_BARE_VALUE = re.compile(r"[^,\]}#\r\n]*")


@dataclass
class Place:
    """Where a value or a table is written.

    Attributes:
        kind: 'value' (a key's value); 'header' (a ``[table]`` or an ``[[array]]`` item);
            'inline' (an inline table); 'dotted' (a table made by dotted keys); 'implicit' (a
            table only a deeper header names, e.g. ``[a]`` of ``[a.b]``); 'array' (an array
            written as a value); 'tables' (an array of tables written as ``[[a]]`` items).
        start: where it begins (a value's first character, a header's '[', an inline '{').
        end: where it ends (after the value, the header's ']', the inline table's '}', the
            array's ']').
        owner: the table whose text holds its key (a value's or a dotted table's: a header's
            table, the root () or an inline table).
        line: a value on a key line of its own (not inside an inline table or an array).
        key_start, key_end: a value's key as written on its line.
        after: where the next line begins after a header, a value's line, or the last line of a
            dotted table's keys.
        last: the end of an inline table's or an array's last value (None: it is empty).
    """

    kind: PlaceKind
    start: int
    end: int
    owner: Key = ()
    line: bool = False
    key_start: int = 0
    key_end: int = 0
    after: int = 0
    last: int | None = None


@dataclass
class TomlPlaces:
    """The places of a TOML text's values and tables, its comments and its multi-line strings."""

    places: dict[Key, Place] = field(default_factory=dict)
    comments: list[tuple[int, int]] = field(default_factory=list)
    multiline: list[tuple[int, int]] = field(default_factory=list)

    def comment_on_line(self, at: int, line_end: int) -> tuple[int, int] | None:
        """The comment between `at` and the end of its line (None: there is none)."""
        return next(((s, e) for s, e in self.comments if at <= s < line_end), None)

    def in_multiline(self, at: int) -> bool:
        """Whether `at` lies inside a multi-line string."""
        return any(s < at < e for s, e in self.multiline)


def key_text(keys: Key) -> str:
    """A dotted key's TOML text: bare names, quoted where TOML needs it."""
    return ".".join(str(k) if _BARE_KEY.fullmatch(str(k)) else _basic_string(str(k)) for k in keys)


def _basic_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c >= " " or c == "\t" else f"\\u{ord(c):04x}" for c in escaped) + '"'


class _Scanner:
    """One pass over a TOML text that tomllib reads: records each value's and table's place."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.found = TomlPlaces()
        self.arrays: dict[Key, int] = {}

    def fail(self, what: str) -> ChistkaError:
        line = self.text.count("\n", 0, self.pos) + 1
        return ChistkaError(f"cannot read the TOML at line {line}: {what}")

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def spaces(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def comment(self) -> None:
        """A comment from '#' to the end of its line."""
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end
        if self.text[end - 1 : end] == "\r":
            end -= 1
        self.found.comments.append((self.pos, end))
        self.pos = end

    def blank(self) -> None:
        """Spaces, newlines and comments (inside an array)."""
        while True:
            self.spaces()
            if self.peek() == "#":
                self.comment()
            elif self.peek() == "\n":
                self.pos += 1
            elif self.peek(2) == "\r\n":
                self.pos += 2
            else:
                return

    def end_of_line(self) -> int:
        """After a key line or a header: spaces, a comment, the newline; where the next begins."""
        self.spaces()
        if self.peek() == "#":
            self.comment()
        if self.peek() == "\r":
            self.pos += 1
        if self.peek() == "\n":
            self.pos += 1
        elif self.pos < len(self.text):
            raise self.fail("expected the end of the line")
        return self.pos

    def key_and_equals(self, where: str = "") -> tuple[list[str], int, int]:
        """A key and the '=' after it (`key`), the position after them and their spaces."""
        found = self.key()
        self.spaces()
        if self.peek() != "=":
            raise self.fail(f"expected '=' {where}".rstrip())
        self.pos += 1
        self.spaces()
        return found

    def key(self) -> tuple[list[str], int, int]:
        """A key, dotted or not: its names, where it begins and where it ends."""
        self.spaces()
        start, parts = self.pos, []
        while True:
            self.spaces()
            char = self.peek()
            if char == '"':
                match = _BASIC.match(self.text, self.pos)
                name = tomllib.loads(f"k = {match.group()}")["k"] if match else ""
            elif char == "'":
                match = _LITERAL.match(self.text, self.pos)
                name = match.group()[1:-1] if match else ""
            else:
                match = _BARE_KEY.match(self.text, self.pos)
                name = match.group() if match else ""
            if match is None:
                raise self.fail("expected a key")
            self.pos = match.end()
            parts.append(name)
            end = self.pos
            self.spaces()
            if self.peek() != ".":
                return parts, start, end
            self.pos += 1

    def value(self, keys: Key) -> tuple[int, int]:
        """A value at `keys` (arrays and inline tables with what they hold): its span."""
        start, text = self.pos, self.text
        if self.peek(3) in ('"""', "'''"):
            pattern = _ML_BASIC if self.peek() == '"' else _ML_LITERAL
            match = pattern.match(text, self.pos)
            if match is None:
                raise self.fail("an unterminated multi-line string")
            self.pos = match.end()
            self.found.multiline.append((start, self.pos))
        elif self.peek() in ('"', "'"):
            match = (_BASIC if self.peek() == '"' else _LITERAL).match(text, self.pos)
            if match is None:
                raise self.fail("an unterminated string")
            self.pos = match.end()
        elif self.peek() == "[":
            self.array(keys)
        elif self.peek() == "{":
            self.inline(keys)
        else:
            match = _BARE_VALUE.match(text, self.pos)
            self.pos = start + len(match.group().rstrip()) if match else start
            if self.pos == start:
                raise self.fail("expected a value")
        return start, self.pos

    def array(self, keys: Key) -> None:
        start = self.pos
        self.pos += 1
        index = 0
        last: int | None = None
        while True:
            self.blank()
            if self.peek() == "]":
                break
            last = self.value((*keys, index))[1]
            index += 1
            self.blank()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                raise self.fail("expected ',' or ']' in an array")
        self.pos += 1
        self.found.places[keys] = Place("array", start, self.pos, last=last)

    def inline(self, keys: Key) -> None:
        start = self.pos
        self.pos += 1
        last: int | None = None
        while True:
            self.blank()
            if self.peek() == "}":
                break
            parts, key_start, key_end = self.key_and_equals("in an inline table")
            full = (*keys, *parts)
            self.dotted(full, keys, len(parts))
            value_start, last = self.value(full)
            if self.text[value_start] not in "[{":  # an array or a table has its own place
                self.found.places[full] = Place(
                    "value", value_start, last, keys, key_start=key_start, key_end=key_end
                )
            self.blank()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                raise self.fail("expected ',' or '}' in an inline table")
        self.pos += 1
        self.found.places[keys] = Place("inline", start, self.pos, last=last)

    def dotted(self, full: Key, owner: Key, parts: int, after: int = 0) -> None:
        """The tables a dotted key makes below `owner` (all but its last name)."""
        for k in range(1, parts):
            prefix = full[: len(owner) + k]
            place = self.found.places.get(prefix)
            if place is None or place.kind == "dotted":
                self.found.places[prefix] = Place("dotted", 0, 0, owner, after=after)

    def resolve(self, parts: list[str]) -> Key:
        """A header's names as a key: a name of an array of tables means its last item."""
        keys: Key = ()
        for part in parts:
            keys = (*keys, part)
            if keys in self.arrays:
                keys = (*keys, self.arrays[keys] - 1)
        return keys

    def header(self) -> Key:
        start = self.pos
        double = self.peek(2) == "[["
        self.pos += 2 if double else 1
        parts, _, _ = self.key()
        self.spaces()
        close = "]]" if double else "]"
        if self.peek(len(close)) != close:
            raise self.fail(f"expected '{close}'")
        self.pos += len(close)
        end = self.pos
        if double:
            array = (*self.resolve(parts[:-1]), parts[-1])
            self.arrays[array] = self.arrays.get(array, 0) + 1
            self.found.places[array] = Place("tables", start, end)
            keys: Key = (*array, self.arrays[array] - 1)
        else:
            keys = self.resolve(parts)
        for k in range(1, len(keys)):
            if keys[:k] not in self.found.places and not isinstance(keys[k - 1], int):
                self.found.places[keys[:k]] = Place("implicit", start, end)
        self.found.places[keys] = Place("header", start, end, after=self.end_of_line())
        return keys

    def document(self) -> TomlPlaces:
        table: Key = ()
        while self.pos < len(self.text):
            self.blank()
            if self.pos >= len(self.text):
                break
            if self.peek() == "[":
                table = self.header()
                continue
            parts, key_start, key_end = self.key_and_equals()
            full = (*table, *parts)
            start, end = self.value(full)
            after = self.end_of_line()
            self.dotted(full, table, len(parts), after)
            if self.text[start] not in "[{":
                self.found.places[full] = Place(
                    "value", start, end, table, True, key_start, key_end, after
                )
        return self.found


def toml_places(text: str) -> TomlPlaces:
    """Where each value and table of a TOML text is written (see the module's docstring).

    Raises:
        ChistkaError: the text is not TOML.
    """
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ChistkaError(f"not TOML: {exc}") from None
    return _Scanner(text).document()
