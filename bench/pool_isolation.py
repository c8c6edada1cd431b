"""Do idle connections to a failing provider slow the calls to a healthy one?

Issue 5's measured fact: with ONE shared httpx client, idle keep-alive connections to a
provider that answers 429 slowed calls to the healthy provider by 2.6x at p99 (httpcore's
pool walks every connection it holds on each request and each release). The Juggler keeps
one pool per provider per event loop (``core/juggler/_http.py``) and closes a provider's
idle connections when its circuit opens.

Provider A answers 429 at once; provider B is healthy. For each client setup we measure B
(``CALLS`` calls, ``IN_FLIGHT`` at a time) twice, while a light load keeps hitting A:

* ``clean``: A's load has opened only a handful of connections;
* ``after burst``: first a burst of ``BURST`` concurrent requests to A, whose connections
  then sit idle in the pool (the 429 answers are complete, so they are kept alive).

Setups: (a) raw httpx, one ``AsyncClient`` shared by A and B (the baseline of the issue);
(b) raw httpx, one client per provider; (c) the Juggler with its circuit breakers off (A
keeps being called: only the pool split differs from (a)); (d) the Juggler as shipped
(A's circuit opens after a few 429s: its idle connections are closed and it is skipped).

    .venv/bin/python bench/pool_isolation.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
from _common import MESSAGES, Row, Stats, async_load, simulator, summary

from juggler import Juggler
from juggler.testing import Scenario

__all__ = ["main", "run"]

A, B = "cerebras", "groq"
A_TARGET, B_TARGET = "cerebras/llama3.1-8b", "groq/llama-3.1-8b-instant"
BURST = 100  # connections opened to A (the Juggler's default pool holds 256 per provider)
IN_FLIGHT = 16
BACKGROUND = 4  # A's steady load while B is measured
LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=256, keepalive_expiry=30)


async def _background(call: Callable[[], Awaitable[Any]], stop: asyncio.Event) -> int:
    """Keep ``BACKGROUND`` calls to A in flight until ``stop`` (or 60 s); return the count."""
    sent = 0
    deadline = time.perf_counter() + 60.0

    async def loop() -> None:
        nonlocal sent
        while not stop.is_set() and time.perf_counter() < deadline:
            with contextlib.suppress(Exception):
                await call()
            sent += 1
            await asyncio.sleep(0)  # a call that never suspends must not starve B

    await asyncio.gather(*(loop() for _ in range(BACKGROUND)))
    return sent


async def _measure(
    sim: Any,
    call_a: Callable[[], Awaitable[Any]],
    call_b: Callable[[], Awaitable[Any]],
    calls: int,
    burst: bool,
    limit: float = 6.0,
) -> tuple[Stats, float]:
    """B's stats, and the requests per second A received meanwhile."""
    if burst:
        await asyncio.gather(*(call_a() for _ in range(BURST)), return_exceptions=True)
    stop = asyncio.Event()
    background = asyncio.ensure_future(_background(call_a, stop))
    try:
        await asyncio.to_thread(sim.reset_counts)
        stats = await async_load(
            call_b, count=calls, concurrency=IN_FLIGHT, time_limit=limit, warmup=2
        )
        a_requests = await asyncio.to_thread(sim.total, A)
    finally:
        stop.set()
        await background
    return stats, a_requests / stats.wall if stats.wall > 0 else float("nan")


def _raw_calls(
    sim: Any, client_a: httpx.AsyncClient, client_b: httpx.AsyncClient
) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]:
    auth = {"Authorization": "Bearer sim-key"}
    url_a = sim.base_url(A) + "/chat/completions"
    url_b = sim.base_url(B) + "/chat/completions"
    body_a = {"model": A_TARGET.split("/")[1], "messages": MESSAGES}
    body_b = {"model": B_TARGET.split("/")[1], "messages": MESSAGES}

    async def call_a() -> Any:
        r = await client_a.post(url_a, json=body_a, headers=auth)
        return r.status_code

    async def call_b() -> Any:
        r = await client_b.post(url_b, json=body_b, headers=auth)
        r.raise_for_status()
        return r.json()

    return call_a, call_b


async def _raw(sim: Any, shared: bool, calls: int, burst: bool) -> tuple[Stats, float]:
    async with (
        httpx.AsyncClient(limits=LIMITS, timeout=30) as one,
        httpx.AsyncClient(limits=LIMITS, timeout=30) as other,
    ):
        call_a, call_b = _raw_calls(sim, one, one if shared else other)
        return await _measure(sim, call_a, call_b, calls, burst)


async def _juggler(sim: Any, breaker: bool, calls: int, burst: bool) -> tuple[Stats, float]:
    j = Juggler(
        chat=[A_TARGET, B_TARGET],
        providers=sim.providers_config(),
        env={},
        retries=0,  # one request per call to A: the load is the same as the raw client's
        circuit_breaker=breaker,
    )
    try:
        return await _measure(
            sim,
            lambda: j.achat(MESSAGES, targets=[A_TARGET]),
            lambda: j.achat(MESSAGES, targets=[B_TARGET]),
            calls,
            burst,
        )
    finally:
        await j.aclose()
        j.close()


SETUPS: dict[str, Callable[[Any, int, bool], Coroutine[Any, Any, tuple[Stats, float]]]] = {
    "raw httpx, one shared client": lambda sim, n, burst: _raw(sim, True, n, burst),
    "raw httpx, a client per provider": lambda sim, n, burst: _raw(sim, False, n, burst),
    "Juggler, breakers off": lambda sim, n, burst: _juggler(sim, False, n, burst),
    "Juggler (breakers on)": lambda sim, n, burst: _juggler(sim, True, n, burst),
}


def run(quick: bool = False) -> list[Row]:
    """Measure B's latency per setup, clean and after the burst to A; rounds interleave."""
    calls, rounds = (300, 1) if quick else (1000, 1)
    results: dict[tuple[str, bool], Stats] = {}
    a_rates: dict[tuple[str, bool], list[float]] = {}
    with simulator({A: Scenario(error_rates={429: 1.0}), B: Scenario()}) as sim:
        for _ in range(rounds):
            for name, setup in SETUPS.items():
                for burst in (False, True):
                    stats, a_rate = asyncio.run(setup(sim, calls, burst))
                    a_rates.setdefault((name, burst), []).append(a_rate)
                    if (name, burst) in results:
                        results[(name, burst)].merge(stats)
                    else:
                        results[(name, burst)] = stats
    base = results[("raw httpx, one shared client", True)]
    rows = []
    for name in SETUPS:
        clean, dirty = results[(name, False)], results[(name, True)]
        rows.append(
            Row(
                "pool isolation",
                name,
                {
                    "clean p50 ms": clean.p(50),
                    "clean p99 ms": clean.p(99),
                    "after-burst p50 ms": dirty.p(50),
                    "after-burst p99 ms": dirty.p(99),
                    "A requests/s": sum(a_rates[(name, True)]) / len(a_rates[(name, True)]),
                    "n": dirty.n,
                },
                {
                    "p99 after/clean": dirty.p(99) / clean.p(99),
                    "p50 after/clean": dirty.p(50) / clean.p(50),
                    "after-burst p99 vs (a)": dirty.p(99) / base.p(99),
                },
                note=f"{dirty.errors + clean.errors} errors" if dirty.errors + clean.errors else "",
            )
        )
    return rows


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    print(summary(run(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
