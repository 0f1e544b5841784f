"""The ports the gateway listens on, or has mongod and the emulator listen on: checked before
anything starts, so a clash stops start-up with one line naming the port and the setting."""

from __future__ import annotations

import errno
import socket


class PortUnavailableError(RuntimeError):
    """A port to listen on is taken (or not ours to take); the message names its setting."""


def port_taken(host: str, port: int, what: str, variable: str, holder: str = "") -> str:
    """The one line that says so: the port, who wanted it, who holds it, what to change."""
    held = f" by {holder}" if holder else ""
    return (
        f"port {port} on {host} is already in use{held}, so {what} cannot listen there: "
        f"stop what holds it, or set {variable} to a free port"
    )


def bind_port(host: str, port: int, *, what: str, variable: str) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not listening yet), as a server would bind it.

    SO_REUSEADDR like uvicorn and mongod: connections of an earlier run waiting in TIME_WAIT do
    not count, a listening socket does. IPPROTO_TCP so asyncio turns Nagle's algorithm off on
    the connections it accepts (what uvicorn's own sockets do).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortUnavailableError(port_taken(host, port, what, variable)) from None
        raise PortUnavailableError(
            f"{what} cannot listen on {host}:{port} ({exc.strerror or exc}): set {variable} "
            "to another port"
        ) from None
    return sock


def ensure_port_free(host: str, port: int, *, what: str, variable: str) -> None:
    """Raise PortUnavailableError unless ``host:port`` could be bound right now."""
    bind_port(host, port, what=what, variable=variable).close()
