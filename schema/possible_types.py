"""``possibleTypes`` for client caches: every interface and union with the types it may be.

Apollo Client (``new InMemoryCache({ possibleTypes })``), urql's graphcache and Relay need it
to match fragments on ``Node`` or ``UserError`` from a normalised cache; without it they guess.
``make schema`` writes it to docs/possible-types.json beside schema.graphql, and
tests/schema/test_cache_identity.py fails when the file is stale.
"""

from __future__ import annotations

import json

from graphql import GraphQLSchema, is_abstract_type


def possible_types(schema: GraphQLSchema) -> dict[str, list[str]]:
    """``{abstract type: sorted concrete types}``, without federation's ``_Entity``."""
    return {
        name: sorted(t.name for t in schema.get_possible_types(abstract))
        for name, abstract in sorted(schema.type_map.items())
        if is_abstract_type(abstract) and not name.startswith("_")
    }


def possible_types_json(schema: GraphQLSchema) -> str:
    return json.dumps(possible_types(schema), indent=2) + "\n"


if __name__ == "__main__":
    from schema.schema import build_schema

    print(possible_types_json(build_schema()._schema), end="")
