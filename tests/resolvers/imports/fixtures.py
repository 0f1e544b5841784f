"""A small catalog to import into: categories, attribute definitions and mirrored assets."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.access.principal import Principal
from resolvers.db import Catalog, Document, ensure_indexes
from resolvers.imports import ErrorPolicy, ImportJob, ImportPlanner
from resolvers.validation import Validator
from resolvers.writes import Actor, ProductWriter, validate_with

PROFILES = load_profiles(Settings())
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SYSTEM = Actor(Principal.system())


def asset(public_id: str, status: str = "active", resource_type: str = "image") -> Document:
    return {
        "publicId": public_id,
        "resourceType": resource_type,
        "status": status,
        "format": "jpg",
        "width": 1600,
        "height": 1600,
        "alt": {"en-US": "A picture"},
        "tags": [],
        "checkedAt": NOW,
        "updatedAt": NOW,
    }


async def prepared(catalog: Catalog) -> Catalog:
    await ensure_indexes(catalog, PROFILES.locales.locales, PROFILES.channels.names())
    await catalog.categories.insert_many(
        [
            {
                "slug": "shoes",
                "name": {"en-US": "Shoes"},
                "parent": None,
                "ancestors": [],
                "position": 0,
                "requiredAttributes": ["color"],
            }
        ]
    )
    await catalog.attributes.insert_one(
        {"code": "color", "type": "enum", "label": {"en-US": "Colour"}, "localizable": False}
    )
    await catalog.assets.insert_many(
        [
            *(asset(f"catalog/P-{n}/hero-1") for n in range(10)),
            asset("catalog/gone", "deleted"),
            asset("catalog/bad", "rejected") | {"rejectReasons": ["too blurry"]},
        ]
    )
    return catalog


def product(sku: str, **fields: Any) -> Document:
    document: Document = {
        "sku": sku,
        "status": "draft",
        "brand": "Acme",
        "name": {"en-US": f"Trail Shoe {sku}", "de-DE": f"Laufschuh {sku}"},
        "description": {"en-US": "Light and quick on every trail."},
        "categories": ["shoes"],
        "attributes": {"color": {"value": "red"}, "weight": {"value": 300, "unit": "g"}},
        "variants": [{"sku": f"{sku}-42", "options": {"size": "42"}}],
        "media": [{"publicId": f"catalog/{sku}/hero-1", "role": "hero", "position": 0}],
    }
    document.update(fields)
    return document


def jsonl(documents: Iterable[Document]) -> bytes:
    return "".join(json.dumps(d) + "\n" for d in documents).encode()


def planner(catalog: Catalog, batch_size: int = 500) -> ImportPlanner:
    return ImportPlanner(
        catalog,
        validate_with(Validator(PROFILES.validation)),
        PROFILES.ownership,
        PROFILES.channels,
        PROFILES.locales,
        clock=lambda: NOW,
        batch_size=batch_size,
    )


def job(
    catalog: Catalog,
    policy: ErrorPolicy = "reject-all",
    actor: Actor = SYSTEM,
    batch_size: int = 500,
) -> ImportJob:
    return ImportJob(planner(catalog, batch_size), actor, policy)


def writer(catalog: Catalog) -> ProductWriter:
    return ProductWriter(
        catalog,
        validate_with(Validator(PROFILES.validation)),
        PROFILES.ownership,
        PROFILES.channels,
        PROFILES.locales,
        clock=lambda: NOW,
    )


async def counts(catalog: Catalog) -> tuple[int, int]:
    return (
        await catalog.products.count_documents({}),
        await catalog.change_events.count_documents({}),
    )
