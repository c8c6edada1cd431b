"""The records of one call: its attempt log (every ``ModelAttempt``, numbered in start
order), the call itself while it runs (options, deadline, attempt timeout), each attempt in
flight, and the routed answer when it succeeds.

Kept apart from the engine so the engine holds only the decisions; the overlap driver, the
stream continuation and the façade share these records.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from juggler._attempts import ModelAttempt, Outcome
from juggler._exceptions import (
    AllProvidersFailedError,
    ProviderError,
    ProviderTimeoutError,
    RequestRejectedError,
    redact,
)
from juggler._policy.breaker import Permit
from juggler._routing.options import CallOptions
from juggler._types import Capability, Target, Usage

if TYPE_CHECKING:
    from juggler._telemetry import CallTrace

__all__ = [
    "DEADLINE",
    "LOST",
    "AttemptLog",
    "Call",
    "Held",
    "InFlight",
    "Routed",
    "Skipped",
    "cut_by_deadline",
    "final",
    "give_up",
]

R = TypeVar("R")
DEADLINE = "call deadline exceeded"
LOST = "cancelled: another attempt answered first"


def cut_by_deadline(error: BaseException | None) -> bool:
    """True for the timeout the engine raises when the call's deadline, not the provider's
    slowness, ended an attempt (it had less time than the attempt timeout)."""
    return isinstance(error, ProviderTimeoutError) and error.message == DEADLINE


@dataclass(slots=True)
class AttemptLog:
    """The attempts of one call, numbered in the order they started."""

    attempts: list[ModelAttempt] = field(default_factory=list)
    issued: int = 0
    # Told of every attempt as it is recorded (the call's trace span, when tracing).
    listener: Callable[[ModelAttempt], None] | None = None

    def reserve(self) -> int:
        """The number of an attempt that starts now (it is recorded when it ends)."""
        self.issued = max(self.issued, len(self.attempts)) + 1
        return self.issued

    def record(
        self,
        target: Target,
        outcome: Outcome,
        elapsed_s: float,
        error: BaseException | None = None,
        *,
        retry: bool = False,
        hedged: bool = False,
        note: str | None = None,
        number: int | None = None,
        status_code: int | None = None,
        usage: Usage | None = None,
        cost_usd: float | None = None,
    ) -> ModelAttempt:
        """Add one attempt (in start order) and return it."""
        status = status_code or getattr(error, "status_code", None)
        if outcome in ("success", "discarded"):
            status = status or 200
        message = note
        if error is not None and message is None:
            # ProviderErrors were redacted at the HTTP boundary; anything else (a bug, a
            # user's FakeProvider) is redacted by key shape here, and kept short.
            message = error.message if isinstance(error, ProviderError) else redact(str(error))
            message = (message or type(error).__name__)[:300]
        attempt = ModelAttempt(
            provider=target.provider,
            model=target.model,
            success=outcome in ("success", "cache_hit"),
            outcome=outcome,
            attempt=number if number is not None else self.reserve(),
            status_code=status,
            error=message,
            error_type=type(error).__name__ if error is not None else None,
            elapsed_ms=round(elapsed_s * 1000.0, 3),
            retry=retry,
            hedged=hedged,
            usage=usage,
            # No request was sent for a skip or a cache hit: it cost nothing, known exactly.
            cost_usd=0.0 if outcome in ("skipped", "cache_hit") else cost_usd,
        )
        bisect.insort(self.attempts, attempt, key=lambda a: a.attempt)
        if self.listener is not None:
            self.listener(attempt)
        return attempt


@dataclass(slots=True)
class Call:
    """One call in flight: its attempt log, options, absolute deadline, and the limit of one
    attempt (the request timeout, or for a stream the time to its first content)."""

    log: AttemptLog
    options: CallOptions
    started: float
    deadline_at: float | None
    attempt_timeout: float
    stream: bool = False
    capability: Capability = Capability.CHAT
    answered_at: float | None = None  # when an attempt first answered (hedge or race won)

    def left(self, now: float) -> float | None:
        """Seconds before the deadline (None: no deadline)."""
        return None if self.deadline_at is None else self.deadline_at - now


@dataclass(slots=True)
class InFlight:
    """One attempt that has been sent and not yet recorded. It holds the breaker permit until
    the engine settles it (success, error, cancelled or discarded), exactly once."""

    call: Call
    target: Target
    permit: Permit
    number: int
    started: float
    retry: bool = False
    hedged: bool = False
    answered_at: float | None = None
    settled: bool = False


@dataclass(slots=True)
class Held(Generic[R]):
    """An attempt's result together with its still-open record (see :class:`InFlight`)."""

    result: R
    target: Target
    attempt: InFlight


@dataclass(slots=True)
class Routed(Generic[R]):
    """A successful call: the provider's result, who gave it, and every attempt.

    For a stream, ``result`` is the opened stream and ``attempt`` its open record: the
    stream continuation settles it when the answer ends.
    """

    result: R
    target: Target
    attempts: list[ModelAttempt]
    latency_ms: float
    cached: bool = False
    attempt: InFlight | None = None
    cache_key: str | None = None
    trace: CallTrace | None = None


class Skipped(Exception):
    """Internal: a target was not sent a request (recorded as ``skipped``); go on."""


def final(error: BaseException) -> bool:
    """A refusal every target would repeat (a 400 about the request itself) ends the call."""
    return isinstance(error, ProviderError) and not error.fallback


def give_up(log: AttemptLog, error: BaseException | None) -> AllProvidersFailedError:
    """The terminal error of a call that produced no answer."""
    if isinstance(error, ProviderError) and not error.fallback:
        return RequestRejectedError(
            log.attempts,
            f"{error.provider} rejected the request itself (HTTP {error.status_code}); "
            "other targets would too, so none was tried:",
        )
    return AllProvidersFailedError(log.attempts)
