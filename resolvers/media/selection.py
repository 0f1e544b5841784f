"""Choosing media for a channel: what is deliverable, and which asset fills which slot.

Plain functions over documents and profiles, so that the GraphQL layer, readiness scoring and
tests share one definition of "deliverable".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import Decimal128

from resolvers.channels import ChannelProfile, SlotProfile
from resolvers.db import Document, as_utc

# The variant option a swatch stands for: variants with the same value share their swatch.
SWATCH_OPTION = "color"
# What a variant's swatch slot takes after its own roles: a front or hero image of its colour.
SWATCH_FALLBACK_ROLES = ("front", "hero")


def resource_type_of(role: str) -> str:
    return "video" if role == "video" else "image"


def reference_key(reference: Document) -> tuple[str, str]:
    """The asset loader key of a product's media reference."""
    return (resource_type_of(reference.get("role", "")), reference["publicId"])


def delivery_problem(asset: Document | None, channel: str, now: datetime) -> str | None:
    """Why ``asset`` must not be delivered on ``channel`` now, or None when it may be."""
    if asset is None or asset.get("status") in ("missing", "deleted"):
        return "not found in Cloudinary"
    if asset.get("status") == "rejected":
        reasons = "; ".join(asset.get("rejectReasons") or []) or "no reason recorded"
        return f"rejected at ingest ({reasons})"
    if asset.get("lifecycle") == "retired":
        return "retired"
    valid_from, valid_to = asset.get("validFrom"), asset.get("validTo")
    if valid_from is not None and now < as_utc(valid_from):
        return f"promotional window opens {as_utc(valid_from).date().isoformat()}"
    if valid_to is not None and now >= as_utc(valid_to):
        # The window ends at valid_to (exclusive): name the last day it was open.
        last_day = (as_utc(valid_to) - timedelta(microseconds=1)).date()
        return f"expired {last_day.isoformat()} (promotional window over)"
    channels = asset.get("usageChannels")
    if channels is not None and channel not in channels:
        return f"usage rights do not cover {channel} (only {', '.join(channels)})"
    return None


@dataclass(frozen=True, slots=True)
class SlotChoice:
    """What fills one slot: an asset, or the slot's placeholder, and why."""

    slot_name: str
    slot: SlotProfile
    reference: Document | None
    asset: Document | None
    role: str | None
    is_fallback: bool
    reasons: tuple[str, ...] = ()

    @property
    def is_placeholder(self) -> bool:
        return self.asset is None

    @property
    def public_id(self) -> str:
        return self.asset["publicId"] if self.asset else self.slot.placeholder


def _as_position(value: Any) -> float | None:
    """A stored position as a number; None when it is not one."""
    if isinstance(value, Decimal128):
        value = float(value.to_decimal())
    # bool is an int to Python, not a position to anyone.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def position_order(reference: Document) -> tuple[bool, float]:
    """Sort key by position (none counts as 0). Documents written around the gateway (the PIM
    store is shared) may hold a position that is not a number: those come after the numbered
    ones, in stored order, instead of failing every media field of the product."""
    position = reference.get("position", 0)
    if type(position) is int:  # nearly always: the one check on the hot path (not a bool)
        return (False, position)
    number = _as_position(position)
    return (True, 0.0) if number is None else (False, number)


def next_position(references: Iterable[Document]) -> int:
    """The position after every numbered reference's (0 for the first)."""
    numbered = [
        number
        for number in (_as_position(r.get("position", 0)) for r in references)
        if number is not None
    ]
    return math.floor(max(numbered)) + 1 if numbered else 0


def ordered_references(
    references: Iterable[Document], variant_sku: str | None = None
) -> list[Document]:
    """References by position; for a variant, its own first, then the product's shared ones."""
    by_position = sorted(references, key=position_order)
    if variant_sku is None:
        return sorted(by_position, key=lambda r: "variantSku" in r)
    own = [r for r in by_position if r.get("variantSku") == variant_sku]
    shared = [r for r in by_position if "variantSku" not in r]
    return own + shared


def option_value(variant: Document, code: str = SWATCH_OPTION) -> str | None:
    """A variant's value of an option (its colour by default), or None when it has none."""
    value = (variant.get("options") or {}).get(code)
    return str(value) if value not in (None, "") else None


def swatch_siblings(product: Document, variant_sku: str) -> list[str]:
    """The variant, then the product's other variants of its colour (in the product's order);
    only the variant itself when it has no colour."""
    variants = product.get("variants") or []
    colour = next((option_value(v) for v in variants if v.get("sku") == variant_sku), None)
    if colour is None:
        return [variant_sku]
    return [
        variant_sku,
        *(v["sku"] for v in variants if v.get("sku") != variant_sku and option_value(v) == colour),
    ]


def sibling_sets(product: Document) -> dict[str, frozenset[str]]:
    """``frozenset(swatch_siblings(product, sku))`` for every variant's sku, in one pass over the
    variants instead of one per variant: what readiness needs, the siblings whatever their
    order (every variant of a colour has the same set)."""
    first_colour: dict[str, str | None] = {}
    members: dict[str, list[str]] = {}
    for variant in product.get("variants") or []:
        colour = option_value(variant)
        first_colour.setdefault(variant.get("sku"), colour)
        if colour is not None:
            members.setdefault(colour, []).append(variant["sku"])
    groups = {colour: frozenset(skus) for colour, skus in members.items()}
    # The sku's first variant decides its colour, as in swatch_siblings; that variant is one of
    # the colour's members, so the colour's set includes the sku itself.
    return {
        sku: frozenset((sku,)) if colour is None else groups[colour]
        for sku, colour in first_colour.items()
        if sku is not None
    }


def slot_candidates(
    product: Document, roles: Iterable[str], variant_sku: str | None = None
) -> list[Document]:
    """The product's references that may fill a slot taking ``roles``, in the order tried.

    For the product: by position, its shared references before variant-specific ones. For a
    variant: only variant-specific references, the variant's own first, then those of the other
    variants of its colour (a swatch attached to one variant of a colour serves them all).
    """
    wanted = set(roles)
    candidates = [r for r in product.get("media") or [] if r.get("role") in wanted]
    if variant_sku is None:
        return ordered_references(candidates)
    rank = {sku: index for index, sku in enumerate(swatch_siblings(product, variant_sku))}
    by_position = sorted(candidates, key=position_order)
    mine = [r for r in by_position if r.get("variantSku") in rank]
    return sorted(mine, key=lambda r: rank[r["variantSku"]])


def named_slot(profile: ChannelProfile, name: str) -> tuple[str, SlotProfile] | None:
    """The slot a field named after it stands for: the channel's slot called ``name``, else
    its first slot whose preferred role is ``name``; None when it has neither."""
    slot = profile.slots.get(name)
    return (name, slot) if slot is not None else profile.lead_slot(name)


def hero_slot(profile: ChannelProfile) -> tuple[str, SlotProfile] | None:
    """The slot ``heroImage`` fills (and so the manifest's slot of that name)."""
    return named_slot(profile, "hero")


def swatch_slot(profile: ChannelProfile) -> tuple[str, SlotProfile] | None:
    """The slot a variant's swatch fills, its roles followed by ``SWATCH_FALLBACK_ROLES``."""
    found = named_slot(profile, "swatch")
    if found is None:
        return None
    name, slot = found
    roles = list(dict.fromkeys([*slot.roles, *SWATCH_FALLBACK_ROLES]))
    return name, slot.model_copy(update={"roles": roles})


def fill_slot(
    name: str,
    slot: SlotProfile,
    product: Document,
    assets: dict[tuple[str, str], Document | None],
    channel: str,
    now: datetime,
    variant_sku: str | None = None,
) -> SlotChoice:
    """What fills a slot for a product (or for one of its variants): the one rule behind the
    manifest, ``heroImage``, a variant's ``swatch`` and the readiness rules. ``assets`` must
    hold the assets of ``slot_candidates(product, slot.roles, variant_sku)``."""
    candidates = slot_candidates(product, slot.roles, variant_sku)
    return choose_for_slot(name, slot, candidates, assets, channel, now)


def references_by_role(references: Iterable[Document]) -> dict[str, list[Document]]:
    """``references`` grouped by role, each group in the given order: what ``choose_for_slot``
    tries for each of a slot's roles. Grouped once, the groups serve every slot."""
    by_role: dict[str, list[Document]] = {}
    for reference in references:
        by_role.setdefault(reference.get("role"), []).append(reference)  # type: ignore[arg-type]
    return by_role


def choose_for_slot(
    slot_name: str,
    slot: SlotProfile,
    references: Sequence[Document],
    assets: dict[tuple[str, str], Document | None],
    channel: str,
    now: datetime,
    problem_of: Callable[[tuple[str, str]], str | None] | None = None,
) -> SlotChoice:
    """The first deliverable asset in the slot's role order; otherwise the placeholder.

    ``problem_of``: ``delivery_problem`` by asset key, when the caller memoizes it."""
    return choose_by_role(
        slot_name, slot, references_by_role(references), assets, channel, now, problem_of
    )


def choose_by_role(
    slot_name: str,
    slot: SlotProfile,
    by_role: Mapping[str, Sequence[Document]],
    assets: Mapping[tuple[str, str], Document | None],
    channel: str,
    now: datetime,
    problem_of: Callable[[tuple[str, str]], str | None] | None = None,
) -> SlotChoice:
    """``choose_for_slot`` over references already grouped by ``references_by_role``."""
    reasons: list[str] = []
    for rank, role in enumerate(slot.roles):
        candidates = by_role.get(role)
        if not candidates:
            reasons.append(f"no {role} media")
            continue
        for reference in candidates:
            key = reference_key(reference)
            asset = assets.get(key)
            problem = (
                delivery_problem(asset, channel, now) if problem_of is None else problem_of(key)
            )
            if problem is None:
                if rank > 0:
                    reasons.append(f"fell back to {role}")
                return SlotChoice(slot_name, slot, reference, asset, role, rank > 0, tuple(reasons))
            reasons.append(f"{reference['publicId']}: {problem}")
    reasons.append(f"placeholder {slot.placeholder}")
    return SlotChoice(slot_name, slot, None, None, None, True, tuple(reasons))
