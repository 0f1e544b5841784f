"""Fault switches: injected errors, rate limiting and latency, reproducible by seed."""

from __future__ import annotations

import random
import time
from typing import Any

import cloudinary.api
import httpx
import pytest
from cloudinary.exceptions import GeneralError, RateLimited

from cloudinary_emulator import EmulatorServer
from tests.emulator.helpers import upload_png, url_for


def expected_outcomes(
    seed: int, count: int, error_rate: float, rate_limit_rate: float
) -> list[str]:
    """The documented contract: one random() per faultable request after configure()."""
    rng = random.Random(seed)
    outcomes = []
    for _ in range(count):
        draw = rng.random()
        if draw < error_rate:
            outcomes.append("error")
        elif draw < error_rate + rate_limit_rate:
            outcomes.append("rate_limited")
        else:
            outcomes.append("ok")
    return outcomes


def test_faults_are_reproducible_sdk_exceptions(
    server: EmulatorServer, sdk: dict[str, Any]
) -> None:
    upload_png(sdk, "flaky")
    server.emulator.stats.reset()
    server.emulator.faults.configure(error_rate=0.3, rate_limit_rate=0.2, seed=1234)

    outcomes = []
    for _ in range(20):
        try:
            cloudinary.api.resource("flaky", **sdk)
            outcomes.append("ok")
        except GeneralError:
            outcomes.append("error")
        except RateLimited as limited:
            outcomes.append("rate_limited" if "Rate Limit Exceeded" in str(limited) else "?")

    assert outcomes == expected_outcomes(1234, 20, 0.3, 0.2)
    # Pinned as well, so a change to the draw contract cannot pass unnoticed.
    assert outcomes.count("error") == 8
    assert outcomes.count("rate_limited") == 3
    assert server.emulator.stats.faults_injected == {"error": 8, "rate_limited": 3}
    assert server.emulator.stats.admin_calls == 20


def test_faults_apply_to_uploads_and_can_be_set_over_http(
    server: EmulatorServer, sdk: dict[str, Any], http: httpx.Client
) -> None:
    faults, auth = f"{server.url}/_emulator/faults", server.control_headers()
    response = http.post(faults, json={"rate_limit_rate": 1.0}, headers=auth)
    assert response.json()["rate_limit_rate"] == 1.0
    with pytest.raises(RateLimited):
        upload_png(sdk, "limited")
    http.post(faults, json={"rate_limit_rate": 0, "error_rate": 1}, headers=auth)
    with pytest.raises(GeneralError):
        upload_png(sdk, "broken")
    assert http.post(faults, json={"error_rate": 2}, headers=auth).status_code == 400

    http.post(f"{server.url}/_emulator/reset", headers=auth)
    assert upload_png(sdk, "healthy")["public_id"] == "healthy"
    assert server.emulator.stats.upload_calls == 1


def test_latency_and_delivery_faults(
    server: EmulatorServer, sdk: dict[str, Any], http: httpx.Client
) -> None:
    upload_png(sdk, "slow")
    server.emulator.faults.latency_ms = 250
    started = time.perf_counter()
    cloudinary.api.resource("slow", **sdk)
    assert time.perf_counter() - started >= 0.25

    url = url_for(sdk, "slow", format="png")
    server.emulator.faults.configure(latency_ms=0, error_rate=1.0)
    assert http.get(url).status_code == 200  # delivery is exempt unless asked for
    server.emulator.faults.apply_to_delivery = True
    assert http.get(url).status_code == 500
