"""``POST /webhooks/cloudinary``: Cloudinary's notifications keep the asset mirror current."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import re
import time
from datetime import UTC, datetime

from pymongo.errors import PyMongoError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resolvers.assets import DamUnavailableError, apply_notification
from resolvers.assets.notifications import InvalidNotificationError, parse_notification
from resolvers.assets.sync import claim_delivery, complete_delivery, release_delivery
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


# Seconds Cloudinary (or any sender) is told to wait while MongoDB is away (an election).
RETRY_AFTER_S = 10


def _error(
    status: int, message: str, *, field: str | None = None, retry_after: int | None = None
) -> Response:
    error = {"message": message} if field is None else {"message": message, "field": field}
    headers = None if retry_after is None else {"Retry-After": str(retry_after)}
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _unavailable(exc: PyMongoError) -> Response:
    """503: Cloudinary delivers the notification again later."""
    log.warning("notification not applied, MongoDB unavailable: %s", exc)
    return _error(
        503, "the catalog database is unavailable; retry later", retry_after=RETRY_AFTER_S
    )


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
            notification = parse_notification(text)
        except InvalidNotificationError as exc:
            # Signed but not a body the mirror may apply: Cloudinary's retries would not mend it.
            return _error(413 if exc.too_many else 400, str(exc), field=exc.field or None)
        if notification is None:
            # Cloudinary sends many types (eager, moderation, folders ...): 2xx stops retries.
            return JSONResponse({"status": "ignored", "updated": 0, "rescored": 0})
        # Same bytes and timestamp are the same delivery, whichever algorithm signed them.
        delivery = hashlib.sha256(f"{timestamp}.{text}".encode()).hexdigest()
        expires = datetime.fromtimestamp(int(timestamp) + self.max_age_s, UTC)
        deliveries = services.catalog.notifications
        kind = notification.notification_type
        try:
            claim = await claim_delivery(deliveries, delivery, kind, services.clock(), expires)
        except PyMongoError as exc:
            return _unavailable(exc)
        if claim == "applied":
            # A replay, or Cloudinary delivering twice: applied once already, so 2xx.
            log.info("ignoring a repeated %s notification", kind)
            return JSONResponse({"status": "duplicate", "updated": 0, "rescored": 0})
        if claim == "busy":
            # Another replica is applying it now; if it fails, this retry must be the one.
            return _error(409, "this notification is being applied; retry later", retry_after=5)
        try:
            public_ids = await apply_notification(
                services.catalog, services.dam, notification, services.clock()
            )
            rescored = 0
            if public_ids:
                # The products using these assets may have become (un)ready.
                rescored = await rescore_products_using(
                    services.catalog,
                    services.channels,
                    services.locales,
                    services.clock(),
                    public_ids,
                )
        except DamUnavailableError as exc:
            await release_delivery(deliveries, delivery)
            # 5xx makes Cloudinary deliver the notification again later.
            log.warning("notification not applied, Cloudinary unavailable: %s", exc)
            return _error(503, "Cloudinary is unavailable; retry later")
        except PyMongoError as exc:
            # Not applied, or applied but not rescored (applying again completes both): a
            # retry must run. Releasing may fail too (MongoDB away): the claim then runs out.
            with contextlib.suppress(PyMongoError):
                await release_delivery(deliveries, delivery)
            return _unavailable(exc)
        except BaseException:
            with contextlib.suppress(PyMongoError):
                await release_delivery(deliveries, delivery)
            raise
        try:
            await complete_delivery(deliveries, delivery)
        except PyMongoError as exc:
            # Applied and rescored, but not recorded: a redelivery applies it again, harmlessly.
            log.warning("notification applied but not recorded as applied: %s", exc)
        return JSONResponse({"status": "ok", "updated": len(public_ids), "rescored": rescored})
