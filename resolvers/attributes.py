"""Attribute values: type inference for undefined codes, display formatting, variant overrides."""

from __future__ import annotations

from typing import Any


def infer_type(value: Any) -> str:
    """The attribute type a stored value looks like, for codes without a definition."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        sample = next(iter(value.values()), None)
        return "list" if isinstance(sample, list) else "text"
    return "text"


def display_value(value: Any, unit: str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    return f"{text} {unit}" if unit else text


def effective_attributes(
    product: dict[str, Any], overrides: dict[str, Any] | None
) -> dict[str, Any]:
    """A variant's attributes: the product's, with the variant's own values on top."""
    merged = dict(product)
    merged.update(overrides or {})
    return merged
