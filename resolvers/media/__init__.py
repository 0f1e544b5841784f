"""Media for a channel: which asset fills which slot (``selection``) and its URLs (``urls``)."""

from resolvers.media.selection import (
    SlotChoice,
    choose_for_slot,
    delivery_problem,
    fill_slot,
    hero_slot,
    next_position,
    option_value,
    ordered_references,
    position_order,
    reference_key,
    slot_candidates,
    swatch_slot,
)
from resolvers.media.urls import UrlBuilder, delivered_size, slot_transformation

__all__ = [
    "SlotChoice",
    "UrlBuilder",
    "choose_for_slot",
    "delivered_size",
    "delivery_problem",
    "fill_slot",
    "hero_slot",
    "next_position",
    "option_value",
    "ordered_references",
    "position_order",
    "reference_key",
    "slot_candidates",
    "slot_transformation",
    "swatch_slot",
]
