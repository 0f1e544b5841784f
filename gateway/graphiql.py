"""The GraphiQL page served to browsers, opened on a query that shows off the demo catalog."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

DEFAULT_QUERY = """\
# Catalog Gateway: the product catalog (MongoDB) for your channel.
# Try another locale (de-AT falls back to de-DE, then en-US: see extensions.localeFallbacks),
# or filter: { category: "footwear", brand: ["Northwind"], search: "trail" }.
query ProductListing($locale: String = "de-AT") {
  products(first: 5, sort: { field: NAME, locale: "en-US" }) {
    totalCount
    edges {
      cursor
      node {
        sku
        status
        brand
        name(locale: $locale)
        categories { slug name(locale: $locale) ancestors { slug } }
        attributes { code label(locale: $locale) displayValue(locale: $locale) }
        variants { sku options { code value } }
        accessories { sku name(locale: $locale) }
        bundleItems { quantity product { sku } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@cache
def graphiql_html() -> str:
    template = files("gateway").joinpath("static/graphiql.html").read_text(encoding="utf-8")
    # json.dumps escapes quotes and newlines; "</" is escaped so the query cannot end the script.
    literal = json.dumps(DEFAULT_QUERY).replace("</", "<\\/")
    return template.replace("__DEFAULT_QUERY__", literal)
