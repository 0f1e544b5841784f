"""The ``/_emulator`` control endpoints answer only to the account's credentials."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cloudinary_emulator import EmulatorServer, control_headers
from tests.emulator.helpers import API_KEY, upload_png

CONTROLS = [
    ("GET", "stats"),
    ("GET", "faults"),
    ("POST", "faults"),
    ("POST", "reset"),
    ("GET", "notifications"),
]


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        control_headers(API_KEY, "not-the-secret"),
        control_headers("unknown-key", "emulator-test-secret"),
        {"Authorization": "Bearer emulator-test-secret"},
    ],
    ids=["none", "wrong secret", "wrong key", "not basic"],
)
@pytest.mark.parametrize(("method", "name"), CONTROLS)
def test_controls_refuse_requests_without_the_accounts_credentials(
    server: EmulatorServer,
    sdk: dict[str, Any],
    http: httpx.Client,
    credentials: dict[str, str],
    method: str,
    name: str,
) -> None:
    upload_png(sdk, "kept")
    response = http.request(
        method, f"{server.url}/_emulator/{name}", json={"error_rate": 1.0}, headers=credentials
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="cloudinary-emulator control"'
    message = response.json()["error"]["message"]
    assert message.startswith(
        "The emulator's control endpoints need the account's credentials as HTTP Basic "
        "api_key:api_secret ("
    )
    # Nothing was reset or switched on.
    assert len(server.emulator.store) == 1
    assert server.emulator.faults.settings.error_rate == 0


@pytest.mark.parametrize(("method", "name"), CONTROLS)
def test_controls_answer_the_accounts_credentials(
    server: EmulatorServer, http: httpx.Client, method: str, name: str
) -> None:
    response = http.request(
        method, f"{server.url}/_emulator/{name}", headers=server.control_headers()
    )
    assert response.status_code == 200


def test_reset_with_credentials_wipes_the_assets(
    server: EmulatorServer, sdk: dict[str, Any], http: httpx.Client
) -> None:
    upload_png(sdk, "gone")
    response = http.post(f"{server.url}/_emulator/reset", headers=server.control_headers())
    assert response.json() == {"status": "ok"}
    assert len(server.emulator.store) == 0
