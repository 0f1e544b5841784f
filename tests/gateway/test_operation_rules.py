"""Which documents need an operationName; the localeFallbacks request extension."""

import pytest

from gateway.operation_rules import (
    MAX_CACHED_CHARS,
    RequestExtensionError,
    locale_fallbacks_wanted,
    several_operations,
)


@pytest.mark.parametrize(
    ("query", "several"),
    [
        ("{ a }", False),
        ("query A { a }", False),
        ("query A { a } query B { b }", True),
        ("query A { a } mutation B { b }", True),
        # An anonymous operation among others: validation refuses it (LoneAnonymousOperation).
        ("{ a } { b }", False),
        ("query A { a } { b }", False),
        ("query A { ...F } fragment F on Query { query: a }", False),
        ("fragment F on Query { a } query A { ...F }", False),
        ('query A($s: String = "query B { x }") { a(s: $s) }', False),
        ("query A($o: In = {query: 1}) @d(x: {mutation: 2}) { query } { b }", True),
        ("query A { a } query B {", True),  # the parser reports the syntax error
        ("query query { query }", False),
    ],
)
def test_several_operations(query: str, several: bool) -> None:
    assert several_operations(query) is several


def test_locale_fallbacks_extension() -> None:
    assert locale_fallbacks_wanted(None)
    assert locale_fallbacks_wanted({"persistedQuery": {}})
    assert not locale_fallbacks_wanted({"localeFallbacks": False})
    with pytest.raises(RequestExtensionError, match="true or false"):
        locale_fallbacks_wanted({"localeFallbacks": "no"})


def test_large_documents_are_walked_without_the_memo() -> None:
    fields = " ".join(f"f{i}: __typename" for i in range(2000))
    large = f"query A {{ {fields} }} query B {{ __typename }}"
    assert len(large) > MAX_CACHED_CHARS
    assert several_operations(large)
    assert not several_operations(f"query A {{ {fields} }}")
