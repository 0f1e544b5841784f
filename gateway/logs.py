"""Logging of every ``catalog-gateway`` process: one handler, one format, one line per event.

The root logger has the only handler. uvicorn's loggers keep none of their own and propagate to
it, so a server line appears once and in the gateway's format (uvicorn's default configuration
would give them a second handler and a second format). The in-process Cloudinary emulator runs
a uvicorn server of its own in a thread; its start-up and shut-down lines would read as the
gateway's a second time, so below WARNING they are left out (the emulator and the gateway each
say in one line where it listens).
"""

from __future__ import annotations

import logging
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The name cloudinary_emulator.server gives the thread of the uvicorn server it starts.
EMULATOR_THREAD = "cloudinary-emulator"


class EmulatorServerLines(logging.Filter):
    """Leaves out the in-process emulator's uvicorn lines below WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.threadName == EMULATOR_THREAD
            and record.name.startswith("uvicorn")
            and record.levelno < logging.WARNING
        )


def logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` configuration; also handed to uvicorn for processes it
    spawns (workers, the reloader's server), which start with logging unconfigured."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"emulator_server": {"()": EmulatorServerLines}},
        "formatters": {"gateway": {"format": LOG_FORMAT}},
        "handlers": {
            "gateway": {
                "class": "logging.StreamHandler",
                "formatter": "gateway",
                "filters": ["emulator_server"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["gateway"], "level": level.upper()},
        "loggers": {
            # No handlers of their own (a configuration uvicorn applied earlier is undone).
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # Off: the gateway's access log (gateway.access) has the request id and operation.
            "uvicorn.access": {"handlers": [], "propagate": False},
            # The Cloudinary SDK shares one small urllib3 pool between threads; the pool's notes
            # about discarded connections are noise, not problems.
            "urllib3.connectionpool": {"level": "ERROR"},
            # The driver's DEBUG lines hold whole commands and replies: API key hashes too,
            # which must never be logged, whatever CATALOG_LOG_LEVEL says.
            "pymongo.command": {"level": "INFO"},
        },
    }


def configure_logging(level: str) -> None:
    import logging.config

    logging.config.dictConfig(logging_config(level))
