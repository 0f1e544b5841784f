"""What the Node.js peers (``benchmarks/peers/``) need from the gateway's configuration, as JSON.

The peers implement the Q1/Q3 schema subset the way a team would in JavaScript, but what the
payloads contain is the gateway's configuration: locales and their fallback chains, the channel
profiles (slots, roles, placeholders, readiness rules, text limits) and one URL template per
slot, derived by the gateway's ``DamClient`` from the Cloudinary SDK exactly as the gateway's
``UrlBuilder`` derives it. A peer then builds each delivery URL as the gateway does: escape the
public id, add the version, sign if the channel signs, join (``UrlTemplate.fill``). Reading
``channels.toml`` and running the Python SDK in JavaScript is not what is being compared, so
the harness hands them over once at start-up; the payload check before timing proves the peers
build the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.dam_setup import command_line_dam
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.assets import DamClient
from resolvers.channels import ChannelProfile, SlotProfile
from resolvers.media.selection import SWATCH_FALLBACK_ROLES, hero_slot
from resolvers.media.urls import slot_url_options


def _template(dam: DamClient, slot: SlotProfile, signed: bool) -> dict[str, Any]:
    template = dam.url_template(**slot_url_options(slot, signed))
    if template is None:
        raise RuntimeError("the gateway builds these URLs with the SDK: no template for the peers")
    return {
        "head": template.head,
        "transformation": template.transformation,
        "format": template.format,
        "forceVersion": template.force_version,
        "secret": template.secret,
    }


def _channel(dam: DamClient, profile: ChannelProfile, rules: dict[str, Any]) -> dict[str, Any]:
    hero = hero_slot(profile)
    return {
        "locales": list(profile.locales),
        "signed": profile.signed,
        "heroSlot": hero[0] if hero else None,
        "slots": {
            name: {
                "resourceType": slot.resource_type,
                "format": slot.format,
                "roles": list(slot.roles),
                "placeholder": slot.placeholder,
                "requiredWidth": slot.required_width,
                "requiredHeight": slot.required_height,
                "template": _template(dam, slot, profile.signed),
            }
            for name, slot in profile.slots.items()
        },
        "rules": [
            {"id": rule_id, "weight": rule.weight, "severity": rule.severity}
            for rule_id, rule in rules.items()
        ],
    }


def peer_config(settings: Settings) -> dict[str, Any]:
    """The configuration of the peers for a gateway with ``settings``."""
    profiles = load_profiles(settings)
    locales, channels = profiles.locales, profiles.channels
    dam = command_line_dam(settings)
    text = channels.text_lengths
    return {
        "locales": {
            "default": locales.default,
            "chains": {tag: list(locales.chain(tag)) for tag in locales.locales},
        },
        "textLengths": {
            "name": [text.name_min, text.name_max],
            "description": [text.description_min, text.description_max],
        },
        "swatchFallbackRoles": list(SWATCH_FALLBACK_ROLES),
        "channels": {
            name: _channel(dam, profile, dict(channels.rules_for(name)))
            for name, profile in channels.profiles.items()
        },
    }


def write_peer_config(settings: Settings, path: Path) -> Path:
    path.write_text(json.dumps(peer_config(settings), indent=1) + "\n")
    return path
