"""Opaque Relay global IDs: base64 of ``Type:key``."""

from __future__ import annotations

import base64
import binascii

from resolvers.errors import BadUserInputError


def to_global_id(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, str]:
    """``(type name, key)`` of a global ID, or BAD_USER_INPUT when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    type_name, sep, key = raw.partition(":")
    if not sep or not type_name or not key:
        raise BadUserInputError(f"{global_id!r} is not a valid ID")
    return type_name, key
