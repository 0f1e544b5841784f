"""Built-in directives as every client's GraphQL library knows them.

graphql-core 3.3 follows the spec draft and lets ``@deprecated`` mark directive definitions
(``DIRECTIVE_DEFINITION`` among its locations). graphql-js 16 and graphql-core 3.2 have no such
location: GraphQL Code Generator, graphql-inspector and gql 3 fail to load an introspection
that lists it. Nothing here deprecates a directive, so the served ``@deprecated`` keeps only
the locations of the released spec (October 2021), which every version accepts.
"""

from __future__ import annotations

from graphql import DirectiveLocation, GraphQLDirective, GraphQLSchema

# What the spec of October 2021, graphql-js 16 and graphql-core 3.2 all know.
RELEASED_LOCATIONS = frozenset(DirectiveLocation) - {DirectiveLocation.DIRECTIVE_DEFINITION}


def portable(directive: GraphQLDirective) -> GraphQLDirective:
    """``directive`` without the locations older libraries cannot parse (itself when none)."""
    kept = [location for location in directive.locations if location in RELEASED_LOCATIONS]
    if len(kept) == len(directive.locations):
        return directive
    return GraphQLDirective(
        name=directive.name,
        locations=kept,
        args=directive.args,
        is_repeatable=directive.is_repeatable,
        description=directive.description,
    )


def use_portable_directives(schema: GraphQLSchema) -> None:
    """Serve (introspection, SDL) only directive locations that every client can parse."""
    schema.directives = tuple(portable(directive) for directive in schema.directives)
