"""The checks a product passes before it is approved or published on a channel.

Run at approval, at publication and again when a schedule fires, on the exact revision that
would go live: validation passes (the writer's Validator); readiness for the channel's locales
has no failed blocker; every referenced asset is live, within its window and its usage rights
in the mirror. Assets the mirror has not confirmed for ``fresh_for`` are read again from
Cloudinary first (one Admin API call per hundred), so a picture deleted or re-licensed since
its last notification does not go live; when Cloudinary cannot answer, the mirror decides.
With ``contracts`` (``gateway/contracts.toml``), the channel's gated contract operations run
for the revision too, and each violated expectation is a failure (``contract.<kind>``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from resolvers.assets import DamClient
from resolvers.assets.mirror import asset_from_resource, upsert_assets
from resolvers.channels import Channels
from resolvers.contracts.checks import Violation as ContractViolation
from resolvers.db import Catalog, Document
from resolvers.documents import PUBLISHED
from resolvers.locales import LocaleResolver
from resolvers.media.selection import delivery_problem, reference_key
from resolvers.readiness.rules import ScoringMemo, asset_keys, evaluate, needed_codes
from resolvers.readiness.store import ReadinessContext, load_context
from resolvers.validation.violations import Violation

log = logging.getLogger(__name__)

Validate = Callable[[Document, Sequence[Document]], Sequence[Violation]]
ASSET_HINT = "Replace or re-license the asset, or remove its reference (productUpdate media)"
CONTRACT_HINT = "What the channel's front end would get wrong: fix the product (or the contract)"


class ContractCheck(Protocol):
    """The channel's gated contract operations for one product (``gateway.contracts``)."""

    async def check(self, product: Document, channel: str) -> Sequence[ContractViolation]: ...


@dataclass(frozen=True, slots=True)
class GateFailure:
    check: str
    """``status``, ``validation``, ``readiness.<rule>`` or ``asset``."""
    channel: str
    message: str
    hint: str
    path: tuple[str | int, ...] = ()

    def to_document(self) -> Document:
        return {
            "check": self.check,
            "channel": self.channel,
            "message": self.message,
            "hint": self.hint,
            "path": list(self.path),
        }


@dataclass(frozen=True, slots=True)
class Gates:
    catalog: Catalog
    channels: Channels
    locales: LocaleResolver
    validate: Validate | None
    dam: DamClient | None = None
    fresh_for: timedelta = timedelta(hours=1)
    contracts: ContractCheck | None = None

    async def check(
        self, products: Sequence[Document], channels: Sequence[str], now: datetime
    ) -> list[list[GateFailure]]:
        """The failures of each product (in order) on any of ``channels``; [] passes."""
        if not products:
            return []
        context = await load_context(self.catalog, list(products))
        await self._refresh(context, now)
        results = [self._product(p, channels, context, now) for p in products]
        if self.contracts is not None:
            for product, failures in zip(products, results, strict=True):
                for channel in channels:
                    violations = await self.contracts.check(product, channel)
                    failures += [contract_failure(v) for v in violations]
        return results

    async def _refresh(self, context: ReadinessContext, now: datetime) -> None:
        if self.dam is None:
            return
        stale = [
            key
            for key, asset in context.assets.items()
            if asset.get("status") == "active"
            and _older(asset.get("checkedAt"), now - self.fresh_for)
        ]
        by_type: dict[str, list[str]] = {}
        for resource_type, public_id in stale:
            by_type.setdefault(resource_type, []).append(public_id)
        for resource_type, public_ids in by_type.items():
            try:
                resources = await self.dam.resources_by_ids(public_ids, resource_type)
            except Exception as exc:  # the mirror decides when Cloudinary cannot answer
                log.warning("publish gates: Cloudinary check skipped: %s", exc)
                continue
            fresh = [asset_from_resource(r, now, "publish-gate") for r in resources]
            await upsert_assets(self.catalog.assets, fresh)
            found = {d["publicId"] for d in fresh}
            for document in fresh:
                context.assets[(resource_type, document["publicId"])] = document
            for public_id in public_ids:
                if public_id not in found:
                    # Gone from Cloudinary: not live, whatever the mirror last heard.
                    context.assets[(resource_type, public_id)] = {
                        **context.assets[(resource_type, public_id)],
                        "status": "missing",
                    }

    def _product(
        self, product: Document, channels: Sequence[str], context: ReadinessContext, now: datetime
    ) -> list[GateFailure]:
        categories = [
            context.categories[s]
            for s in product.get("categories") or []
            if s in context.categories
        ]
        failures: list[GateFailure] = []
        if product.get("status") not in (None, "draft", PUBLISHED):
            failures += [
                GateFailure(
                    "status",
                    channel,
                    f"the product is {product.get('status')}",
                    "Restore it first (productRestore)",
                    ("status",),
                )
                for channel in channels
            ]
        # Judged as what it becomes: rules that apply to published products only apply here.
        live = {**product, "status": PUBLISHED}
        violations = list(self.validate(live, categories)) if self.validate else []
        assets = {k: context.assets.get(k) for k in asset_keys(product)}
        attributes = {c: context.attributes.get(c) for c in needed_codes(categories)}
        memo = ScoringMemo()
        for violation in violations:
            # A rule of one channel (channels.<name>.…) concerns publishing there only; the
            # others are the product's, reported once, on the first channel asked for.
            parts = violation.rule.split(".")
            named = parts[1] if parts[0] == "channels" and len(parts) > 1 else None
            if named is not None and named not in channels:
                continue
            failures.append(
                GateFailure(
                    "validation",
                    named or channels[0],
                    f"{'.'.join(map(str, violation.path))}: {violation.message}",
                    f"Fix the field (rule {violation.rule} in validation.toml)",
                    violation.path,
                )
            )
        for channel in channels:
            readiness = evaluate(
                product,
                assets=assets,
                categories=categories,
                attributes=attributes,
                channel=channel,
                channels=self.channels,
                locales=self.locales,
                locale=None,
                now=now,
                memo=memo,
            )
            failures += [
                GateFailure(f"readiness.{c.id}", channel, c.message, c.hint)
                for c in readiness.checks
                if not c.passed and c.severity == "blocker"
            ]
            for position, reference in enumerate(product.get("media") or []):
                problem = delivery_problem(assets.get(reference_key(reference)), channel, now)
                if problem is not None:
                    failures.append(
                        GateFailure(
                            "asset",
                            channel,
                            f"{reference['publicId']}: {problem}",
                            ASSET_HINT,
                            ("media", position, "publicId"),
                        )
                    )
        return failures


def contract_failure(violation: ContractViolation) -> GateFailure:
    """A violated contract expectation as a gate failure: its check names the kind, its
    message the operation, its variables, the path in the response and what was wrong."""
    variables = ", ".join(
        f"{k}: {v}" for k, v in violation.variables.items() if k not in ("channel", "sku")
    )
    where = f" {violation.path}" if violation.path else ""
    return GateFailure(
        f"contract.{violation.check}",
        violation.channel,
        f"{violation.operation} ({variables}){where}: {violation.message}",
        CONTRACT_HINT,
    )


def _older(checked: datetime | None, bound: datetime) -> bool:
    if checked is None:
        return True
    if checked.tzinfo is None:
        checked = checked.replace(tzinfo=bound.tzinfo)
    return checked < bound
