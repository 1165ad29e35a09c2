"""Building blocks of the scenario schema: strict models and described parameters."""

from __future__ import annotations

import math
import types
from typing import Any, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from chistka.errors import did_you_mean


def param(
    default: Any,
    description: str,
    *,
    unit: str | None = None,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    source: str | None = None,
) -> Any:
    """A scenario field with its description, unit and (for historical values) source."""
    extra: dict[str, Any] = {}
    if unit is not None:
        extra["unit"] = unit
    if source is not None:
        extra["source"] = source
    return Field(
        default, description=description, ge=ge, le=le, gt=gt, json_schema_extra=extra or None
    )


def _numeric(annotation: Any) -> bool:
    """Whether a field holds a number (int or float, possibly optional), not true/false."""
    if annotation in (int, float):
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return bool(members) and all(a in (int, float) for a in members)
    return False


def _a_number_itself(value: Any) -> Any:
    """Refuse true/false and text where a number is asked (pydantic would read them as one)."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_not_bool", "Input should be a number, not true or false")
    if isinstance(value, str):
        raise PydanticCustomError(
            "number_not_text", "Input should be a number, not text (write it without quotes)"
        )
    return value


NUMBER = BeforeValidator(_a_number_itself)
"""For a number inside a list or table (`list[Annotated[float, NUMBER]]`), which the field
validator of `StrictModel` does not reach: true/false and text are refused there too, with
their item."""


def _whole(annotation: Any) -> bool:
    """Whether a numeric field holds a whole number only (int, possibly optional)."""
    return _numeric(annotation) and float not in get_args(annotation) and annotation is not float


def _beyond_64_bits(value: float) -> bool:
    """Whether a finite number is too large for a whole-number field (the engine's int64)."""
    return math.isfinite(value) and abs(value) >= 2**63


def _range(info: FieldInfo) -> str:
    """The bounds of a field as words: ' from 1 to 3650', ' of at least 0', '' without any."""
    low = high = None
    for item in info.metadata:
        low = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else low
        high = getattr(item, "le", None) if getattr(item, "le", None) is not None else high
    if low is not None and high is not None:
        return f" from {low:,} to {high:,}"
    if low is not None:
        return f" of at least {low:,}"
    if high is not None:
        return f" of at most {high:,}"
    return ""


class StrictModel(BaseModel):
    """Base model for scenario sections: strict about keys and about numbers.

    Unknown keys are rejected with the closest valid name suggested; numbers must be finite
    (no NaN or infinity); a numeric field refuses true/false, which pydantic would otherwise
    take as 1 or 0, and text, which it would take as the number the text spells ("0.5": TOML
    tells a number from a text, and so does the schema); a whole-number field refuses a number
    beyond 64 bits with its own range; a true/false field refuses anything else, which pydantic
    would take as true or false when it is 1, 0, "yes" or "off".
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_and_truth_values_apart(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None:
            return value
        field = cls.model_fields[info.field_name]
        annotation = field.annotation
        if _numeric(annotation):
            _a_number_itself(value)
            if _whole(annotation) and isinstance(value, float) and _beyond_64_bits(value):
                raise PydanticCustomError(
                    "whole_number_too_large",
                    "Input should be a whole number{range}",
                    {"range": _range(field)},
                )
        if annotation is bool and not isinstance(value, bool):
            raise PydanticCustomError("bool_not_number", "Input should be true or false")
        return value

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = sorted(cls.model_fields)
            for key in data:
                if key not in cls.model_fields:
                    hint = did_you_mean(str(key), allowed)
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'; {hint}allowed: {allowed}",
                        {"key": key, "hint": hint, "allowed": ", ".join(allowed)},
                    )
        return data


def check_shares(shares: dict[str, float], what: str) -> None:
    """Raise a validation error unless the shares sum to 1.

    The message lists each share, so that the user sees which to change.
    """
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        terms = " + ".join(f"{key} {value:g}" for key, value in shares.items())
        raise PydanticCustomError(
            "shares_sum",
            "{what} shares must sum to 1 (they sum to {total}: {terms})",
            {"what": what, "total": f"{total:.6f}", "terms": terms},
        )
