"""Several uvicorn worker processes behind one listening socket.

``catalog-gateway serve --workers N`` runs the gateway this way after refusing settings that
several processes cannot share. uvicorn >= 0.55 binds the shared socket as IPPROTO_TCP, so its
workers turn Nagle's algorithm off like one process does (uvicorn #3149, fixed upstream).
"""

from __future__ import annotations

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from gateway.settings import Settings

GATEWAY_FACTORY = "gateway.asgi:app_factory"


class WorkersConfigError(ValueError):
    """Settings that one process can serve but several cannot."""


def check_workers(settings: Settings, *, reload: bool = False) -> None:
    """Refuse several workers where they would fight over what one process owns."""
    if settings.workers == 1:
        return
    if reload:
        raise WorkersConfigError(
            f"--reload serves from one process; it cannot run {settings.workers} workers "
            "(drop --workers or CATALOG_WORKERS)"
        )
    # Without these the gateway starts its own, bound to the data directory: every worker
    # would start one more over the same files. The emulator keeps its store in memory too,
    # so separate emulators would each know only the uploads made through their worker.
    owned = {"MONGODB_URI": "the embedded mongod", "CLOUDINARY_URL": "the Cloudinary emulator"}
    given = {"MONGODB_URI": settings.mongodb_uri, "CLOUDINARY_URL": settings.cloudinary_url}
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise WorkersConfigError(
            f"{settings.workers} workers need {' and '.join(missing)}: "
            f"{' and '.join(owned[name] for name in missing)} cannot be shared between "
            f"processes (each worker would start its own over {settings.data_dir}); set "
            f"{'it' if len(missing) == 1 else 'them'}, or serve with one worker"
        )


def run_workers(config: uvicorn.Config) -> int:
    """Serve with ``config.workers`` processes until SIGINT/SIGTERM; 1 if a worker never started.

    What ``uvicorn.run`` does for ``workers > 1``, which exits 0 even when no worker started.
    """
    if config.workers < 2 or not isinstance(config.app, str):
        raise ValueError("run_workers needs workers > 1 and the app as an import string")
    sock = config.bind_socket()
    supervisor = Multiprocess(config, sockets=[sock])
    try:
        supervisor.run()
    finally:
        sock.close()
    # The supervisor gives up when a worker fails before serving (a lifespan that could not
    # start would fail the same way again); say so in the exit status, as uvicorn.run does for
    # one process.
    failed = any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes)
    return 1 if failed else 0
