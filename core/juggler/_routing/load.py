"""Load: how many calls one Juggler runs at once, and how late its event loop runs.

Admission control. With ``max_in_flight`` set, at most that many calls route at once; the
next ``max_queued`` wait for a slot (in arrival order) and any more are refused at once with
:class:`~juggler.JugglerBusyError` (no request sent, every target recorded as skipped). A
saturated client would otherwise start everything, fall behind, and time every call out.
A stream holds its slot until its first content has arrived.

Lag. While calls are in flight, a small monitor per event loop (a timer callback, not a task)
asks to run again in ``interval`` seconds and records how late it ran in a
:class:`~juggler._policy.lag.LagMeter`; the gate asks the meter whether a timeout was the
client's doing. It stops once no call is in flight, so an idle Juggler leaves nothing
behind, and a loop closed while it waits holds no pending task.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from juggler._exceptions import JugglerBusyError
from juggler._policy.lag import LagMeter
from juggler._routing.record import AttemptLog
from juggler._types import Target

if TYPE_CHECKING:
    from juggler._config import Settings
    from juggler._routing.job import Job
    from juggler._routing.record import Routed

R = TypeVar("R")

__all__ = ["Load", "refuse"]


class Load:
    """The in-flight limit and the lag monitor of one engine. ``clock`` is the engine's (lag
    samples are stamped on it, to compare with attempt start times)."""

    def __init__(
        self,
        max_in_flight: int | None,
        max_queued: int,
        meter: LagMeter | None,
        clock: Callable[[], float],
        *,
        interval: float = 0.05,
    ) -> None:
        self.max_in_flight = max_in_flight
        self.max_queued = max_queued
        self.meter = meter
        self.clock = clock
        self.interval = interval
        self.in_flight = 0  # calls holding a slot
        self.active = 0  # calls holding or waiting for a slot
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._ticking: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], float]) -> Load:
        """The engine's load control from ``max_in_flight``, ``max_queued`` and
        ``timeout_lag_share``."""
        s = settings
        meter = None if s.timeout_lag_share is None else LagMeter(share=s.timeout_lag_share)
        return cls(s.max_in_flight, s.max_queued, meter, clock)

    async def route(self, engine: Any, job: Job[R], log: AttemptLog) -> Routed[R]:
        """``engine._route(job, log)`` once a slot is free; a call refused because the line
        is full has every target of its plan recorded as skipped (``JugglerBusyError``)."""

        def refused() -> JugglerBusyError:
            return refuse(engine.plan(job, log), engine.note, log, self.why())

        async with self.slot(refused):
            routed: Routed[R] = await engine._route(job, log)
            return routed

    def why(self) -> str:
        """The reason recorded for a refused call."""
        return (
            f"client busy: {self.in_flight} calls in flight (max_in_flight) and "
            f"{len(self._waiters)} waiting (max_queued)"
        )

    @asynccontextmanager
    async def slot(self, refused: Callable[[], BaseException]) -> AsyncIterator[None]:
        """Hold one of the ``max_in_flight`` slots for the body, waiting in line if needed;
        raise ``refused()`` at once when the line is full."""
        limit = self.max_in_flight
        if limit is not None and self.in_flight >= limit and len(self._waiters) >= self.max_queued:
            raise refused()
        self.active += 1
        try:
            self._watch()
            if limit is not None and self.in_flight >= limit:
                await self._wait()
            else:
                self.in_flight += 1
            try:
                yield
            finally:
                self._hand_on()
        finally:
            self.active -= 1

    async def _wait(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # resolved by _hand_on: the slot is passed on, in_flight unchanged
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._hand_on()  # handed a slot while being cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def _hand_on(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.in_flight -= 1

    def _watch(self) -> None:
        """Make sure this loop's lag monitor ticks while calls are in flight."""
        if self.meter is None:
            return
        loop = asyncio.get_running_loop()
        if loop not in self._ticking:
            self._ticking.add(loop)
            self._tick_later(loop)

    def _tick_later(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.call_later(self.interval, self._tick, loop, loop.time())

    def _tick(self, loop: asyncio.AbstractEventLoop, asked: float) -> None:
        # A timer callback rather than a task: a loop closed mid-sleep leaves nothing pending.
        assert self.meter is not None
        self.meter.record(self.clock(), loop.time() - asked - self.interval)
        if self.active > 0 and not loop.is_closed():
            self._tick_later(loop)
        else:
            self._ticking.discard(loop)


def refuse(
    targets: list[Target], note: Callable[..., object], log: AttemptLog, why: str
) -> JugglerBusyError:
    """The error of a call refused by admission control: every target recorded as skipped."""
    for target in targets:
        note(log, target, "skipped", 0.0, note=why)
    return JugglerBusyError(log.attempts, f"{why}; no request was sent:")
