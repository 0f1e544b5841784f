"""Several workers behind one socket: Nagle off on every connection (uvicorn #3149 stays fixed
at our floor), a worker that cannot start stops them all, and what they refuse."""

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from gateway.embedded_mongo import free_port
from gateway.server import WorkersConfigError, check_workers, run_workers
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CLOUDINARY_URL = "cloudinary://key:secret@demo"
MONGODB_URI = "mongodb://127.0.0.1:27017/?replicaSet=rs0"


def settings(**values: object) -> Settings:
    """Settings with neither MONGODB_URI nor CLOUDINARY_URL unless given, whatever the env says."""
    return Settings(**{"mongodb_uri": None, "cloudinary_url": None, **values})  # type: ignore[arg-type]


def test_one_worker_needs_nothing_shared() -> None:
    check_workers(settings(workers=1), reload=True)


def test_several_workers_need_database_and_media_they_can_share() -> None:
    with pytest.raises(WorkersConfigError) as error:
        check_workers(settings(workers=2, data_dir="/srv/catalog"))
    assert str(error.value) == (
        "2 workers need MONGODB_URI and CLOUDINARY_URL (or CATALOG_EMULATOR_URL): the embedded "
        "mongod and the Cloudinary emulator cannot be shared between processes (each worker "
        "would start its own over /srv/catalog); set them, or serve with one worker"
    )
    with pytest.raises(WorkersConfigError) as error:
        check_workers(settings(workers=3, mongodb_uri=MONGODB_URI, data_dir="data"))
    assert str(error.value) == (
        "3 workers need CLOUDINARY_URL (or CATALOG_EMULATOR_URL): the Cloudinary emulator cannot "
        "be shared between processes (each worker would start its own over data); set it, or "
        "serve with one worker"
    )
    check_workers(settings(workers=3, mongodb_uri=MONGODB_URI, cloudinary_url=CLOUDINARY_URL))


def test_reload_runs_one_process() -> None:
    shared = settings(workers=2, mongodb_uri=MONGODB_URI, cloudinary_url=CLOUDINARY_URL)
    with pytest.raises(WorkersConfigError, match="--reload serves from one process"):
        check_workers(shared, reload=True)


def test_run_workers_is_for_several() -> None:
    with pytest.raises(ValueError, match="workers > 1"):
        run_workers(uvicorn.Config("gateway.asgi:app_factory", workers=1, log_config=None))


# run_workers as `catalog-gateway serve --workers 2` calls it, for a test app.
RUN_WORKERS = """
import sys, uvicorn
from gateway.server import run_workers
config = uvicorn.Config(sys.argv[1], factory=True, port=int(sys.argv[2]), workers=2)
sys.exit(run_workers(config))
"""


@contextlib.contextmanager
def workers(factory: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_WORKERS, factory, str(port)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds sockets through /proc")
def test_workers_answer_with_nagle_off_and_stop_on_sigterm() -> None:
    port = free_port()
    with workers("tests.gateway.worker_apps:nodelay_app_factory", port) as process:
        deadline = time.monotonic() + 60
        answers: list[str] = []
        while len(answers) < 10:
            assert process.poll() is None, "the workers stopped"
            assert time.monotonic() < deadline, "the workers did not answer"
            try:
                # A connection each: the kernel hands them to whichever worker accepts first.
                answers.append(httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answers == ["1"] * 10
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


def test_a_worker_that_cannot_start_stops_the_server_with_status_1() -> None:
    with workers("tests.gateway.worker_apps:failing_app_factory", free_port()) as process:
        assert process.wait(60) == 1
