"""Overlapping attempts: hedged requests and parallel races, for calls and streams alike.

* ``parallel_attempts=N`` starts the first N lanes at once. When one fails, the next lane
  takes its place, so up to N are always in flight; the first answer wins.
* Hedging (``hedge_after_ms=X`` or ``hedge="p95"``) starts one lane. If it has not answered
  after the hedge delay, the next lane starts beside it ("The Tail at Scale", Dean and
  Barroso 2013: about 5 % more requests for a much shorter tail). A lane that fails while
  nothing else is in flight hands over at once, as in sequential mode.

Either way the others are cancelled as soon as one answer arrives. A lane is any coroutine
``lane(index, hedged)``: for a call it returns the answer, for a stream the stream opened up
to its first content. This module knows nothing of targets, breakers or the engine.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import anyio

from juggler._routing.record import Skipped

__all__ = ["Overlap", "Raced", "overlap"]

R = TypeVar("R")


@dataclass(slots=True)
class Overlap:
    """How lanes overlap: ``width`` at once (racing), and ``delay(index)``: seconds before a
    slow lane is hedged (None: never). ``final(error)`` stops the whole call (a request every
    target would refuse)."""

    width: int
    delay: Callable[[int], float | None]
    sleep: Callable[[float], Awaitable[None]]
    final: Callable[[BaseException], bool]
    # Hands back an answer that will never be used because the call itself ended first
    # (cancelled by its caller): it must still be recorded and its breaker permit freed.
    abandon: Callable[[Any], Awaitable[None]] | None = None


@dataclass(slots=True)
class Raced(Generic[R]):
    """The first answer (or None), the last real error, and answers that arrived in the same
    instant as the winner and must be handed back (closed, recorded as discarded)."""

    winner: R | None = None
    last_error: BaseException | None = None
    late: list[R] = field(default_factory=list)


async def overlap(
    count: int,
    lane: Callable[[int, bool], Coroutine[Any, Any, R]],
    how: Overlap,
) -> Raced[R]:
    """Drive ``lane(index, hedged)`` for ``index`` in ``range(count)`` with overlap."""
    send, receive = anyio.create_memory_object_stream[tuple[str, int, Any]](math.inf)
    running: set[int] = set()
    next_lane = 0
    out: Raced[R] = Raced()
    answered: list[R] = []  # every answer, also one the channel had not delivered yet

    async def run(index: int, hedged: bool) -> None:
        try:
            value = await lane(index, hedged)
        except Exception as exc:  # Skipped included: the lane is over either way
            send.send_nowait(("failed", index, exc))
        else:
            answered.append(value)
            send.send_nowait(("answered", index, value))

    async def timer(index: int, delay: float) -> None:
        await how.sleep(delay)
        send.send_nowait(("slow", index, None))

    def launch(hedged: bool) -> None:
        nonlocal next_lane
        index, next_lane = next_lane, next_lane + 1
        running.add(index)
        group.start_soon(run, index, hedged)
        delay = how.delay(index)
        if delay is not None and next_lane < count:
            group.start_soon(timer, index, delay)

    try:
        async with send, receive:
            async with anyio.create_task_group() as group:
                for _ in range(min(how.width, count)):
                    launch(hedged=how.width > 1)
                while running:
                    kind, index, value = await receive.receive()
                    if kind == "slow":
                        if index in running and next_lane < count:
                            launch(hedged=True)
                        continue
                    running.discard(index)
                    if kind == "answered":
                        out.winner = value
                        break
                    if not isinstance(value, Skipped):
                        out.last_error = value
                        if how.final(value):
                            break
                    if next_lane < count and (how.width > 1 or not running):
                        launch(hedged=how.width > 1)
                group.cancel_scope.cancel()
            # Two lanes may have answered at once: hand back the ones that are not used.
            while True:
                try:
                    kind, _, value = receive.receive_nowait()
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
                if kind == "answered":
                    out.late.append(value)
    except BaseException:
        # The call was cancelled (or failed) before it returned: no answer will be used.
        if how.abandon is not None:
            with anyio.CancelScope(shield=True):
                for value in answered:
                    await how.abandon(value)
        raise
    return out
