"""The console's GraphQL operations, by name, from ``graphql/<Name>.graphql``.

Each is also in ``gateway/operations/manifest.json`` with the same text
(``tests/gateway/console/test_operations.py`` checks), so a gateway that holds the console's
keys to the safelist still serves the console, and a schema change that breaks the console
breaks that test.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent / "graphql"


def _read() -> dict[str, str]:
    # Sent as written, minus the final newline: the text's SHA-256 is its persisted id.
    return {
        path.stem: path.read_text(encoding="utf-8").rstrip("\n")
        for path in sorted(FOLDER.glob("*.graphql"))
    }


OPERATIONS: dict[str, str] = _read()
