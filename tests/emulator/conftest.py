"""Fixtures for the emulator tests: one emulator per module, reset for every test that uses it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cloudinary
import httpx
import pytest

from cloudinary_emulator import EmulatorConfig, EmulatorServer
from tests.emulator.helpers import API_KEY, API_SECRET, CLOUD, NAMED


@pytest.fixture(scope="module")
def running_server() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(
        cloud_name=CLOUD,
        api_key=API_KEY,
        api_secret=API_SECRET,
        named_transformations=NAMED,
        fault_seed=7,
    )
    with EmulatorServer(config) as running:
        yield running


@pytest.fixture
def server(running_server: EmulatorServer) -> EmulatorServer:
    """The module's emulator with no assets, counters or faults left by earlier tests."""
    running_server.emulator.reset()
    return running_server


@pytest.fixture
def sdk(server: EmulatorServer) -> dict[str, Any]:
    return server.sdk_config()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    # trust_env off: a proxy from the environment must not intercept 127.0.0.1.
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture
def global_api_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's verify_* helpers read the secret only from the global config."""
    monkeypatch.setattr(cloudinary.config(), "api_secret", API_SECRET, raising=False)
