"""A circuit on the shared store itself: bounded operations, a fallback, logged once.

Every store operation runs under a short timeout (default 50 ms); until the store has answered
once, the first connection (TCP, the client's handshake, in a process that is still warming up)
gets ``first_timeout`` (default 250 ms) instead. On a failure (timeout,
refused connection, any error) the caller gets the fallback answer ("nothing shared") and the
store is skipped for ``retry_after`` seconds; then the next operation tries it again. The
transition down and the way back up are each logged once, never per call. Coming back up runs
``on_recover`` (RedisState publishes its local circuit openings again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from juggler._exceptions import redact

__all__ = ["Guard"]

logger = logging.getLogger("juggler")
T = TypeVar("T")


class Guard:
    """Timeouts, fallback and a circuit for one backend's operations."""

    def __init__(
        self,
        name: str,
        *,
        timeout: float = 0.05,
        first_timeout: float = 0.25,
        retry_after: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.first_timeout = max(timeout, first_timeout)
        self.answered = False
        self.retry_after = retry_after
        self.clock = clock
        self.up = True
        self.down_until = 0.0
        self.last_error: str | None = None
        self.failures = 0
        self.on_recover: Callable[[], Awaitable[None]] | None = None

    def usable(self) -> bool:
        """False while the store is down and not due for another try."""
        return self.up or self.clock() >= self.down_until

    async def run(self, what: str, action: Callable[[], Awaitable[T]], fallback: T) -> T:
        """``await action()`` within the timeout, or ``fallback`` (store down or failing)."""
        if not self.usable():
            return fallback
        try:
            with anyio.fail_after(self.timeout if self.answered else self.first_timeout):
                value = await action()
        except Exception as exc:  # a sick store must never fail the call
            self.failed(what, exc)
            return fallback
        self.answered = True
        if not self.up:
            await self.recovered()
        return value

    def run_sync(self, what: str, action: Callable[[], T], fallback: T) -> T:
        """The same for a sync client (its socket timeout bounds the wait)."""
        if not self.usable():
            return fallback
        try:
            value = action()
        except Exception as exc:
            self.failed(what, exc)
            return fallback
        self.answered = True
        if not self.up:
            self.up = True
            logger.warning("juggler: shared state (%s) is back", self.name)
        return value

    def failed(self, what: str, exc: BaseException) -> None:
        """Mark the store down until ``retry_after`` from now; log only the transition."""
        self.failures += 1
        text = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        self.last_error = redact(f"{what}: {text}")[:300]
        self.down_until = self.clock() + self.retry_after
        if self.up:
            self.up = False
            logger.warning(
                "juggler: shared state (%s) unavailable, using local state until it is back"
                " (retried every %.1f s): %s", self.name, self.retry_after, self.last_error,
            )  # fmt: skip

    async def recovered(self) -> None:
        """The store answered again: say so once and let the owner resynchronise."""
        self.up = True
        logger.warning("juggler: shared state (%s) is back", self.name)
        if self.on_recover is not None:
            try:
                with anyio.fail_after(self.timeout * 4):
                    await self.on_recover()
            except Exception as exc:
                self.failed("resynchronise", exc)

    def status(self) -> dict[str, Any]:
        """``up`` / ``down`` with the last error and failure count."""
        return {
            "status": "up" if self.up else "down",
            "last_error": self.last_error,
            "failures": self.failures,
            "timeout_ms": round(self.timeout * 1000),
        }
