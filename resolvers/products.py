"""Product listing: filters to MongoDB queries, sorts, and keyset-paginated pages."""

from __future__ import annotations

import difflib
import re
from collections.abc import (
    Awaitable,
    Callable,
    Collection,
    Hashable,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from resolvers.db import Catalog, Document
from resolvers.db import Collection as MongoCollection
from resolvers.documents import PRODUCT_STATUSES
from resolvers.errors import BadUserInputError
from resolvers.locales import name_collation, pick_expression
from resolvers.pagination import SortSpec, after_clause, check_page_size, decode_cursor
from resolvers.raw_documents import RawDocuments, decode_recorded
from resolvers.shared_result import SharedResults
from resolvers.upcasting import upcast_all

# Codes become parts of document paths, so they must never carry "." or "$".
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_SEARCH_LENGTH = 200
# An unknown code's error lists the known ones: at most this many in its extensions, a few of
# them in its message.
MAX_KNOWN_LISTED = 50
MAX_KNOWN_IN_MESSAGE = 10


class SortField(Enum):
    NAME = "name"
    SKU = "sku"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"
    READINESS = "readiness"


@dataclass(frozen=True, slots=True)
class ReadinessCondition:
    """On the stored scores of one channel."""

    channel: str
    min_score: int | None = None
    max_score: int | None = None
    ready: bool | None = None


@dataclass(frozen=True, slots=True)
class PublishingCondition:
    """The publishing state on one channel is one of ``states`` (DRAFT: never submitted too)."""

    channel: str
    states: Sequence[str]


@dataclass(frozen=True, slots=True)
class AttributeCondition:
    """``equals`` a value, or within ``minimum``..``maximum`` (inclusive); localizable by locale."""

    code: str
    equals: Any = None
    minimum: float | None = None
    maximum: float | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class ProductFilter:
    category: str | None = None
    brands: Sequence[str] = ()
    statuses: Sequence[str] = ()
    search: str | None = None
    attributes: Sequence[AttributeCondition] = ()
    variant_options: dict[str, str] = field(default_factory=dict)
    readiness: ReadinessCondition | None = None
    publishing: PublishingCondition | None = None


def check_code(code: str, what: str) -> str:
    if not _CODE.match(code):
        raise BadUserInputError(
            f"{what} code {code!r} is invalid: use lowercase letters, digits and '_'"
        )
    return code


# Where a page read by a NAME sort in a locale with fallbacks keeps the name it sorted by.
SHOWN_NAME = "_shownName"


def sort_spec(
    sort_field: SortField,
    descending: bool,
    locale: str,
    channel: str | None = None,
    chain: Sequence[str] = (),
) -> SortSpec:
    """How to sort; for NAME, ``chain`` is the fallback chain of ``locale`` (``locale`` alone
    when omitted): products sort by the name ``name(locale:)`` shows, in the locale's language."""
    if sort_field is SortField.NAME:
        chain = tuple(chain) or (locale,)
        collation = name_collation(locale)
        if chain == (locale,):
            # Nothing to fall back to: the stored names, read in order from their collated index.
            return SortSpec(f"name:{locale}", f"name.{locale}", descending, collation)
        return SortSpec(
            f"name:{locale}",
            SHOWN_NAME,
            descending,
            collation,
            computed=pick_expression("name", chain),
        )
    if sort_field is SortField.READINESS:
        if channel is None:
            raise BadUserInputError("sorting by READINESS needs 'channel'", argumentName="sort")
        check_code(channel.replace("-", "_"), "channel")
        return SortSpec(f"readiness:{channel}", f"readiness.{channel}.score", descending)
    return SortSpec(sort_field.value, sort_field.value, descending)


def _publishing_clause(condition: PublishingCondition) -> dict[str, Any]:
    check_code(condition.channel.replace("-", "_"), "channel")
    if not condition.states:
        raise BadUserInputError("publishing: give at least one state", argumentName="filter")
    key = f"workflow.{condition.channel}.state"
    clause: dict[str, Any] = {key: {"$in": list(condition.states)}}
    if "DRAFT" in condition.states:
        # A product never submitted on the channel has no entry for it: a draft.
        return {"$or": [clause, {key: {"$exists": False}}]}
    return clause


def _readiness_clause(condition: ReadinessCondition) -> dict[str, Any]:
    check_code(condition.channel.replace("-", "_"), "channel")
    prefix = f"readiness.{condition.channel}"
    clause: dict[str, Any] = {}
    bounds: dict[str, int] = {}
    if condition.min_score is not None:
        bounds["$gte"] = condition.min_score
    if condition.max_score is not None:
        bounds["$lte"] = condition.max_score
    if len(bounds) == 2 and bounds["$gte"] > bounds["$lte"]:
        raise BadUserInputError("readiness: 'minScore' is above 'maxScore'", argumentName="filter")
    if bounds:
        clause[f"{prefix}.score"] = bounds
    if condition.ready is not None:
        clause[f"{prefix}.ready"] = condition.ready
    if not clause:
        raise BadUserInputError(
            "readiness: give 'minScore', 'maxScore' or 'ready'", argumentName="filter"
        )
    return clause


def _attribute_clause(condition: AttributeCondition) -> dict[str, Any]:
    path = f"attributes.{check_code(condition.code, 'attribute')}.value"
    if condition.locale is not None:
        path += f".{condition.locale}"
    has_range = condition.minimum is not None or condition.maximum is not None
    if condition.equals is not None and has_range:
        raise BadUserInputError(
            f"attribute {condition.code!r}: give either 'equals' or a range, not both"
        )
    if condition.equals is not None:
        if not isinstance(condition.equals, str | int | float | bool):
            raise BadUserInputError(
                f"attribute {condition.code!r}: 'equals' must be a string, number or boolean"
            )
        return {path: condition.equals}
    if not has_range:
        raise BadUserInputError(f"attribute {condition.code!r}: give 'equals', 'min' or 'max'")
    bounds: dict[str, float] = {}
    if condition.minimum is not None:
        bounds["$gte"] = condition.minimum
    if condition.maximum is not None:
        bounds["$lte"] = condition.maximum
    if len(bounds) == 2 and bounds["$gte"] > bounds["$lte"]:
        raise BadUserInputError(f"attribute {condition.code!r}: 'min' is above 'max'")
    return {path: bounds}


def unknown_codes(
    field_name: str, what: str, plural: str, unknown: Sequence[str], known: Iterable[str]
) -> BadUserInputError:
    """BAD_USER_INPUT for codes a filter names that the catalog does not know, listing the
    known ones (at most MAX_KNOWN_LISTED, alphabetically) and the close matches first."""
    listed = sorted({k for k in known if isinstance(k, str)}, key=lambda k: (k.casefold(), k))
    folded = {k.casefold(): k for k in listed}
    close = list(
        dict.fromkeys(
            folded[match]
            for code in unknown
            for match in difflib.get_close_matches(code.casefold(), list(folded), 3, 0.8)
        )
    )
    message = f"unknown {what} {', '.join(repr(code) for code in unknown)}"
    if close:
        message += f" (did you mean {', '.join(repr(code) for code in close)}?)"
    shown = listed[:MAX_KNOWN_IN_MESSAGE]
    more = f", … ({len(listed)} in all)" if len(listed) > len(shown) else ""
    message += f"; {plural}: {', '.join(shown) or '(none)'}{more}"
    details: dict[str, Any] = {"field": field_name, "unknown": list(unknown)}
    if close:
        details["didYouMean"] = close
    details["known"] = listed[:MAX_KNOWN_LISTED]
    details["knownCount"] = len(listed)
    return BadUserInputError(message, argumentName="filter", **details)


class KnownCodes:
    """The brands and attribute codes a filter may name, read only when a filter names some.

    Brands are the distinct values of the products' ``brand`` (a scan of its index), shared
    between requests through ``shared`` when given; a brand not among them is read again
    before it is refused, so a new brand is never refused for the time the list is kept.
    Attribute codes are those with a definition (``definitions``: the request's taxonomy,
    which pages that show attributes read anyway) or, failing that, used on some product.
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        definitions: Callable[[], Awaitable[Mapping[str, Any]]] | None = None,
        shared: SharedResults[list[str]] | None = None,
        visible: Mapping[str, Any] | None = None,
        products: MongoCollection | None = None,
        source_key: Hashable = "products",
    ) -> None:
        self.catalog = catalog
        # Where the products are (the request's ProductSource): a storefront is told the
        # brands of what it can read, and its list is shared only with the same source.
        self.products = catalog.products if products is None else products
        self._source_key = source_key
        self._definitions = definitions
        self._shared = shared
        # The principal's product clause: the brands a refusal lists are those of products it
        # may see (a brand used only by drafts is not named to a storefront).
        self._visible = dict(visible) if visible else None

    async def _read_brands(self) -> list[str]:
        brands = await self.products.distinct("brand", self._visible)
        return [b for b in brands if isinstance(b, str)]

    async def brands(self, *, fresh: bool = False) -> list[str]:
        if self._shared is None or fresh:
            return await self._read_brands()
        key: Hashable = ("brands", self._source_key)
        if self._visible is not None:
            key = ("brands", self._source_key, *sorted(self._visible.items()))
        return (await self._shared.get(key, self._read_brands)).value

    async def check_brands(self, brands: Sequence[str]) -> None:
        known = set(await self.brands())
        if not set(brands) <= known:
            known = set(await self.brands(fresh=True))
        unknown = [b for b in dict.fromkeys(brands) if b not in known]
        if unknown:
            raise unknown_codes("brand", "brand", "brands", unknown, known)

    async def attribute_codes(self) -> Collection[str]:
        if self._definitions is not None:
            return set(await self._definitions())
        return set(await self.catalog.attributes.distinct("code"))

    async def check_attribute_codes(self, codes: Sequence[str]) -> None:
        defined = await self.attribute_codes()
        unknown = []
        for code in dict.fromkeys(codes):
            if code in defined:
                continue
            # Stored values need no definition (their type is inferred): a used code is known.
            used = await self.products.find_one(
                {f"attributes.{code}": {"$exists": True}, **(self._visible or {})}, {"_id": 1}
            )
            if used is None:
                unknown.append(code)
        if unknown:
            raise unknown_codes("attributes", "attribute code", "attribute codes", unknown, defined)


async def category_with_descendants(catalog: Catalog, slug: str) -> list[str]:
    """``slug`` and the slugs of every category below it; BAD_USER_INPUT when unknown."""
    slugs = [
        document["slug"]
        async for document in catalog.categories.find(
            {"$or": [{"slug": slug}, {"ancestors": slug}]}, {"slug": 1, "_id": 0}
        )
    ]
    if slug not in slugs:
        known = await catalog.categories.distinct("slug")
        raise unknown_codes("category", "category", "categories", [slug], known)
    return slugs


async def build_query(
    catalog: Catalog,
    product_filter: ProductFilter | None,
    known: KnownCodes | None = None,
    *,
    visible: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The MongoDB filter for a product filter (one categories query when filtering by one).

    Every code it names must be known (``known``: where to look them up; read from the
    catalog without sharing when omitted): a misspelt brand, category or attribute code is
    BAD_USER_INPUT listing the known ones, not an empty page.

    ``visible`` (the principal's ``product_clause()``) is ANDed with everything else, so a
    page, its cursors, ``totalCount`` and a search all see the same products; a filter on a
    status the principal may not see (a storefront asking for drafts) matches nothing.
    """
    query = await _filter_query(catalog, product_filter, known)
    if not visible:
        return query
    return {"$and": [dict(visible), query]} if query else dict(visible)


async def _filter_query(
    catalog: Catalog, product_filter: ProductFilter | None, known: KnownCodes | None
) -> dict[str, Any]:
    if product_filter is None:
        return {}
    known = known or KnownCodes(catalog)
    clauses: list[dict[str, Any]] = []
    if product_filter.category is not None:
        slugs = await category_with_descendants(catalog, product_filter.category)
        clauses.append({"categories": {"$in": slugs}})
    if product_filter.brands:
        await known.check_brands(product_filter.brands)
        clauses.append({"brand": {"$in": list(product_filter.brands)}})
    if product_filter.statuses:
        unknown = set(product_filter.statuses) - set(PRODUCT_STATUSES)
        if unknown:
            raise BadUserInputError(f"unknown status {sorted(unknown)}")
        clauses.append({"status": {"$in": list(product_filter.statuses)}})
    if product_filter.search is not None:
        text = product_filter.search.strip()
        if not text or len(text) > MAX_SEARCH_LENGTH:
            raise BadUserInputError(
                f"'search' must have 1 to {MAX_SEARCH_LENGTH} characters", argumentName="filter"
            )
        clauses.append({"$text": {"$search": text}})
    clauses.extend(_attribute_clause(c) for c in product_filter.attributes)
    if product_filter.attributes:
        await known.check_attribute_codes([c.code for c in product_filter.attributes])
    if product_filter.variant_options:
        options = {
            f"options.{check_code(code, 'variant option')}": value
            for code, value in product_filter.variant_options.items()
        }
        # All options on the same variant: "red in size M", not "something red, something M".
        clauses.append({"variants": {"$elemMatch": options}})
    if product_filter.readiness is not None:
        clauses.append(_readiness_clause(product_filter.readiness))
    if product_filter.publishing is not None:
        clauses.append(_publishing_clause(product_filter.publishing))
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@dataclass(frozen=True, slots=True)
class ProductPage:
    documents: list[Document]
    has_next_page: bool
    sort: SortSpec
    query: dict[str, Any]


# Stored readiness scores serve filters and sorts in MongoDB; GraphQL fields compute readiness
# live, so reads for resolvers leave them out (a fifth of a product document's bytes).
PRODUCT_FIELDS: dict[str, Any] = {"readiness": 0, "readinessBasedOn": 0}
# What reading a product needs whatever its fields read: its keys (the loaders') and its
# version (upcasting reads only ``schemaVersion``; an upcaster reading more adds it here).
LOADER_FIELDS = frozenset({"_id", "sku", "schemaVersion"})


def product_projection(fields: Iterable[str] | None, *also: str) -> dict[str, Any]:
    """What to read of product documents for fields that read ``fields`` (top-level names;
    None for whole documents, stored scores aside), ``LOADER_FIELDS`` and ``also``."""
    if fields is None:
        return PRODUCT_FIELDS
    return dict.fromkeys(sorted({*fields, *LOADER_FIELDS, *also}), 1)


def page_projection(sort: SortSpec, fields: Iterable[str] | None = None) -> dict[str, Any] | None:
    """What a page query reads: ``product_projection`` of ``fields`` and what its cursors read
    (the sort's field); whole documents but stored scores, unless a cursor needs one."""
    if fields is not None:
        return product_projection(fields, sort.field.split(".", 1)[0])
    return None if sort.field.startswith("readiness.") else PRODUCT_FIELDS


async def fetch_page(
    catalog: Catalog,
    query: dict[str, Any],
    sort: SortSpec,
    first: int,
    after: str | None,
    products: MongoCollection | None = None,
    fields: Iterable[str] | None = None,
    raws: RawDocuments | None = None,
) -> ProductPage:
    """One page of products in one ``find``: ``first`` rows after the cursor, plus one to peek.
    ``products``: where to read (a channel's publications; the working copy when omitted).
    ``fields``: the top-level fields to read (see ``page_projection``; None: all). ``raws``:
    where to record the documents' BSON when it is recording (a ``find`` page only)."""
    products = catalog.products if products is None else products
    check_page_size(first)
    keyset = after_clause(sort, decode_cursor(after, sort)) if after is not None else None
    documents: list[Document] = []
    if first > 0 and sort.computed is not None:
        pipeline = computed_sort_pipeline(query, sort, keyset, first + 1, fields)
        # A first batch larger than the page: the server finds the end in it, no getMore.
        cursor = await products.aggregate(pipeline, collation=sort.collation, batchSize=first + 2)
        documents = await cursor.to_list()
    elif first > 0:
        page_query = query
        if keyset is not None:
            page_query = {"$and": [query, keyset]} if query else keyset
        projection = page_projection(sort, fields)
        # The same find either way; raw batches when the documents' BSON is to be recorded.
        recording = raws is not None and raws.recording
        find = products.find_raw_batches if recording else products.find
        found = find(page_query, projection).sort(sort.mongo_sort).limit(first + 1)
        if sort.collation is not None:
            found = found.collation(sort.collation)
        if raws is not None and recording:
            documents = await decode_recorded(found, products.codec_options, raws)
        else:
            documents = await found.to_list()
    # Stored documents may be of an older schemaVersion; a page shows the current shape.
    return ProductPage(upcast_all(documents[:first]), len(documents) > first, sort, query)


def computed_sort_pipeline(
    query: dict[str, Any],
    sort: SortSpec,
    keyset: dict[str, Any] | None,
    limit: int,
    fields: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """One page sorted on a derived value: the filter (on its indexes), the value added to each
    match, the keyset clause on it, then a top-``limit`` sort (which holds ``limit`` documents,
    not all the matches). Costs a pass over the matches instead of an index walk."""
    pipeline: list[dict[str, Any]] = [{"$match": query}] if query else []
    projection = page_projection(sort, fields)
    if projection and fields is None:
        pipeline.append({"$project": projection})
    pipeline.append({"$set": {sort.field: sort.computed}})
    if keyset is not None:
        pipeline.append({"$match": keyset})
    pipeline += [{"$sort": dict(sort.mongo_sort)}, {"$limit": limit}]
    if projection and fields is not None:
        # After the derived value is computed from fields the page may not show.
        pipeline.append({"$project": projection})
    return pipeline


async def count_products(
    catalog: Catalog, query: dict[str, Any], products: MongoCollection | None = None
) -> int:
    return await (catalog.products if products is None else products).count_documents(query)
