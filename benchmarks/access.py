"""API keys for the benchmarks' gateways: a pepper, roles without request budgets, a key.

The benchmarks measure throughput from one address; the shipped roles' token buckets (1,200
requests a minute) would measure the budget instead, so their gateways run with every role's
budget at the maximum roles.toml allows.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from pathlib import Path

from gateway.settings import Settings
from resolvers.access import Roles, load_roles
from resolvers.access.api_keys import ApiKeys, KeySpec
from resolvers.db import Catalog

UNLIMITED_RATE = "rate = { burst = 1000000, per_minute = 60000000 }"
# The defaults, not this shell's CATALOG_* (the benchmarks' servers run without them).
DEFAULTS = Settings.model_construct()


def bench_pepper() -> str:
    """A CATALOG_KEY_PEPPER for one run (required outside the demo)."""
    return "benchmark-pepper-" + secrets.token_urlsafe(24)


def unthrottled_roles(directory: Path) -> Path:
    """The shipped roles.toml with every budget at its maximum, written to ``directory``."""
    shipped = DEFAULTS.roles_path.read_text(encoding="utf-8")
    text, replaced = re.subn(r"rate = \{[^}]*\}", UNLIMITED_RATE, shipped)
    if not replaced:
        raise RuntimeError("roles.toml has no rate to lift")
    path = directory / "bench-roles.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def bench_key(catalog: Catalog, pepper: str, roles: Roles | Path, role: str) -> str:
    """A new key of ``role`` for a gateway over ``catalog`` with ``pepper``: its
    ``Authorization`` header value."""
    keys = ApiKeys(
        catalog.api_keys,
        pepper=pepper.encode(),
        roles=roles if isinstance(roles, Roles) else load_roles(roles),
        env=DEFAULTS.key_env,
        channels=(),
    )
    issued = await keys.create(KeySpec(f"bench {role}", role, expires_in=timedelta(days=1)))
    return f"Bearer {issued.secret}"
