"""Readiness: is a product fit to publish on a channel (and in a locale), and exactly why not.

One pure function, ``evaluate``, over documents already loaded; the GraphQL field (lazy, per
page) and the stored scores (materialized on write) both call it, so they cannot disagree.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from resolvers.channels import ChannelProfile, Channels, ReadinessConfig, SlotProfile
from resolvers.db import Document
from resolvers.locales import LocaleResolver
from resolvers.media import (
    SlotChoice,
    delivery_problem,
    option_value,
    ordered_references,
    reference_key,
    swatch_slot,
)
from resolvers.media.selection import choose_by_role, references_by_role, sibling_sets
from resolvers.validation.rules import TextLengths

# Formats every client can display: a slot fixed to another one (webp, avif) has no fallback.
# Stored scores carry this with the channel profiles' digest: bump it whenever a rule changes what
# it scores, so every replica and the next start rescore what the old code stored.
# 2: swatches are chosen per colour, and the hero slot by the one rule that fills slots.
RULES_VERSION = 2

UNIVERSAL_FORMATS = {"auto", "jpg", "png", "gif", "mp4"}

# The top-level product fields the rules read (categories: their required attributes come from
# the taxonomy), so that a query scoring products may read only these of each document. A rule
# that reads another field must add it here: tests/resolvers/readiness/test_fields_read.py
# scores catalogs on these fields alone.
PRODUCT_FIELDS_READ = ("media", "variants", "name", "description", "attributes", "categories")


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    passed: bool
    severity: str
    weight: int
    message: str
    hint: str


@dataclass(frozen=True, slots=True)
class Readiness:
    channel: str
    locales: tuple[str, ...]
    score: int
    ready: bool
    checks: tuple[Check, ...]
    missing_locales: tuple[str, ...]
    missing_roles: tuple[str, ...]

    @property
    def failed(self) -> list[str]:
        return [check.id for check in self.checks if not check.passed]


class _ProductIndex:
    """A product's references and colour variants, scanned once: the rules and every slot then
    read them by role, key and colour instead of rescanning the product for each."""

    __slots__ = ("by_role", "colours", "media", "siblings", "variant_media")

    def __init__(self, product: Document) -> None:
        references = product.get("media") or []
        # In the product's order, with their asset keys.
        self.media = [(reference, reference_key(reference)) for reference in references]
        # A product slot's candidates of each role, in the order slot_candidates gives them.
        self.by_role = references_by_role(ordered_references(references))
        # What a variant's swatch may come from: (variantSku, role, asset key).
        self.variant_media = [
            (reference.get("variantSku"), reference.get("role"), key)
            for reference, key in self.media
        ]
        self.colours: dict[str, list[str]] = {}
        for variant in product.get("variants") or []:
            colour = option_value(variant)
            if colour:
                self.colours.setdefault(colour, []).append(variant["sku"])
        self.siblings = sibling_sets(product) if self.colours else {}


class ScoringMemo:
    """What the evaluations of one product share across channels (its references by role and
    colour, text and alt text per locale, each asset's deliverability per channel): scoring a
    product on four channels computes each once instead of four times. One memo per product and
    scoring pass (the same documents, assets and ``now``); never kept beyond it."""

    __slots__ = ("alts", "index", "problems", "swatch_placeholders", "texts")

    def __init__(self) -> None:
        self.index: _ProductIndex | None = None
        # By channel, then asset key.
        self.problems: dict[str, dict[tuple[str, str], str | None]] = {}
        self.texts: dict[tuple[str, str], int | None] = {}
        self.alts: dict[tuple[str, str], bool] = {}
        self.swatch_placeholders: dict[tuple[str, frozenset[str]], bool] = {}

    def index_of(self, product: Document) -> _ProductIndex:
        if self.index is None:
            self.index = _ProductIndex(product)
        return self.index


@dataclass(slots=True)
class _Inputs:
    product: Document
    assets: dict[tuple[str, str], Document | None]
    categories: list[Document]
    attributes: dict[str, Document | None]
    channel: str
    plan: _ChannelPlan
    locales: LocaleResolver
    wanted: tuple[str, ...]
    text: TextLengths
    now: datetime
    memo: ScoringMemo
    index: _ProductIndex
    # The memo's delivery problems of this channel, by asset key.
    problems: dict[tuple[str, str], str | None]
    choices: dict[str, SlotChoice] = field(default_factory=dict)
    missing_locales: set[str] = field(default_factory=set)

    def problem(self, key: tuple[str, str]) -> str | None:
        """``delivery_problem`` of the asset under ``key`` on this channel."""
        problems = self.problems
        if key in problems:
            return problems[key]
        problem = problems[key] = delivery_problem(self.assets.get(key), self.channel, self.now)
        return problem

    def fill(self, name: str, slot: SlotProfile) -> SlotChoice:
        """``fill_slot`` for this product, with candidates and deliverability memoized."""
        return choose_by_role(
            name, slot, self.index.by_role, self.assets, self.channel, self.now, self.problem
        )

    def text_length(self, field_name: str, tag: str) -> int | None:
        """The length of the text ``tag`` shows for a localized field, None when ``tag`` has
        no text of its own (or from its fallbacks, the default locale aside)."""
        texts = self.memo.texts
        key = (field_name, tag)
        if key in texts:
            return texts[key]
        shown = self.locales.own_value(self.product.get(field_name) or {}, tag)
        length = texts[key] = None if shown is None else len(str(shown))
        return length

    def has_alt(self, asset: Document, tag: str) -> bool:
        alts = self.memo.alts
        key = (asset["publicId"], tag)
        if key in alts:
            return alts[key]
        found = alts[key] = self.locales.has_own_value(asset.get("alt"), tag)
        return found


def needed_codes(categories: Iterable[Document]) -> list[str]:
    """Attribute codes the product's categories require."""
    return list(dict.fromkeys(c for cat in categories for c in cat.get("requiredAttributes") or []))


def asset_keys(product: Document) -> list[tuple[str, str]]:
    return [reference_key(r) for r in product.get("media") or []]


def evaluate(
    product: Document,
    *,
    assets: dict[tuple[str, str], Document | None],
    categories: list[Document],
    attributes: dict[str, Document | None],
    channel: str,
    channels: Channels,
    locales: LocaleResolver,
    locale: str | None,
    now: datetime,
    memo: ScoringMemo | None = None,
) -> Readiness:
    """Run every rule of the channel and score the product (0-100; ready = no blocker failed).

    Scoring one product on several channels, pass one ``ScoringMemo`` to every call."""
    plan = _plan(channels, channel)
    wanted = (locale,) if locale else plan.locales
    memo = memo if memo is not None else ScoringMemo()
    inputs = _Inputs(
        product,
        assets,
        categories,
        attributes,
        channel,
        plan,
        locales,
        wanted,
        channels.text_lengths,
        now,
        memo,
        memo.index_of(product),
        memo.problems.setdefault(channel, {}),
    )
    inputs.choices = {name: inputs.fill(name, slot) for name, slot in plan.slots}
    checks = []
    for rule_id, run, severity, weight, hint in plan.rules:
        passed, message = run(inputs)
        checks.append(Check(rule_id, passed, severity, weight, message, hint))
    return _score(channel, wanted, checks, inputs)


_Rule = Callable[["_Inputs"], tuple[bool, str]]


class _ChannelPlan:
    """What scoring on a channel needs from its profile, worked out once per profile rather
    than per product (its rules with their weights, its swatch slot)."""

    __slots__ = ("locales", "profile", "readiness", "rules", "slots", "swatch")

    def __init__(self, channels: Channels, channel: str) -> None:
        self.profile = channels.profiles[channel]
        self.readiness = channels.readiness
        self.locales = tuple(self.profile.locales)
        self.slots = list(self.profile.slots.items())
        self.rules = [
            (rule_id, _RULES[rule_id], rule.severity, rule.weight, rule.hint)
            for rule_id, rule in channels.rules_for(channel).items()
        ]
        self.swatch = swatch_slot(self.profile)

    def fits(self, profile: ChannelProfile, readiness: ReadinessConfig) -> bool:
        return profile is self.profile and readiness is self.readiness


# Per Channels object, dropped with it; a plan is rebuilt if the profile it came from was
# replaced.
_PLANS: weakref.WeakKeyDictionary[Channels, dict[str, _ChannelPlan]] = weakref.WeakKeyDictionary()


def _plan(channels: Channels, channel: str) -> _ChannelPlan:
    plans = _PLANS.get(channels)
    if plans is None:
        plans = _PLANS[channels] = {}
    plan = plans.get(channel)
    if plan is None or not plan.fits(channels.profiles[channel], channels.readiness):
        plan = plans[channel] = _ChannelPlan(channels, channel)
    return plan


def _score(
    channel: str, wanted: tuple[str, ...], checks: list[Check], inputs: _Inputs
) -> Readiness:
    total = sum(check.weight for check in checks)
    earned = sum(check.weight for check in checks if check.passed)
    # Floor, so that 100 means every rule passed.
    score = 100 if total == 0 else earned * 100 // total
    ready = not any(c.severity == "blocker" and not c.passed for c in checks)
    missing_roles = tuple(
        dict.fromkeys(
            choice.slot.roles[0] for choice in inputs.choices.values() if choice.is_placeholder
        )
    )
    missing_locales = tuple(t for t in wanted if t in inputs.missing_locales)
    return Readiness(channel, wanted, score, ready, tuple(checks), missing_locales, missing_roles)


def _used_images(inputs: _Inputs) -> list[tuple[str, SlotChoice]]:
    return [
        (name, choice)
        for name, choice in inputs.choices.items()
        if choice.asset is not None and choice.asset.get("resourceType", "image") == "image"
    ]


def _hero_image(inputs: _Inputs) -> tuple[bool, str]:
    problems = []
    for reference, key in inputs.index.media:
        if reference.get("role") != "hero":
            continue
        problem = inputs.problem(key)
        if problem is None:
            return True, f"hero image {reference['publicId']}"
        problems.append(f"{reference['publicId']}: {problem}")
    if problems:
        return False, "no deliverable hero image (" + "; ".join(problems) + ")"
    return False, "no hero image"


def _image_resolution(inputs: _Inputs) -> tuple[bool, str]:
    small = []
    used = _used_images(inputs)
    for name, choice in used:
        asset, slot = choice.asset or {}, choice.slot
        width, height = asset.get("width") or 0, asset.get("height") or 0
        if width < slot.required_width or height < slot.required_height:
            small.append(
                f"{asset['publicId']} is {width}x{height}, slot {name} needs "
                f"{slot.required_width}x{slot.required_height}"
            )
    if small:
        return False, "; ".join(small)
    return True, f"{len(used)} image(s) large enough for their slots"


def _alt_text(inputs: _Inputs) -> tuple[bool, str]:
    gaps = []
    seen: set[str] = set()
    for _, choice in _used_images(inputs):
        asset = choice.asset or {}
        if asset["publicId"] in seen:
            continue
        seen.add(asset["publicId"])
        missing = [t for t in inputs.wanted if not inputs.has_alt(asset, t)]
        if missing:
            inputs.missing_locales.update(missing)
            gaps.append(f"{asset['publicId']} lacks {', '.join(missing)}")
    if gaps:
        return False, "alt text missing: " + "; ".join(gaps)
    return True, f"alt text in {', '.join(inputs.wanted)}"


def _delivery_fallback(inputs: _Inputs) -> tuple[bool, str]:
    problems = [
        f"slot {name} is fixed to {choice.slot.format}, which not every client displays"
        for name, choice in inputs.choices.items()
        if choice.slot.format not in UNIVERSAL_FORMATS
    ]
    problems += list(
        dict.fromkeys(
            f"{choice.asset['publicId']} has no known format"
            for choice in inputs.choices.values()
            if choice.asset is not None and not choice.asset.get("format")
        )
    )
    if problems:
        return False, "; ".join(problems)
    return True, "every slot has a deliverable format and a placeholder"


def _variant_swatches(inputs: _Inputs) -> tuple[bool, str]:
    """Each colour variant's swatch, chosen as the variant's ``swatch`` field chooses it, is no
    placeholder."""
    by_colour = inputs.index.colours
    if not by_colour:
        return True, "no colour variants"
    found = inputs.plan.swatch
    if found is None:
        return True, f"{inputs.channel} has no swatch slot"
    _, slot = found
    problems = []
    for colour, skus in by_colour.items():
        placeholders = [sku for sku in skus if _swatch_is_placeholder(inputs, slot, sku)]
        if placeholders:
            verb = "gets" if len(placeholders) == 1 else "get"
            problems.append(
                f"no deliverable swatch or image for colour {colour} "
                f"({', '.join(placeholders)} {verb} the swatch placeholder)"
            )
    if problems:
        return False, "; ".join(problems)
    return True, f"{len(by_colour)} colour(s) have a swatch or image"


def _swatch_is_placeholder(inputs: _Inputs, slot: SlotProfile, sku: str) -> bool:
    # fill_slot gives a variant the placeholder when none of its candidates (the references of
    # the slot's roles attached to its colour siblings) is deliverable; their order does not
    # matter for that, so every variant of the colour gets the same answer.
    siblings = inputs.index.siblings[sku]
    key = (inputs.channel, siblings)
    known = inputs.memo.swatch_placeholders
    if key not in known:
        roles = slot.roles
        known[key] = not any(
            variant_sku in siblings and role in roles and inputs.problem(asset_key) is None
            for variant_sku, role, asset_key in inputs.index.variant_media
        )
    return known[key]


def _video_posters(inputs: _Inputs) -> tuple[bool, str]:
    delivered = [
        inputs.assets.get(key)
        for r, key in inputs.index.media
        if r.get("role") == "video" and inputs.problem(key) is None
    ]
    lacking = [v["publicId"] for v in delivered if v is not None and not v.get("poster")]
    if lacking:
        return False, f"no poster (a video frame is shown instead): {', '.join(lacking)}"
    return True, f"{len(delivered)} video(s) with posters" if delivered else "no videos"


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _required_attributes(inputs: _Inputs) -> tuple[bool, str]:
    values = inputs.product.get("attributes") or {}
    missing = []
    for code in needed_codes(inputs.categories):
        stored = (values.get(code) or {}).get("value")
        definition = inputs.attributes.get(code) or {}
        if definition.get("localizable") or isinstance(stored, dict):
            gaps = [
                t
                for t in inputs.wanted
                if not inputs.locales.has_own_value(stored if isinstance(stored, dict) else None, t)
            ]
            if gaps:
                inputs.missing_locales.update(gaps)
                missing.append(f"{code} ({', '.join(gaps)})")
        elif _blank(stored) or (isinstance(stored, str) and not stored.strip()):
            missing.append(code)
    if missing:
        return False, f"missing {', '.join(missing)}"
    return True, "required attributes filled"


def _text_lengths(inputs: _Inputs) -> tuple[bool, str]:
    rules = inputs.text
    problems = []
    for field_name, low, high in (
        ("name", rules.name_min, rules.name_max),
        ("description", rules.description_min, rules.description_max),
    ):
        for tag in inputs.wanted:
            length = inputs.text_length(field_name, tag)
            if length is None:
                inputs.missing_locales.add(tag)
                problems.append(f"{field_name} missing in {tag}")
            elif not low <= length <= high:
                problems.append(
                    f"{field_name} in {tag} has {length} characters (allowed {low}-{high})"
                )
    if problems:
        return False, "; ".join(problems)
    return True, "name and description within the length rules"


def _asset_validity(inputs: _Inputs) -> tuple[bool, str]:
    problems = []
    for reference, key in inputs.index.media:
        problem = inputs.problem(key)
        if problem is not None:
            problems.append(f"{reference['publicId']}: {problem}")
    if problems:
        return False, "; ".join(problems)
    return True, "every asset in use is valid for this channel"


_RULES = {
    "hero_image": _hero_image,
    "image_resolution": _image_resolution,
    "alt_text": _alt_text,
    "delivery_fallback": _delivery_fallback,
    "variant_swatches": _variant_swatches,
    "video_posters": _video_posters,
    "required_attributes": _required_attributes,
    "text_lengths": _text_lengths,
    "asset_validity": _asset_validity,
}
