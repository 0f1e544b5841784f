"""Running the emulator over real HTTP, and pointing the official SDK at it.

The SDK is configured per call, never through ``cloudinary.config()``: spread
``sdk_config(...)`` into every ``cloudinary.uploader``/``cloudinary.api`` call and into
``cloudinary.utils.cloudinary_url``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import uvicorn

from cloudinary_emulator.app import create_emulator_app
from cloudinary_emulator.config import EmulatorConfig
from cloudinary_emulator.control import control_headers
from cloudinary_emulator.emulator import Emulator, create_emulator

log = logging.getLogger("cloudinary_emulator.server")


def sdk_config(emulator_url: str, cloud_name: str, api_key: str, api_secret: str) -> dict[str, Any]:
    """Keyword arguments that make one SDK call talk to the emulator at ``emulator_url``.

    ``upload_prefix`` replaces ``https://api.cloudinary.com`` for Upload and Admin API
    calls. For delivery URLs, ``cloudinary_url`` builds ``http://<cname>/<cloud_name>/...``
    when ``secure`` is false and a ``cname`` is set (``https://<secure_distribution>/...``
    when secure), appending the cloud name because ``private_cdn`` is false; the CDN
    sub-domain sharding options must be off or the host would become ``a1.<cname>``.
    """
    parts = urlsplit(emulator_url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"emulator_url must be an http(s) URL, got {emulator_url!r}")
    host_and_path = parts.netloc + parts.path
    options: dict[str, Any] = {
        "cloud_name": cloud_name,
        "api_key": api_key,
        "api_secret": api_secret,
        "upload_prefix": f"{parts.scheme}://{host_and_path}",
        "private_cdn": False,
        "cdn_subdomain": False,
        "secure_cdn_subdomain": False,
        "shorten": False,
        "use_root_path": False,
    }
    if parts.scheme == "https":
        options.update(secure=True, secure_distribution=host_and_path, cname=None)
    else:
        options.update(secure=False, cname=host_and_path, secure_distribution=None)
    return options


class EmulatorServer:
    """The emulator under uvicorn in a background thread, on 127.0.0.1 and a free port.

    ``with EmulatorServer(config) as server:`` starts it and stops it on exit; ``url``,
    ``emulator``, ``sdk_config()`` and ``control_headers()`` (for ``/_emulator/...``) are what
    tests need.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        emulator: Emulator | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout_s: float = 10.0,
    ) -> None:
        if emulator is None:
            emulator = create_emulator(config or EmulatorConfig())
        self.emulator = emulator
        self.app = create_emulator_app(emulator.config, emulator=emulator)
        self._host = host
        self._port = port
        self._startup_timeout_s = startup_timeout_s
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the emulator server is not running")
        return self._url

    @property
    def config(self) -> EmulatorConfig:
        return self.emulator.config

    def sdk_config(self) -> dict[str, Any]:
        config = self.emulator.config
        return sdk_config(self.url, config.cloud_name, config.api_key, config.api_secret)

    def control_headers(self) -> dict[str, str]:
        """Credentials for the ``/_emulator/...`` control endpoints."""
        return control_headers(self.emulator.config.api_key, self.emulator.config.api_secret)

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("the emulator server is already running")
        uvicorn_config = uvicorn.Config(
            self.app,
            host=self._host,
            port=self._port,
            lifespan="on",
            # h11, no websockets and no logging setup: nothing optional to import and no
            # changes to the host process's logging configuration.
            http="h11",
            ws="none",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(uvicorn_config)
        thread = threading.Thread(target=server.run, name="cloudinary-emulator", daemon=True)
        thread.start()
        deadline = time.monotonic() + self._startup_timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout=5)
                raise RuntimeError(f"the emulator server did not start on {self._host}")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        self._server, self._thread = server, thread
        self._url = f"http://{self._host}:{port}"
        log.info("Cloudinary emulator for cloud %r at %s", self.config.cloud_name, self._url)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=15)
        if thread.is_alive():
            raise RuntimeError("the emulator server did not stop within 15 s")
        self._server = self._thread = self._url = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def run_emulator(
    host: str,
    port: int,
    cloud_name: str,
    api_key: str,
    api_secret: str,
    *,
    storage_dir: Path | None = None,
    notification_url: str | None = None,
) -> None:
    """Serve an emulator in the foreground until interrupted (``catalog-gateway`` command).

    With ``storage_dir``, uploaded assets survive restarts; with ``notification_url``, changes
    are notified there (the gateways' ``/webhooks/cloudinary``, behind their load balancer).
    """
    config = EmulatorConfig(
        cloud_name=cloud_name,
        api_key=api_key,
        api_secret=api_secret,
        storage_dir=storage_dir,
        notification_url=notification_url,
    )
    app = create_emulator_app(config)
    log.info(
        "Cloudinary emulator for cloud %r on http://%s:%d (upload_prefix=http://%s:%d)",
        cloud_name,
        host,
        port,
        host,
        port,
    )
    uvicorn.run(app, host=host, port=port, lifespan="on", ws="none")
