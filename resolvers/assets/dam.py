"""Cloudinary (the DAM) through the official SDK: configured per call, called off the event loop.

The SDK is synchronous and reads global configuration by default; here every call gets its
options explicitly, so two gateways (or a test and the emulator) never share state.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import anyio
import cloudinary
import cloudinary.exceptions
import cloudinary.search
import cloudinary.uploader
import cloudinary.utils
from cloudinary.api_client.execute_request import execute_request

from resolvers.assets.breaker import BreakerState, CircuitBreaker
from resolvers.observe import dam_call

log = logging.getLogger(__name__)

T = TypeVar("T")

# Cloudinary's limit for resources_by_ids.
ADMIN_BATCH = 100

# The Admin API's connections, shared by every client like the SDK's own (per-client pools would
# leave sockets for the garbage collector), but without urllib3's default of three retries: the
# SDK's connector retries a read that timed out, so one call waited up to four timeouts.
# The request's deadline (``AdminSpend``) decides how long Cloudinary may take, not urllib3.
_ADMIN_HTTP = cloudinary.utils.get_http_connector(
    cloudinary.config(), {**cloudinary.CERT_KWARGS, "retries": False}
)

# Slots, densities, URL kinds and signed make a few hundred keys for the shipped profiles; the
# bound only matters if a caller ever builds keys from unbounded input.
TEMPLATE_CACHE_SIZE = 1024
# URLs kept, over all templates (a few MiB at most).
URL_CACHE_SIZE = 16_384

# Stands in for the public id while a template is derived: no slash (no forced version), no
# leading "v<digits>", nothing smart_escape or unquote would change.
_SENTINEL = "cgwtemplatesentinel"
# Where the SDK puts a short (sha1, 8 characters) URL signature.
_SIGNATURE = re.compile(r"/s--[A-Za-z0-9_-]{8}--(?=/|$)")
# What the SDK hands back unchanged for type "upload" instead of building a URL.
_REMOTE = re.compile(r"^https?:")
_REMOTE_SOURCE = re.compile(r"^https?:/")
_VERSIONED = re.compile(r"^v[0-9]+")
# Public ids for the self-check: the slash (forced "v1"), spaces, a percent escape and non-ASCII
# exercise finalize_source's unquoting and smart escaping; "v123" the "already versioned" rule.
_CHECK_IDS = ("catalog check/Größe 1%2B1 ü €.x", "plain_id", "v123/front")
_CHECK_VERSIONS: tuple[int | None, ...] = (None, 1712345678)
# Options (or global SDK settings) the template does not model: a CDN shard chosen by a CRC
# of the source, auth tokens, SEO suffixes, long signatures, root or shortened paths. With any
# of them set the SDK builds every URL.
_UNTEMPLATABLE = (
    "cdn_subdomain",
    "secure_cdn_subdomain",
    "auth_token",
    "long_url_signature",
    "url_suffix",
    "use_root_path",
    "shorten",
)


class DamUnavailableError(Exception):
    """Cloudinary did not answer usefully: timeout, 5xx, or 420 (rate limited)."""


class DamBudgetExhaustedError(DamUnavailableError):
    """The request has spent its Admin API calls or its time for Cloudinary; nothing was asked."""


@dataclass(slots=True)
class AdminSpend:
    """What one request may still spend on the Admin API.

    The time is a total from the request's first Admin API call, whatever number of calls
    follows; a client without one gives each call the whole timeout.
    """

    timeout_s: float
    # None: no limit (webhooks and commands make the calls their work needs).
    calls_left: int | None = None
    started: float | None = None

    def take(self, calls: int) -> float:
        """Reserve ``calls`` calls; the seconds left to make them in."""
        now = time.monotonic()
        if self.started is None:
            self.started = now
        remaining = self.started + self.timeout_s - now
        if remaining <= 0:
            raise DamBudgetExhaustedError(
                f"the request's {self.timeout_s:g} s for Cloudinary are spent"
            )
        if self.calls_left is not None:
            if calls > self.calls_left:
                raise DamBudgetExhaustedError(
                    f"the request may make {self.calls_left} more Admin API call(s), {calls} needed"
                )
            self.calls_left -= calls
        return remaining


@dataclass(frozen=True, slots=True)
class DamConfig:
    cloud_name: str
    api_key: str
    api_secret: str = field(repr=False)
    # Extra SDK options: upload_prefix and delivery host when talking to the emulator.
    sdk_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_url(cls, url: str) -> DamConfig:
        """Parse ``cloudinary://api_key:api_secret@cloud_name`` (CLOUDINARY_URL)."""
        parts = urlsplit(url)
        if parts.scheme != "cloudinary" or not parts.hostname:
            raise ValueError("must look like cloudinary://API_KEY:API_SECRET@CLOUD_NAME")
        if not parts.username or not parts.password:
            raise ValueError("has no API key and secret (cloudinary://KEY:SECRET@CLOUD)")
        return cls(
            parts.hostname, unquote(parts.username), unquote(parts.password), {"secure": True}
        )

    def options(self) -> dict[str, Any]:
        """Keyword arguments for one SDK call."""
        return {
            "cloud_name": self.cloud_name,
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            **self.sdk_options,
        }


@dataclass(frozen=True, slots=True)
class UrlTemplate:
    """A delivery URL with the public id and version left open, derived from the SDK.

    ``fill`` does what ``cloudinary.utils.cloudinary_url`` does after it has built the
    transformation string, which is where its time goes: escape the source, force "v1" for ids
    in folders, sign. The SDK's own ``finalize_source`` escapes, so odd ids stay identical.
    """

    # prefix/resource_type/type, e.g. https://res.cloudinary.com/demo/image/upload
    head: str
    # The transformation components, "" when there are none.
    transformation: str
    format: str | None
    force_version: bool
    # The API secret when URLs are signed (sha1, short signature), else None.
    secret: str | None = field(default=None, repr=False)

    def fill(self, public_id: str, version: int | str | None = None) -> str:
        """The URL of ``public_id`` (at ``version``); remote URLs and "" are the SDK's business."""
        if not public_id or _REMOTE.match(public_id):
            # The SDK returns them unchanged for type "upload"; callers send them to it.
            raise ValueError(f"{public_id!r} is not templated; build it with the SDK")
        source, source_to_sign = cloudinary.utils.finalize_source(public_id, self.format, None)
        if version:
            version_part: str | None = f"v{version}"
        elif (
            self.force_version
            and "/" in source_to_sign
            and not _REMOTE_SOURCE.match(source_to_sign)
            and not _VERSIONED.match(source_to_sign)
        ):
            version_part = "v1"
        else:
            version_part = None
        signature = None
        if self.secret is not None:
            to_sign = "/".join(part for part in (self.transformation, source_to_sign) if part)
            digest = hashlib.sha1((to_sign + self.secret).encode("utf-8")).digest()
            signature = f"s--{base64.urlsafe_b64encode(digest)[:8].decode('ascii')}--"
        # Joined like the SDK's __compact: empty parts leave no double slash.
        parts = (self.head, signature, self.transformation, version_part, source)
        return "/".join(part for part in parts if part)


@dataclass
class DamStats:
    """Counts of Admin API calls made by this process (the quota is per hour)."""

    admin_calls: int = 0
    uploads: int = 0
    urls_built: int = 0


class DamClient:
    """Async facade over the SDK calls the gateway makes."""

    def __init__(
        self,
        config: DamConfig,
        *,
        max_threads: int = 8,
        timeout_s: float = 10.0,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        url_templates: bool = True,
        admin_calls_per_request: int | None = None,
    ) -> None:
        self.config = config
        # False: ``templated_url`` has the SDK build every URL (same bytes, no templates kept),
        # as code calling ``cloudinary_url`` per URL would; the benchmark's baselines do that.
        self.url_templates = url_templates
        self.timeout_s = timeout_s
        self.admin_calls_per_request = admin_calls_per_request
        self.stats = DamStats()
        self._limiter = anyio.CapacityLimiter(max_threads)
        self._options = config.options()
        # URL templates by caller-chosen key; None marks options the SDK must build per URL.
        self._templates: dict[Hashable, UrlTemplate | None] = {}
        # URLs filled from those templates: a listing fills the same few hundred ids on every
        # request, and escaping (the SDK's regular expressions) was most of a URL's cost.
        self._urls: dict[tuple[Hashable, str, int | str | None], str] = {}
        self._breaker = CircuitBreaker(cooldown_s, clock)
        # Set on the copies ``for_request`` makes; everything above is shared with them.
        self._spend: AdminSpend | None = None

    @property
    def cooldown_s(self) -> float:
        return self._breaker.cooldown_s

    @property
    def breaker_state(self) -> BreakerState:
        """The Admin API breaker's state (gateway.metrics reports it)."""
        return self._breaker.state

    @property
    def admin_resting(self) -> bool:
        """Whether the breaker keeps the Admin API closed right now (a call would be refused)."""
        return self._breaker.state is BreakerState.OPEN and self._breaker.retry_in() > 0

    def for_request(self) -> DamClient:
        """This client for one request: its Admin API calls share one deadline (``timeout_s``
        from the first call) and at most ``admin_calls_per_request`` calls between them, so a
        request never waits longer for Cloudinary or spends more of the hourly quota than that.
        Threads, breaker, counters and URL templates stay shared with the process's client."""
        bound = copy.copy(self)
        bound._spend = AdminSpend(self.timeout_s, self.admin_calls_per_request)
        return bound

    async def _run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        call = partial(function, *args, **self._options, timeout=self.timeout_s, **kwargs)
        return await self._in_thread(call)

    async def _in_thread(self, call: Callable[[], T]) -> T:
        try:
            # Abandoned on cancel: the deadline answers the request, the thread's own socket
            # timeout (the same deadline) ends the call soon after.
            return await anyio.to_thread.run_sync(
                call, limiter=self._limiter, abandon_on_cancel=True
            )
        except cloudinary.exceptions.RateLimited as exc:
            raise DamUnavailableError(f"Cloudinary rate limit reached: {exc}") from exc
        except Exception as exc:
            # The SDK raises GeneralError for network failures and timeouts, and a bare
            # Exception for statuses it has no class for (502, 503, …).
            raise DamUnavailableError(f"Cloudinary error: {exc}") from exc

    def _get(self, uri: list[str], params: dict[str, Any], timeout: float) -> Any:
        """One Admin API GET (see ``_call``)."""
        return self._call("get", uri, timeout, params=cloudinary.utils.normalize_params(params))

    def _post_json(self, uri: list[str], body: dict[str, Any], timeout: float) -> Any:
        """One Admin API POST with a JSON body (see ``_call``)."""
        return self._call("post", uri, timeout, body=json.dumps(body))

    def _call(
        self,
        method: str,
        uri: list[str],
        timeout: float,
        *,
        params: dict[str, Any] | None = None,
        body: str | None = None,
    ) -> Any:
        """One Admin API call as the SDK's ``call_json_api`` sends it, on the connector that
        does not retry (see ``_ADMIN_HTTP``); the SDK's own functions offer no way to pass one."""
        options = self._options
        prefix = options.get("upload_prefix") or "https://api.cloudinary.com"
        return execute_request(
            http_connector=_ADMIN_HTTP,
            method=method,
            params=params,
            headers={"Content-Type": "application/json"},
            auth={"key": options["api_key"], "secret": options["api_secret"]},
            api_url="/".join([prefix, cloudinary.API_VERSION, options["cloud_name"], *uri]),
            timeout=timeout,
            # The SDK sends a body only when one is given, not an empty one.
            **({} if body is None else {"body": body}),
        )

    async def _admin(self, calls: Sequence[Callable[[float], T]]) -> list[T]:
        """Make these Admin API calls together (each gets the seconds left), or none of them:
        the breaker is open, or the request's deadline or call budget is spent."""
        breaker = self._breaker
        if not breaker.admit():
            raise DamUnavailableError(
                f"Cloudinary failed recently; not asking again for {breaker.retry_in():.0f}s"
            )
        spend = self._spend or AdminSpend(self.timeout_s)
        try:
            remaining = spend.take(len(calls))
        except DamBudgetExhaustedError:
            breaker.released()
            raise
        self.stats.admin_calls += len(calls)
        try:
            with dam_call("admin"):
                async with asyncio.timeout(remaining):
                    async with asyncio.TaskGroup() as group:
                        tasks = [
                            group.create_task(self._in_thread(partial(call, remaining)))
                            for call in calls
                        ]
        except TimeoutError as exc:
            error = DamUnavailableError(
                f"Cloudinary did not answer within the request's {spend.timeout_s:g} s"
            )
            breaker.failed(str(error))
            raise error from exc
        except ExceptionGroup as group_error:
            # _in_thread turns every failure into DamUnavailableError.
            first = group_error.exceptions[0]
            breaker.failed(str(first))
            raise first from group_error
        except BaseException:
            breaker.released()
            raise
        breaker.succeeded()
        return [task.result() for task in tasks]

    async def resources_by_ids(
        self, public_ids: Sequence[str], resource_type: str = "image"
    ) -> list[dict[str, Any]]:
        """Resource details for up to 100 public ids per Admin API call (calls run together)."""
        calls = [
            partial(
                self._get,
                ["resources", resource_type, "upload"],
                {
                    "public_ids": list(public_ids[start : start + ADMIN_BATCH]),
                    "tags": True,
                    "context": True,
                    "metadata": True,
                    "max_results": len(public_ids[start : start + ADMIN_BATCH]),
                },
            )
            for start in range(0, len(public_ids), ADMIN_BATCH)
        ]
        if not calls:
            return []
        responses = await self._admin(calls)
        return [resource for response in responses for resource in response.get("resources", [])]

    async def updated_since(
        self, since: str | None, next_cursor: str | None, max_results: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the Search API: assets by last update, oldest first, from ``since``
        (an ISO instant; None: all), with tags, context and metadata; and the next page's
        cursor. One Admin API call (the Search API shares the Admin API's hourly quota)."""
        query = cloudinary.search.Search().sort_by("last_updated", "asc").max_results(max_results)
        if since is not None:
            query.expression(f'last_updated>="{since}"')
        for name in ("context", "metadata", "tags"):
            query.with_field(name)
        if next_cursor is not None:
            query.next_cursor(next_cursor)
        body = query.as_dict()
        [response] = await self._admin([partial(self._post_json, ["resources", "search"], body)])
        resources = [dict(resource) for resource in response.get("resources", [])]
        return resources, response.get("next_cursor") or None

    async def resource(self, public_id: str, resource_type: str = "image") -> dict[str, Any]:
        uri = ["resources", resource_type, "upload", public_id]
        [result] = await self._admin([partial(self._get, uri, {"phash": True})])
        return dict(result)

    async def upload(self, file: Any, **params: Any) -> dict[str, Any]:
        self.stats.uploads += 1
        with dam_call("upload"):
            result: dict[str, Any] = await self._run(cloudinary.uploader.upload, file, **params)
        return result

    def url(self, public_id: str, **options: Any) -> str:
        """A delivery URL, built locally by the SDK (no network)."""
        self.stats.urls_built += 1
        url, _ = cloudinary.utils.cloudinary_url(public_id, **self._options, **options)
        return str(url)

    def url_template(self, **options: Any) -> UrlTemplate | None:
        """The template for URLs built with ``options`` (no version), or None when only the SDK
        can build them exactly (see ``_UNTEMPLATABLE``, or a self-check that disagrees)."""
        merged = {**self._options, **options}
        merged.pop("version", None)
        settings = cloudinary.config()
        # Set in the options or globally: the SDK falls back to (or merges) the global value.
        if any(merged.get(name) or getattr(settings, name) for name in _UNTEMPLATABLE):
            return None
        # Other types keep remote sources in the path; the template only knows "upload".
        if merged.get("type", "upload") != "upload":
            return None
        signed = bool(merged.pop("sign_url", settings.sign_url))
        algorithm = merged.get("signature_algorithm", settings.signature_algorithm)
        if signed and algorithm not in (None, cloudinary.utils.SIGNATURE_SHA1):
            return None
        try:
            template = self._derive_template(merged, signed, settings)
            agrees = template is not None and self._template_agrees(template, merged, signed)
        except Exception:
            # Whatever the SDK objects to (no secret, a bad option) it will say again per URL.
            log.debug("no URL template for %r", options, exc_info=True)
            return None
        if template is not None and not agrees:
            log.warning("URL template disagrees with the SDK; the SDK builds these: %r", options)
        return template if agrees else None

    def _derive_template(
        self, options: dict[str, Any], signed: bool, settings: Any
    ) -> UrlTemplate | None:
        def sentinel_url(**extra: Any) -> str:
            url, _ = cloudinary.utils.cloudinary_url(_SENTINEL, **{**options, **extra})
            return str(url)

        fmt = options.get("format")
        tail = f"/{_SENTINEL}.{fmt}" if fmt else f"/{_SENTINEL}"
        plain = sentinel_url(sign_url=False)
        if not plain.endswith(tail):
            # The format went elsewhere (fetch_format) or the source was changed: not ours.
            return None
        before = plain.removesuffix(tail)
        # The signature sits between head and transformation, so where a signed URL differs
        # from the unsigned one splits them, whatever options made the transformation. Unsigned
        # templates split with a stand-in secret, which is never used again.
        secret = options.get("api_secret", settings.api_secret) if signed else "template-split"
        with_signature = sentinel_url(sign_url=True, api_secret=secret).removesuffix(tail)
        for match in _SIGNATURE.finditer(with_signature):
            if with_signature[: match.start()] + with_signature[match.end() :] == before:
                head = with_signature[: match.start()]
                transformation = with_signature[match.end() :].removeprefix("/")
                break
        else:
            return None
        force_version = options.get("force_version", settings.force_version)
        return UrlTemplate(
            head=head,
            transformation=transformation,
            format=fmt,
            force_version=True if force_version is None else bool(force_version),
            secret=str(secret) if signed else None,
        )

    def _template_agrees(
        self, template: UrlTemplate, options: dict[str, Any], signed: bool
    ) -> bool:
        for public_id in _CHECK_IDS:
            for version in _CHECK_VERSIONS:
                expected, _ = cloudinary.utils.cloudinary_url(
                    public_id, **options, sign_url=signed, version=version
                )
                if template.fill(public_id, version) != expected:
                    return False
        return True

    def templated_url(
        self,
        key: Hashable,
        public_id: str,
        version: int | str | None,
        options: Callable[[], dict[str, Any]],
    ) -> str:
        """``url(public_id, **options(), version=version)``, from a template kept under ``key``.

        ``key`` must determine ``options()`` completely; ``options`` is only called to derive
        the template and when the SDK has to build the URL itself. With ``url_templates``
        off, the SDK builds every URL and no template is derived.
        """
        if not self.url_templates:
            return self._sdk_url(public_id, version, options)
        urls = self._urls
        url = urls.get((key, public_id, version))
        if url is not None:
            self.stats.urls_built += 1
            return url
        try:
            template = self._templates[key]
        except KeyError:
            if len(self._templates) >= TEMPLATE_CACHE_SIZE:
                self._templates.clear()
                urls.clear()
            template = self._templates[key] = self.url_template(**options())
        if template is None or not public_id or _REMOTE.match(public_id):
            return self._sdk_url(public_id, version, options)
        self.stats.urls_built += 1
        if len(urls) >= URL_CACHE_SIZE:
            urls.clear()
        url = urls[key, public_id, version] = template.fill(public_id, version)
        return url

    def _sdk_url(
        self,
        public_id: str,
        version: int | str | None,
        options: Callable[[], dict[str, Any]],
    ) -> str:
        sdk_options = options()
        if version:
            sdk_options["version"] = version
        return self.url(public_id, **sdk_options)

    def notification_signature(self, body: str, timestamp: str, algorithm: str = "sha1") -> str:
        """What ``X-Cld-Signature`` must be: hash of body, timestamp and API secret.

        The SDK's own ``verify_notification_signature`` reads the global configuration, which
        this process never sets, so the same computation is done here with our secret.
        """
        text = f"{body}{timestamp}{self.config.api_secret}"
        return str(cloudinary.utils.compute_hex_hash(text, algorithm))
