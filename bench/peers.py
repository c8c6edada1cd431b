"""Juggler side by side with what users would pick instead, against one loopback server.

Systems: raw ``httpx.AsyncClient`` (the baseline of every ratio), raw aiohttp (the ceiling),
the openai SDK, LangChain ``ChatOpenAI(...).with_fallbacks([...])``, LiteLLM ``Router`` (two
deployments with fallbacks), Juggler ``achat`` and LangChain ``ChatJuggler``; plus the
transport candidates under Juggler (httpx-aiohttp, httpx pools). Every system is used as its
docs show, with its defaults. The server is the project's simulator in its own process,
pinned to one CPU (``bench/_server.py``); CPU per call is this client process's CPU time.

Sections: overhead at 1 and 64 in flight; streams; the sync API from 32 threads; failover
waste (A answers 429 + Retry-After: 1 to 100 % then 50 % of calls, B healthy); tail (A and B:
95 % at 50 ms, 5 % at 1 s); import time and memory. Every round measures raw httpx again;
each figure is the median over rounds of its ratio to raw httpx in the same round.

    .venv/bin/python bench/peers.py [--quick] [--only overhead,streams,...]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network at import
os.environ.setdefault("LITELLM_TELEMETRY", "False")

import httpx
from _common import MESSAGES, Row, Stats, async_load, summary, thread_load
from _report import Figures, chart, rows, store
from _server import spawn
from _systems import AUTH, BASE, BODY, CHAIN, MB, A, B, Call, Systems, langchain, litellm_router

from juggler import Juggler
from juggler.testing import Scenario

__all__ = ["main", "run"]

HERE = Path(__file__).resolve().parent


async def _timed(call: Call, n: int, conc: int, limit: float) -> tuple[Stats, float]:
    """Warm the pool, then run ``n`` calls ``conc`` at a time; (stats, CPU ms per call)."""
    await async_load(call, count=0, concurrency=conc, warmup=1)
    gc.collect()  # the previous case's garbage is not this one's cost
    latencies: list[float] = []
    errors = 0
    left = n
    clock = time.perf_counter
    stop_at = clock() + limit

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

    cpu0, start = time.process_time(), clock()
    await asyncio.gather(*(worker() for _ in range(conc)))
    wall, cpu = clock() - start, (time.process_time() - cpu0) * 1000.0
    return Stats(latencies, wall, errors), cpu / max(len(latencies) + errors, 1)


def _basic(stats: Stats, cpu: float) -> dict[str, float]:
    return {
        "cpu ms/call": cpu,
        "calls/s": stats.rps,
        "p50 ms": stats.p(50),
        "p99 ms": stats.p(99),
        "errors": float(stats.errors),
    }


# ---------------------------------------------------------------- the sections


async def _overhead(sim: Any, figs: Figures, n: int, limit: float) -> None:
    systems = Systems(sim)
    try:
        calls = systems.overhead_calls()
        for conc in (1, 64):
            count = n if conc == 1 else n * 4
            for name, call in calls.items():
                stats, cpu = await _timed(call, count, conc, limit)
                store(figs, f"overhead, {conc} in flight", name, _basic(stats, cpu))
    finally:
        await systems.aclose()


async def _streams(sim: Any, figs: Figures, n: int, limit: float) -> None:
    systems = Systems(sim)
    try:
        for conc in (1, 64):
            count = n if conc == 1 else n * 4
            for name, opener in systems.stream_calls().items():
                firsts: list[float] = []

                async def one(
                    opener: Callable[[], Any] = opener, firsts: list[float] = firsts
                ) -> None:
                    t0 = time.perf_counter()
                    first = None
                    async for _ in opener():
                        if first is None:
                            first = time.perf_counter() - t0
                    assert first is not None, "no content"
                    firsts.append(first)

                stats, cpu = await _timed(one, count, conc, limit)
                stats.firsts = firsts[-stats.n :]
                values = _basic(stats, cpu)
                values["first chunk p50 ms"] = stats.first(50)
                store(figs, f"streams, {conc} in flight", name, values)
    finally:
        await systems.aclose()


def _sync(sim: Any, figs: Figures, n: int, limit: float) -> None:
    section = "sync API, 32 threads vs async 32 in flight"
    raw = httpx.Client()
    url = sim.base_url(A) + "/chat/completions"

    def raw_call() -> Any:
        return raw.post(url, json=BODY, headers=AUTH).json()

    j = Juggler(chat=CHAIN, providers=sim.providers_config(), env={})
    for name, call in ((BASE, raw_call), ("Juggler chat (sync)", lambda: j.chat(MESSAGES))):
        cpu0 = time.process_time()
        stats = thread_load(call, count=n, concurrency=32, time_limit=limit, warmup=1)
        cpu = (time.process_time() - cpu0) * 1000.0 / max(stats.n, 1)
        store(figs, section, f"{name}, 32 threads", _basic(stats, cpu))

    async def run_async() -> tuple[Stats, float]:
        ja = Juggler(chat=CHAIN, providers=sim.providers_config(), env={})
        try:
            return await _timed(lambda: ja.achat(MESSAGES), n, 32, limit)
        finally:
            await ja.aclose()

    stats, cpu = asyncio.run(run_async())
    store(figs, section, "Juggler achat, 32 in flight", _basic(stats, cpu))
    j.close()
    raw.close()


async def _failover(sim: Any, figs: Figures, n: int, limit: float) -> None:
    for share in (1.0, 0.5):
        await asyncio.to_thread(
            sim.set_scenario, A, Scenario(error_rates={429: share}, retry_after=1, seed=3)
        )
        await _failover_phase(sim, figs, f"failover, A answers 429 to {share:.0%}", n, limit)
    await asyncio.to_thread(sim.set_scenario, A, Scenario())


async def _failover_phase(sim: Any, figs: Figures, section: str, n: int, limit: float) -> None:
    systems = Systems(sim)
    raw = systems.httpx_client()

    async def naive() -> Any:
        r = await raw.post(systems.url_a, json=BODY, headers=AUTH)
        if r.status_code == 429:
            r = await raw.post(systems.url_b, json={**BODY, "model": MB}, headers=AUTH)
        r.raise_for_status()
        return r.json()

    lc = langchain(sim)
    router = litellm_router(sim)
    j = systems.juggler()
    cases: dict[str, Call] = {
        f"{BASE}, try A then B": naive,
        "LangChain with_fallbacks": lambda: lc.ainvoke("hello there"),
        "LiteLLM Router": lambda: router.acompletion(model="a", messages=MESSAGES),
        "Juggler achat": lambda: j.achat(MESSAGES),
    }
    try:
        for name, call in cases.items():
            await asyncio.to_thread(sim.reset_counts)
            stats = await async_load(call, count=n, concurrency=8, time_limit=limit)
            to_a = await asyncio.to_thread(sim.total, A)
            done = max(stats.n + stats.errors, 1)
            store(
                figs,
                section,
                name.replace(f"{BASE}, try A then B", BASE),
                {
                    "A requests/call": to_a / done,
                    "success %": 100.0 * stats.n / done,
                    "p50 ms": stats.p(50),
                    "p99 ms": stats.p(99),
                },
            )
    finally:
        await systems.aclose()


async def _tail(sim: Any, figs: Figures, n: int, limit: float) -> None:
    systems = Systems(sim)
    raw = systems.httpx_client()

    async def raw_call() -> Any:
        r = await raw.post(systems.url_a, json=BODY, headers=AUTH)
        return r.json()

    j = systems.juggler()
    cases: dict[str, Call] = {
        BASE: raw_call,
        "Juggler sequential": lambda: j.achat(MESSAGES),
        "Juggler hedge_after_ms=75": lambda: j.achat(MESSAGES, hedge_after_ms=75),
        "Juggler parallel_attempts=2": lambda: j.achat(MESSAGES, parallel_attempts=2),
    }
    try:
        for name, call in cases.items():
            await asyncio.to_thread(sim.reset_counts)
            stats = await async_load(call, count=n, concurrency=32, time_limit=limit)
            sent = await asyncio.to_thread(lambda: sim.total(A) + sim.total(B))
            done = max(stats.n + stats.errors, 1)
            store(
                figs,
                "tail, 95 % at 50 ms / 5 % at 1 s, 32 in flight",
                name,
                {
                    "p50 ms": stats.p(50),
                    "p99 ms": stats.p(99),
                    "p99.9 ms": stats.p(99.9),
                    "extra requests/call": sent / done - 1.0,
                },
            )
    finally:
        await systems.aclose()


IMPORTS = {
    "httpx": "httpx",
    "juggler": "juggler",
    "langchain_juggler": "langchain_juggler",
    "llamaindex_juggler": "llamaindex_juggler",
    "openai": "openai",
    "langchain_openai": "langchain_openai",
    "litellm": "litellm",
}
# Resident memory from /proc (ru_maxrss would carry the parent's peak over fork + exec).
_PROBE = (
    "import time, importlib\n"
    "def rss():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmRSS:'):\n"
    "            return int(line.split()[1]) / 1024\n"
    "    return float('nan')\n"
    "before = rss()\n"
    "t = time.perf_counter(); importlib.import_module({m!r}); t = time.perf_counter() - t\n"
    "print(t * 1000, rss() - before)\n"
)


def _imports(figs: Figures) -> None:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    for name, module in IMPORTS.items():
        out = subprocess.run(
            [sys.executable, "-c", _PROBE.format(m=module)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=True,
        ).stdout.split()
        ms, mb = float(out[-2]), float(out[-1])
        store(
            figs,
            "import",
            "httpx (baseline)" if name == "httpx" else name,
            {"import ms": ms, "memory MB": mb},
        )


SECTIONS = ("imports", "overhead", "streams", "sync", "failover", "tail")


def run(quick: bool = False, only: tuple[str, ...] = SECTIONS) -> list[Row]:
    """Every section, ``rounds`` times; rows of medians. Also writes ``bench/results.png``."""
    rounds = 1 if quick else 3
    n, limit = (30, 3.0) if quick else (150, 8.0)
    figs: Figures = {}
    scenarios = {A: Scenario(seed=1), B: Scenario(seed=2)}
    for _ in range(rounds):
        if "imports" in only:
            _imports(figs)
        sim = spawn(scenarios)
        try:
            if "overhead" in only:
                asyncio.run(_overhead(sim, figs, n, limit))
            if "streams" in only:
                asyncio.run(_streams(sim, figs, n // 2, limit))
            if "sync" in only:
                _sync(sim, figs, n * 2, limit)
            if "failover" in only:
                asyncio.run(_failover(sim, figs, 8 if quick else 24, 6.0))
        finally:
            sim.stop()
        if "tail" in only:
            tail = {A: Scenario(latency_ms=50, seed=21), B: Scenario(latency_ms=50, seed=22)}
            sim = spawn(tail, bimodal={A: (0.05, 1000.0), B: (0.05, 1000.0)})
            try:
                asyncio.run(_tail(sim, figs, 100 if quick else 400, limit * 2))
            finally:
                sim.stop()
    result = rows(figs)
    if "overhead" in only:
        chart(result, HERE / "results.png")
    return result


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    args = parser.parse_args()
    print(summary(run(args.quick, tuple(args.only.split(",")))))


if __name__ == "__main__":
    main()
