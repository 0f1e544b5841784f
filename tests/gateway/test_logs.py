"""CATALOG_LOG_FORMAT=json: one JSON object per line, with the access log's request fields."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import sys
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from gateway.access_log import OPERATION_STATE, PRINCIPAL_STATE, REQUEST_STATE
from gateway.app import create_app
from gateway.logs import JsonFormatter, logging_config
from gateway.request_id import REQUEST_ID_STATE
from gateway.settings import Settings
from resolvers.db import Catalog
from tests.fixtures.small_catalog import load_small_catalog
from tests.http_helpers import serve

Db = AsyncDatabase[dict[str, Any]]


def test_the_json_format_is_a_setting() -> None:
    assert Settings(log_format="json").log_format == "json"
    assert Settings().log_format == "text"
    config = logging_config("info", "json")
    formatter = logging.config.DictConfigurator(config).configure_formatter(
        config["formatters"]["gateway"]
    )
    assert isinstance(formatter, JsonFormatter)
    assert "format" in logging_config("info")["formatters"]["gateway"]


def test_an_error_line_carries_its_traceback() -> None:
    try:
        raise ValueError("bad value")
    except ValueError:
        record = logging.getLogger("gateway.test").makeRecord(
            "gateway.test", logging.ERROR, __file__, 1, "failed: %s", ("x",), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR"
    assert line["message"] == "failed: x"
    assert line["exception"].startswith("Traceback")
    assert "ValueError: bad value" in line["exception"]
    assert "request_id" not in line  # fields a record lacks are left out, not null


def test_a_line_written_while_a_request_is_served_names_it() -> None:
    record = logging.getLogger("gateway.test").makeRecord(
        "gateway.test", logging.WARNING, __file__, 1, "slow", (), None
    )
    serving = REQUEST_STATE.set(
        {REQUEST_ID_STATE: "req-7", OPERATION_STATE: "Page", PRINCIPAL_STATE: "k1"}
    )
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_STATE.reset(serving)
    assert (line["request_id"], line["operation"], line["key"]) == ("req-7", "Page", "k1")
    assert "request_id" not in json.loads(JsonFormatter().format(record))


async def test_an_access_line_in_json(settings: Settings, db: Db) -> None:
    await load_small_catalog(Catalog(db))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("gateway.access")
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        async with serve(create_app(settings)) as client:
            response = await client.post(
                "/graphql",
                json={"query": "query OneProduct { products(first: 1) { totalCount } }"},
                headers={"x-request-id": "req-json-1"},
            )
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "operation",
        "key",
        "method",
        "path",
        "status",
        "duration_ms",
        "cost",
    }
    assert line["time"].endswith("+00:00")
    assert (line["level"], line["logger"]) == ("INFO", "gateway.access")
    assert line["message"].startswith("POST /graphql 200 ")
    assert line["request_id"] == "req-json-1"
    assert (line["operation"], line["key"]) == ("OneProduct", "anonymous")
    assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
    assert line["cost"] == response.json()["extensions"]["cost"]["requestedQueryCost"]
