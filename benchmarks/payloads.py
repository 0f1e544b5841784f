"""What the baselines compute for Q1 and Q2, on documents already loaded.

The naive Strawberry app and the REST floor differ in how they *fetch* (one ``find_one`` per
object against ``$in`` batches and projections); what they compute from the documents is the
gateway's own domain code (``resolvers.media``, ``resolvers.readiness``, ``UrlBuilder``), shaped
here exactly as the GraphQL selections of ``benchmarks.queries`` Q1 and Q2 shape it. The
baselines' ``UrlBuilder`` sits on a ``DamClient`` whose SDK builds every URL
(``url_templates=False``) unless the app was asked for the gateway's templates. The benchmark
compares every baseline's payload with the gateway's before it times anything, so any drift
from the gateway's behaviour fails the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from resolvers.channels import ChannelProfile
from resolvers.db import Document
from resolvers.documents import MEDIA_ROLES
from resolvers.locales import LocaleResolver
from resolvers.media import (
    SlotChoice,
    UrlBuilder,
    delivered_size,
    fill_slot,
    hero_slot,
    ordered_references,
    reference_key,
    slot_candidates,
    swatch_slot,
)
from resolvers.readiness import Readiness

AssetMap = dict[tuple[str, str], Document | None]


@dataclass(frozen=True, slots=True)
class Chosen:
    """A ``MediaAsset`` as the gateway returns it: a real asset or a slot's placeholder."""

    public_id: str
    asset: Document | None
    resource_type: str  # "image" or "video"


def references(product: Document, variant_sku: str | None = None) -> list[Document]:
    return ordered_references(product.get("media") or [], variant_sku)


def asset_keys(refs: Sequence[Document]) -> list[tuple[str, str]]:
    return [reference_key(r) for r in refs]


def _chosen(choice: SlotChoice) -> Chosen:
    if choice.asset is None:
        return Chosen(choice.slot.placeholder, None, choice.slot.resource_type)
    return Chosen(
        choice.asset["publicId"], choice.asset, str(choice.asset.get("resourceType", "image"))
    )


def hero_refs(product: Document) -> list[Document]:
    return references(product)


def swatch_refs(product: Document, variant_sku: str) -> list[Document]:
    """What a variant's swatch may show: the media of the variants of its colour."""
    return slot_candidates(product, MEDIA_ROLES, variant_sku)


def hero(
    product: Document, assets: AssetMap, profile: ChannelProfile, channel: str, now: datetime
) -> Chosen | None:
    """``heroImage``: what fills the channel's hero slot."""
    found = hero_slot(profile)
    if found is None:
        return None
    return _chosen(fill_slot(*found, product, assets, channel, now))


def swatch(
    product: Document,
    variant_sku: str,
    assets: AssetMap,
    profile: ChannelProfile,
    channel: str,
    now: datetime,
) -> Chosen | None:
    """A variant's ``swatch``: what fills the channel's swatch slot for the variant."""
    found = swatch_slot(profile)
    if found is None:
        return None
    return _chosen(fill_slot(*found, product, assets, channel, now, variant_sku))


def media_url(urls: UrlBuilder, profile: ChannelProfile, chosen: Chosen, slot_name: str) -> str:
    """``MediaAsset.url(slot)``: a video in an image slot is delivered as its poster."""
    slot = profile.slots[slot_name]
    if chosen.resource_type == "video" and slot.resource_type == "image" and chosen.asset:
        return urls.poster_url(slot, chosen.asset)
    return urls.url(slot, chosen.public_id, chosen.asset)


def name(product: Document, locales: LocaleResolver, locale: str) -> Any:
    return locales.pick(product.get("name"), locales.resolve(locale)).value


def attribute_values(
    product: Document,
    codes: Sequence[str],
    definitions: dict[str, Document | None],
    locales: LocaleResolver,
) -> list[dict[str, Any]]:
    """``attributes(codes) { code value }`` in stored order (value in the default locale)."""
    values = product.get("attributes") or {}
    out = []
    for code in values:
        if code not in codes or not isinstance(values[code], dict):
            continue
        raw = values[code].get("value")
        definition = definitions.get(code)
        localizable = bool(definition["localizable"]) if definition else isinstance(raw, dict)
        if localizable and isinstance(raw, dict):
            raw = locales.pick(raw, locales.default).value
        out.append({"code": code, "value": raw})
    return out


def manifest_payload(
    product: Document,
    assets: AssetMap,
    profile: ChannelProfile,
    channel: str,
    urls: UrlBuilder,
    locales: LocaleResolver,
    requested: str,
    now: datetime,
) -> dict[str, Any]:
    """``mediaManifest(channel) { channel locale complete slots { ... } }`` as in Q2."""
    slots = []
    for slot_name, slot in profile.slots.items():
        choice = fill_slot(slot_name, slot, product, assets, channel, now)
        alt_values = choice.asset.get("alt") if choice.asset else product.get("name")
        picked = locales.pick(alt_values, requested)
        width, height = delivered_size(slot, choice.asset)
        slots.append(
            {
                "slot": slot_name,
                "resourceType": slot.resource_type.upper(),
                "asset": {"publicId": choice.public_id},
                "url": urls.url(slot, choice.public_id, choice.asset),
                "srcset": urls.srcset(slot, choice.public_id, choice.asset),
                "width": width,
                "height": height,
                "format": slot.format,
                "alt": {
                    "text": picked.value,
                    "locale": picked.locale,
                    "isFallback": picked.is_fallback,
                },
                "role": choice.role.upper() if choice.role else None,
                "posterUrl": (
                    urls.poster_url(slot, choice.asset)
                    if choice.asset
                    else urls.placeholder_poster_url(slot, choice.public_id)
                )
                if slot.resource_type == "video"
                else None,
                "isFallback": choice.is_fallback,
                "isPlaceholder": choice.is_placeholder,
                "reasons": list(choice.reasons),
            }
        )
    return {
        "channel": channel,
        "locale": requested,
        "complete": not any(s["isPlaceholder"] for s in slots),
        "slots": slots,
    }


def readiness_payload(result: Readiness) -> dict[str, Any]:
    """``readiness(channel) { score ready missingLocales missingRoles checks { ... } }``."""
    return {
        "score": result.score,
        "ready": result.ready,
        "missingLocales": list(result.missing_locales),
        "missingRoles": [role.upper() for role in result.missing_roles],
        "checks": [
            {
                "id": c.id,
                "passed": c.passed,
                "severity": c.severity.upper(),
                "weight": c.weight,
                "message": c.message,
                "hint": c.hint,
            }
            for c in result.checks
        ],
    }


def options_payload(variant: Document) -> list[dict[str, str]]:
    return [{"code": k, "value": str(v)} for k, v in (variant.get("options") or {}).items()]
