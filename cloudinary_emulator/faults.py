"""Switchable, reproducible failures: latency, 500s and Cloudinary's HTTP 420 rate limiting.

Reproducibility contract: ``configure()`` (and ``reset()``) re-seed a private
``random.Random(seed)``; from then on every faultable request, in arrival order, draws
exactly one ``random()`` value ``r`` whether or not any rate is set. ``r < error_rate``
fails it with 500; ``error_rate <= r < error_rate + rate_limit_rate`` fails it with 420.
A test that knows the seed and the number of requests therefore knows every outcome.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

FaultKind = Literal["error", "rate_limited"]
Surface = Literal["admin", "upload", "delivery"]


@dataclass(frozen=True, slots=True)
class FaultSettings:
    latency_ms: int = 0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    # Delivery requests are spared by default: they are CDN traffic, not API calls.
    apply_to_delivery: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        for name in ("error_rate", "rate_limit_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.error_rate + self.rate_limit_rate > 1.0 + 1e-9:
            raise ValueError("error_rate + rate_limit_rate must not exceed 1")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FaultDecision:
    latency_s: float
    fault: FaultKind | None


class FaultSwitches:
    """The emulator's fault settings; safe to change from any thread while it serves."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._default_seed = seed
        self._settings = FaultSettings(seed=seed)
        self._random = random.Random(seed)

    @property
    def settings(self) -> FaultSettings:
        with self._lock:
            return self._settings

    def configure(
        self,
        *,
        latency_ms: int | None = None,
        error_rate: float | None = None,
        rate_limit_rate: float | None = None,
        apply_to_delivery: bool | None = None,
        seed: int | None = None,
    ) -> FaultSettings:
        """Change the given switches, keep the others, and restart the random sequence."""
        with self._lock:
            changes: dict[str, Any] = {
                name: value
                for name, value in (
                    ("latency_ms", latency_ms),
                    ("error_rate", error_rate),
                    ("rate_limit_rate", rate_limit_rate),
                    ("apply_to_delivery", apply_to_delivery),
                    ("seed", seed),
                )
                if value is not None
            }
            self._settings = replace(self._settings, **changes)
            self._random = random.Random(self._settings.seed)
            return self._settings

    def reset(self) -> None:
        with self._lock:
            self._settings = FaultSettings(seed=self._default_seed)
            self._random = random.Random(self._default_seed)

    # Single-switch properties, for ``emulator.faults.error_rate = 0.2`` in tests; unlike
    # configure() they keep the random sequence where it is.
    @property
    def latency_ms(self) -> int:
        return self.settings.latency_ms

    @latency_ms.setter
    def latency_ms(self, value: int) -> None:
        self._set(latency_ms=value)

    @property
    def error_rate(self) -> float:
        return self.settings.error_rate

    @error_rate.setter
    def error_rate(self, value: float) -> None:
        self._set(error_rate=value)

    @property
    def rate_limit_rate(self) -> float:
        return self.settings.rate_limit_rate

    @rate_limit_rate.setter
    def rate_limit_rate(self, value: float) -> None:
        self._set(rate_limit_rate=value)

    @property
    def apply_to_delivery(self) -> bool:
        return self.settings.apply_to_delivery

    @apply_to_delivery.setter
    def apply_to_delivery(self, value: bool) -> None:
        self._set(apply_to_delivery=value)

    def _set(self, **change: Any) -> None:
        with self._lock:
            self._settings = replace(self._settings, **change)

    def decide(self, surface: Surface) -> FaultDecision | None:
        """The fate of one request, or None when the surface is exempt (and draws nothing)."""
        with self._lock:
            settings = self._settings
            if surface == "delivery" and not settings.apply_to_delivery:
                return None
            draw = self._random.random()
        fault: FaultKind | None = None
        if draw < settings.error_rate:
            fault = "error"
        elif draw < settings.error_rate + settings.rate_limit_rate:
            fault = "rate_limited"
        return FaultDecision(settings.latency_ms / 1000, fault)
