"""Which view of the catalog a request reads: the headers ``X-Channel`` and ``X-Preview-Token``.

``X-Channel: <channel>`` names the channel whose published products a storefront reads (within
its key's channels); an editor or viewer naming one sees exactly what that channel's
storefronts see. ``X-Preview-Token`` (from ``previewToken``) lets any caller read the working
copy until the token expires. The rules are ``resolvers.workflow.source``'s; this module only
turns headers into its arguments, or a 4xx naming the header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from resolvers.access import Principal
from resolvers.services import Services
from resolvers.workflow.preview import PreviewTokenError, verify

CHANNEL_HEADER = "x-channel"
PREVIEW_HEADER = "x-preview-token"


@dataclass(frozen=True, slots=True)
class ReadView:
    channel: str | None = None
    preview: bool = False


class ReadViewError(ValueError):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class HasHeaders(Protocol):
    """A request, or a WebSocket connection with the headers its connection_init named."""

    @property
    def headers(self) -> Mapping[str, str]: ...


def read_view(request: HasHeaders, services: Services, principal: Principal) -> ReadView:
    channel: str | None = None
    named = request.headers.get(CHANNEL_HEADER)
    if named is not None and named.strip():
        channel = services.channels.canonical(named.strip())
        if channel is None:
            raise ReadViewError(
                400,
                f"X-Channel: unknown channel {named.strip()[:64]!r}; channels: "
                f"{', '.join(services.channels.names())}",
                "BAD_REQUEST",
            )
        if not principal.may_read_channel(channel):
            raise ReadViewError(
                403, f"X-Channel: this key may not read channel {channel!r}", "FORBIDDEN"
            )
    if not any(principal.may_read_channel(c) for c in services.channels.names()):
        # A key bound only to channels no longer configured reads nothing: say so, once.
        raise ReadViewError(403, "this key may read none of the configured channels", "FORBIDDEN")
    token = request.headers.get(PREVIEW_HEADER)
    if token is None or not token.strip():
        return ReadView(channel)
    if services.preview_secret is None:
        raise ReadViewError(
            400,
            "X-Preview-Token: previews by token are off (CATALOG_PREVIEW_SECRET)",
            "BAD_REQUEST",
        )
    try:
        verify(services.preview_secret, token.strip(), services.clock())
    except PreviewTokenError as exc:
        raise ReadViewError(401, f"X-Preview-Token: {exc}", "UNAUTHENTICATED") from None
    return ReadView(channel, preview=True)
