"""The environment of an in-process ``catalog-gateway`` command: the test's MongoDB database."""

from __future__ import annotations

import pytest


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, mongodb_uri: str, db_name: str) -> None:
    """``main([...])`` works on the test's database (``db_name`` drops it afterwards), with
    neither the demo nor a Cloudinary account the developer's shell may have set."""
    for name in ("CATALOG_DEMO", "CLOUDINARY_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MONGODB_URI", mongodb_uri)
    monkeypatch.setenv("CATALOG_DB", db_name)
