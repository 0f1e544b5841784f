"""Unit families: which units measure the same thing, and how to convert between them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class UnitFamily(BaseModel):
    """Units of one quantity (mass, length, …), each as a multiple of the family's base unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: Annotated[str, Field(min_length=1)]
    units: Annotated[dict[str, Annotated[float, Field(gt=0)]], Field(min_length=1)]

    @model_validator(mode="after")
    def _base_is_one(self) -> UnitFamily:
        if self.units.get(self.base) != 1:
            raise ValueError(f"the base unit {self.base!r} must be listed in units with size 1")
        return self

    def to_base(self, value: float, unit: str) -> float:
        """``value`` in ``unit`` written in the base unit (KeyError for a foreign unit)."""
        return value * self.units[unit]


def format_quantity(value: float, unit: str) -> str:
    """A quantity for messages: ``2 kg``, ``0.25 l`` (no float noise like 0.30000000000000004)."""
    return f"{value:.6g} {unit}"
