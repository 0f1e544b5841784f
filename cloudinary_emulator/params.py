"""Decoding of the parameter encodings the SDKs use on the wire."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from cloudinary_emulator.errors import bad_request
from cloudinary_emulator.signing import ParamValue

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def collect_params(items: Iterable[tuple[str, str]]) -> dict[str, ParamValue]:
    """Fold ``key[]`` repetitions (how the SDKs send arrays) into lists under ``key``."""
    params: dict[str, ParamValue] = {}
    for key, value in items:
        if key.endswith("[]"):
            existing = params.setdefault(key[:-2], [])
            if isinstance(existing, list):
                existing.append(value)
            else:
                params[key[:-2]] = [existing, value]
        else:
            params[key] = value
    return params


def text_param(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def list_param(params: Mapping[str, Any], key: str) -> list[str]:
    value = params.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part for part in (p.strip() for p in str(value).split(",")) if part]


def bool_param(params: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = params.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise bad_request(f"Invalid boolean value for {key}: {value}")


def int_param(params: Mapping[str, Any], key: str, default: int) -> int:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return int(str(value))
    except ValueError:
        raise bad_request(f"Invalid integer value for {key}: {value}") from None


def parse_tags(text: str | None) -> list[str]:
    if not text:
        return []
    tags: list[str] = []
    for part in text.split(","):
        tag = part.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def parse_pairs(text: str | None) -> dict[str, str]:
    """Decode ``key=value|key2=value2``, where values escape ``=`` and ``|`` with ``\\``.

    This is ``cloudinary.utils.encode_context``'s format, used for both context and
    structured metadata.
    """
    if not text:
        return {}
    pairs: dict[str, str] = {}
    key: list[str] = []
    value: list[str] = []
    current = key
    chars = iter(text)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            current.append(escaped)
        elif char == "=" and current is key:
            current = value
        elif char == "|":
            _store_pair(pairs, key, value)
            key, value = [], []
            current = key
        else:
            current.append(char)
    _store_pair(pairs, key, value)
    return pairs


def _store_pair(pairs: dict[str, str], key: list[str], value: list[str]) -> None:
    name = "".join(key).strip()
    if name:
        pairs[name] = "".join(value)


def parse_metadata(text: str | None) -> dict[str, Any]:
    """Structured metadata: multi-value (set) fields arrive JSON-encoded, others as text."""
    metadata: dict[str, Any] = {}
    for key, raw in parse_pairs(text).items():
        metadata[key] = _decode_list(raw)
    return metadata


def _decode_list(raw: str) -> Any:
    if raw.startswith("["):
        try:
            decoded = json.loads(raw)
        except ValueError:
            return raw
        if isinstance(decoded, list):
            return [str(item) for item in decoded]
    return raw
