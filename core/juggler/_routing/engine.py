"""The routing engine: the only code that decides what to try next and does concurrency.

For one call: cache → admission (circuit breakers) → attempts → record. Attempts run
sequentially by default, or overlap (hedged or raced, in ``_race``). Each target's attempts
go through tenacity: transient errors only, Retry-After or full-jitter waits, under the retry
budget and the call's deadline. Every decision is a ``ModelAttempt``: skipped targets (circuit
open, deadline passed, retry budget exhausted), cancelled losers, cache hits. The engine never
names a provider. Streams (``_stream``) use the same bookkeeping.
"""

from __future__ import annotations

import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import anyio
from tenacity import AsyncRetrying, RetryCallState

from juggler._attempts import ModelAttempt
from juggler._config import Settings
from juggler._exceptions import (
    AllProvidersFailedError,
    ProviderError,
    ProviderTimeoutError,
    RequestRejectedError,
    redact,
)
from juggler._policy.breaker import BreakerConfig, Breakers, Permit
from juggler._policy.cache import ResponseCache
from juggler._policy.health import HealthBoard
from juggler._policy.retry import RetryBudget, retry_if_transient, wait_retry_after_or_jitter
from juggler._routing.options import CallOptions, call_options
from juggler._routing.record import DEADLINE, AttemptLog, Call, Routed, Skipped, cut_by_deadline
from juggler._types import Target
from juggler.providers.base import BaseProvider

# The records moved to ``_record``; they are re-exported because callers import them here.
__all__ = ["DEADLINE", "AttemptLog", "Call", "Engine", "Routed", "Skipped"]

R = TypeVar("R")
AttemptObserver = Callable[[Target, ModelAttempt], None]
logger = logging.getLogger("juggler")


class Engine:
    """Walks a chain of targets for one call. Policy knobs come from ``Settings``.

    ``clock``, ``sleep`` and ``rng`` are injectable so tests never wait for real; timeouts
    use anyio's, so a test loop with virtual time drives them too.
    """

    def __init__(
        self,
        providers: Mapping[str, BaseProvider],
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: Callable[[], float] = random.random,
        wall: Callable[[], float] = time.time,
        on_open: Callable[[str], Awaitable[None]] | None = None,
        shared: Any = None,
    ) -> None:
        s = settings
        self.providers = providers
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.rng = rng
        self.on_open = on_open
        self.shared = shared
        self.breakers = Breakers(
            BreakerConfig(
                window=s.circuit_window,
                min_calls=s.circuit_min_calls,
                failure_rate=s.circuit_failure_rate,
                consecutive_failures=s.circuit_consecutive_failures,
                cooldown=s.circuit_cooldown,
                max_cooldown=s.circuit_max_cooldown,
                half_open_probes=s.circuit_half_open_probes,
                auth_cooldown=s.circuit_auth_cooldown,
                retry_after_cap=s.circuit_retry_after_cap,
            ),
            enabled=s.circuit_breaker,
        )
        self.budget = RetryBudget(s.retry_budget_ratio, s.retry_budget_min, s.retry_budget_window)
        self.health = HealthBoard(s.health_window, wall)
        self.cache = ResponseCache(s.cache_ttl_seconds, s.cache_max_entries, clock)
        self.waits = wait_retry_after_or_jitter(s.retry_base_wait, s.retry_max_wait, rng)
        self.observers: list[AttemptObserver] = [lambda _t, a: self.health.observe(a)]

    # ----- shared pieces, also used by the stream runner -----

    def retries_for(self, index: int, chain_length: int) -> int:
        """Same-target retries: the last target left gets ``retries``, others
        ``retries_per_target`` (0 by default: hand over at once, as a 429 should)."""
        s = self.settings
        return s.retries if index == chain_length - 1 else s.retries_per_target

    def backoff(self, error: BaseException | None, retry_number: int) -> float:
        """Seconds before retry ``retry_number`` (1-based): Retry-After, capped, or full jitter."""
        return self.waits.for_error(error, retry_number)

    def note(self, log: AttemptLog, target: Target, *args: Any, **kw: Any) -> ModelAttempt:
        """Record an attempt and tell the observers (health)."""
        attempt = log.record(target, *args, **kw)
        for observer in self.observers:
            observer(target, attempt)
        return attempt

    def start(self, options: CallOptions | None = None, log: AttemptLog | None = None) -> Call:
        """Begin a call: its log, options and absolute deadline."""
        options = options or call_options(self.settings)
        now = self.clock()
        at = None if options.deadline is None else now + options.deadline
        return Call(log or AttemptLog(), options, now, at)

    def admit(self, call: Call, chain: Sequence[Target]) -> list[tuple[Target, bool]]:
        """Each target with ``force``: when every circuit is open, the target whose cool-down
        ends soonest is tried anyway rather than failing with no request at all."""
        now = self.clock()
        keys = [(t.provider, t.model) for t in chain]
        if not keys or any(self.breakers.remaining(k, now) == 0 for k in keys):
            return [(t, False) for t in chain]
        soonest = self.breakers.soonest(keys, now)
        return [(t, (t.provider, t.model) == soonest) for t in chain]

    def permit(
        self, call: Call, target: Target, *, force: bool = False, retry: bool = False
    ) -> Permit:
        """Leave to send to ``target`` now, or record why not and raise :class:`Skipped`."""
        left = call.left(self.clock())
        if left is not None and left <= 0:
            self.note(call.log, target, "skipped", 0.0, note=DEADLINE, retry=retry)
            raise Skipped(DEADLINE)
        permit = self.breakers.acquire((target.provider, target.model), self.clock(), force=force)
        if permit is None:
            self.note(call.log, target, "skipped", 0.0, note="circuit open", retry=retry)
            raise Skipped("circuit open")
        return permit

    def may_retry(self, call: Call, target: Target, wait: float) -> Permit | None:
        """Leave to retry ``target`` after ``wait`` seconds, or None, with the reason recorded:
        the deadline would pass, the circuit is open, or the retry budget is spent."""
        now = self.clock()
        left = call.left(now)
        why = None
        permit = None
        if left is not None and left - wait <= 0:
            why = DEADLINE
        else:
            permit = self.breakers.acquire((target.provider, target.model), now)
            if permit is None:
                why = "circuit open"
            elif not self.budget.try_spend(now):
                self.breakers.release(permit)
                permit, why = None, "retry budget exhausted"
        if why is not None:
            self.note(call.log, target, "skipped", 0.0, note=why, retry=True)
        return permit

    async def verdict(self, permit: Permit, error: BaseException | None) -> None:
        """Feed the breaker; when a circuit opens, share it and close the provider's idle
        connections (they would only slow the pools of healthy providers). An attempt the
        call's deadline cut short says nothing about the provider: its permit is released."""
        if cut_by_deadline(error):
            self.breakers.release(permit)
            return
        opened = self.breakers.record(permit, self.clock(), error)
        provider, model = permit.key
        if opened:
            seconds = self.breakers.remaining(permit.key, self.clock())
            await self._best_effort(
                "share an open circuit", "publish_open", provider, model, seconds
            )
            if self.on_open is not None:
                await self._best_effort("close idle connections", self.on_open, provider)
        elif error is None and permit.probe:
            await self._best_effort("share a closed circuit", "clear", provider, model)

    async def sync_shared(self, chain: Sequence[Target]) -> None:
        """Adopt circuits other replicas opened (optional shared state, e.g. Redis)."""
        keys = [(t.provider, t.model) for t in chain]
        remote = await self._best_effort("read shared circuits", "open_remaining", keys)
        now = self.clock()
        for key, seconds in (remote or {}).items():
            self.breakers.adopt(tuple(key), now, float(seconds))  # type: ignore[arg-type]

    async def _best_effort(self, what: str, action: str | Callable[..., Any], *args: Any) -> Any:
        """Run a side task of the breaker (the shared store, closing idle connections). Its
        failure (say, Redis down) must not fail the call: the local breaker still works, so
        it is logged and the call goes on."""
        if isinstance(action, str) and self.shared is None:
            return None
        run = getattr(self.shared, action) if isinstance(action, str) else action
        try:
            return await _maybe_await(run(*args))
        except Exception as exc:
            logger.warning(
                "juggler: could not %s: %s", what, redact(f"{type(exc).__name__}: {exc}")
            )
            return None

    async def pause(self, seconds: float, permit: Permit) -> None:
        """Wait before a retry that holds ``permit``; if the wait is cancelled the retry never
        goes out, so its permit (perhaps the half-open probe slot) is given back."""
        try:
            await self.sleep(seconds)
        except BaseException:
            self.breakers.release(permit)
            raise

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
        log: AttemptLog | None = None,
        options: CallOptions | None = None,
        cache_key: str | None = None,
    ) -> Routed[R]:
        """Answer from the cache, or try ``op`` on the targets until one succeeds."""
        options = options or call_options(self.settings)
        if cache_key is not None and options.cache:
            hit = self.cache.get(cache_key)
            if hit is not None:
                result, target = hit
                fresh = AttemptLog()
                self.note(fresh, target, "cache_hit", 0.0)
                return Routed(result, target, fresh.attempts, 0.0, cached=True)
        call = self.start(options, log)
        await self.sync_shared(chain)
        lanes = self.admit(call, chain)
        if options.concurrent and len(lanes) > 1:
            from juggler._routing.overlap import (
                race,
            )  # the concurrent strategies live in their own module

            result, target = await race(self, call, lanes, op)
        else:
            result, target = await self._sequential(call, lanes, op)
        if cache_key is not None and options.cache:
            self.cache.put(cache_key, result, target, options.cache_ttl)
        latency = (self.clock() - call.started) * 1000.0
        return Routed(result, target, call.log.attempts, latency)

    async def _sequential(
        self,
        call: Call,
        lanes: Sequence[tuple[Target, bool]],
        op: Callable[[BaseProvider, Target], Awaitable[R]],
    ) -> tuple[R, Target]:
        last_error: BaseException | None = None
        for index, (target, force) in enumerate(lanes):
            retries = self.retries_for(index, len(lanes))
            try:
                return await self.run_target(call, target, op, retries, force=force), target
            except Skipped:
                continue
            except Exception as exc:
                last_error = exc
                if isinstance(exc, ProviderError) and not exc.fallback:
                    break
        raise self.give_up(call.log, last_error) from last_error

    async def run_target(
        self,
        call: Call,
        target: Target,
        op: Callable[[BaseProvider, Target], Awaitable[R]],
        retries: int,
        *,
        force: bool = False,
        hedged: bool = False,
    ) -> R:
        """One target: the first attempt, then tenacity retries on transient errors while the
        attempts, the deadline, the circuit and the retry budget allow."""
        provider = self.providers[target.provider]
        held = [self.permit(call, target, force=force)]
        self.budget.request(self.clock())

        def stop(state: RetryCallState) -> bool:
            # tenacity computes the wait before asking stop, so the deadline check is exact
            if state.attempt_number > retries:
                return True
            permit = self.may_retry(call, target, state.upcoming_sleep or 0.0)
            if permit is None:
                return True
            held[0] = permit
            return False

        retrying = AsyncRetrying(
            stop=stop,
            retry=retry_if_transient(),
            wait=self.waits,
            sleep=lambda seconds: self.pause(seconds, held[0]),
            reraise=True,
        )
        async for try_ in retrying:
            with try_:
                retry = try_.retry_state.attempt_number > 1
                return await self.attempt(call, target, provider, op, held[0], retry, hedged)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def attempt(
        self,
        call: Call,
        target: Target,
        provider: BaseProvider,
        op: Callable[[BaseProvider, Target], Awaitable[R]],
        permit: Permit,
        retry: bool,
        hedged: bool,
        *,
        timeout: float | None = None,
    ) -> R:
        """One request under the attempt timeout (``settings.timeout`` unless given) and the
        call's deadline, recorded and fed to the breaker."""
        limit = self.settings.timeout if timeout is None else timeout
        left = call.left(self.clock())
        deadline_first = left is not None and left < limit
        if left is not None:
            limit = max(0.0, min(limit, left))
        number = call.log.reserve()
        t0 = self.clock()
        kw: dict[str, Any] = {"retry": retry, "hedged": hedged, "number": number}
        error: BaseException | None = None
        try:
            with anyio.fail_after(limit) as scope:
                result = await op(provider, target)
        except anyio.get_cancelled_exc_class():
            self.breakers.release(permit)
            concurrent = call.options.concurrent
            note = "cancelled: another attempt answered first" if concurrent else "cancelled"
            self.note(call.log, target, "cancelled", self.clock() - t0, note=note, **kw)
            raise
        except Exception as exc:
            error = exc
            if isinstance(exc, TimeoutError) and scope.cancel_called:
                text = DEADLINE if deadline_first else f"no answer within {limit:.1f}s"
                error = ProviderTimeoutError(text, provider=target.provider, model=target.model)
            self.note(call.log, target, "error", self.clock() - t0, error, **kw)
            await self.verdict(permit, error)
            if error is exc:
                raise
            raise error from exc
        self.note(call.log, target, "success", self.clock() - t0, **kw)
        await self.verdict(permit, None)
        return result


async def _maybe_await(value: Any) -> Any:
    """Shared-state backends may be sync or async clients."""
    return await value if inspect.isawaitable(value) else value
