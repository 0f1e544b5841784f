"""Driving load, sampling memory and counting MongoDB commands.

* ``drive``: ``concurrency`` workers on one ``httpx.AsyncClient`` send requests from a rotating
  list until a deadline; each records its latencies. Requests in flight at the deadline finish
  and count, so a cell lasts at least ``duration`` and at most one slowest request longer.
* ``RssSampler``: a thread polling the resident set size of a server's whole process tree
  (uvicorn's supervisor and its workers) with psutil.
* ``count_commands``: MongoDB's profiler at level 2 on the benchmark database for the duration
  of a fixed number of sequential requests, then the ``system.profile`` entries of the server's
  ``appName`` are counted. Exact, per operation and collection, and blind to everything else on
  the server (driver monitoring, replication, the harness itself); it slows MongoDB down, so it
  runs in a pass of its own and never while timing. The same entries give the documents and
  index keys examined and the collection scans, i.e. whether the work per command grows with
  the catalog.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
from pymongo.asynchronous.database import AsyncDatabase

from benchmarks.queries import GRAPHQL_HEADERS, Request

PROFILE_SIZE_BYTES = 512 * 1024 * 1024
MIB = 1024 * 1024


@dataclass
class DriveResult:
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    elapsed_s: float = 0.0

    @property
    def completed(self) -> int:
        return len(self.latencies_s)


def new_client(base_url: str, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=httpx.Timeout(300.0),
    )


async def send(client: httpx.AsyncClient, request: Request) -> httpx.Response:
    if request.method == "POST":
        return await client.post(
            request.path, content=request.body, headers={**GRAPHQL_HEADERS, **dict(request.headers)}
        )
    return await client.get(request.path, headers=dict(request.headers))


def _failure(response: httpx.Response) -> str | None:
    """Why a response does not count as a success (a non-200, or GraphQL errors)."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    if b'"errors":' in response.content:
        return f"GraphQL errors: {response.text[:300]}"
    return None


async def drive(
    client: httpx.AsyncClient,
    requests: Sequence[Request],
    concurrency: int,
    duration_s: float,
    offset: int = 0,
) -> DriveResult:
    """Send requests round-robin from ``requests`` with ``concurrency`` workers for
    ``duration_s`` seconds."""
    result = DriveResult()
    counter = itertools.count(offset)
    start = time.perf_counter()
    deadline = start + duration_s
    last_done = start

    async def worker() -> None:
        nonlocal last_done
        while time.perf_counter() < deadline:
            request = requests[next(counter) % len(requests)]
            sent = time.perf_counter()
            problem: str | None
            try:
                problem = _failure(await send(client, request))
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            done = time.perf_counter()
            last_done = max(last_done, done)
            if problem is None:
                result.latencies_s.append(done - sent)
            else:
                result.errors += 1
                result.first_error = result.first_error or problem

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed_s = last_done - start
    return result


def process_tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_rss(pid: int) -> tuple[int, int, int]:
    """(total RSS, largest single process RSS, number of processes) of ``pid``'s tree."""
    total = largest = count = 0
    for process in process_tree(pid):
        try:
            rss = int(process.memory_info().rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += rss
        largest = max(largest, rss)
        count += 1
    return total, largest, count


def tree_cpu_s(pid: int) -> float:
    """User plus system CPU seconds used so far by ``pid`` and its live descendants."""
    total = 0.0
    for process in process_tree(pid):
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += times.user + times.system
    return total


class RssSampler:
    """Polls a process tree's RSS in a thread; keeps peaks and, if asked, a time series."""

    def __init__(self, pid: int, interval_s: float = 0.25) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peak_total = 0
        self.peak_process = 0
        self.series: list[tuple[float, float]] | None = None
        self._series_start = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def record_series(self) -> None:
        """Start keeping ``(seconds, total MiB)`` samples from now on."""
        with self._lock:
            self._series_start = time.monotonic()
            self.series = []

    def take_series(self) -> list[tuple[float, float]]:
        with self._lock:
            series, self.series = self.series or [], None
        return series

    def _run(self) -> None:
        while not self._stop.is_set():
            total, largest, _ = tree_rss(self.pid)
            with self._lock:
                self.peak_total = max(self.peak_total, total)
                self.peak_process = max(self.peak_process, largest)
                if self.series is not None and total:
                    self.series.append((time.monotonic() - self._series_start, total / MIB))
            self._stop.wait(self.interval_s)


@dataclass(frozen=True, slots=True)
class CommandCount:
    requests: int
    commands: int
    breakdown: dict[str, int]  # "op:collection" -> count over all requests
    docs_examined: int = 0  # over all requests, from the profiler's docsExamined
    keys_examined: int = 0
    collscans: int = 0  # commands whose plan was a collection scan
    # Bytes of the replies MongoDB sent (the profiler's responseLength): what the server read.
    response_bytes: int = 0

    @property
    def per_request(self) -> float:
        return self.commands / self.requests if self.requests else 0.0


async def count_commands(
    db: AsyncDatabase[dict[str, Any]],
    app_name: str,
    client: httpx.AsyncClient,
    requests: Sequence[Request],
    count: int,
) -> CommandCount:
    """MongoDB commands ``app_name`` sends for ``count`` sequential requests (profiler level 2)."""
    await db.command("profile", 0)
    await db.drop_collection("system.profile")
    await db.create_collection("system.profile", capped=True, size=PROFILE_SIZE_BYTES)
    await db.command("profile", 2)
    try:
        for index in range(count):
            response = await send(client, requests[index % len(requests)])
            problem = _failure(response)
            if problem is not None:
                raise RuntimeError(f"request failed while counting commands: {problem}")
    finally:
        await db.command("profile", 0)
    breakdown: Counter[str] = Counter()
    docs = keys = collscans = response_bytes = 0
    fields = {
        "responseLength": 1,
        "op": 1,
        "ns": 1,
        "command": 1,
        "docsExamined": 1,
        "keysExamined": 1,
        "planSummary": 1,
    }
    cursor = db["system.profile"].find({"appName": app_name}, fields)
    async for entry in cursor:
        docs += int(entry.get("docsExamined", 0))
        keys += int(entry.get("keysExamined", 0))
        collscans += "COLLSCAN" in str(entry.get("planSummary", ""))
        response_bytes += int(entry.get("responseLength", 0))
        collection = str(entry.get("ns", "")).split(".", 1)[-1]
        op = entry.get("op", "?")
        if op == "command":
            command = entry.get("command") or {}
            op = next(iter(command), "command")
        breakdown[f"{op}:{collection}"] += 1
    await db.drop_collection("system.profile")
    return CommandCount(
        count,
        sum(breakdown.values()),
        dict(sorted(breakdown.items())),
        docs,
        keys,
        collscans,
        response_bytes,
    )
