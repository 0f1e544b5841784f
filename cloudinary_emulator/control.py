"""Test-control endpoints under ``/_emulator``: stats, fault switches, reset, notifications.

Not part of Cloudinary; for driving an emulator running in another process. In-process
callers use the ``Emulator`` object directly. They ask for the account's credentials as the
Admin API does (HTTP Basic ``api_key:api_secret``, ``control_headers`` builds the header):
``reset`` wipes every asset, and the notification history holds signed payloads.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cloudinary_emulator.errors import ApiError
from cloudinary_emulator.guards import check_basic_auth, emulator_of
from cloudinary_emulator.params import bool_param

_FAULT_FIELDS = {
    "latency_ms": int,
    "error_rate": float,
    "rate_limit_rate": float,
    "apply_to_delivery": bool,
    "seed": int,
}


async def _json_object(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        return {}
    try:
        decoded = json.loads(body)
    except ValueError as error:
        raise ValueError(f"body is not JSON: {error}") from None
    if not isinstance(decoded, dict):
        raise ValueError("body must be a JSON object")
    return decoded


Endpoint = Callable[[Request], Awaitable[Response]]


def control_headers(api_key: str, api_secret: str) -> dict[str, str]:
    """The ``Authorization`` header the control endpoints ask for, to spread into a request."""
    token = base64.b64encode(f"{api_key}:{api_secret}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def _error(message: str) -> Response:
    return JSONResponse({"error": {"message": message}}, status_code=400)


def _authenticated(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        try:
            check_basic_auth(emulator_of(request), request)
        except ApiError as error:
            return JSONResponse(
                {
                    "error": {
                        "message": "The emulator's control endpoints need the account's "
                        f"credentials as HTTP Basic api_key:api_secret ({error.message})"
                    }
                },
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="cloudinary-emulator control"'},
            )
        return await endpoint(request)

    return guarded


async def stats(request: Request) -> Response:
    emulator = emulator_of(request)
    with emulator.lock:
        assets = len(emulator.store)
    return JSONResponse(
        {
            **emulator.stats.snapshot(),
            "assets": assets,
            "faults": emulator.faults.settings.as_dict(),
        }
    )


async def faults(request: Request) -> Response:
    emulator = emulator_of(request)
    if request.method == "GET":
        return JSONResponse(emulator.faults.settings.as_dict())
    try:
        body = await _json_object(request)
        unknown = set(body) - set(_FAULT_FIELDS)
        if unknown:
            raise ValueError(f"unknown fault switches: {sorted(unknown)}")
        changes: dict[str, Any] = {}
        for name, kind in _FAULT_FIELDS.items():
            if name in body:
                value = body[name]
                if isinstance(value, bool) != (kind is bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"{name} must be a {kind.__name__}")
                changes[name] = kind(value)
        settings = emulator.faults.configure(**changes)
    except ValueError as error:
        return _error(str(error))
    return JSONResponse(settings.as_dict())


async def reset(request: Request) -> Response:
    emulator = emulator_of(request)
    try:
        body = await _json_object(request)
        emulator.reset(
            assets=bool_param(body, "assets", True),
            stats=bool_param(body, "stats", True),
            faults=bool_param(body, "faults", True),
            notifications=bool_param(body, "notifications", True),
            settings=bool_param(body, "settings", True),
        )
    except ApiError as error:
        return _error(error.message)
    except ValueError as error:
        return _error(str(error))
    return JSONResponse({"status": "ok"})


async def notifications(request: Request) -> Response:
    emulator = emulator_of(request)
    return JSONResponse(
        [
            {
                "url": sent.url,
                "payload": sent.payload,
                "timestamp": sent.timestamp,
                "signature": sent.signature,
                "status": sent.status,
                "error": sent.error,
            }
            for sent in emulator.notifier.sent
        ]
    )


def control_routes() -> list[Route]:
    return [
        Route("/_emulator/stats", _authenticated(stats), methods=["GET"]),
        Route("/_emulator/faults", _authenticated(faults), methods=["GET", "POST"]),
        Route("/_emulator/reset", _authenticated(reset), methods=["POST"]),
        Route("/_emulator/notifications", _authenticated(notifications), methods=["GET"]),
    ]
