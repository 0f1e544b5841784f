"""What a GraphQL request must say beyond its document: which operation, which extras.

``several_operations``: GraphQL-over-HTTP (and graphql-js's execute) refuse a document of
several operations without ``operationName``; Strawberry would run the first one.

``locale_fallbacks_wanted``: ``extensions.localeFallbacks`` lists every value taken from another
locale, which can be a third of a mobile payload; a client that does not read it sends the
request extension ``{"localeFallbacks": false}``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from graphql import GraphQLError, Lexer, Source, TokenKind

_OPERATION_KEYWORDS = ("query", "mutation", "subscription")
MANY_OPERATIONS = "Must provide operationName if the document contains several operations"


class RequestExtensionError(ValueError):
    pass


def several_operations(query: str) -> bool:
    """Whether the document defines more than one operation (a token walk, not a parse)."""
    # Two named operations need two of these keywords; most documents have one, so most
    # requests stop here. Field names containing them only send a document the long way.
    if sum(query.count(keyword) for keyword in _OPERATION_KEYWORDS) < 2:
        return False
    if len(query) > MAX_CACHED_CHARS:
        return _operations(query) > 1
    return _cached_operations(query) > 1


# The memo holds at most 256 documents of this size (4 MB); larger ones are walked each time.
MAX_CACHED_CHARS = 16_384


@lru_cache(maxsize=256)
def _cached_operations(query: str) -> int:
    return _operations(query)


def _operations(query: str) -> int:
    """Top-level definitions that are not fragments; a syntax error counts what came before
    it (the parser reports the error itself)."""
    lexer = Lexer(Source(query))
    count = depth = 0
    try:
        token = lexer.advance()
        while token.kind != TokenKind.EOF:
            if token.kind == TokenKind.BRACE_L:
                if depth == 0 and _starts_definition(token):
                    count += 1
                depth += 1
            elif token.kind == TokenKind.BRACE_R:
                depth -= 1
            elif depth == 0 and token.kind == TokenKind.NAME and token.value in _OPERATION_KEYWORDS:
                count += 1
                token = _skip_to_selection(lexer)
                continue
            token = lexer.advance()
    except GraphQLError:
        pass
    return count


def _starts_definition(brace: Any) -> bool:
    """A top-level ``{`` that opens a shorthand query (not one after ``fragment … on T``)."""
    previous = brace.prev
    return previous is None or previous.kind in (TokenKind.SOF, TokenKind.BRACE_R)


def _skip_to_selection(lexer: Lexer) -> Any:
    """Past an operation's header (name, variables, directives) to its selection's ``{``,
    counted as depth by the caller."""
    token = lexer.advance()
    parens = 0
    while token.kind != TokenKind.EOF:
        if token.kind == TokenKind.PAREN_L:
            parens += 1
        elif token.kind == TokenKind.PAREN_R:
            parens -= 1
        elif token.kind == TokenKind.BRACE_L and parens == 0:
            return token
        token = lexer.advance()
    return token


def locale_fallbacks_wanted(extensions: dict[str, Any] | None) -> bool:
    """False when the request asks for no ``extensions.localeFallbacks``."""
    if not extensions or "localeFallbacks" not in extensions:
        return True
    wanted = extensions["localeFallbacks"]
    if not isinstance(wanted, bool):
        raise RequestExtensionError("'extensions.localeFallbacks' must be true or false")
    return wanted
