"""Notifications the emulator sends, signed like Cloudinary's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cloudinary.api
import cloudinary.utils
import httpx
import pytest

from cloudinary_emulator import EmulatorServer
from tests.emulator.helpers import upload_png
from tests.emulator_fixtures import NotificationReceiver, notification_receiver


@pytest.fixture(scope="module")
def receiver() -> Iterator[NotificationReceiver]:
    with notification_receiver() as running:
        yield running


def test_notifications_are_signed_like_cloudinary(
    server: EmulatorServer,
    sdk: dict[str, Any],
    receiver: NotificationReceiver,
    global_api_secret: None,
) -> None:
    receiver.clear()
    hook = f"{receiver.url}/hooks/cloudinary"
    upload_png(sdk, "notified", tags=["a"], notification_url=hook)
    cloudinary.api.update("notified", tags=["a", "b"], notification_url=hook, **sdk)
    cloudinary.api.delete_resources(["notified"], notification_url=hook, **sdk)

    received = receiver.wait_for(3)
    by_type = {}
    for notification in received:
        assert notification.path == "/hooks/cloudinary"
        assert notification.headers["content-type"] == "application/json"
        assert cloudinary.utils.verify_notification_signature(
            notification.body, notification.timestamp, notification.signature
        )
        assert not cloudinary.utils.verify_notification_signature(
            notification.body + " ", notification.timestamp, notification.signature
        )
        payload = httpx.Response(200, content=notification.body).json()
        by_type[payload["notification_type"]] = payload
    assert by_type["upload"]["public_id"] == "notified"
    assert by_type["resource_tags_changed"]["resources"][0]["added"] == ["b"]
    assert by_type["delete"]["resources"][0]["public_id"] == "notified"
    assert server.emulator.notifier.wait_until_settled()
    assert server.emulator.stats.notifications_sent == 3


def test_global_notification_url_and_failed_delivery(
    server: EmulatorServer, sdk: dict[str, Any], receiver: NotificationReceiver
) -> None:
    receiver.clear()
    server.emulator.notification_url = f"{receiver.url}/global"
    upload_png(sdk, "global-hook")
    assert receiver.wait_for(1)[0].path == "/global"

    # A dead endpoint never fails the API call; the failure is only counted.
    server.emulator.notification_url = "http://127.0.0.1:9/unreachable"
    assert upload_png(sdk, "dead-hook")["public_id"] == "dead-hook"
    assert server.emulator.notifier.wait_until_settled()
    assert server.emulator.stats.notifications_failed == 1
