"""Counts MongoDB commands, the way Saleor's benchmarks count SQL queries."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from pymongo import monitoring

# Driver housekeeping, not work done for a query.
_IGNORED = frozenset(
    {
        "hello",
        "ismaster",
        "isMaster",
        "endSessions",
        "ping",
        "killCursors",
        "buildInfo",
        "saslStart",
        "saslContinue",
    }
)


@dataclass
class Recorded:
    commands: list[tuple[str, str, str]] = field(default_factory=list)  # (db, command, collection)
    # The commands as sent, in the same order (what a find projected, for one).
    sent: list[Mapping[str, object]] = field(default_factory=list)

    def names(self) -> Counter[str]:
        return Counter(f"{name}:{coll}" for _, name, coll in self.commands)

    def __len__(self) -> int:
        return len(self.commands)


class CommandCounter(monitoring.CommandListener):
    """Records the commands sent to a database while a ``record`` block is open."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: list[tuple[str | None, Recorded]] = []

    @contextmanager
    def record(self, database: str | None = None) -> Iterator[Recorded]:
        entry = (database, Recorded())
        with self._lock:
            self._active.append(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._active.remove(entry)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in _IGNORED:
            return
        key = "collection" if event.command_name == "getMore" else event.command_name
        collection = event.command.get(key)
        with self._lock:
            for database, recorded in self._active:
                if database is None or database == event.database_name:
                    recorded.commands.append(
                        (event.database_name, event.command_name, str(collection))
                    )
                    recorded.sent.append(event.command)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass
