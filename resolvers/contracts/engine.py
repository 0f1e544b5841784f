"""Running contracts: plan each channel's runs, execute them through a transport, judge them.

The transport is the edge's (``gateway.contracts``): HTTP against a URL, the app in-process
over ASGI, or the schema itself for the publish gate. Runs of one channel discover its
categories and SKUs through the same transport, with the manifest's ``CategorySlugs`` and
``ProductSkus``, so they see what that channel's storefronts see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from resolvers.channels import Channels, SlotProfile
from resolvers.contracts.checks import (
    Delivered,
    ImageUse,
    Response,
    Violation,
    judge,
    judge_image,
)
from resolvers.contracts.config import Contracts, Operation
from resolvers.contracts.paths import JsonPath

CATEGORY_SLUGS = "CategorySlugs"
PRODUCT_SKUS = "ProductSkus"
SKU_PAGE = 100
# Image fetches in flight at once: the DAM renders each derivative (CPU-bound, off the
# gateway), so a few at a time use the cores the operation runs leave idle.
IMAGE_CONCURRENCY = 4


class Transport(Protocol):
    async def execute(self, channel: str, body: str, variables: Mapping[str, Any]) -> Response: ...


class ImageFetcher(Protocol):
    async def fetch(self, url: str) -> Delivered: ...


class DiscoveryError(RuntimeError):
    """A channel's categories or SKUs could not be listed (the message says why)."""


@dataclass(frozen=True, slots=True)
class Run:
    channel: str
    operation: str
    variables: Mapping[str, Any]
    wire_bytes: int
    server_ms: float
    products: int
    violations: int


@dataclass(slots=True)
class Outcome:
    runs: list[Run] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


Progress = Callable[[int, int], None]


@dataclass(slots=True)
class _Sampler:
    """How many URLs of each (operation, image expectation) were fetched, and which."""

    seen: dict[tuple[str, int], set[str]] = field(default_factory=dict)

    def take(self, operation: Operation, uses: Iterable[ImageUse]) -> list[ImageUse]:
        picked = []
        for use in uses:
            urls = self.seen.setdefault((operation.where, id(use.expectation)), set())
            limit = use.expectation.sample
            if use.url in urls or (limit != "all" and len(urls) >= limit):
                continue
            urls.add(use.url)
            picked.append(use)
        return picked


@dataclass(frozen=True, slots=True)
class _ImageCheck:
    """An image URL to fetch once the runs are done, and the run it belongs to."""

    run: int
    operation: Operation
    variables: Mapping[str, Any]
    use: ImageUse
    slot: SlotProfile


@dataclass
class Simulation:
    contracts: Contracts
    channels: Channels
    transport: Transport
    fetcher: ImageFetcher
    manifest: Mapping[str, str]
    concurrency: int = 4
    progress: Progress | None = None
    image_progress: Progress | None = None
    """Image fetches done and planned, once the runs are done."""
    image_concurrency: int = IMAGE_CONCURRENCY
    _sampler: _Sampler = field(default_factory=_Sampler)
    _images: list[_ImageCheck] = field(default_factory=list)
    _done: int = 0
    _planned: int = 0

    async def run(
        self, channels: Sequence[str] | None = None, skus: Sequence[str] | None = None
    ) -> Outcome:
        """Every operation of ``channels`` (all when None); with ``skus``, only the operations
        run per SKU, for those SKUs."""
        outcome = Outcome()
        gate = asyncio.Semaphore(self.concurrency)
        for channel in channels or self.contracts.channels():
            operations = self.contracts.of(channel)
            if skus is not None:
                operations = [o for o in operations if o.contract.for_each == "sku"]
            if not operations:
                continue
            needs = {o.contract.for_each for o in operations}
            categories = await self._categories(channel) if "category" in needs else []
            channel_skus = (
                list(skus)
                if skus is not None
                else (await self._skus(channel) if "sku" in needs else [])
            )
            jobs: list[tuple[Operation, list[dict[str, Any]]]] = []
            for operation in operations:
                plans = list(_plan(operation, channel, categories, channel_skus))
                jobs.append((operation, plans))
                self._planned += len(plans) * (
                    operation.contract.pages if operation.contract.for_each == "page" else 1
                )
            self._report()

            async def one(operation: Operation, variables: dict[str, Any]) -> None:
                async with gate:
                    await self._run(operation, variables, outcome)

            await asyncio.gather(*(one(o, v) for o, plans in jobs for v in plans))
        await self._fetch_images(outcome)
        return outcome

    async def check_product(self, channel: str, sku: str) -> list[Violation]:
        """The publish gate: the channel's gated operations for one SKU."""
        outcome = Outcome()
        for operation in self.contracts.gated(channel):
            for variables in _plan(operation, channel, [], [sku]):
                await self._run(operation, variables, outcome)
        await self._fetch_images(outcome)
        return outcome.violations

    async def _fetch_images(self, outcome: Outcome) -> None:
        """Fetch the sampled images after the runs, a few at a time: while the operations run
        nothing else does, so their server time is theirs alone."""
        checks, self._images = self._images, []
        gate = asyncio.Semaphore(self.image_concurrency)
        fetched = 0

        async def one(check: _ImageCheck) -> Violation | None:
            nonlocal fetched
            async with gate:
                delivered = await self.fetcher.fetch(check.use.url)
            fetched += 1
            if self.image_progress is not None:
                self.image_progress(fetched, len(checks))
            return judge_image(check.operation, check.variables, check.use, check.slot, delivered)

        problems = await asyncio.gather(*(one(check) for check in checks))
        for check, problem in zip(checks, problems, strict=True):
            if problem is not None:
                outcome.violations.append(problem)
                run = outcome.runs[check.run]
                outcome.runs[check.run] = replace(run, violations=run.violations + 1)

    async def _run(self, operation: Operation, variables: dict[str, Any], outcome: Outcome) -> None:
        contract = operation.contract
        pages = contract.pages if contract.for_each == "page" else 1
        for page in range(pages):
            response = await self.transport.execute(operation.channel, operation.body, variables)
            judged = judge(operation, variables, response, variables.get("locale"))
            violations = judged.violations
            profile = self.channels.profiles[operation.channel]
            for use in self._sampler.take(operation, judged.images):
                found = profile.slot(use.expectation.slot)
                assert found is not None  # checked when the contracts were loaded
                self._images.append(
                    _ImageCheck(len(outcome.runs), operation, variables, use, found[1])
                )
            outcome.violations.extend(violations)
            outcome.runs.append(
                Run(
                    operation.channel,
                    operation.name,
                    dict(variables),
                    response.wire_bytes,
                    response.server_ms,
                    len(judged.products),
                    len(violations),
                )
            )
            self._done += 1
            self._report()
            cursor = _next_page(operation, response)
            if cursor is None:
                # Pages not fetched will not be: the plan shrinks to what ran.
                self._planned -= pages - 1 - page
                self._report()
                return
            variables = {**variables, "after": cursor}

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self._done, self._planned)

    async def _categories(self, channel: str) -> list[str]:
        """Every category slug, level by level (the tree's root first)."""
        body = self._discovery(CATEGORY_SLUGS)
        slugs: list[str] = []
        parents: list[str | None] = [None]
        while parents:
            parent = parents.pop(0)
            response = await self.transport.execute(channel, body, {"parent": parent})
            children = [c["slug"] for c in _data(response, channel, CATEGORY_SLUGS)["categories"]]
            slugs += children
            parents += children
        return slugs

    async def _skus(self, channel: str) -> list[str]:
        body = self._discovery(PRODUCT_SKUS)
        skus: list[str] = []
        after: str | None = None
        while True:
            response = await self.transport.execute(
                channel, body, {"first": SKU_PAGE, "after": after}
            )
            page = _data(response, channel, PRODUCT_SKUS)["products"]
            skus.extend(edge["node"]["sku"] for edge in page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                return skus
            after = page["pageInfo"]["endCursor"]

    def _discovery(self, name: str) -> str:
        body = self.manifest.get(name)
        if body is None:
            raise DiscoveryError(f"the operation manifest has no {name}, which simulate needs")
        return body


def _plan(
    operation: Operation, channel: str, categories: Sequence[str], skus: Sequence[str]
) -> Iterable[dict[str, Any]]:
    contract = operation.contract
    base: dict[str, Any] = dict(contract.variables)
    if "channel" in operation.declared and "channel" not in base:
        base["channel"] = channel
    locales: list[str | None] = [*contract.locales] or [None]
    for locale in locales:
        localized = base if locale is None else {**base, "locale": locale}
        if contract.for_each == "category":
            yield from ({**localized, "category": c} for c in categories)
        elif contract.for_each == "sku":
            yield from ({**localized, "sku": s} for s in skus)
        else:
            yield dict(localized)


def _next_page(operation: Operation, response: Response) -> str | None:
    contract = operation.contract
    if contract.for_each != "page" or contract.page_info is None:
        return None
    data = response.body.get("data")
    for _, info in JsonPath.parse(contract.page_info).matches(data):
        if isinstance(info, dict) and info.get("hasNextPage") and info.get("endCursor"):
            return str(info["endCursor"])
    return None


def _data(response: Response, channel: str, name: str) -> dict[str, Any]:
    data = response.body.get("data")
    if response.status != 200 or not isinstance(data, dict):
        errors = response.body.get("errors") or [{}]
        raise DiscoveryError(
            f"{channel}: {name} answered HTTP {response.status}: "
            f"{errors[0].get('message', 'no data')}"
        )
    return data
