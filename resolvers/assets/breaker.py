"""The circuit breaker in front of Cloudinary's Admin API, and the few log lines it writes.

After a failure the Admin API is left alone for a cool-down, so a slow or failing Cloudinary
costs one timeout, not one per request; then a single call tries it again (half-open). An outage
is logged when it begins and when it ends; in between, short-circuited and failed calls are only
counted and summed up at most once per ``summary_every_s``: a busy gateway short-circuits
hundreds of calls a second, and a line for each would bury everything else in the log.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

SUMMARY_EVERY_S = 60.0


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Not thread-safe: used from the event loop only (the calls themselves run in threads)."""

    def __init__(
        self,
        cooldown_s: float,
        clock: Callable[[], float],
        *,
        summary_every_s: float = SUMMARY_EVERY_S,
    ) -> None:
        self.cooldown_s = cooldown_s
        self.summary_every_s = summary_every_s
        self.state = BreakerState.CLOSED
        self._clock = clock
        self._open_until = 0.0
        self._trial_in_flight = False
        self._opened_at = 0.0
        self._logged_at = 0.0
        # Since the last log line, for the summary; and over the whole outage, for its end.
        self._short_circuited = 0
        self._failed = 0
        self._short_circuited_in_outage = 0

    def admit(self) -> bool:
        """Whether a call may go out now. False: short-circuited (and counted).

        Every admitted call must be followed by ``succeeded``, ``failed`` or ``released``.
        """
        if self.state is BreakerState.CLOSED:
            return True
        now = self._clock()
        if self.state is BreakerState.OPEN and now >= self._open_until:
            self.state = BreakerState.HALF_OPEN
            log.debug("Cloudinary breaker half-open: one Admin API call tries again")
        if self.state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        self._short_circuited += 1
        self._short_circuited_in_outage += 1
        self._summarize(now)
        return False

    def retry_in(self) -> float:
        """Seconds until a call may try again (0 when half-open or closed)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._open_until - self._clock())

    def succeeded(self) -> None:
        self._trial_in_flight = False
        if self.state is BreakerState.CLOSED:
            return
        if self.state is BreakerState.OPEN:
            # A call admitted before the breaker opened came back late: the half-open trial,
            # not this, decides when Cloudinary is trusted again.
            return
        now = self._clock()
        log.warning(
            "Cloudinary's Admin API answers again: breaker closed after %.0f s open, "
            "%d call(s) short-circuited meanwhile",
            now - self._opened_at,
            self._short_circuited_in_outage,
        )
        self.state = BreakerState.CLOSED
        self._short_circuited = self._failed = self._short_circuited_in_outage = 0

    def failed(self, reason: str) -> None:
        now = self._clock()
        self._trial_in_flight = False
        self._open_until = now + self.cooldown_s
        if self.state is BreakerState.CLOSED:
            self.state = BreakerState.OPEN
            self._opened_at = self._logged_at = now
            log.warning(
                "Cloudinary's Admin API failed (%s): breaker open, no Admin API calls for %.0f s "
                "(then one tries again); a summary follows at most every %.0f s",
                reason,
                self.cooldown_s,
                self.summary_every_s,
            )
            return
        self.state = BreakerState.OPEN
        self._failed += 1
        self._summarize(now)

    def released(self) -> None:
        """An admitted call never went out or was cancelled: it proves nothing either way."""
        self._trial_in_flight = False

    def _summarize(self, now: float) -> None:
        if now - self._logged_at < self.summary_every_s:
            return
        log.warning(
            "Cloudinary's Admin API still failing (breaker open for %.0f s): %d call(s) "
            "short-circuited and %d failed in the last %.0f s",
            now - self._opened_at,
            self._short_circuited,
            self._failed,
            now - self._logged_at,
        )
        self._logged_at = now
        self._short_circuited = self._failed = 0
