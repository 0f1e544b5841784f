"""Per-request dataloaders: one loader per entity and key, each batch one ``$in`` query."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Self

from aiodataloader import DataLoader
from bson import ObjectId

from resolvers.assets import AssetByKeyLoader, DamClient
from resolvers.batching import Loader, succeeded
from resolvers.db import Catalog, Collection, Document
from resolvers.products import PRODUCT_FIELDS, product_projection
from resolvers.raw_documents import RawDocuments, find_documents
from resolvers.upcasting import upcast_or_error


class _DocumentLoader(Loader[Hashable, Document | None]):
    """Loads documents of one collection by one unique field; ``None`` for misses.

    ``clause`` (equality conditions on top-level fields) is added to every query: a document
    that fails it loads as ``None``, exactly like a missing one, in the same command.
    """

    field: ClassVar[str]
    # Product documents may be stored in an older schemaVersion: they load in the current shape.
    upcasts: ClassVar[bool] = False

    def __init__(
        self,
        collection: Collection,
        max_batch_size: int,
        projection: Document | None = None,
        clause: Mapping[str, Any] | None = None,
        raws: RawDocuments | None = None,
    ) -> None:
        super().__init__(max_batch_size=max_batch_size)
        self.collection = collection
        self.projection = projection
        self.clause = _equality_clause(clause)
        self.raws = raws

    def admits(self, document: Document) -> bool:
        """Whether ``document`` satisfies the clause (it may be primed, or returned)."""
        return self.clause is None or all(document.get(k) == v for k, v in self.clause.items())

    def prime(self, key: Hashable, value: Document | None) -> Self:
        # A document fetched elsewhere (a page) must not reach callers the clause hides.
        return super().prime(key, value if value is None or self.admits(value) else None)

    async def batch_load_fn(self, keys: list[Hashable]) -> list[Document | None]:
        by_key: dict[Hashable, Document] = {}
        # One round trip: with the default first batch (101 documents), or a batch exactly as
        # large as the result, the driver would send getMore commands.
        query: dict[str, Any] = {self.field: {"$in": list(keys)}}
        if self.clause is not None:
            query.update(self.clause)
        for document in await find_documents(
            self.collection, query, self.projection, self.raws, batch_size=len(keys) + 1
        ):
            by_key[document[self.field]] = document
        if not self.upcasts:
            return [by_key.get(key) for key in keys]
        # A document from the future fails its own key (aiodataloader rejects a key whose value
        # is an exception), not the other products of the batch.
        upcast: list[Any] = [upcast_or_error(by_key.get(key)) for key in keys]
        return upcast

    async def load_optional(self, key: Hashable | None) -> Document | None:
        """Like ``load`` but ``None`` for a ``None`` key (aiodataloader raises on it)."""
        if key is None:
            return None
        return await self.load(key)

    async def load_existing(self, keys: Iterable[Hashable]) -> list[Document]:
        """Documents for ``keys`` in order, skipping keys that match nothing."""
        documents = await self.load_many(list(keys))
        return [d for d in documents if d is not None]


def _equality_clause(clause: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``clause`` if it is equalities on top-level fields, which ``admits`` can check in
    Python as MongoDB would; anything else is refused rather than half-enforced."""
    if not clause:
        return None
    for name, value in clause.items():
        if "." in name or name.startswith("$") or isinstance(value, Mapping | list):
            raise ValueError(f"a loader clause takes equalities on fields: {name!r}: {value!r}")
    return dict(clause)


class ProductBySkuLoader(_DocumentLoader):
    field = "sku"
    upcasts = True


class ProductByIdLoader(_DocumentLoader):
    field = "_id"
    upcasts = True


class CategoryBySlugLoader(_DocumentLoader):
    field = "slug"


class CategoryByIdLoader(_DocumentLoader):
    field = "_id"


class CategoryChildrenByParentLoader(DataLoader[str, list[Document]]):
    """Child categories of each parent slug, in position order."""

    def __init__(self, collection: Collection, max_batch_size: int) -> None:
        super().__init__(max_batch_size=max_batch_size)
        self.collection = collection

    async def batch_load_fn(self, parents: list[str]) -> list[list[Document]]:
        by_parent: dict[str, list[Document]] = {parent: [] for parent in parents}
        query = {"parent": {"$in": parents}}
        async for document in self.collection.find(query).sort([("position", 1), ("slug", 1)]):
            by_parent[document["parent"]].append(document)
        return [by_parent[parent] for parent in parents]


class Taxonomy:
    """All categories and attribute definitions, read at most once per request.

    Readiness needs the categories of every product on a page and then the definitions of the
    attributes they require; chained loaders batch that unevenly (cache hits finish early), so
    the number of queries would vary with the page. Both collections are small: one query each.
    """

    def __init__(self, catalog: Catalog, raws: RawDocuments | None = None) -> None:
        self.catalog = catalog
        self.raws = raws
        self._categories: asyncio.Task[dict[str, Document]] | None = None
        self._attributes: asyncio.Task[dict[str, Document]] | None = None

    async def categories(self) -> dict[str, Document]:
        if self._categories is None:
            self._categories = asyncio.ensure_future(self._read(self.catalog.categories, "slug"))
        return await asyncio.shield(self._categories)

    async def attributes(self) -> dict[str, Document]:
        if self._attributes is None:
            self._attributes = asyncio.ensure_future(self._read(self.catalog.attributes, "code"))
        return await asyncio.shield(self._attributes)

    def settled_categories(self) -> dict[str, Document] | None:
        """The categories if read already (see ``resolvers.batching``), else None."""
        return _settled(self._categories)

    def settled_attributes(self) -> dict[str, Document] | None:
        return _settled(self._attributes)

    async def _read(self, collection: Collection, key: str) -> dict[str, Document]:
        documents = await find_documents(collection, {}, None, self.raws, batch_size=10_000)
        return {d[key]: d for d in documents}


def _settled(task: asyncio.Task[dict[str, Document]] | None) -> dict[str, Document] | None:
    return task.result() if task is not None and succeeded(task) else None


class Loaders:
    """The loaders of one request. Never share an instance between requests."""

    def __init__(
        self,
        catalog: Catalog,
        max_batch_size: int,
        *,
        dam: DamClient | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        missing_asset_ttl: timedelta = timedelta(hours=1),
        published_missing_asset_ttl: timedelta | None = None,
        warn: Callable[[str, str], None] = lambda code, message: None,
        on_mirrored: Callable[[list[str]], None] = lambda public_ids: None,
        product_clause: Mapping[str, Any] | None = None,
        products: Collection | None = None,
    ) -> None:
        """``product_clause``: what a product must match to reach this request at all (the
        principal's ``product_clause()``); others load as ``None``, as if they did not exist,
        so every lookup, relation, node and entity reference hides them alike. ``products``:
        where products are read (the request's ``ProductSource``; the working copy when
        omitted), for every lookup, relation, node and entity reference alike."""
        products = catalog.products if products is None else products
        # The BSON of the products, assets and taxonomy read for scoring (readiness.memo).
        self.raws = RawDocuments()
        self.taxonomy = Taxonomy(catalog, self.raws)
        self.asset_by_key = AssetByKeyLoader(
            catalog.assets,
            dam,
            raws=self.raws,
            max_batch_size=max_batch_size,
            missing_ttl=missing_asset_ttl,
            now=now,
            warn=warn,
            on_mirrored=on_mirrored,
            published_missing_ttl=published_missing_asset_ttl,
        )
        # For keys a client names itself (federation representations): reading them must not
        # spend the Admin API quota or store records for ids nothing references.
        self.mirrored_asset_by_key = AssetByKeyLoader(
            catalog.assets,
            None,
            max_batch_size=max_batch_size,
            missing_ttl=missing_asset_ttl,
            now=now,
            warn=warn,
        )
        self.product_by_sku = ProductBySkuLoader(
            products, max_batch_size, PRODUCT_FIELDS, product_clause, self.raws
        )
        self.product_by_id = ProductByIdLoader(
            products, max_batch_size, PRODUCT_FIELDS, product_clause, self.raws
        )
        # Whole documents (stored scores aside) until the request says what it reads.
        self._product_fields: frozenset[str] | None = None
        self._products_projected = False
        self._page_fields: frozenset[str] | None = None
        self.category_by_slug = CategoryBySlugLoader(catalog.categories, max_batch_size)
        self.category_by_id = CategoryByIdLoader(catalog.categories, max_batch_size)
        self.category_children = CategoryChildrenByParentLoader(catalog.categories, max_batch_size)

    def clear(self) -> None:
        """Forget everything loaded (the request is over); later loads query again."""
        for loader in vars(self).values():
            if isinstance(loader, DataLoader):
                loader.clear_all()
        self.taxonomy = Taxonomy(self.taxonomy.catalog, self.raws)
        self.raws.clear()

    def read_product_fields(self, fields: frozenset[str] | None) -> frozenset[str] | None:
        """Read only these top-level fields of products from now on (None: whole documents);
        returns what a page of this request must read (``fields`` and what the clause checks),
        None for whole documents.

        Meant to be said once per request, before the first load, with what every field of the
        operation reads: a document loaded for one place then serves every other. Said again
        with other fields, products read whole documents from then on and the loaded ones are
        forgotten, so that none read with fewer fields serves a field that reads more.
        """
        if self._products_projected:
            if fields == self._product_fields or self._product_fields is None:
                return self._page_fields
            fields = None
            for loader in (self.product_by_sku, self.product_by_id):
                loader.clear_all()
        self._products_projected = True
        self._product_fields = fields
        if fields is not None:
            # ``admits`` checks the clause on documents primed from a page: read what it checks.
            fields = fields | frozenset(self.product_by_sku.clause or ())
        projection = product_projection(fields)
        self.product_by_sku.projection = projection
        self.product_by_id.projection = projection
        self._page_fields = fields
        return fields

    def prime_products(self, documents: Iterable[Document]) -> None:
        """Make products already fetched (a page, a detail) free for relations that point back."""
        for document in documents:
            self.product_by_sku.prime(document["sku"], document)
            self.product_by_id.prime(document["_id"], document)


def object_id(value: Any) -> ObjectId | None:
    """The ObjectId in ``value``, or None when it is not one."""
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and ObjectId.is_valid(value):
        return ObjectId(value)
    return None
