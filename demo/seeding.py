"""Writing the demo catalog into MongoDB: on demand, or once when a replica set starts empty."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import replace as with_fields
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from demo.catalog import DEFAULT_LOCALES, DemoCatalog, generate_demo_catalog
from resolvers.access.principal import Principal
from resolvers.db import Catalog, Document
from resolvers.validation import Validator, Violation
from resolvers.writes import Actor, Provenance
from resolvers.writes.history import event_document

log = logging.getLogger(__name__)

SEED_CHUNK = 1_000
# The lock document (collection ``gateway_locks``) that elects one seeder among replicas.
DEMO_SEED_LOCK = "demo-seed"
SEED_TAKEOVER = timedelta(minutes=10)
# History names the seeder as the system writing under the name "demo".
SEED_ACTOR = Actor(with_fields(Principal.system(), name="demo"))
# The collections a seed writes, and --replace empties (history of a replaced catalog is gone
# with it: its (sku, revision) pairs would collide with the new catalog's).
SEEDED = ("products", "categories", "attributes", "change_events")


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What :func:`seed_demo_catalog` inserted."""

    products: int
    variants: int
    categories: int
    attributes: int
    media_references: int
    # Products written past the validator on purpose: planted defects (0 when not validated).
    unvalidated: int = 0
    # Change events recorded: one per product (operation "seed").
    events: int = 0


class CatalogNotEmptyError(ValueError):
    """The catalog already holds products and the caller did not ask to replace them."""


class DemoValidationError(ValueError):
    """A demo product that carries no planted defect breaks the validation rules: the generator
    or the rules changed without the other."""


def planted_past_validation(
    catalog: DemoCatalog, validator: Validator
) -> dict[str, list[Violation]]:
    """The products the seeder writes WITHOUT passing validation, by SKU, with their violations.

    Every other product must pass ``validator`` (else DemoValidationError): the seeder is a
    writer like any other. Planted defects are the exception, on purpose: they are written as a
    careless import would have written them, so that the audit and readiness have something to
    find.
    """
    categories = {category["slug"]: category for category in catalog.categories}
    planted = catalog.defects.product_skus()
    bypassed: dict[str, list[Violation]] = {}
    for product in catalog.products:
        mine = [categories[slug] for slug in product["categories"] if slug in categories]
        violations = validator.validate_product(product, categories=mine)
        if not violations:
            continue
        if product["sku"] not in planted:
            first = violations[0]
            raise DemoValidationError(
                f"demo product {product['sku']} breaks the validation rules: "
                f"{'.'.join(map(str, first.path))}: {first.code}: {first.message} "
                f"({first.rule}; {len(violations)} violation(s))"
            )
        bypassed[product["sku"]] = violations
    return bypassed


async def seed_demo_catalog(
    db: AsyncDatabase[Any],
    *,
    products: int = 300,
    seed: int = 7,
    locales: Sequence[str] = DEFAULT_LOCALES,
    replace: bool = False,
    validator: Validator | None = None,
) -> SeedReport:
    """Insert the demo catalog into ``products``, ``categories`` and ``attributes``, and one
    change event per product (operation ``seed``, actor the system named ``demo``) into
    ``change_events``, so every product's history starts with its first revision.

    Refuses with :class:`CatalogNotEmptyError` when products exist, unless ``replace`` is set,
    which first deletes every document of the four collections (indexes are kept). With a
    ``validator`` (the gateway's and the CLI's seeds), every product is validated before
    anything is written; only the planted defects go past it (:func:`planted_past_validation`).
    """
    existing = await db["products"].count_documents({})
    if existing and not replace:
        raise CatalogNotEmptyError(
            f"the catalog already holds {existing} product(s) in {db.name}.products; "
            f"use --replace to delete products, categories, attributes and change history and "
            f"seed again"
        )
    # Generating 10,000 products takes about a second: keep it off the event loop.
    catalog = await asyncio.to_thread(
        generate_demo_catalog, products=products, seed=seed, locales=locales
    )
    bypassed = {} if validator is None else planted_past_validation(catalog, validator)
    if replace:
        for name in SEEDED:
            await db[name].delete_many({})
    await _insert(db["attributes"], catalog.attributes)
    await _insert(db["categories"], catalog.categories)
    await _insert(db["products"], catalog.products)
    # Bulk, like the products, rather than a transaction per product: a seed that dies half-way
    # is redone from scratch (seed_demo_if_empty), so products and events cannot drift apart.
    events = seed_events(catalog.products, datetime.now(UTC))
    await _insert(db["change_events"], events)
    return SeedReport(
        products=len(catalog.products),
        variants=sum(len(p["variants"]) for p in catalog.products),
        categories=len(catalog.categories),
        attributes=len(catalog.attributes),
        media_references=sum(len(p["media"]) for p in catalog.products),
        unvalidated=len(bypassed),
        events=len(events),
    )


def seed_events(products: Sequence[Mapping[str, Any]], at: datetime) -> list[Document]:
    """Each product's first change event, at its revision (1), with no field changes.

    Unlike ``ProductWriter.create``'s event, it does not list every field from absent to its
    value: that doubled the bytes a seed writes (and the time ``make run`` takes to start), and
    history loses nothing by it: the seeded revision is rebuilt from the product and the events
    after it (``resolvers.writes.history.state_at``), which is what a revert to it uses.
    """
    provenance = Provenance()
    return [
        event_document(
            product,
            int(product.get("revision", 1)),
            "seed",
            (),
            SEED_ACTOR,
            provenance,
            at,
        )
        for product in products
    ]


async def _insert(collection: AsyncCollection[Any], documents: Sequence[Any]) -> None:
    for start in range(0, len(documents), SEED_CHUNK):
        await collection.insert_many(documents[start : start + SEED_CHUNK], ordered=False)


async def seed_demo_if_empty(
    catalog: Catalog, *, products: int, locales: Sequence[str], validator: Validator | None = None
) -> SeedReport | None:
    """Seed the demo catalog once, even with several replicas starting together.

    A lock document elects one seeder; a seed that died half-way (lock never completed) is
    taken over after SEED_TAKEOVER and started again from scratch. None when the catalog
    already had products or another process seeds it.
    """
    if await catalog.products.estimated_document_count() > 0:
        return None
    locks = catalog.db["gateway_locks"]
    now = datetime.now(UTC)
    try:
        await locks.insert_one({"_id": DEMO_SEED_LOCK, "startedAt": now})
    except DuplicateKeyError:
        stale = {
            "_id": DEMO_SEED_LOCK,
            "completedAt": {"$exists": False},
            "startedAt": {"$lt": now - SEED_TAKEOVER},
        }
        taken = await locks.find_one_and_update(stale, {"$set": {"startedAt": now}})
        if taken is None:
            log.info("demo catalog: seeded, or being seeded, by another process")
            return None
        log.warning("demo catalog: an earlier seed did not finish; seeding again")
    report = await seed_demo_catalog(
        catalog.db, products=products, locales=locales, replace=True, validator=validator
    )
    await locks.update_one({"_id": DEMO_SEED_LOCK}, {"$set": {"completedAt": datetime.now(UTC)}})
    log.info("seeded the demo catalog: %s", report)
    return report
