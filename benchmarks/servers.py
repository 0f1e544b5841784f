"""The servers under test as uvicorn subprocesses on 127.0.0.1, each watched by a reaper.

``python -m uvicorn --factory``, with ``--workers`` for several processes (uvicorn >= 0.55 turns
Nagle's algorithm off on the workers' connections too: uvicorn #3149).

And the in-process setup of the benchmarks that time the gateway's own CPU (auth, storefront,
edge): ``seeded_mongo`` (an embedded mongod with the bench catalog) and ``in_process`` (the
app and its lifespan behind httpx's ASGI transport).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from benchmarks.access import bench_pepper
from benchmarks.bench_catalog import seed_bench_catalog
from benchmarks.load import RssSampler
from benchmarks.queries import Workload, build_workload
from gateway.app import create_app
from gateway.embedded_mongo import embedded_mongo, find_mongod, free_port
from gateway.settings import Settings
from resolvers.db import Catalog

Kind = Literal["gateway", "naive", "rest", "peer"]
STARTUP_TIMEOUT_S = 90.0
KEEP_ALIVE_S = 120  # longer than any pause between cells, so no connection dies mid-run


@dataclass(frozen=True, slots=True)
class ServerSpec:
    name: str  # e.g. "gateway-1w"
    kind: Kind
    factory: str  # "module:function" for uvicorn --factory
    workers: int
    app_name: str  # the MongoDB appName its client announces (for counting commands)
    env: dict[str, str] = field(default_factory=dict)
    # Sent with every request to it: the gateway's API key.
    request_headers: tuple[tuple[str, str], ...] = ()
    # The command line of a server that is no uvicorn app (the Node.js peers); ``factory`` and
    # ``workers`` are then only labels.
    program: tuple[str, ...] = ()

    @property
    def health_path(self) -> str:
        return "/readyz" if self.kind == "gateway" else "/healthz"


def watch(process_pid: int, budget_s: float) -> subprocess.Popen[bytes]:
    """A reaper that stops ``process_pid`` if this process dies or ``budget_s`` passes."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.reaper",
            str(os.getpid()),
            str(process_pid),
            str(budget_s),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class ServerProcess:
    """The server process for one spec; logs go to ``log_dir/<name>.log``."""

    def __init__(self, spec: ServerSpec, base_env: dict[str, str], log_dir: Path) -> None:
        self.spec = spec
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{spec.name}.log"
        self.env = {**base_env, **spec.env, "CATALOG_PORT": str(self.port)}
        self.process: subprocess.Popen[bytes] | None = None
        self.reaper: subprocess.Popen[bytes] | None = None
        self.sampler: RssSampler | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list[str]:
        if self.spec.program:
            return list(self.spec.program)
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            self.spec.factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.spec.workers),
            "--log-level",
            "info",
            "--no-access-log",
            "--timeout-keep-alive",
            str(KEEP_ALIVE_S),
        ]

    def start(self, budget_s: float) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(), env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        self.reaper = watch(self.process.pid, budget_s)

    async def wait_ready(self) -> None:
        """Until every worker has started and the health endpoint answers 200."""
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.spec.name} exited with code {self.process.returncode}:\n"
                        + self.log_tail()
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.spec.name} did not start:\n" + self.log_tail())
                if self._workers_started() >= self.spec.workers:
                    try:
                        response = await client.get(self.spec.health_path)
                        if response.status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                await asyncio.sleep(0.2)
        self.sampler = RssSampler(self.pid)
        self.sampler.start()

    def _workers_started(self) -> int:
        try:
            return self.log_path.read_text(errors="replace").count("Application startup complete")
        except OSError:
            return 0

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reaper, self.reaper = self.reaper, None
        if reaper is not None:
            try:
                reaper.wait(5)
            except subprocess.TimeoutExpired:
                reaper.kill()
                reaper.wait()


@dataclass
class SeededMongo:
    """An embedded mongod holding the bench catalog, for benchmarks that run in process."""

    temp: Path
    uri: str
    db: str
    catalog: Catalog  # open until the context ends (keys, extra seeding)
    workload: Workload
    # CATALOG_KEY_PEPPER of every gateway over it (bench keys are made with it).
    pepper: str = field(default_factory=bench_pepper)

    def settings(self, **overrides: Any) -> Settings:
        """The gateway's settings over this catalog: no access log, the bench pepper."""
        base: dict[str, Any] = {
            "mongodb_uri": self.uri,
            "db": self.db,
            "data_dir": self.temp / "data",
            "key_pepper": self.pepper,
            "access_log": False,
            # Their change streams' getMores would count as the requests' MongoDB commands.
            "readiness_follower": False,
            "cache_invalidation": False,
            # Its Search API calls and mirror writes are no part of a request.
            "dam_reconcile": False,
        }
        return Settings(**{**base, **overrides})


@asynccontextmanager
async def seeded_mongo(db_name: str, products: int, prefix: str) -> AsyncIterator[SeededMongo]:
    """A fresh embedded mongod in a temporary directory with ``products`` bench products."""
    mongod = find_mongod(Settings().mongod)
    with (
        tempfile.TemporaryDirectory(prefix=prefix) as temp,
        embedded_mongo(mongod, Path(temp) / "mongo") as mongo,
    ):
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo.uri, tz_aware=True)
        try:
            catalog = Catalog(client[db_name])
            await seed_bench_catalog(catalog, products)
            workload = await build_workload(catalog)
            yield SeededMongo(Path(temp), mongo.uri, db_name, catalog, workload)
        finally:
            await client.close()


@asynccontextmanager
async def in_process(
    settings: Settings, client_address: tuple[str, int] = ("127.0.0.1", 50000)
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any], Starlette]]:
    """The gateway app with its lifespan running, over httpx's ASGI transport; its lifespan
    state reaches requests as under uvicorn."""
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:
        lifespan_state: dict[str, Any] = dict(state or {})

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(lifespan_state)
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state, client=client_address)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client, lifespan_state, app
