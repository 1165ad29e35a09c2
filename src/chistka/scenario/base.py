"""Building blocks of the scenario schema: strict models and described parameters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
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


class StrictModel(BaseModel):
    """Base model that rejects unknown keys and suggests the closest valid name."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

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
    """Raise a validation error unless the shares sum to 1."""
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        raise PydanticCustomError(
            "shares_sum",
            "{what} shares must sum to 1 (they sum to {total})",
            {"what": what, "total": f"{total:.6f}"},
        )
