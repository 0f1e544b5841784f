"""Choosing media for a channel: what is deliverable, and which asset fills which slot.

Plain functions over documents and profiles, so that the GraphQL layer, readiness scoring and
tests share one definition of "deliverable".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from resolvers.channels import SlotProfile
from resolvers.db import Document


def resource_type_of(role: str) -> str:
    return "video" if role == "video" else "image"


def reference_key(reference: Document) -> tuple[str, str]:
    """The asset loader key of a product's media reference."""
    return (resource_type_of(reference.get("role", "")), reference["publicId"])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    if valid_from is not None and now < _aware(valid_from):
        return f"promotional window opens {_aware(valid_from).date().isoformat()}"
    if valid_to is not None and now >= _aware(valid_to):
        # The window ends at valid_to (exclusive): name the last day it was open.
        last_day = (_aware(valid_to) - timedelta(microseconds=1)).date()
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


def ordered_references(
    references: Iterable[Document], variant_sku: str | None = None
) -> list[Document]:
    """References by position; for a variant, its own first, then the product's shared ones."""
    by_position = sorted(references, key=lambda r: r.get("position", 0))
    if variant_sku is None:
        return sorted(by_position, key=lambda r: "variantSku" in r)
    own = [r for r in by_position if r.get("variantSku") == variant_sku]
    shared = [r for r in by_position if "variantSku" not in r]
    return own + shared


def choose_for_slot(
    slot_name: str,
    slot: SlotProfile,
    references: Sequence[Document],
    assets: dict[tuple[str, str], Document | None],
    channel: str,
    now: datetime,
) -> SlotChoice:
    """The first deliverable asset in the slot's role order; otherwise the placeholder."""
    reasons: list[str] = []
    for rank, role in enumerate(slot.roles):
        candidates = [r for r in references if r.get("role") == role]
        if not candidates:
            reasons.append(f"no {role} media")
            continue
        for reference in candidates:
            asset = assets.get(reference_key(reference))
            problem = delivery_problem(asset, channel, now)
            if problem is None:
                if rank > 0:
                    reasons.append(f"fell back to {role}")
                return SlotChoice(slot_name, slot, reference, asset, role, rank > 0, tuple(reasons))
            reasons.append(f"{reference['publicId']}: {problem}")
    reasons.append(f"placeholder {slot.placeholder}")
    return SlotChoice(slot_name, slot, None, None, None, True, tuple(reasons))
