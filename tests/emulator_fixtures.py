"""Helpers for tests that talk to the Cloudinary emulator over HTTP.

Plain helpers rather than fixtures, so any test module can wrap them in fixtures of the
scope it needs (``with EmulatorServer(...)`` for the server itself).
"""

from __future__ import annotations

import http.server
import io
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Self

from PIL import Image

from cloudinary_emulator.emulator import sample_image


def png_bytes(width: int, height: int, seed: str = "", mode: str = "RGB") -> bytes:
    """A structured test picture (gradient and shapes) encoded as PNG."""
    image = sample_image(width, height, seed)
    if mode != image.mode:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def solid_png(width: int, height: int, color: tuple[int, ...], mode: str = "RGBA") -> bytes:
    """One flat colour: a watermark, or a base image whose every pixel is known."""
    buffer = io.BytesIO()
    Image.new(mode, (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def noise_png(width: int, height: int, seed: int = 3) -> bytes:
    """Greyscale noise: as unlike ``png_bytes`` pictures as an image gets."""
    rng = random.Random(seed)
    image = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def fake_mp4(width: int, height: int, duration_s: float, timescale: int = 1000) -> bytes:
    """The smallest ISO-BMFF file whose header boxes carry a size and a duration."""

    def box(kind: bytes, payload: bytes) -> bytes:
        return (8 + len(payload)).to_bytes(4, "big") + kind + payload

    mvhd = (
        bytes(4)  # version 0, flags
        + bytes(8)  # creation and modification times
        + timescale.to_bytes(4, "big")
        + round(duration_s * timescale).to_bytes(4, "big")
        + bytes(80)
    )
    tkhd = (
        bytes(4)
        + bytes(20)  # times, track id, reserved, duration
        + bytes(16)  # reserved, layer, alternate group, volume, reserved
        + bytes(36)  # matrix
        + (width << 16).to_bytes(4, "big")
        + (height << 16).to_bytes(4, "big")
    )
    moov = box(b"moov", box(b"mvhd", mvhd) + box(b"trak", box(b"tkhd", tkhd)))
    return box(b"ftyp", b"isom\x00\x00\x02\x00isommp41") + moov + box(b"mdat", bytes(64))


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@dataclass(frozen=True, slots=True)
class ReceivedNotification:
    path: str
    headers: dict[str, str]
    body: str

    @property
    def timestamp(self) -> str:
        return self.headers["x-cld-timestamp"]

    @property
    def signature(self) -> str:
        return self.headers["x-cld-signature"]


class NotificationReceiver:
    """A webhook endpoint on 127.0.0.1 that records every POST it gets."""

    def __init__(self) -> None:
        self._received: list[ReceivedNotification] = []
        self._condition = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                headers = {key.lower(): value for key, value in self.headers.items()}
                receiver._record(ReceivedNotification(self.path, headers, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _record(self, notification: ReceivedNotification) -> None:
        with self._condition:
            self._received.append(notification)
            self._condition.notify_all()

    @property
    def received(self) -> list[ReceivedNotification]:
        with self._condition:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedNotification]:
        with self._condition:
            if not self._condition.wait_for(lambda: len(self._received) >= count, timeout):
                raise AssertionError(
                    f"expected {count} notifications within {timeout} s, got {len(self._received)}"
                )
            return list(self._received)

    def clear(self) -> None:
        with self._condition:
            self._received.clear()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def notification_receiver() -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as receiver:
        yield receiver
