"""Logging of every ``catalog-gateway`` process: one handler, one format, one line per event.

The root logger has the only handler. uvicorn's loggers keep none of their own and propagate to
it, so a server line appears once and in the gateway's format (uvicorn's default configuration
would give them a second handler and a second format). The in-process Cloudinary emulator runs
a uvicorn server of its own in a thread; its start-up and shut-down lines would read as the
gateway's a second time, so below WARNING they are left out (the emulator and the gateway each
say in one line where it listens).

``CATALOG_LOG_FORMAT=json``: one JSON object per line instead (``JsonFormatter``), for log
pipelines that parse fields rather than text.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from gateway.access_log import OPERATION_STATE, PRINCIPAL_STATE, REQUEST_STATE
from gateway.request_id import REQUEST_ID_STATE

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LogFormat = Literal["text", "json"]
# Values a record may carry (``extra=``: the access log's, a request's) that a JSON line keeps.
RECORD_FIELDS = (
    "request_id",
    "operation",
    "key",
    "method",
    "path",
    "status",
    "duration_ms",
    "cost",
)


_REQUEST_FIELDS = (
    ("request_id", REQUEST_ID_STATE),
    ("operation", OPERATION_STATE),
    ("key", PRINCIPAL_STATE),
)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...}``: the record's request fields when it has
    them (``RECORD_FIELDS``, unset ones left out), else those of the request being served, and
    ``exception`` with the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in RECORD_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        serving = REQUEST_STATE.get()
        if serving is not None:
            # A line written while a request is served (with the access log on) names it.
            for name, key in _REQUEST_FIELDS:
                if name not in line and serving.get(key):
                    line[name] = serving[key]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # default=str: a value of another type in extra= must not cost the line.
        return json.dumps(line, ensure_ascii=False, default=str)


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


def logging_config(level: str, log_format: LogFormat = "text") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` configuration; also handed to uvicorn for processes it
    spawns (workers, the reloader's server), which start with logging unconfigured."""
    formatter: dict[str, Any] = (
        {"()": "gateway.logs.JsonFormatter"} if log_format == "json" else {"format": LOG_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"emulator_server": {"()": EmulatorServerLines}},
        "formatters": {"gateway": formatter},
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


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    import logging.config

    logging.config.dictConfig(logging_config(level, log_format))
