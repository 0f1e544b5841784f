"""A three-member MongoDB replica set of real mongods on 127.0.0.1, for failover tests."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from gateway.embedded_mongo import find_mongod, free_port
from tests.conftest import scratch_dir

NAME = "failover"
# Shorter than MongoDB's 10 s default, so a test's two elections take seconds; still longer
# than a heartbeat or two, as in production.
ELECTION_TIMEOUT_MS = 2000


@dataclass
class Member:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class ReplicaSet:
    members: list[Member]

    @property
    def uri(self) -> str:
        hosts = ",".join(m.host for m in self.members)
        return f"mongodb://{hosts}/?replicaSet={NAME}"

    def primary(self, timeout: float = 60) -> Member:
        """The member that is primary, once one is (waits through an election)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for member in self.members:
                if member.process.poll() is not None:
                    continue
                hello = _hello(member)
                if hello is not None and hello.get("isWritablePrimary"):
                    return member
            time.sleep(0.1)
        raise RuntimeError(f"no primary within {timeout} s")

    def step_down(self, member: Member, seconds: int = 10) -> None:
        """Ask the primary to step down (it may not stand again for ``seconds``)."""
        client: MongoClient[dict[str, Any]] = MongoClient(member.host, directConnection=True)
        try:
            client.admin.command("replSetStepDown", seconds, secondaryCatchUpPeriodSecs=5)
        except PyMongoError:
            pass  # it closes connections as it steps down
        finally:
            client.close()

    def kill(self, member: Member) -> None:
        """SIGKILL: as if the machine went away."""
        member.process.kill()
        member.process.wait()


def _hello(member: Member) -> dict[str, Any] | None:
    client: MongoClient[dict[str, Any]] = MongoClient(
        member.host, directConnection=True, serverSelectionTimeoutMS=300
    )
    try:
        return client.admin.command("hello")
    except PyMongoError:
        return None
    finally:
        client.close()


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the member's process before exec: it is killed when the test process dies, even one
    killed before its clean-up could run (a timeout, a crash)."""
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@contextmanager
def replica_set() -> Iterator[ReplicaSet]:
    """Three mongods and an initiated replica set; all killed when the block ends."""
    mongod = find_mongod(None)
    members: list[Member] = []
    with tempfile.TemporaryDirectory(prefix="failover-", dir=scratch_dir()) as temp:
        try:
            for index in range(3):
                members.append(_start(mongod, Path(temp) / f"member-{index}"))
            for member in members:
                _wait_answering(member)
            _initiate(members)
            replica = ReplicaSet(members)
            replica.primary()
            yield replica
        finally:
            for member in members:
                if member.process.poll() is None:
                    member.process.kill()
                    member.process.wait()


def _start(mongod: Path, dbpath: Path) -> Member:
    dbpath.mkdir(parents=True)
    port = free_port()
    args = [
        str(mongod),
        "--replSet",
        NAME,
        "--port",
        str(port),
        "--bind_ip",
        "127.0.0.1",
        "--dbpath",
        str(dbpath),
        "--logpath",
        str(dbpath / "mongod.log"),
        "--wiredTigerCacheSizeGB",
        "0.25",
        "--setParameter",
        "diagnosticDataCollectionEnabled=false",
    ]
    process = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    return Member(port, process)


def _initiate(members: list[Member]) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(members[0].host, directConnection=True)
    try:
        client.admin.command(
            "replSetInitiate",
            {
                "_id": NAME,
                "members": [{"_id": i, "host": m.host} for i, m in enumerate(members)],
                "settings": {
                    "electionTimeoutMillis": ELECTION_TIMEOUT_MS,
                    "heartbeatIntervalMillis": 500,
                },
            },
        )
    finally:
        client.close()


def _wait_answering(member: Member, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _hello(member) is None:
        if member.process.poll() is not None:
            raise RuntimeError(f"mongod on {member.host} exited ({member.process.returncode})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"mongod on {member.host} did not answer within {timeout} s")
        time.sleep(0.1)
