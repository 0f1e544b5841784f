"""Failures turned into the responses Cloudinary gives for them."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse, PlainTextResponse, Response


class ApiError(Exception):
    """An Upload or Admin API failure: ``{"error": {"message": ...}}`` with an HTTP status.

    The SDK maps the status to its exception class (401 → AuthorizationRequired, 420 →
    RateLimited, ...) and the message into the exception text, so both must be right.
    """

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def to_response(self, extra_headers: Mapping[str, str] | None = None) -> Response:
        headers = {**(extra_headers or {}), **self.headers}
        return JSONResponse(
            {"error": {"message": self.message}}, status_code=self.status, headers=headers
        )


class DeliveryError(Exception):
    """A delivery URL that cannot be served; Cloudinary explains it in ``X-Cld-Error``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    def to_response(self) -> Response:
        return PlainTextResponse(
            self.message, status_code=self.status, headers={"X-Cld-Error": self.message}
        )


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, message)
