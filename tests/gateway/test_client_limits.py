"""Slow and greedy clients against the live gateway: a stalled body gets 408 and frees its slot,
one client's requests in flight are capped with 429 while other clients and probes are served,
an upload has a longer deadline of its own.

Raw sockets send what httpx would not: headers and part of a body, then nothing. Every wait is a
blocking read on the socket (its timeout only bounds a failing test), never a sleep.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from gateway.app import create_app
from gateway.settings import Settings
from tests.http_helpers import api_key
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.indexed

Db = AsyncDatabase[dict[str, Any]]

READ_TIMEOUT_S = 30.0  # only a broken server makes a read wait this long
TYPENAME = {"query": "{ __typename }"}
QUERY = json.dumps(TYPENAME).encode()


@contextmanager
def gateway(settings: Settings, **limits: object) -> Iterator[LiveServer]:
    with live_server(create_app(settings.model_copy(update=limits))) as live:
        yield live


def connect(live: LiveServer) -> socket.socket:
    parts = urlsplit(live.url)
    assert parts.hostname is not None
    assert parts.port is not None
    return socket.create_connection((parts.hostname, parts.port), timeout=READ_TIMEOUT_S)


def stalled_post(
    live: LiveServer, *, expect_continue: bool = False, send_body: bool = True
) -> socket.socket:
    """A POST /graphql that announces 1,000 bytes of body and sends the first few (or none:
    body bytes the server never reads make its close a reset, which can discard its answer
    before the client reads it)."""
    sock = connect(live)
    expect = b"Expect: 100-continue\r\n" if expect_continue else b""
    sock.sendall(
        b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n" + expect + b"\r\n"
    )
    if expect_continue:
        # uvicorn answers 100 once the handler asks for the body: the request is in flight.
        assert sock.recv(100).startswith(b"HTTP/1.1 100 ")
    if send_body:
        sock.sendall(QUERY[:10])
    return sock


def read_to_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    return int(status_line.split()[1]), headers, body


def test_a_stalled_body_gets_408_and_frees_its_slot(settings: Settings) -> None:
    with gateway(settings, body_timeout_s=0.3, max_requests_per_client=1) as live:
        with stalled_post(live) as sock:
            status, headers, body = split_response(read_to_close(sock))
        assert status == 408
        assert headers["connection"] == "close"
        assert "x-request-id" in headers
        assert json.loads(body)["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
        # The handler gave up: with one request per client, the next one is served, not 429.
        response = httpx.post(f"{live.url}/graphql", json=TYPENAME, trust_env=False)
        assert response.status_code == 200
        assert response.json()["data"] == {"__typename": "Query"}


def test_a_body_in_time_is_served(settings: Settings) -> None:
    with gateway(settings, body_timeout_s=5.0) as live, connect(live) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(QUERY), QUERY)
        )
        status, _, body = split_response(read_to_close(sock))
    assert (status, json.loads(body)["data"]) == (200, {"__typename": "Query"})


@pytest.mark.parametrize("cap", [1, 3])
def test_one_client_above_its_cap_gets_429_while_others_are_served(
    settings: Settings, cap: int
) -> None:
    with (
        gateway(settings, body_timeout_s=300.0, max_requests_per_client=cap) as live,
        ExitStack() as held,
    ):
        for _ in range(cap):
            held.enter_context(stalled_post(live, expect_continue=True))
        with stalled_post(live, send_body=False) as one_too_many:
            status, headers, body = split_response(read_to_close(one_too_many))
        assert status == 429
        assert headers["retry-after"] == "1"
        error = json.loads(body)["errors"][0]
        assert error["extensions"]["code"] == "TOO_MANY_REQUESTS"
        assert error["message"] == f"More than {cap} requests at once from one client"

        with httpx.Client(base_url=live.url, trust_env=False) as client:
            # Probes are never capped.
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 200
            # Another client, behind the proxy uvicorn trusts (127.0.0.1 by default).
            other = client.post(
                "/graphql", json=TYPENAME, headers={"X-Forwarded-For": "203.0.113.9"}
            )
            assert other.status_code == 200
            # The capped client itself, still at its cap.
            assert client.post("/graphql", json=TYPENAME).status_code == 429


def multipart_import(key: dict[str, str]) -> tuple[bytes, bytes]:
    """The head and body of a productImport upload (a file whose name tells no format, so the
    mutation answers at once with an error and starts no job)."""
    boundary = "limits-boundary"
    operations = {
        "query": "mutation($input: ProductImportInput!) { productImport(input: $input) "
        "{ job { id } errors { code path } } }",
        "variables": {"input": {"file": None}},
    }
    parts = [
        ("operations", None, json.dumps(operations).encode()),
        ("map", None, json.dumps({"0": ["variables.input.file"]}).encode()),
        ("0", "products.txt", b'{"sku": "P-1"}\n' * 100),
    ]
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    headers = {
        "Host": "gateway",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(body)),
        "Apollo-Require-Preflight": "true",
        "Connection": "close",
        **key,
    }
    head = "POST /graphql HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (head + "\r\n").encode(), body


async def test_a_slow_upload_outlives_the_body_timeout_under_the_upload_timeout(
    settings: Settings, db: Db
) -> None:
    editor = await api_key(db, "editor", settings)
    head, body = multipart_import(editor)
    with gateway(settings, body_timeout_s=0.3, upload_timeout_s=30.0) as live:
        with connect(live) as upload:
            upload.sendall(head + body[:200])
            # A JSON body started after the upload's headers and stalled as long: its 408 is
            # the proof that the upload has been arriving for longer than body_timeout_s.
            with stalled_post(live) as plain:
                status, _, _ = split_response(read_to_close(plain))
            assert status == 408
            upload.sendall(body[200:])
            status, _, answer = split_response(read_to_close(upload))
        assert status == 200, answer
        assert json.loads(answer)["data"]["productImport"] == {
            "job": None,
            "errors": [{"code": "REQUIRED", "path": ["input", "format"]}],
        }


async def test_an_upload_past_the_upload_timeout_or_without_a_key_gets_408(
    settings: Settings, db: Db
) -> None:
    editor = await api_key(db, "editor", settings)
    with gateway(settings, body_timeout_s=0.3, upload_timeout_s=0.6) as live:
        for key, limit in ((editor, "0.6"), ({}, "0.3")):
            head, body = multipart_import(key)
            with connect(live) as upload:
                upload.sendall(head + body[:200])
                status, _, answer = split_response(read_to_close(upload))
            assert status == 408
            assert json.loads(answer)["errors"][0]["message"] == (
                f"The request body did not arrive within {limit} s"
            )
