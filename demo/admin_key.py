"""The demo's admin key: made at the first start of a demo (no key yet), shown once.

Outside the demo the first admin key can only come from ``catalog-gateway keys create``. The
demo makes one so that GraphiQL can try every field at once; it expires (an admin key can
write) and is saved, readable by its owner only, for when the start-up log has scrolled away.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

from resolvers.access.api_keys import ApiKeys, KeySpec

log = logging.getLogger(__name__)

KEY_FILE = "demo-admin-key"
EXPIRES_IN = timedelta(days=30)


async def ensure_demo_admin_key(keys: ApiKeys, data_dir: Path) -> str | None:
    """The new key when there was none at all; None when keys exist (shown already, or
    someone's own)."""
    if await keys.collection.count_documents({}, limit=1):
        return None
    issued = await keys.create(
        KeySpec("demo admin", "admin", expires_in=EXPIRES_IN), created_by="demo"
    )
    path = data_dir / KEY_FILE
    _write_private(path, issued.secret + "\n")
    # The one place a secret is logged, on purpose: the demo's first start on a console.
    log.warning(
        "demo admin key (shown once, also saved to %s, expires in %d days): %s",
        path,
        EXPIRES_IN.days,
        issued.secret,
    )
    return issued.secret


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    # Created 0600 (not chmod-ed after): no moment where others could read it.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    temporary.replace(path)
