"""Refuse request parameters that are not valid Unicode.

JSON may escape a lone UTF-16 surrogate (``"\\ud800"``) and Python decodes it into a ``str``
that cannot be encoded as UTF-8: it would travel into a resolver and fail there, in the BSON
encoder, as an internal error. The GraphQL document itself is safe (graphql-core's lexer
refuses surrogates and their escapes), so the decoded JSON parameters are what to check.
"""

from __future__ import annotations

from typing import Any

# A path step: a key of an object or an index of a list.
Step = str | int
# A path as a chain of (parent, step), built in O(1) per container; spelled out on failure.
_Chain = tuple["_Chain", Step] | None


def first_invalid_unicode(value: Any) -> tuple[tuple[Step, ...], str] | None:
    """The path and the offending character of the first string (value or object key) in
    decoded JSON that holds a lone surrogate, else None.

    Iterative: decoded JSON may nest as deep as the parser allowed, deeper than a recursive
    walk started further down the stack could follow.
    """
    if isinstance(value, str):
        bad = _lone_surrogate(value)
        return None if bad is None else ((), bad)
    if not isinstance(value, dict | list):
        return None
    stack: list[tuple[Any, _Chain]] = [(value, None)]
    while stack:
        container, chain = stack.pop()
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for step, child in items:
            if isinstance(step, str) and (bad := _lone_surrogate(step)) is not None:
                return _spelled((chain, step)), bad
            if isinstance(child, str):
                if (bad := _lone_surrogate(child)) is not None:
                    return _spelled((chain, step)), bad
            elif isinstance(child, dict | list):
                stack.append((child, (chain, step)))
    return None


def _spelled(chain: _Chain) -> tuple[Step, ...]:
    steps: list[Step] = []
    while chain is not None:
        chain, step = chain
        steps.append(step)
    return tuple(reversed(steps))


def _lone_surrogate(text: str) -> str | None:
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return text[error.start]
    return None


def describe(parameter: str, path: tuple[Step, ...], character: str) -> str:
    """A message naming where the character is, e.g. ``variables.filter.brand[2]``."""
    where = parameter
    for step in path:
        # A key may be the offender itself: escaped, or the message could not be encoded.
        where += f"[{step}]" if isinstance(step, int) else "." + _printable(step)
    return (
        f"'{where}' is not valid Unicode: it holds a lone surrogate "
        f"U+{ord(character):04X}; send well-formed UTF-16 escape pairs or plain UTF-8"
    )


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
