"""The typed per-request context: services shared by the process, loaders owned by the request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from graphql.pyutils import Path

from resolvers.access import Principal
from resolvers.channels import ChannelProfile, SlotProfile
from resolvers.db import Catalog
from resolvers.errors import BadUserInputError, ForbiddenError
from resolvers.loaders import Loaders
from resolvers.locales import LocaleError, LocaleResolver, Localized
from resolvers.media import UrlBuilder
from resolvers.services import Services
from resolvers.workflow.source import ProductSource, source_for
from schema.cost import QueryCost

T = TypeVar("T")

# Bounds of the headers a client names itself with: recorded in history, so kept short and
# printable (no control characters to forge log lines or confuse a terminal).
MAX_END_USER = 200
MAX_IDEMPOTENCY_KEY = 255


class HeaderValueError(ValueError):
    """A header value outside its bounds; the edge answers 400 with this message."""


def header_text(value: str | None, name: str, max_length: int) -> str | None:
    """A client-chosen header as text: None when absent or blank, else printable and at most
    ``max_length`` characters (HeaderValueError otherwise)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > max_length:
        raise HeaderValueError(f"{name} is longer than {max_length} characters")
    if not text.isprintable():
        raise HeaderValueError(f"{name} must be printable text")
    return text


# Where a value goes in the response: graphql-core's Path (made a list only when reported).
ResponsePath = Path | list[str | int]


def _add_warning(warnings: list[dict[str, str]], code: str, message: str) -> None:
    """A problem the response survived (e.g. Cloudinary down), reported in extensions."""
    warning = {"code": code, "message": message}
    if warning not in warnings:
        warnings.append(warning)


def _shown(arguments: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}: {value!r}" for name, value in arguments.items())


@dataclass(slots=True)
class Context:
    services: Services
    request_id: str
    # Who asks: what the request may see and do (resolvers.access).
    principal: Principal
    # The end user the client acts for (X-Actor): recorded in change events, never trusted
    # for access (the principal decides what the request may do).
    end_user: str | None = None
    # The request's Idempotency-Key; the mutations that honour it scope it to the principal.
    idempotency_key: str | None = None
    # The channel the request asked to read (X-Channel, canonical) and whether it showed a
    # valid preview token: with the principal they pick the request's ProductSource.
    read_channel: str | None = None
    preview: bool = False
    source: ProductSource = field(init=False)
    loaders: Loaders = field(init=False)
    locale_fallbacks: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    # Facts derived once per request (e.g. what a list field's selection needs).
    memo: dict[Hashable, Any] = field(default_factory=dict)
    # The operation's price and the request's limit on it (schema.cost).
    cost: QueryCost = field(default_factory=QueryCost)
    # Set by a subscription once its change stream is open (gateway.graphql_ws waits on it
    # before reading the connection's next message); None outside subscriptions.
    subscribed: asyncio.Event | None = None
    now: datetime = field(init=False)

    def __post_init__(self) -> None:
        services = self.services
        # One clock reading per request: every promotional-window check in it agrees.
        self.now = services.clock()
        self.source = source_for(
            services.read_catalog,
            self.principal,
            services.channels.names(),
            requested=self.read_channel,
            default=services.default_channel,
            preview=self.preview,
        )
        self.loaders = self._new_loaders()

    def _new_loaders(self) -> Loaders:
        services = self.services
        return Loaders(
            services.read_catalog,
            services.loader_batch_size,
            # Bound to this request: its Admin API calls share one deadline and budget.
            dam=services.dam.for_request(),
            now=services.clock,
            missing_asset_ttl=services.missing_asset_ttl,
            published_missing_asset_ttl=services.published_missing_asset_ttl,
            # A function of the list, not a method of this context: a loader holding the
            # context would make a reference cycle, and the request's documents would wait for
            # a full garbage collection instead of being freed when the request ends.
            warn=partial(_add_warning, self.warnings),
            on_mirrored=services.rescore_products_using,
            # In the data access, not in resolvers: every way to a product goes through these
            # loaders or the listing query (resolvers.products), and both read the source.
            product_clause=self.source.clause,
            products=self.source.collection,
        )

    @classmethod
    def for_request(
        cls,
        services: Services,
        request_id: str,
        principal: Principal | None = None,
        *,
        end_user: str | None = None,
        idempotency_key: str | None = None,
        read_channel: str | None = None,
        preview: bool = False,
    ) -> Context:
        """A context with fresh loaders: loaders must never outlive one request.

        The HTTP edge always passes the authenticated principal; in-process callers (commands,
        tests) that pass none run as ``Principal.system()``.
        """
        return cls(
            services,
            request_id,
            principal or Principal.system(),
            end_user=end_user,
            idempotency_key=idempotency_key,
            read_channel=read_channel,
            preview=preview,
        )

    def close(self) -> None:
        """Drop what the request loaded, once its response is built.

        graphql-core's execution context sits in a reference cycle that holds this context,
        so without this every document a request read would wait for a full garbage
        collection (a pause proportional to the documents, on some later request).
        """
        self.loaders.clear()
        self.memo.clear()

    def next_event(self) -> None:
        """Start a subscription's next event afresh: a new clock reading, new loaders (and
        with them a new Admin API deadline and budget)."""
        self.now = self.services.clock()
        self.loaders.clear()
        self.loaders = self._new_loaders()
        self.memo.clear()
        self.warnings.clear()
        self.locale_fallbacks.clear()

    def once(
        self, name: str, arguments: Mapping[str, Any], compute: Callable[[], Awaitable[T]]
    ) -> Awaitable[T]:
        """One run of an expensive root field per request, shared by all its aliases.

        Aliases resolve concurrently, so without this each would start its own run (30 aliases
        of ``catalogAudit``: 30 audits). A selection with other ``arguments`` than the first is
        BAD_USER_INPUT: it would be a second run.
        """
        key = ("once", name)
        entry: tuple[dict[str, Any], asyncio.Future[T]] | None = self.memo.get(key)
        if entry is None:
            started = asyncio.ensure_future(compute())
            self.memo[key] = (dict(arguments), started)
            return started
        first, running = entry
        if dict(arguments) != first:
            raise BadUserInputError(
                f"{name!r} runs once per request: its selections must all have the "
                f"arguments of the first ({_shown(first)}), not ({_shown(arguments)})",
                fieldName=name,
            )
        return running

    @property
    def catalog(self) -> Catalog:
        return self.services.catalog

    @property
    def locales(self) -> LocaleResolver:
        return self.services.locales

    def locale(self, tag: str | None) -> str:
        """The supported locale for a ``locale`` argument, or BAD_USER_INPUT."""
        try:
            return self.locales.resolve(tag)
        except LocaleError as exc:
            raise BadUserInputError(
                str(exc), argumentName="locale", supportedLocales=list(self.locales.locales)
            ) from exc

    def pick(self, values: dict[str, Any] | None, tag: str | None, path: ResponsePath) -> Localized:
        """Pick a localized value along the fallback chain, noting fallbacks for the response."""
        picked = self.locales.pick(values, self.locale(tag))
        if picked.is_fallback:
            where = path if isinstance(path, list) else path.as_list()
            self.locale_fallbacks.append(
                {"path": where, "requested": picked.requested, "used": picked.locale}
            )
        return picked

    def localized(self, values: dict[str, Any] | None, tag: str | None, path: ResponsePath) -> Any:
        return self.pick(values, tag, path).value

    def channel_name(self, name: str) -> str:
        """The configured spelling of a ``channel`` argument (names are case-insensitive, like
        locales, and answered in their canonical form), or BAD_USER_INPUT naming the channels.

        Every ``channel`` argument and input field is resolved here, so this is where a key
        restricted to some channels is refused the others: FORBIDDEN naming the channel (an
        unknown channel stays BAD_USER_INPUT, and is refused before execution).
        """
        channels = self.services.channels
        canonical = channels.canonical(name)
        if canonical is None:
            raise BadUserInputError(
                f"unknown channel {name!r}; channels: {', '.join(channels.names())}",
                argumentName="channel",
                channels=channels.names(),
            )
        if not self.principal.may_read_channel(canonical):
            raise ForbiddenError(
                f"this key may not read channel {canonical!r}",
                argumentName="channel",
                channel=canonical,
            )
        return canonical

    def readable_channels(self) -> list[str]:
        """The configured channels this request's principal may read, in configured order."""
        return [n for n in self.services.channels.names() if self.principal.may_read_channel(n)]

    def channel(self, name: str) -> ChannelProfile:
        """The profile of a ``channel`` argument, or BAD_USER_INPUT naming the channels."""
        return self.services.channels.profiles[self.channel_name(name)]

    def slot(self, channel: str, name: str) -> SlotProfile:
        """A slot of a channel, both named in any case, or BAD_USER_INPUT naming the slots."""
        profile = self.channel(channel)
        found = profile.slot(name)
        if found is None:
            slots = list(profile.slots)
            raise BadUserInputError(
                f"channel {self.channel_name(channel)!r} has no slot {name!r}; "
                f"slots: {', '.join(slots)}",
                argumentName="slot",
                slots=slots,
            )
        return found[1]

    def urls(self, channel: str) -> UrlBuilder:
        return UrlBuilder(self.services.dam, self.channel(channel))
