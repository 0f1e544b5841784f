"""Readiness: whether a product is fit to publish on a channel, and exactly why not.

``rules`` is the one pure evaluator (the live GraphQL field and the stored scores both use it);
``store`` keeps the scores on the product documents that filters, sorts and dashboards read.
"""

from resolvers.readiness.rules import PRODUCT_FIELDS_READ, Readiness, evaluate, needed_codes
from resolvers.readiness.store import (
    materialize,
    rescore_products_using,
    rescore_skus,
    rescore_stale,
    stale_query,
    summary,
)

__all__ = [
    "PRODUCT_FIELDS_READ",
    "Readiness",
    "evaluate",
    "materialize",
    "needed_codes",
    "rescore_products_using",
    "rescore_skus",
    "rescore_stale",
    "stale_query",
    "summary",
]
