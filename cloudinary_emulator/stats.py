"""Request counters that tests assert on exactly.

Every request reaching an Admin or Upload API route counts, including ones then refused
(bad credentials, injected faults, rate limiting): the point is how many calls a client made.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from cloudinary_emulator.faults import FaultKind


class EmulatorStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._admin: Counter[str] = Counter()
        self._upload: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._delivery = 0
        self._notifications_sent = 0
        self._notifications_failed = 0

    def reset(self) -> None:
        with self._lock:
            self._admin.clear()
            self._upload.clear()
            self._faults.clear()
            self._delivery = 0
            self._notifications_sent = 0
            self._notifications_failed = 0

    def record_admin(self, operation: str) -> None:
        with self._lock:
            self._admin[operation] += 1

    def record_upload(self, operation: str) -> None:
        with self._lock:
            self._upload[operation] += 1

    def record_delivery(self) -> None:
        with self._lock:
            self._delivery += 1

    def record_fault(self, kind: FaultKind) -> None:
        with self._lock:
            self._faults[kind] += 1

    def record_notification(self, delivered: bool) -> None:
        with self._lock:
            if delivered:
                self._notifications_sent += 1
            else:
                self._notifications_failed += 1

    @property
    def admin_calls(self) -> int:
        with self._lock:
            return self._admin.total()

    @property
    def admin_calls_by_operation(self) -> dict[str, int]:
        """Keyed by the SDK function name: ``resources_by_ids``, ``resource``, ``update``..."""
        with self._lock:
            return dict(self._admin)

    @property
    def upload_calls(self) -> int:
        with self._lock:
            return self._upload.total()

    @property
    def upload_calls_by_operation(self) -> dict[str, int]:
        with self._lock:
            return dict(self._upload)

    @property
    def delivery_requests(self) -> int:
        with self._lock:
            return self._delivery

    @property
    def faults_injected(self) -> dict[str, int]:
        with self._lock:
            return {"error": self._faults["error"], "rate_limited": self._faults["rate_limited"]}

    @property
    def notifications_sent(self) -> int:
        with self._lock:
            return self._notifications_sent

    @property
    def notifications_failed(self) -> int:
        with self._lock:
            return self._notifications_failed

    def snapshot(self) -> dict[str, Any]:
        return {
            "admin_calls": self.admin_calls,
            "admin_calls_by_operation": self.admin_calls_by_operation,
            "upload_calls": self.upload_calls,
            "upload_calls_by_operation": self.upload_calls_by_operation,
            "delivery_requests": self.delivery_requests,
            "faults_injected": self.faults_injected,
            "notifications_sent": self.notifications_sent,
            "notifications_failed": self.notifications_failed,
        }
