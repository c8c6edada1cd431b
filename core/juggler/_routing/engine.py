"""The routing engine: the one place that decides what to try next, for calls and streams.

For one call (a :class:`Job`): plan the targets (recording the ones left out) → cache →
admission (circuit breakers) → attempts → record. Attempts run sequentially, or overlap
(hedged or raced, see ``overlap``). Each target's attempts go through tenacity: transient
errors only, Retry-After or full-jitter waits, stopped by the attempt count, the call's
deadline, the circuit and the retry budget. Every decision is a ``ModelAttempt``.

A stream is the same job whose operation opens the stream and returns once its first content
has arrived: time to first content is the attempt's timeout, and everything above (retries,
breakers, budget, deadline, hedging, racing) applies unchanged. The winner comes back still
open (:class:`~juggler._routing.record.InFlight`); the stream continuation reads on and
settles it when the answer ends.

An attempt ends in one place, :meth:`Engine.settle` (:meth:`Engine.cancel` for a cancellation,
which must not await). The engine never names a provider.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from tenacity import AsyncRetrying, RetryCallState

from juggler._attempts import ModelAttempt, Outcome
from juggler._exceptions import ProviderTimeoutError
from juggler._policy.breaker import Permit
from juggler._policy.cache import ResponseCache, cache_key
from juggler._policy.health import HealthBoard
from juggler._policy.retry import retry_if_transient, wait_retry_after_or_jitter
from juggler._routing.accounting import Accounting, Metered, meter_of
from juggler._routing.admission import Gate
from juggler._routing.job import Job, Op
from juggler._routing.options import retries_for
from juggler._routing.overlap import Overlap, Raced, overlap
from juggler._routing.plan import plan_call
from juggler._routing.record import (
    DEADLINE,
    LOST,
    AttemptLog,
    Call,
    Held,
    InFlight,
    Routed,
    Skipped,
    final,
    give_up,
)
from juggler._routing.traffic import Traffic
from juggler._telemetry import Telemetry
from juggler._types import Target, Usage

if TYPE_CHECKING:
    from juggler._config import Settings
    from juggler._fleet import Fleet

__all__ = ["Engine", "Job"]  # Job is re-exported: callers build one per call

R = TypeVar("R")
AttemptObserver = Callable[[Target, ModelAttempt], None]
logger = logging.getLogger("juggler")


class Engine:
    """Walks a chain of targets for one call. Policy knobs come from ``Settings``.

    ``clock``, ``sleep`` and ``rng`` are injectable so tests never wait for real.
    """

    def __init__(
        self,
        fleet: Fleet,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: Callable[[], float] = random.random,
        wall: Callable[[], float] = time.time,
        on_open: Callable[[str], Awaitable[None]] | None = None,
        shared: Any = None,
        tier_neighbours: bool = False,
        accounting: Accounting | None = None,
        telemetry: Telemetry | None = None,
        limiter: Mapping[str, Any] | None = None,
    ) -> None:
        s = settings
        self.fleet = fleet
        self.providers = fleet.providers
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.rng = rng
        self.tier_neighbours = tier_neighbours
        self.gate = Gate(
            s, clock=clock, sleep=lambda seconds: self.sleep(seconds), note=self.note,
            on_open=on_open, shared=shared,
        )  # fmt: skip
        self.breakers, self.budget = self.gate.breakers, self.gate.budget
        self.load = self.gate.throttle(s)  # admission control and the client's loop lag
        self.accounting = accounting or Accounting(wall=wall)
        if self.accounting.budgets:
            self.gate.checks.append(self.accounting.check)
        self.telemetry = telemetry or Telemetry(enabled=False)
        self.health = HealthBoard(s.health_window, wall)
        self.cache = ResponseCache(s.cache_ttl_seconds, s.cache_max_entries, clock)
        self.waits = wait_retry_after_or_jitter(s.retry_base_wait, s.retry_max_wait, rng)
        self.observers: list[AttemptObserver] = [lambda _t, a: self.health.observe(a)]
        self.traffic = Traffic(fleet, self.gate, self.health, wall=wall, rng=rng, limiter=limiter)
        if self.gate.shared is not None:  # health figures and answers reach other replicas
            self.observers.append(self.gate.shared.observe)
            self.cache.shared = self.gate.shared

    # ----- one call -----

    async def run(self, job: Job[R], log: AttemptLog | None = None) -> Routed[R]:
        """Answer ``job`` from the cache, or try its targets until one answers. The call is
        traced as one span with a child per attempt; a stream's span ends with the stream."""
        log = log if log is not None else AttemptLog()
        trace = self.telemetry.call_span(job.capability.value)
        trace.__enter__()
        log.listener = trace.attempt
        try:
            routed = await self.load.route(self, job, log)  # waits for an in-flight slot
        except BaseException as exc:
            trace.finish(log.attempts)
            trace.__exit__(type(exc), exc, exc.__traceback__)
            raise
        if job.stream and not routed.cached:
            routed.trace = trace
        else:
            trace.finish(routed.attempts, routed.target.model)
            trace.__exit__(None, None, None)
        return routed

    async def _route(self, job: Job[R], log: AttemptLog) -> Routed[R]:
        chain = self.plan(job, log)
        key = None
        if job.options.cache and job.cache_fields is not None:
            key = cache_key(job.capability.value, chain, job.cache_fields)
            hit = await self.cache.aget(key)
            if hit is not None:
                result, target = hit
                fresh = AttemptLog(listener=log.listener)
                self.note(fresh, target, "cache_hit", 0.0)
                return Routed(result, target, fresh.attempts, 0.0, cached=True, cache_key=key)
        call = self.start(job, log)
        await self.gate.sync_shared(chain, call.left(self.clock()))
        lanes = self.gate.admit(chain)
        if job.options.concurrent and len(lanes) > 1:
            raced: Raced[Held[R]] = await overlap(
                len(lanes), lambda i, hedged: self._lane(call, lanes, i, job.op, hedged),
                Overlap(job.options.parallel, lambda i: self.hedge_delay(call, lanes[i][0]),
                        self.sleep, final, lambda held: self.discard(held, job.meter)),
            )  # fmt: skip
            won, last_error = raced.winner, raced.last_error
            with anyio.CancelScope(shield=True):  # a cancellation here must not lose `won`
                for late in raced.late:
                    await self.discard(late, job.meter)
        else:
            won, last_error = await self._sequential(call, lanes, job.op)
        if won is None:
            raise give_up(log, last_error) from last_error
        if not job.stream:
            metered = job.meter(won.result)
            await self.settle(won.attempt, at=won.attempt.answered_at, metered=metered)
            if key is not None:
                await self.cache.aput(key, won.result, won.target, job.options.cache_ttl)
        latency = (self.clock() - call.started) * 1000.0
        return Routed(won.result, won.target, log.attempts, latency, attempt=won.attempt,
                      cache_key=key)  # fmt: skip

    def plan(self, job: Job[Any], log: AttemptLog) -> list[Target]:
        """The call's targets; those left out (context window, …) are recorded as skipped."""
        configured = self.traffic.configured(job)
        plan = plan_call(
            self.providers,
            configured,
            job.capability,
            choices=job.choices,
            request=job.request,
            tier_neighbours=self.tier_neighbours,
        )
        if job.check is not None:
            job.check(plan.targets)
        for target, reason in plan.skipped:
            self.note(log, target, "skipped", 0.0, note=reason)
        return plan.targets

    def start(self, job: Job[Any], log: AttemptLog | None = None) -> Call:
        """Begin a call: its log, options, absolute deadline and per-attempt limit."""
        options, s = job.options, self.settings
        now = self.clock()
        at = None if options.deadline is None else now + options.deadline
        if job.stream:
            limit = s.first_token_timeout
        else:
            limit = options.timeout if options.timeout is not None else s.timeout
        return Call(log or AttemptLog(), options, now, at, limit, job.stream, job.capability)

    def remember(self, key: str | None, result: Any, target: Target, ttl: float) -> None:
        """Store a complete answer (a finished stream) under the call's cache key."""
        if key is not None:
            self.cache.put(key, result, target, ttl)

    async def _sequential(
        self, call: Call, lanes: Sequence[tuple[Target, bool]], op: Op[R]
    ) -> tuple[Held[R] | None, BaseException | None]:
        last_error: BaseException | None = None
        for index in range(len(lanes)):
            try:
                return await self._lane(call, lanes, index, op, False), None
            except Skipped:
                continue
            except Exception as exc:
                last_error = exc
                if final(exc):
                    break
        return None, last_error

    async def _lane(
        self,
        call: Call,
        lanes: Sequence[tuple[Target, bool]],
        index: int,
        op: Op[R],
        hedged: bool,
    ) -> Held[R]:
        target, force = lanes[index]
        retries = retries_for(call.options, self.settings, index, len(lanes))
        return await self.run_target(call, target, op, retries, force=force, hedged=hedged)

    # ----- one target: first attempt and tenacity retries -----

    async def run_target(
        self, call: Call, target: Target, op: Op[R], retries: int, *, force: bool = False,
        hedged: bool = False,
    ) -> Held[R]:  # fmt: skip
        """One target: the first attempt, then tenacity retries on transient errors while the
        attempts, the deadline, the circuit and the retry budget allow."""
        held = [self.gate.permit(call, target, force=force)]
        if retries == 0:  # no retry to plan: skip tenacity's per-call setup (~4 % of CPU)
            return await self.attempt(call, target, op, held[0], hedged=hedged)

        def stop(state: RetryCallState) -> bool:
            # tenacity computes the wait before asking stop, so the deadline check is exact
            if state.attempt_number > retries:
                return True
            permit = self.gate.may_retry(call, target, state.upcoming_sleep or 0.0)
            if permit is None:
                return True
            held[0] = permit
            return False

        retrying = AsyncRetrying(
            stop=stop,
            retry=retry_if_transient(),
            wait=self.waits,
            sleep=lambda seconds: self.gate.pause(seconds, held[0]),
            reraise=True,
        )
        async for try_ in retrying:
            with try_:
                retry = try_.retry_state.attempt_number > 1
                return await self.attempt(call, target, op, held[0], retry=retry, hedged=hedged)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def attempt(
        self,
        call: Call,
        target: Target,
        op: Op[R],
        permit: Permit,
        *,
        retry: bool = False,
        hedged: bool = False,
        timeout: float | None = None,
    ) -> Held[R]:
        """One request under the attempt limit and the call's deadline. A failure is settled
        here; an answer comes back with its record still open (the caller settles it)."""
        limit = call.attempt_timeout if timeout is None else timeout
        left = call.left(self.clock())
        deadline_first = left is not None and left < limit
        if left is not None:
            limit = max(0.0, min(limit, left))
        flight = InFlight(call, target, permit, call.log.reserve(), self.clock(), retry, hedged)
        try:
            with anyio.fail_after(limit) as scope, self.traffic.sending(target) as sent:
                result = sent.result = await op(self.providers[target.provider], target)
        except anyio.get_cancelled_exc_class():
            self.cancel(flight, LOST if call.answered_at is not None else "cancelled")
            raise
        except Exception as exc:
            error: BaseException = exc
            if isinstance(exc, TimeoutError) and scope.cancel_called:
                what = "no data before the first token" if call.stream else "no answer"
                text = DEADLINE if deadline_first else f"{what} within {limit:.1f}s"
                error = ProviderTimeoutError(text, provider=target.provider, model=target.model)
            await self.settle(flight, error)
            if error is exc:
                raise
            raise error from exc
        flight.answered_at = call.answered_at = self.clock()  # a loser cancelled now has LOST
        return Held(result, target, flight)

    # ----- the end of an attempt: written once -----

    async def settle(
        self,
        flight: InFlight,
        error: BaseException | None = None,
        *,
        at: float | None = None,
        metered: Metered | None = None,
    ) -> ModelAttempt | None:
        """Record an attempt that answered (``error`` None) or failed, with what it consumed
        and cost, and feed its breaker."""
        if flight.settled:
            return None
        flight.settled = True
        outcome: Outcome = "success" if error is None else "error"
        record = self._record(flight, outcome, error, at=at, metered=metered)
        await self.gate.verdict(flight.permit, error)
        return record

    def cancel(
        self, flight: InFlight, note: str, usage: Usage | None = None
    ) -> ModelAttempt | None:
        """Record a cancelled attempt (with the output it had delivered, if any) and give back
        its permit (perhaps the half-open probe slot): a cancellation says nothing about the
        provider. Never awaits, so it is safe in a task that is being cancelled."""
        if flight.settled:
            return None
        flight.settled = True
        self.gate.release(flight.permit)
        metered = (usage, None, None) if usage is not None else None
        return self._record(flight, "cancelled", None, note=note, metered=metered)

    async def discard(self, held: Held[Any], meter: Callable[[Any], Metered] = meter_of) -> None:
        """An answer not used (it came with the winner's, or after the call was cancelled):
        closed unread and recorded ``discarded`` (its status and cost kept, ``success=False``).
        The provider did answer, so its breaker hears a success."""
        closer = getattr(held.result, "aclose", None)
        if closer is not None:
            await closer()
        flight = held.attempt
        if not flight.settled:
            flight.settled = True
            note = "answered, but its answer was not used"
            metered = None if closer is not None else meter(held.result)
            self._record(flight, "discarded", None, note=note, at=flight.answered_at,
                         metered=metered)  # fmt: skip
            await self.gate.verdict(flight.permit, None)

    def _record(
        self,
        flight: InFlight,
        outcome: Outcome,
        error: BaseException | None,
        *,
        note: str | None = None,
        at: float | None = None,
        metered: Metered | None = None,
    ) -> ModelAttempt:
        elapsed = (at if at is not None else self.clock()) - flight.started
        usage, cost = None, None
        if metered is not None:
            usage, units, served = metered
            cost = self.accounting.cost(flight.call.capability, flight.target, usage, units, served)
        return self.note(
            flight.call.log, flight.target, outcome, elapsed, error, note=note,
            retry=flight.retry, hedged=flight.hedged, number=flight.number, usage=usage,
            cost_usd=cost,
        )  # fmt: skip

    def note(self, log: AttemptLog, target: Target, *args: Any, **kw: Any) -> ModelAttempt:
        """Record an attempt and tell the observers (health)."""
        attempt = log.record(target, *args, **kw)
        for observer in self.observers:
            observer(target, attempt)
        return attempt

    # ----- per-call policy -----

    def hedge_delay(self, call: Call, target: Target) -> float | None:
        """Seconds to wait on ``target`` before hedging, or None when not hedging."""
        options, s = call.options, self.settings
        if options.hedge_after is not None:
            return options.hedge_after
        if options.hedge_p95:
            p95 = self.health.p95_ms(target.provider, target.model, s.hedge_min_samples)
            return (p95 if p95 is not None else s.hedge_default_ms) / 1000.0
        return None
