"""What every audit section shares: the ``{total, examples}`` result and running aggregations.

Every section is one aggregation over a whole collection (plus, for a few examples, an indexed
lookup of details), so the work scales with the server, not with Python loops over documents;
Python only reshapes the small grouped results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from resolvers.db import Collection, Document

Pipeline = list[dict[str, Any]]
Expr = Any  # an aggregation expression: a field path, a literal or an operator document

T = TypeVar("T")

LIVE_ASSET_STATUSES: tuple[str, ...] = ("active", "rejected")
KEY_SEPARATOR = "\u0000"  # in no brand, locale tag, attribute code or name

# Flags summed into one number per group key. One $sum accumulator per group keeps a $group over
# a million keys (100k products' media plus their mirror) inside the server's 100 MB $group
# budget; a second accumulator doubles the memory and makes it spill to disk, 3x slower.
REFERENCE = 1  # a product references the key (counts up to 2**20 - 1)
POSTER = 1 << 20  # a video asset names the key as its poster
EXISTS = 1 << 40  # the key is a live asset / a product or variant SKU


@dataclass(frozen=True, slots=True)
class Section(Generic[T]):
    """How many findings there are, and the first ``limit`` of them in a stable order."""

    total: int
    examples: tuple[T, ...]


def total_and_examples(sort: dict[str, int], limit: int) -> dict[str, Any]:
    """The last stage of a section: the count of its findings and the first ``limit``."""
    examples: Pipeline = [{"$sort": sort}, {"$limit": limit}] if limit else [{"$limit": 1}]
    return {"$facet": {"total": [{"$count": "n"}], "examples": examples}}


async def aggregate(collection: Collection, pipeline: Pipeline) -> list[Document]:
    # Every audit reads whole collections: a $match on an indexed field (phash, categories)
    # would otherwise pick an index scan, fetching documents in index order at twice the cost.
    cursor = await collection.aggregate(pipeline, allowDiskUse=True, hint={"$natural": 1})
    return await cursor.to_list()


async def faceted(
    collection: Collection, pipeline: Pipeline, limit: int
) -> tuple[int, list[Document]]:
    """Runs a pipeline ending in :func:`total_and_examples`: the total and the examples."""
    (result,) = await aggregate(collection, pipeline)
    total = result["total"][0]["n"] if result["total"] else 0
    return total, result["examples"] if limit else []
