"""Signatures of outbound events, after the Standard Webhooks convention.

Headers: ``webhook-id`` (the event's id, the same on every attempt: receivers deduplicate by
it), ``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``:
``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, one per secret, separated by spaces, so
during a rotation a receiver holding either secret can verify (https://www.standardwebhooks.com).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
VERSION = "v1"


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64>`` for one secret."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"{VERSION},{base64.b64encode(digest).decode()}"


def signed_headers(
    keys: Iterable[bytes], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers of a delivery, signed with every key."""
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signature(k, message_id, timestamp, body) for k in keys),
    }


def verify(key: bytes, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether one of the header's signatures is ``key``'s (what a receiver checks; it should
    also refuse timestamps far from its clock, which this leaves to it)."""
    try:
        message_id = headers[ID_HEADER]
        timestamp = int(headers[TIMESTAMP_HEADER])
        offered = headers[SIGNATURE_HEADER].split()
    except (KeyError, ValueError):
        return False
    expected = signature(key, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)
