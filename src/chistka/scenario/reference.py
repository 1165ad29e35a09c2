"""A reference of every scenario field: path, default, unit or range, description, source."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from chistka.scenario.schema import Scenario


@dataclass(frozen=True)
class FieldInfo:
    """One documented field of the scenario schema."""

    path: str
    default: str
    allowed: str
    description: str
    source: str


def _bound(value: Any) -> str:
    """A bound as a reader takes it in: the largest seed as 2**63 - 1, not 19 digits."""
    return "2**63 - 1" if value == 2**63 - 1 else str(value)


def _allowed(info: Any) -> str:
    parts = []
    for meta in info.metadata:
        for name, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(meta, name, None)
            if value is not None:
                parts.append(f"{symbol} {_bound(value)}")
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    unit = extra.get("unit")
    return ", ".join(([f"in {unit}"] if unit else []) + parts)


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        for arg in typing.get_args(annotation):
            found = _submodel(arg)
            if found is not None:
                return found
    if typing.get_origin(annotation) is list:
        (arg,) = typing.get_args(annotation)
        return _submodel(arg)
    return None


def _made_by(info: Any) -> BaseModel | None:
    """The table a field's default factory makes (whose values are its fields' defaults)."""
    try:
        made = info.default_factory() if info.default_factory is not None else None
    except TypeError:
        return None
    return made if isinstance(made, BaseModel) else None


def fields(
    model: type[BaseModel] = Scenario, prefix: str = "", made: BaseModel | None = None
) -> Iterator[FieldInfo]:
    """Every field of the schema, depth first (list items are shown as NAME[]).

    A table's fields show the defaults its default factory gives them, where it has one
    (e.g. population.party.origin), rather than those of their model.
    """
    for name, info in model.model_fields.items():
        annotation = info.annotation
        path = f"{prefix}{name}"
        if typing.get_origin(annotation) is list:
            path += "[]"
        sub = _submodel(annotation)
        if info.default is not PydanticUndefined:
            shown = repr(info.default)
        elif info.default_factory is None:
            shown = "required"
        else:  # a list shows its items, a table or section its kind
            made_default = info.get_default(call_default_factory=True)
            shown = repr(made_default) if isinstance(made_default, list) else "(table)"
        if made is not None and sub is None:
            shown = repr(getattr(made, name))
        if sub is not None and typing.get_origin(annotation) is not dict:
            yield FieldInfo(
                path, "(table)" if shown != "required" else shown, "", info.description or "", ""
            )
            yield from fields(sub, path + ".", _made_by(info) if not path.endswith("[]") else None)
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        yield FieldInfo(
            path, shown, _allowed(info), info.description or "", str(extra.get("source", ""))
        )
