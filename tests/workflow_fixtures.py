"""A small catalog for publishing tests: products that pass every gate on every channel, the
assets they use in the mirror, the services with a workflow, and principals for each role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.access import Principal
from resolvers.access.roles import Role
from resolvers.db import Catalog, Document, ensure_indexes
from resolvers.documents import SCHEMA_VERSION
from resolvers.services import Services
from resolvers.validation import Validator
from resolvers.workflow.gates import Gates
from resolvers.workflow.service import Workflow
from resolvers.writes import ProductWriter, validate_with
from tests.graphql_helpers import services_for

PROFILES = load_profiles(Settings())
CHANNELS = PROFILES.channels.names()
NOW = datetime.now(UTC).replace(microsecond=0)
CATEGORY: dict[str, Any] = {
    "slug": "gear",
    "name": {"en-US": "Gear"},
    "parent": None,
    "ancestors": [],
    "position": 0,
    "requiredAttributes": [],
}


def role(name: str) -> Role:
    found = PROFILES.roles.get(name)
    assert found is not None
    return found


EDITOR = Principal("key", role("editor"), "Ed", key_id="ed-key")
LEAD = Principal("key", role("lead"), "Lea", key_id="lea-key")
OTHER_LEAD = Principal("key", role("lead"), "Lou", key_id="lou-key")
VIEWER = Principal("key", role("viewer"), "Vi", key_id="vi-key")
STOREFRONT = Principal("key", role("storefront"), "shop", key_id="shop-key")
WEB_STOREFRONT = Principal(
    "key", role("storefront"), "web shop", key_id="web-key", channels=frozenset({"web"})
)
ANONYMOUS = Principal.anonymous(role("storefront"))


def hero(sku: str) -> str:
    return f"wf/{sku}/hero"


def product(sku: str, n: int, **fields: Any) -> Document:
    names = {tag: f"Gadget {sku} {tag}" for tag in PROFILES.locales.locales}
    document: Document = {
        "sku": sku,
        "status": "draft",
        "brand": "Workflow",
        "name": names,
        "description": {tag: f"A gadget for testing, {tag}." for tag in names},
        "categories": ["gear"],
        "attributes": {},
        "variants": [],
        "accessories": [],
        "bundle": [],
        "related": [],
        "media": [{"publicId": hero(sku), "role": "hero", "position": 0}],
        "schemaVersion": SCHEMA_VERSION,
        "revision": 1,
        "createdAt": NOW - timedelta(days=n),
        "updatedAt": NOW - timedelta(days=n),
    }
    document.update(fields)
    return document


def asset(public_id: str, **fields: Any) -> Document:
    document: Document = {
        "publicId": public_id,
        "resourceType": "image",
        "status": "active",
        "width": 3000,
        "height": 3000,
        "format": "jpg",
        "alt": {tag: "A gadget" for tag in PROFILES.locales.locales},
        "checkedAt": NOW,
        "updatedAt": NOW,
    }
    document.update(fields)
    return document


async def load(catalog: Catalog, products: list[Document]) -> None:
    await ensure_indexes(catalog, PROFILES.locales.locales, CHANNELS)
    await catalog.categories.insert_one(dict(CATEGORY))
    await catalog.products.insert_many(products)
    await catalog.assets.insert_many(
        [asset(m["publicId"]) for p in products for m in p.get("media") or []]
    )


def writer(catalog: Catalog) -> ProductWriter:
    return ProductWriter(
        catalog,
        validate_with(Validator(PROFILES.validation)),
        PROFILES.ownership,
        PROFILES.channels,
        PROFILES.locales,
    )


def workflow(catalog: Catalog, *, four_eyes: bool = False, clock: Any = None) -> Workflow:
    gates = Gates(
        catalog, PROFILES.channels, PROFILES.locales, validate_with(Validator(PROFILES.validation))
    )
    extra = {"clock": clock} if clock is not None else {}
    return Workflow(
        catalog, PROFILES.channels, PROFILES.locales, gates, four_eyes=four_eyes, **extra
    )


def services(catalog: Catalog, **overrides: Any) -> Services:
    defaults: dict[str, Any] = {
        "writer": writer(catalog),
        "workflow": workflow(catalog),
        "preview_secret": b"p" * 32,
    }
    return services_for(catalog, **{**defaults, **overrides})


__all__ = ["Path"]
