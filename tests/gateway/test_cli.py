"""The ``catalog-gateway`` command, run as a user would run it."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from cloudinary_emulator import EmulatorConfig, create_emulator
from demo.defects import MISSING_ASSET_PREFIX
from demo.placeholders import PLACEHOLDER_SIZES
from gateway.cli import main
from gateway.dam_setup import EMULATOR_CLOUD, EMULATOR_KEY, emulator_secret, emulator_storage
from gateway.embedded_mongo import free_port
from gateway.settings import Settings
from tests.conftest import TEST_KEY_PEPPER

COMMAND = [sys.executable, "-m", "gateway.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any catalog setting of the developer's own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CATALOG_") and k not in ("MONGODB_URI", "CLOUDINARY_URL")
    }
    # What a deployment sets (the demo alone makes a pepper up).
    env["CATALOG_KEY_PEPPER"] = TEST_KEY_PEPPER
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args],
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


Command = Callable[..., tuple[int, str, str]]


@pytest.fixture
def command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Command:
    """``main`` in this process, in ``clean_env``'s environment: (status, stdout, stderr).

    For refusals, which stop before anything starts, and seeding without pictures: a
    subprocess spends ~2 s importing the gateway before it does anything.
    ``test_bad_setting_stops_with_one_line`` runs the installed command, so the status and
    the line still reach a shell.
    """

    def call(*args: str, unset: tuple[str, ...] = (), **env: str) -> tuple[int, str, str]:
        for name in list(os.environ):
            if name.startswith("CATALOG_") or name in ("MONGODB_URI", "CLOUDINARY_URL"):
                monkeypatch.delenv(name)
        for name, value in clean_env(**env).items():
            monkeypatch.setenv(name, value)
        for name in unset:
            monkeypatch.delenv(name)
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return call


@pytest.mark.parametrize(
    "args", [[], ["serve"], ["seed"], ["schema"], ["cloudinary-emulator"], ["audit"], ["media"]]
)
def test_every_command_has_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--help"])
    assert exit_info.value.code == 0
    assert "usage: catalog-gateway" in capsys.readouterr().out


def test_schema_prints_the_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    sdl = capsys.readouterr().out
    assert 'type Product implements Node @key(fields: "sku") @key(fields: "id")' in sdl


def test_bad_setting_stops_with_one_line() -> None:
    result = run("serve", env=clean_env(CATALOG_PORT="eighty"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "catalog-gateway: error: CATALOG_PORT: Input should be a valid integer, unable to parse "
        "string as an integer (got 'eighty')"
    ]


def test_bad_channel_profile_stops_serve_naming_file_and_line(
    tmp_path: Path, command: Command
) -> None:
    shipped = Settings().channels_path.read_text().splitlines()
    line = shipped.index("[channels.web.slots.card]") + 2  # its "width = 400", 1-based
    assert shipped[line - 1] == "width = 400"
    shipped[line - 1] = "width = -1"
    channels = tmp_path / "channels.toml"
    channels.write_text("\n".join(shipped))
    status, _, stderr = command("serve", CATALOG_CHANNELS=str(channels))
    assert status == 1
    assert stderr.strip() == (
        f"catalog-gateway: error: {channels}:{line}: channels.web.slots.card.width: "
        "Input should be greater than or equal to 1"
    )


def test_serve_without_a_key_pepper_stops_with_one_line(command: Command) -> None:
    status, _, stderr = command("serve", unset=("CATALOG_KEY_PEPPER",))
    assert status == 1
    assert stderr.startswith("catalog-gateway: error: CATALOG_KEY_PEPPER is required")
    assert len(stderr.strip().splitlines()) == 1


def test_missing_mongod_is_explained(command: Command) -> None:
    status, _, stderr = command("serve", CATALOG_MONGOD="/nonexistent/mongod")
    assert status == 1
    assert "CATALOG_MONGOD=/nonexistent/mongod is not an executable file" in stderr


def test_seed_refuses_to_overwrite_unless_asked(
    mongodb_uri: str, db_name: str, command: Command
) -> None:
    # A Cloudinary of its own (never asked): no demo pictures to draw for the emulator.
    env = {
        "MONGODB_URI": mongodb_uri,
        "CATALOG_DB": db_name,
        "CLOUDINARY_URL": "cloudinary://key:secret@demo",
    }
    status, out, err = command("seed", "--demo", "--products", "60", **env)
    assert status == 0, err
    assert "products=60" in out
    status, _, err = command("seed", "--demo", "--products", "60", **env)
    assert status == 1
    assert "--replace" in err
    status, _, err = command("seed", "--demo", "--products", "50", "--replace", **env)
    assert status == 0, err


def test_seed_demo_uploads_the_pictures_into_the_emulator_storage(
    mongodb_uri: str, db_name: str, tmp_path: Path
) -> None:
    """`seed --demo` then `serve` is a catalog with pictures, like `serve` with CATALOG_DEMO."""
    env = clean_env(MONGODB_URI=mongodb_uri, CATALOG_DB=db_name, CATALOG_DATA_DIR=str(tmp_path))
    result = run("seed", "--demo", "--products", "50", env=env)
    assert result.returncode == 0, result.stderr
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    try:
        db = client[db_name]
        references = {
            (m["publicId"])
            for p in db.products.find({}, {"media": 1})
            for m in p["media"]
            if not m["publicId"].startswith(MISSING_ASSET_PREFIX)
        }
        assert references
        active = db.assets.count_documents({"status": "active"})
        assert active == len(references) + len(PLACEHOLDER_SIZES)
        # Scored with the pictures there: far more ready than the few without media needs.
        ready = db.products.count_documents({"readiness.web.ready": True})
        unscored = db.products.count_documents({"readiness.web.computedAt": {"$exists": False}})
        assert unscored == 0
        assert ready >= 25, ready
    finally:
        client.drop_database(db_name)
        client.close()
    # The emulator `serve` starts over this data directory finds them.
    stored = create_emulator(
        EmulatorConfig(
            cloud_name=EMULATOR_CLOUD,
            api_key=EMULATOR_KEY,
            api_secret=emulator_secret(Settings(data_dir=tmp_path)),
            storage_dir=emulator_storage(Settings(data_dir=tmp_path)),
        )
    )
    # All but the demo's planted hero deleted in the DAM, which the mirror still lists.
    assert len(stored.store) == active - 1
    assert "pictures" in result.stdout


def test_seed_rejects_bad_numbers(command: Command, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        command("seed", "--demo", "--products", "10")
    assert exit_info.value.code == 2
    assert "--products: 10 is too few" in capsys.readouterr().err


@pytest.mark.parametrize(
    "variable", ["CATALOG_PORT", "CATALOG_MONGOD_PORT", "CATALOG_EMULATOR_PORT"]
)
def test_serve_stops_on_a_taken_port_with_one_line(
    variable: str, tmp_path: Path, command: Command
) -> None:
    """Another instance (or anything) on one of the ports: one line naming it, nothing started."""
    ports = {name: str(free_port()) for name in ("CATALOG_PORT", "CATALOG_MONGOD_PORT")}
    ports["CATALOG_EMULATOR_PORT"] = str(free_port())
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports[variable] = str(taken)
        status, _, stderr = command("serve", CATALOG_DATA_DIR=str(tmp_path), **ports)
    assert status == 1, stderr
    (line,) = stderr.strip().splitlines()
    assert line.startswith("catalog-gateway: error: ")
    assert f"port {taken}" in line
    assert variable in line
    assert not (tmp_path / "mongo").exists()  # refused before mongod started


@contextmanager
def serving(
    data_dir: Path, demo: bool, *, own_group: bool = False
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``serve`` in a process; ``own_group``: as a terminal runs it, the leader of a process
    group of its own (its children in it too, unless they leave)."""
    port = free_port()
    env = clean_env(
        CATALOG_DATA_DIR=str(data_dir),
        CATALOG_PORT=str(port),
        CATALOG_MONGOD_PORT=str(free_port()),
        CATALOG_DEMO="true" if demo else "false",
        CATALOG_DEMO_PRODUCTS="60",
    )
    process = subprocess.Popen(
        [*COMMAND, "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=own_group,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the gateway did not become ready"
            time.sleep(0.2)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
        if process.stdout:
            process.stdout.close()


def total_count(url: str, data_dir: Path) -> Any:
    """Every product, drafts too: counted with the admin key the demo saved at its first start."""
    key = (data_dir / "demo-admin-key").read_text().strip()
    response = httpx.post(
        f"{url}/graphql",
        json={"query": "{ products { totalCount } }"},
        headers={"Authorization": f"Bearer {key}"},
    )
    return response.json()["data"]["products"]["totalCount"]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM])
def test_serve_owns_an_embedded_mongod_whose_data_survives(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    with serving(tmp_path, demo=True) as (process, url):
        assert total_count(url, tmp_path) == 60
        mongod_lock = tmp_path / "mongo" / "mongod.lock"
        assert mongod_lock.read_text().strip()  # mongod holds its lock while running
        process.send_signal(stop_signal)
        # uvicorn shuts down gracefully, then re-raises the signal so the status tells why.
        assert process.wait(60) == -stop_signal
        # A clean mongod shutdown empties its lock file.
        assert mongod_lock.read_text().strip() == ""
    with serving(tmp_path, demo=False) as (process, url):
        assert total_count(url, tmp_path) == 60
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
        assert (tmp_path / "mongo" / "mongod.lock").read_text().strip() == ""


def test_ctrl_c_in_a_terminal_stops_the_gateway_before_its_mongod_logging_each_event_once(
    tmp_path: Path,
) -> None:
    """A terminal's Ctrl-C signals the whole foreground process group: the embedded mongod
    must not stop under the gateway's shut-down (which still uses the database). Its log has
    each event once and every request. One serve for both (each start costs ~4 s); a SIGINT
    to the gateway alone is test_serve_owns_an_embedded_mongod_whose_data_survives's."""
    with serving(tmp_path, demo=False, own_group=True) as (process, url):
        response = httpx.post(
            f"{url}/graphql",
            json={"query": "query Count { products { totalCount } }"},
            headers={"x-request-id": "req-7"},
        )
        assert response.status_code == 200
        assert response.json()["data"] == {"products": {"totalCount": 0}}
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(60) == 0
        assert process.stdout is not None
        output = process.stdout.read()
    shut_down = output[output.index("Shutting down") :]
    assert "Traceback" not in shut_down, shut_down
    assert " WARNING " not in shut_down, shut_down
    assert " ERROR " not in shut_down, shut_down
    # The gateway stopped its mongod, cleanly (an empty lock file).
    assert (tmp_path / "mongo" / "mongod.lock").read_text().strip() == ""
    # The emulator's uvicorn runs in the same process: its start-up is not the gateway's.
    for event in (
        "Started server process",
        "Waiting for application startup",
        "Application startup complete",
        "Shutting down",
        "Application shutdown complete",
        "catalog gateway ready",
        "Cloudinary emulator for cloud",
    ):
        assert output.count(event) == 1, f"{event!r}:\n{output}"
    access = [line for line in output.splitlines() if " gateway.access: " in line]
    assert any(
        re.search(
            r"INFO gateway\.access: POST /graphql 200 [0-9.]+ ms id=req-7 key=anonymous op=Count$",
            line,
        )
        for line in access
    ), output
    assert '"POST /graphql HTTP/1.1" 200' not in output  # uvicorn's own access log is off


@pytest.mark.parametrize(
    ("value", "reason"), [("0", "0 is too few: at least 1"), ("two", "'two' is not a whole number")]
)
def test_serve_rejects_bad_worker_counts(
    value: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--workers", value])
    assert exit_info.value.code == 2
    assert f"argument --workers: {reason}" in capsys.readouterr().err


def test_bad_worker_setting_stops_with_one_line(command: Command) -> None:
    status, _, stderr = command("serve", CATALOG_WORKERS="0")
    assert status == 1
    assert stderr.strip() == (
        "catalog-gateway: error: CATALOG_WORKERS: Input should be greater than or equal to 1 "
        "(got '0')"
    )


def test_several_workers_refuse_the_embedded_mongod_and_emulator(
    tmp_path: Path, command: Command
) -> None:
    status, _, stderr = command("serve", "--workers", "2", CATALOG_DATA_DIR=str(tmp_path))
    assert status == 1
    assert stderr.strip() == (
        "catalog-gateway: error: 2 workers need MONGODB_URI and CLOUDINARY_URL (or "
        "CATALOG_EMULATOR_URL): the embedded "
        "mongod and the Cloudinary emulator cannot be shared between processes (each worker "
        f"would start its own over {tmp_path}); set them, or serve with one worker"
    )
    assert not (tmp_path / "mongo").exists()  # refused before anything started
    status, _, stderr = command("serve", "--reload", CATALOG_WORKERS="2")
    assert status == 1
    assert "--reload serves from one process" in stderr


def test_serve_with_workers_shares_one_socket(
    mongodb_uri: str, db_name: str, tmp_path: Path
) -> None:
    port = free_port()
    env = clean_env(
        MONGODB_URI=mongodb_uri,
        CATALOG_DB=db_name,
        CLOUDINARY_URL="cloudinary://key:secret@demo",  # nothing is asked of it here
        CATALOG_DATA_DIR=str(tmp_path),
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*COMMAND, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        # Both workers up (each logs through the handler the command line hands it), then /readyz.
        while log.read_text().count("INFO gateway.app: catalog gateway ready") < 2:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
    assert log.read_text().count("Application startup complete") == 2
