"""A load run for the reliability tests and ``make soak``: many concurrent calls against
the simulator, with faults and an outage, and the figures a careful user would check.

Every call ends in exactly one of: **answered**; **failed** with a Juggler error that carries
``models_used`` (an honest failure); **lost** (any other exception, or a failure without its
attempts); **hung** (no end within ``hung_after`` seconds). Circuit skips are counted from
``models_used`` (``skipped`` attempts whose reason is ``circuit open``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from juggler._exceptions import AllProvidersFailedError

__all__ = ["LoadFigures", "load_run"]

Event = tuple[float, Callable[[], object]]  # (seconds after the start, what to do)


@dataclass(slots=True)
class LoadFigures:
    """What a load run counted."""

    calls: int = 0
    answered: int = 0
    failed: int = 0
    lost: int = 0
    hung: int = 0
    circuit_skips: int = 0  # attempts skipped because a circuit was open
    calls_with_circuit_skips: int = 0
    failed_all_circuits_open: int = 0  # failures where every target was skipped, circuit open
    timeouts: int = 0  # attempts that ended in a ProviderTimeoutError
    wall: float = 0.0
    lost_types: Counter[str] = field(default_factory=Counter)

    @property
    def answered_share(self) -> float:
        """Answered calls / all calls."""
        return self.answered / self.calls if self.calls else 0.0

    def line(self) -> str:
        """The figures on one line."""
        return (
            f"{self.calls} calls in {self.wall:.1f}s: answered {self.answered} "
            f"({100 * self.answered_share:.1f}%), failed {self.failed}, lost {self.lost}, "
            f"hung {self.hung}; circuit-open skips {self.circuit_skips} in "
            f"{self.calls_with_circuit_skips} calls, failed with every circuit open "
            f"{self.failed_all_circuits_open}; attempt timeouts {self.timeouts}"
        )


def _count_attempts(figures: LoadFigures, attempts: Sequence[Any]) -> None:
    skips = sum(1 for a in attempts if a.outcome == "skipped" and a.error == "circuit open")
    figures.circuit_skips += skips
    figures.calls_with_circuit_skips += skips > 0
    figures.timeouts += sum(1 for a in attempts if a.error_type == "ProviderTimeoutError")


async def load_run(
    call: Callable[[], Awaitable[Any]],
    *,
    calls: int,
    concurrency: int,
    hung_after: float,
    events: Sequence[Event] = (),
) -> LoadFigures:
    """Run ``call`` ``calls`` times with ``concurrency`` in flight; ``events`` run at their
    time (say, an outage starting and ending). Bounded: each call by ``hung_after``."""
    figures = LoadFigures(calls=calls)
    queue = iter(range(calls))
    started = time.monotonic()

    async def one() -> None:
        try:
            response = await asyncio.wait_for(call(), hung_after)
        except TimeoutError:
            figures.hung += 1
        except AllProvidersFailedError as exc:
            if exc.models_used:
                figures.failed += 1
                _count_attempts(figures, exc.models_used)
                if all(a.outcome == "skipped" and a.error == "circuit open"
                       for a in exc.models_used):  # fmt: skip
                    figures.failed_all_circuits_open += 1
            else:
                figures.lost += 1
                figures.lost_types["no models_used"] += 1
        except Exception as exc:  # anything else is a lost call
            figures.lost += 1
            figures.lost_types[type(exc).__name__] += 1
        else:
            figures.answered += 1
            _count_attempts(figures, response.models_used)

    async def worker() -> None:
        for _ in queue:
            await one()

    async def timeline() -> None:
        for at, action in sorted(events, key=lambda e: e[0]):
            await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
            action()

    clock = asyncio.create_task(timeline())
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        clock.cancel()
        await asyncio.gather(clock, return_exceptions=True)
    figures.wall = time.monotonic() - started
    return figures
