"""Shared pieces of the benchmarks: percentiles, bounded load loops, the simulator process.

Every benchmark measures a baseline in the same run and reports ratios against it, because
the machine is shared and noisy: absolute figures drift from run to run, ratios much less.
Every loop here is bounded twice, by a request count and by a time limit, and stops by itself.
All traffic goes to the simulator on 127.0.0.1, which runs in its own process
(``ProviderSimulator.spawn``) so it never competes with the measured client for the GIL.
"""

from __future__ import annotations

import asyncio
import gc
import math
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from juggler.testing import ProviderSimulator, Scenario

__all__ = [
    "CHAT_BODY",
    "MESSAGES",
    "Row",
    "Stats",
    "async_load",
    "figure",
    "fmt_ms",
    "fmt_ratio",
    "percentile",
    "settled",
    "simulator",
    "summary",
    "thread_load",
]

# A small chat request; the raw-httpx baselines send exactly what the Juggler sends.
MESSAGES = [{"role": "user", "content": "hello there"}]
CHAT_BODY: dict[str, Any] = {"model": "bench-model", "messages": MESSAGES}

# Make `python bench/x.py` and `python -m bench.x` both find the sibling modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def percentile(values: list[float], q: float) -> float:
    """Percentile ``q`` (0..100) by linear interpolation; NaN when ``values`` is empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(slots=True)
class Stats:
    """Latencies (seconds) of the calls of one run, and the run's wall time."""

    latencies: list[float]
    wall: float
    errors: int = 0
    firsts: list[float] = field(default_factory=list)  # streams: seconds to first content

    def merge(self, other: Stats) -> None:
        """Add another run of the same case (rounds of an interleaved benchmark)."""
        self.latencies.extend(other.latencies)
        self.firsts.extend(other.firsts)
        self.wall += other.wall
        self.errors += other.errors

    @property
    def n(self) -> int:
        """Completed calls."""
        return len(self.latencies)

    def p(self, q: float) -> float:
        """Latency percentile in milliseconds."""
        return percentile(self.latencies, q) * 1000.0

    def first(self, q: float) -> float:
        """Time-to-first-content percentile in milliseconds (streams)."""
        return percentile(self.firsts, q) * 1000.0

    @property
    def mean_ms(self) -> float:
        """Mean latency in milliseconds."""
        return statistics.fmean(self.latencies) * 1000.0 if self.latencies else math.nan

    @property
    def rps(self) -> float:
        """Completed calls per second of wall time."""
        return self.n / self.wall if self.wall > 0 else math.nan


@dataclass(slots=True)
class Row:
    """One line of a benchmark's results table.

    ``figures`` are absolute values (ms, calls/s, ...); ``ratios`` compare this case with
    the baseline taken in the same run (1.00 = as fast as the baseline).
    """

    bench: str
    case: str
    figures: dict[str, float]
    ratios: dict[str, float] = field(default_factory=dict)
    note: str = ""


def fmt_ms(value: float) -> str:
    """Milliseconds with a precision that suits the size."""
    if math.isnan(value):
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def fmt_ratio(value: float) -> str:
    """A ratio such as ``1.23x``."""
    return "-" if math.isnan(value) else f"{value:.2f}x"


@contextmanager
def settled() -> Iterator[None]:
    """Collect garbage left by the previous case before measuring the next one.

    The cyclic GC stays on during the measurement: its pauses are part of what a user pays.
    """
    gc.collect()
    yield


@contextmanager
def simulator(scenarios: Mapping[str, Scenario]) -> Iterator[Any]:
    """A simulator in its own process on 127.0.0.1; stopped on exit, whatever happens."""
    # Benchmarks send placeholder model names ("bench-model"): serve every name.
    sim = ProviderSimulator.spawn(scenarios, any_model=True)
    try:
        yield sim
    finally:
        sim.stop()


async def async_load(
    call: Callable[[], Awaitable[Any]],
    *,
    count: int,
    concurrency: int = 1,
    time_limit: float = 10.0,
    warmup: int = 0,
) -> Stats:
    """Run ``call`` ``count`` times with ``concurrency`` in flight, timing each call.

    Stops early (with fewer samples) once ``time_limit`` seconds have passed. Failed calls
    are counted in ``errors`` and not timed. ``warmup`` rounds of ``concurrency`` calls run
    first, untimed, so the pool already holds the connections the measurement needs.
    """
    for _ in range(warmup):
        await asyncio.gather(*(call() for _ in range(concurrency)), return_exceptions=True)
    latencies: list[float] = []
    errors = 0
    left = count
    clock = time.perf_counter
    stop_at = clock() + time_limit

    async def worker() -> None:
        nonlocal left, errors
        while left > 0 and clock() < stop_at:
            left -= 1
            t0 = clock()
            try:
                await call()
            except Exception:
                errors += 1
                continue
            latencies.append(clock() - t0)

    with settled():
        start = clock()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = clock() - start
    return Stats(latencies, wall, errors)


def thread_load(
    call: Callable[[], Any],
    *,
    count: int,
    concurrency: int = 1,
    time_limit: float = 10.0,
    warmup: int = 0,
) -> Stats:
    """:func:`async_load` for blocking calls: ``concurrency`` threads share ``count`` calls."""
    if warmup:
        _threads(call, warmup * concurrency, concurrency, time_limit)
    with settled():
        return _threads(call, count, concurrency, time_limit)


def _threads(call: Callable[[], Any], count: int, concurrency: int, time_limit: float) -> Stats:
    latencies: list[float] = []
    errors = 0
    left = count
    lock = threading.Lock()
    clock = time.perf_counter
    stop_at = clock() + time_limit

    def take() -> bool:
        nonlocal left
        with lock:
            if left <= 0 or clock() >= stop_at:
                return False
            left -= 1
            return True

    def worker() -> None:
        nonlocal errors
        while take():
            t0 = clock()
            try:
                call()
            except Exception:
                with lock:
                    errors += 1
                continue
            elapsed = clock() - t0
            with lock:
                latencies.append(elapsed)

    start = clock()
    if concurrency == 1:
        worker()
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            for f in [pool.submit(worker) for _ in range(concurrency)]:
                f.result()
    return Stats(latencies, clock() - start, errors)


def figure(key: str, value: float) -> str:
    """A figure formatted by its kind: milliseconds, counts or plain numbers."""
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if key.endswith("ms"):
        return fmt_ms(value)
    if key in ("n", "calls/s"):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def summary(rows: list[Row]) -> str:
    """A compact plain-text table for the terminal."""
    out = []
    for r in rows:
        figures = "  ".join(f"{k} {figure(k, v)}" for k, v in r.figures.items() if k != "n")
        ratios = "  ".join(f"{k} {fmt_ratio(v)}" for k, v in r.ratios.items())
        out.append(f"  {r.case:44} {figures}")
        if ratios or r.note:
            out.append(f"  {'':44} ratios: {ratios} {r.note}".rstrip())
    return "\n".join(out)
