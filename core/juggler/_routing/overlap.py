"""Overlapping attempts: hedged requests and parallel races (the engine's concurrent modes).

* ``parallel_attempts=N`` starts the first N targets at once. When one fails, the next target
  takes its place, so up to N are always in flight; the first success wins.
* Hedging (``hedge_after_ms=X`` or ``hedge="p95"``) starts one target. If it has not answered
  after the hedge delay (X ms, or its own observed p95 latency; before enough samples,
  ``hedge_default_ms``), the next target starts beside it ("The Tail at Scale", Dean and
  Barroso 2013: about 5 % more requests for a much shorter tail). A target that fails
  while nothing else is in flight hands over at once, as in sequential mode.

Either way the losers are cancelled as soon as one answer arrives: their connections are
closed and they are recorded with outcome ``cancelled``. Hedge and race attempts carry
``hedged=True`` in models_used.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from juggler._exceptions import ProviderError, ProviderTimeoutError
from juggler._policy.breaker import Permit
from juggler._routing.engine import Engine
from juggler._routing.record import DEADLINE, Call, Skipped
from juggler._types import Target
from juggler.providers.base import BaseProvider
from juggler.providers.types import ChatDelta

__all__ = [
    "Opened",
    "close_quietly",
    "first_token_limit",
    "hedge_delay",
    "next_delta",
    "race",
    "race_first_token",
]

R = TypeVar("R")


def hedge_delay(engine: Engine, call: Call, target: Target) -> float | None:
    """Seconds to wait on ``target`` before hedging, or None when not hedging."""
    options, s = call.options, engine.settings
    if options.hedge_after is not None:
        return options.hedge_after
    if options.hedge_p95:
        p95 = engine.health.p95_ms(target.provider, target.model, s.hedge_min_samples)
        return (p95 if p95 is not None else s.hedge_default_ms) / 1000.0
    return None


Report = Callable[[str, int, Any], None]


async def _overlap(
    engine: Engine,
    call: Call,
    lanes: Sequence[tuple[Target, bool]],
    lane: Callable[[int, bool, Report], Coroutine[Any, Any, None]],
) -> tuple[Any, BaseException | None, list[Any]]:
    """Drive ``lane(index, hedged, report)`` over the lanes with overlap: ``width`` at once
    (racing), or the next one when the current is slow (hedging) or fails. A lane reports
    ``("answered", index, value)`` or ``("failed", index, error)``. Returns the first answer
    (or None), the last error, and answers that arrived too late to be used."""
    width = call.options.parallel
    send, receive = anyio.create_memory_object_stream[tuple[str, int, Any]](math.inf)
    running: set[int] = set()
    next_lane = 0
    winner: Any = None
    last_error: BaseException | None = None
    late: list[Any] = []

    def report(kind: str, index: int, value: Any) -> None:
        send.send_nowait((kind, index, value))

    async def timer(index: int, delay: float) -> None:
        await engine.sleep(delay)
        report("slow", index, None)

    def launch(hedged: bool) -> None:
        nonlocal next_lane
        index, next_lane = next_lane, next_lane + 1
        running.add(index)
        group.start_soon(lane, index, hedged, report)
        delay = hedge_delay(engine, call, lanes[index][0])
        if delay is not None and next_lane < len(lanes):
            group.start_soon(timer, index, delay)

    async with send, receive:
        async with anyio.create_task_group() as group:
            for _ in range(min(width, len(lanes))):
                launch(hedged=width > 1)
            while running:
                kind, index, value = await receive.receive()
                if kind == "slow":
                    if index in running and next_lane < len(lanes):
                        launch(hedged=True)
                    continue
                running.discard(index)
                if kind == "answered":
                    winner = value
                    break
                if not isinstance(value, Skipped):
                    last_error = value
                    if isinstance(value, ProviderError) and not value.fallback:
                        break
                if next_lane < len(lanes) and (width > 1 or not running):
                    launch(hedged=width > 1)
            group.cancel_scope.cancel()
        # Two lanes may have answered at once: hand back the one that is not used.
        while True:
            try:
                kind, _, value = receive.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream):
                break
            if kind == "answered":
                late.append(value)
    return winner, last_error, late


async def race(
    engine: Engine,
    call: Call,
    lanes: Sequence[tuple[Target, bool]],
    op: Callable[[BaseProvider, Target], Awaitable[R]],
) -> tuple[R, Target]:
    """Run the lanes with overlap; return the first success and cancel the rest."""

    async def lane(index: int, hedged: bool, report: Report) -> None:
        target, force = lanes[index]
        retries = engine.retries_for(index, len(lanes))
        try:
            result = await engine.run_target(call, target, op, retries, force=force, hedged=hedged)
        except Exception as exc:  # Skipped included: the lane is over either way
            report("failed", index, exc)
        else:
            report("answered", index, (result, target))

    winner, last_error, _late = await _overlap(engine, call, lanes, lane)
    if winner is not None:
        answer: tuple[R, Target] = winner
        return answer
    raise engine.give_up(call.log, last_error) from last_error


# ----- streams: racing and hedging apply until the first content arrives -----


@dataclass(slots=True)
class Opened:
    """A stream attempt that won the race to its first content: the caller goes on reading
    ``iterator`` after replaying ``pending``."""

    target: Target
    permit: Permit
    iterator: AsyncIterator[ChatDelta]
    pending: list[ChatDelta]
    started: float
    number: int
    hedged: bool


def first_token_limit(engine: Engine, call: Call) -> tuple[float, bool]:
    """The time-to-first-token limit, and whether the call's deadline is what set it."""
    limit = engine.settings.first_token_timeout
    left = call.left(engine.clock())
    if left is not None and left < limit:
        return max(0.0, left), True
    return limit, False


async def next_delta(
    iterator: AsyncIterator[ChatDelta], limit: float, what: str, target: Target
) -> ChatDelta | None:
    """The next delta within ``limit`` seconds; None at the end of the stream."""
    try:
        # Once per chunk, so the cheap asyncio timer (~5 µs) rather than an anyio cancel
        # scope (~14 µs): a 1,000-chunk answer saves ~10 ms of CPU.
        async with asyncio.timeout(None if math.isinf(limit) else limit):
            return await iterator.__anext__()
    except StopAsyncIteration:
        return None
    except TimeoutError as exc:
        raise ProviderTimeoutError(
            what if what == DEADLINE else f"no data {what} within {limit:.1f}s",
            provider=target.provider,
            model=target.model,
        ) from exc


async def close_quietly(iterator: AsyncIterator[Any]) -> None:
    """Close a provider stream (and its connection), even from a cancelled task."""
    closer = getattr(iterator, "aclose", None)
    if closer is not None:
        # The attempt already failed or lost; closing is best effort.
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await closer()


async def race_first_token(
    engine: Engine,
    call: Call,
    lanes: Sequence[tuple[Target, bool]],
    op: Callable[[BaseProvider, Target], AsyncIterator[ChatDelta]],
) -> tuple[Opened | None, BaseException | None]:
    """Open streams with overlap (raced or hedged) until one delivers content; cancel and
    close the others. Returns the winner, or None and the last error."""

    async def lane(index: int, hedged: bool, report: Report) -> None:
        target, force = lanes[index]
        try:
            permit = engine.permit(call, target, force=force)
        except Skipped as exc:
            report("failed", index, exc)
            return
        engine.budget.request(engine.clock())
        number, t0 = call.log.reserve(), engine.clock()
        kw: dict[str, Any] = {"hedged": hedged, "number": number}
        iterator = op(engine.providers[target.provider], target).__aiter__()
        pending: list[ChatDelta] = []
        try:
            while True:
                limit, cut = first_token_limit(engine, call)
                what = DEADLINE if cut else "before the first token"
                delta = await next_delta(iterator, limit, what, target)
                if delta is None:
                    break
                pending.append(delta)
                if delta.text or delta.tool_calls:
                    break
        except anyio.get_cancelled_exc_class():
            await close_quietly(iterator)
            engine.breakers.release(permit)
            note = "cancelled: another attempt answered first"
            engine.note(call.log, target, "cancelled", engine.clock() - t0, note=note, **kw)
            raise
        except Exception as exc:
            await close_quietly(iterator)
            engine.note(call.log, target, "error", engine.clock() - t0, exc, **kw)
            await engine.verdict(permit, exc)
            report("failed", index, exc)
            return
        report("answered", index, Opened(target, permit, iterator, pending, t0, number, hedged))

    winner, last_error, late = await _overlap(engine, call, lanes, lane)
    for opened in late:  # answered in the same instant as the winner: close it unread
        await _discard(engine, call, opened)
    return winner, last_error


async def _discard(engine: Engine, call: Call, opened: Opened) -> None:
    await close_quietly(opened.iterator)
    engine.breakers.release(opened.permit)
    engine.note(
        call.log,
        opened.target,
        "cancelled",
        engine.clock() - opened.started,
        note="cancelled: another attempt answered first",
        hedged=opened.hedged,
        number=opened.number,
    )
