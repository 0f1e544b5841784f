"""The app's start-up (demo seeding at start-up: tests/demo/test_seeding.py)."""

from typing import Any


def test_servers_keep_start_up_objects_out_of_the_collector(tmp_path: Any) -> None:
    """The ASGI factory freezes what start-up built; a test process is never frozen."""
    import gc
    import subprocess
    import sys

    code = (
        "import gc; from gateway.asgi import app_factory; app_factory(); "
        "print(gc.get_freeze_count())"
    )
    env = {"PATH": "/usr/bin:/bin", "CATALOG_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) > 10_000
    assert gc.get_freeze_count() == 0
