"""Webhook notifications, signed and delivered the way Cloudinary does.

The body is JSON; ``X-Cld-Timestamp`` carries Unix seconds and ``X-Cld-Signature`` the hex
digest of ``body + timestamp + api_secret`` (what ``verify_notification_signature``
checks). Delivery runs as a task on the serving event loop, with the blocking POST in a
worker thread, so the API response never waits for it; failures are logged and counted,
never raised. Unlike Cloudinary there are no retries.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudinary_emulator.config import SignatureAlgorithm
from cloudinary_emulator.signing import notification_signature
from cloudinary_emulator.stats import EmulatorStats
from cloudinary_emulator.store import Asset

log = logging.getLogger("cloudinary_emulator.notifications")


@dataclass(frozen=True, slots=True)
class SentNotification:
    url: str
    payload: dict[str, Any]
    body: str
    timestamp: int
    signature: str
    # The receiver's HTTP status, or None when it could not be reached at all.
    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Notifier:
    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        algorithm: SignatureAlgorithm,
        timeout_s: float,
        stats: EmulatorStats,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api_key = api_key
        self._api_secret = api_secret
        self._algorithm = algorithm
        self._timeout_s = timeout_s
        self._stats = stats
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        self._log: list[SentNotification] = []
        self._settled = threading.Condition()
        self._pending = 0
        # No proxies from the environment: webhook receivers are usually on localhost.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def send(self, url: str, payload: dict[str, Any]) -> None:
        """Schedule delivery on the running loop; returns at once."""
        payload = {**payload, "signature_key": self._api_key}
        with self._settled:
            self._pending += 1
        task = asyncio.get_running_loop().create_task(self._deliver(url, payload))
        self._tasks.add(task)
        # A callback rather than a finally clause: it also runs for a task cancelled
        # before it ever started.
        task.add_done_callback(self._settle)

    def _settle(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        with self._settled:
            self._pending -= 1
            self._settled.notify_all()

    async def _deliver(self, url: str, payload: dict[str, Any]) -> None:
        timestamp = int(self._clock())
        body = json.dumps(payload)
        signature = notification_signature(body, timestamp, self._api_secret, self._algorithm)
        status: int | None = None
        error: str | None = None
        try:
            status = await asyncio.to_thread(self._post, url, body, timestamp, signature)
        except asyncio.CancelledError:
            error = "cancelled"
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("notification to %s failed: %s", url, error)
        finally:
            sent = SentNotification(url, payload, body, timestamp, signature, status, error)
            self._stats.record_notification(sent.delivered)
            with self._settled:
                self._log.append(sent)

    def _post(self, url: str, body: str, timestamp: int, signature: str) -> int:
        request = urllib.request.Request(
            url,
            data=body.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Cloudinary",
                "X-Cld-Timestamp": str(timestamp),
                "X-Cld-Signature": signature,
            },
        )
        try:
            with self._opener.open(request, timeout=self._timeout_s) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as refused:
            # An HTTPError holds the open response; closing it avoids a leaked socket.
            refused.close()
            return refused.code

    @property
    def sent(self) -> list[SentNotification]:
        """Every notification attempted so far, delivered or not, oldest first."""
        with self._settled:
            return list(self._log)

    def clear(self) -> None:
        with self._settled:
            self._log.clear()

    def wait_until_settled(self, timeout: float = 5.0) -> bool:
        """Block (from any thread but the serving loop's) until no delivery is in flight."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout)

    async def drain(self, wait_s: float | None = None) -> None:
        """Wait for in-flight deliveries on the serving loop; cancel what is left after it."""
        tasks = set(self._tasks)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=wait_s)
        for task in late:
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)


def _context(api_key: str, now: float) -> dict[str, Any]:
    return {
        "triggered_at": iso_time(now),
        "triggered_by": {"source": "api", "id": api_key},
    }


def iso_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def upload_payload(
    resource: dict[str, Any], request_id: str, api_key: str, now: float
) -> dict[str, Any]:
    return {
        "notification_type": "upload",
        "timestamp": iso_time(now),
        "request_id": request_id,
        **resource,
        "notification_context": _context(api_key, now),
    }


def _reference(asset: Asset) -> dict[str, Any]:
    return {
        "asset_id": asset.asset_id,
        "public_id": asset.public_id,
        "resource_type": asset.resource_type,
        "type": asset.type,
    }


def delete_payload(assets: Iterable[Asset], api_key: str, now: float) -> dict[str, Any]:
    return {
        "notification_type": "delete",
        "resources": [
            {
                **_reference(asset),
                "version": asset.version,
                "asset_folder": asset.asset_folder,
                "display_name": asset.display_name,
            }
            for asset in assets
        ],
        "notification_context": _context(api_key, now),
    }


def tags_changed_payload(
    changes: Iterable[tuple[Asset, list[str], list[str]]], api_key: str, now: float
) -> dict[str, Any]:
    resources = []
    for asset, added, removed in changes:
        entry = _reference(asset)
        if added:
            entry["added"] = added
        if removed:
            entry["removed"] = removed
        resources.append(entry)
    return {
        "notification_type": "resource_tags_changed",
        "source": "api",
        "resources": resources,
        "notification_context": _context(api_key, now),
    }


def context_changed_payload(
    changes: Iterable[tuple[Asset, dict[str, str], dict[str, str]]], api_key: str, now: float
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for asset, before, after in changes:
        entry: dict[str, Any] = {}
        added = {key: value for key, value in after.items() if key not in before}
        updated = {
            key: value for key, value in after.items() if key in before and before[key] != value
        }
        removed = [key for key in before if key not in after]
        if added:
            entry["added"] = added
        if updated:
            entry["updated"] = updated
        if removed:
            entry["removed"] = removed
        resources[asset.public_id] = {**entry, **_reference(asset)}
    return {
        "notification_type": "resource_context_changed",
        "source": "api",
        "resources": resources,
        "notification_context": _context(api_key, now),
    }


def metadata_changed_payload(
    changes: Iterable[tuple[Asset, dict[str, Any], dict[str, Any]]], api_key: str, now: float
) -> dict[str, Any]:
    return {
        "notification_type": "resource_metadata_changed",
        "source": "api",
        "resources": {
            asset.public_id: {
                "previous_metadata": before,
                "new_metadata": after,
                **_reference(asset),
            }
            for asset, before, after in changes
        },
        "notification_context": _context(api_key, now),
    }
