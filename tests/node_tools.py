"""Run the Node.js reference tools in tests/node (installed by `make test` with `npm ci`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).parent / "node"


def run_node_script(script: str, *args: str, stdin: Any = None, timeout: float = 120) -> Any:
    """Run a script of tests/node and parse the JSON it prints."""
    node = shutil.which("node")
    assert node, "Node.js is required for this check (the federation and HTTP-spec audits)"
    assert (NODE_DIR / "node_modules").is_dir(), (
        f"run `npm ci --prefix {NODE_DIR}` (make test does it) before this check"
    )
    completed = subprocess.run(  # our own script
        [node, str(NODE_DIR / script), *args],
        input=json.dumps(stdin) if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)
