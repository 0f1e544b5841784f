"""Hooks through which the edge watches a request's domain work: loader batches and calls to
Cloudinary (``gateway.metrics`` counts them, ``gateway.tracing`` makes spans of them).

The edge sets ``OBSERVER`` for the request it serves (a ContextVar: the tasks a request starts
inherit it). Unset, as in commands, tests and a gateway with metrics and tracing off, a hook
costs one ContextVar read.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from typing import Protocol


class Observer(Protocol):
    def batch(self, loader: str, size: int) -> None:
        """A loader sends one batch of ``size`` keys."""

    def dam_call(self, api: str) -> AbstractContextManager[None]:
        """Around one call to Cloudinary's ``api`` ("admin", "upload"); it may raise."""


OBSERVER: ContextVar[Observer | None] = ContextVar("catalog_observer", default=None)

_UNOBSERVED: AbstractContextManager[None] = nullcontext()


def dam_call(api: str) -> AbstractContextManager[None]:
    observer = OBSERVER.get()
    return _UNOBSERVED if observer is None else observer.dam_call(api)
