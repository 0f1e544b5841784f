"""``POST /webhooks/cloudinary``: Cloudinary's notifications keep the asset mirror current."""

from __future__ import annotations

import hmac
import json
import logging
import re
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resolvers.assets import DamUnavailableError, apply_notification
from resolvers.readiness import rescore_products_using
from resolvers.services import Services

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_048_576


_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None once it exceeds the limit (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": {"message": message}}, status_code=status)


class CloudinaryWebhook:
    def __init__(self, max_age_s: int) -> None:
        self.max_age_s = max_age_s

    async def handle(self, request: Request) -> Response:
        services: Services = request.state.services
        timestamp = request.headers.get("x-cld-timestamp", "")
        signature = request.headers.get("x-cld-signature", "")
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return _error(401, "missing or malformed X-Cld-Timestamp or X-Cld-Signature")
        if abs(time.time() - int(timestamp)) > self.max_age_s:
            return _error(401, "stale notification: X-Cld-Timestamp is too old")
        body = await _bounded_body(request)
        if body is None:
            return _error(413, f"notifications are limited to {MAX_BODY_BYTES} bytes")
        text = body.decode("utf-8", errors="replace")
        # Accounts sign with SHA-1 or SHA-256; accept either, compared in constant time.
        valid = any(
            hmac.compare_digest(
                services.dam.notification_signature(text, timestamp, algorithm), signature
            )
            for algorithm in ("sha1", "sha256")
        )
        if not valid:
            return _error(401, "invalid X-Cld-Signature")
        try:
            payload = json.loads(text)
        except json.JSONDecodeError:
            return _error(400, "the notification body is not JSON")
        if not isinstance(payload, dict):
            return _error(400, "the notification body is not a JSON object")
        try:
            public_ids = await apply_notification(
                services.catalog, services.dam, payload, services.clock()
            )
        except DamUnavailableError as exc:
            # 5xx makes Cloudinary deliver the notification again later.
            log.warning("notification not applied, Cloudinary unavailable: %s", exc)
            return _error(503, "Cloudinary is unavailable; retry later")
        rescored = 0
        if public_ids:
            # The products using these assets may have become (un)ready.
            rescored = await rescore_products_using(
                services.catalog, services.channels, services.locales, services.clock(), public_ids
            )
        return JSONResponse({"status": "ok", "updated": len(public_ids), "rescored": rescored})
