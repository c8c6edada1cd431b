"""The routing engine: the only code that decides what to try next and does concurrency.

For one call it walks the chain, runs each attempt under its timeout and the call's deadline,
retries the same target on transient errors (tenacity; Retry-After honoured, otherwise
full-jitter exponential), falls over to the next target otherwise, and records every attempt
as a ``ModelAttempt``. It never names a provider. Streams are handled in ``_stream``, which
uses the same attempt bookkeeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from ._attempts import ModelAttempt, Outcome
from ._errors import (
    AllProvidersFailedError,
    ProviderError,
    ProviderTimeoutError,
    RequestRejectedError,
)
from ._settings import Settings
from ._types import Target
from .providers.base import BaseProvider

__all__ = ["AttemptLog", "Engine", "Routed"]

R = TypeVar("R")
AttemptObserver = Callable[[Target, ModelAttempt], None]


@dataclass(slots=True)
class AttemptLog:
    """The attempts of one call, numbered in the order they started."""

    attempts: list[ModelAttempt] = field(default_factory=list)

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
    ) -> ModelAttempt:
        """Append one attempt and return it."""
        status = getattr(error, "status_code", None)
        if outcome == "success":
            status = status or 200
        message = note
        if error is not None and message is None:
            message = error.message if isinstance(error, ProviderError) else str(error)
            message = message or type(error).__name__
        attempt = ModelAttempt(
            provider=target.provider,
            model=target.model,
            success=outcome in ("success", "cache_hit"),
            outcome=outcome,
            attempt=len(self.attempts) + 1,
            status_code=status,
            error=message,
            error_type=type(error).__name__ if error is not None else None,
            elapsed_ms=round(elapsed_s * 1000.0, 3),
            retry=retry,
            hedged=hedged,
        )
        self.attempts.append(attempt)
        return attempt


@dataclass(slots=True)
class Routed(Generic[R]):
    """A successful call: the provider's result, who gave it, and every attempt."""

    result: R
    target: Target
    attempts: list[ModelAttempt]
    latency_ms: float


class Engine:
    """Walks a chain of targets for one call. Policy knobs come from ``Settings``.

    ``clock``, ``sleep`` and ``rng`` are injectable so tests never wait for real.
    """

    def __init__(
        self,
        providers: Mapping[str, BaseProvider],
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.providers = providers
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.rng = rng
        self.observers: list[AttemptObserver] = []

    # ----- shared pieces, also used by the stream runner -----

    def retries_for(self, index: int, chain_length: int) -> int:
        """Same-target retries: the last target left gets ``retries``, others
        ``retries_per_target`` (0 by default: hand over at once, as a 429 should)."""
        s = self.settings
        return s.retries if index == chain_length - 1 else s.retries_per_target

    def backoff(self, error: BaseException | None, retry_number: int) -> float:
        """Seconds before retry ``retry_number`` (1-based): Retry-After, capped, or full jitter."""
        s = self.settings
        after = getattr(error, "retry_after", None)
        if after is not None:
            return min(float(after), s.retry_max_wait)
        return self.rng() * min(s.retry_max_wait, s.retry_base_wait * 2 ** (retry_number - 1))

    def note(self, log: AttemptLog, target: Target, *args: object, **kw: object) -> ModelAttempt:
        """Record an attempt and tell the observers (health, breakers)."""
        attempt = log.record(target, *args, **kw)  # type: ignore[arg-type]
        for observer in self.observers:
            observer(target, attempt)
        return attempt

    def remaining(self, started: float, deadline: float | None) -> float | None:
        """Seconds left of the call's deadline (None: no deadline)."""
        if deadline is None:
            return None
        return deadline - (self.clock() - started)

    @staticmethod
    def give_up(log: AttemptLog, error: BaseException | None) -> AllProvidersFailedError:
        """The terminal error of a call that produced no answer."""
        if isinstance(error, ProviderError) and not error.fallback:
            return RequestRejectedError(
                log.attempts,
                f"{error.provider} rejected the request itself (HTTP {error.status_code}); "
                "other targets would too, so none was tried:",
            )
        return AllProvidersFailedError(log.attempts)

    # ----- non-streamed calls -----

    async def run(
        self,
        chain: Sequence[Target],
        op: Callable[[BaseProvider, Target], Awaitable[R]],
        *,
        deadline: float | None = None,
        log: AttemptLog | None = None,
    ) -> Routed[R]:
        """Try ``op`` on each target in order until one succeeds."""
        log = log or AttemptLog()
        started = self.clock()
        deadline = deadline if deadline is not None else self.settings.deadline
        last_error: BaseException | None = None
        for index, target in enumerate(chain):
            left = self.remaining(started, deadline)
            if left is not None and left <= 0:
                self.note(log, target, "skipped", 0.0, note="call deadline exceeded")
                continue
            try:
                result = await self._run_target(
                    target, op, self.retries_for(index, len(chain)), log, started, deadline
                )
            except Exception as exc:
                last_error = exc
                if isinstance(exc, ProviderError) and not exc.fallback:
                    break
                continue
            return Routed(result, target, log.attempts, (self.clock() - started) * 1000.0)
        raise self.give_up(log, last_error) from last_error

    async def _run_target(
        self,
        target: Target,
        op: Callable[[BaseProvider, Target], Awaitable[R]],
        retries: int,
        log: AttemptLog,
        started: float,
        deadline: float | None,
    ) -> R:
        provider = self.providers[target.provider]

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            pause = self.backoff(error, state.attempt_number)
            left = self.remaining(started, deadline)
            return pause if left is None else max(0.0, min(pause, left))

        def transient(exc: BaseException) -> bool:
            left = self.remaining(started, deadline)
            return isinstance(exc, ProviderError) and exc.transient and (left is None or left > 0)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(retries + 1),
            retry=retry_if_exception(transient),
            wait=wait,
            sleep=self.sleep,
            reraise=True,
        )
        async for try_ in retrying:
            with try_:
                number = try_.retry_state.attempt_number
                return await self._attempt(target, provider, op, log, number > 1, started, deadline)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _attempt(
        self,
        target: Target,
        provider: BaseProvider,
        op: Callable[[BaseProvider, Target], Awaitable[R]],
        log: AttemptLog,
        retry: bool,
        started: float,
        deadline: float | None,
    ) -> R:
        limit = self.settings.timeout
        left = self.remaining(started, deadline)
        if left is not None:
            limit = min(limit, left)
        t0 = self.clock()
        try:
            with anyio.fail_after(limit):
                result = await op(provider, target)
        except TimeoutError as exc:
            error = ProviderTimeoutError(
                f"no answer within {limit:.1f}s", provider=target.provider, model=target.model
            )
            self.note(log, target, "error", self.clock() - t0, error, retry=retry)
            raise error from exc
        except Exception as exc:
            self.note(log, target, "error", self.clock() - t0, exc, retry=retry)
            raise
        self.note(log, target, "success", self.clock() - t0, retry=retry)
        return result
