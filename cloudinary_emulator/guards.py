"""Checks every API request passes through: account, credentials, injected faults."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import uuid
from datetime import UTC, datetime

from starlette.requests import Request

from cloudinary_emulator.emulator import Emulator, RateLimitStatus
from cloudinary_emulator.errors import ApiError, unauthorized
from cloudinary_emulator.faults import Surface


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def base_url(request: Request) -> str:
    """Scheme, host and mount point the client used, for URLs in responses."""
    return str(request.base_url).rstrip("/")


def new_request_id() -> str:
    return uuid.uuid4().hex


def check_cloud(emulator: Emulator, cloud_name: str) -> None:
    if cloud_name != emulator.config.cloud_name:
        raise unauthorized(f"Invalid cloud_name {cloud_name}")


def check_basic_auth(emulator: Emulator, request: Request) -> None:
    """Admin API credentials: HTTP Basic with api_key:api_secret, as the SDKs send them."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise unauthorized("Must supply api_key")
    try:
        api_key, _, api_secret = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized("Invalid Authorization header") from None
    if not hmac.compare_digest(api_key, emulator.config.api_key):
        raise unauthorized(f"Unknown API key {api_key}")
    if not hmac.compare_digest(api_secret, emulator.config.api_secret):
        raise unauthorized("Invalid api_secret")


def rate_limited(limit: int, reset_at: float) -> ApiError:
    when = datetime.fromtimestamp(reset_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return ApiError(
        420,
        f"Rate Limit Exceeded. Limit of {limit} api operations reached. Try again on {when}",
    )


async def apply_faults(
    emulator: Emulator, surface: Surface, quota: RateLimitStatus | None = None
) -> None:
    """Sleep and/or fail as the fault switches decide for this request."""
    decision = emulator.faults.decide(surface)
    if decision is None:
        return
    if decision.latency_s > 0:
        await asyncio.sleep(decision.latency_s)
    if decision.fault is None:
        return
    emulator.stats.record_fault(decision.fault)
    if decision.fault == "error":
        raise ApiError(500, "General Error (injected by the emulator's error_rate switch)")
    now = emulator.clock()
    limit = quota.limit if quota else emulator.config.admin_rate_limit
    reset_at = quota.reset_at if quota else (int(now // 3600) + 1) * 3600
    raise rate_limited(limit, reset_at)
