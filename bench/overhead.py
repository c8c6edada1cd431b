"""What a Juggler call costs on top of the HTTP request it makes.

The simulator (healthy, zero latency, in its own process) answers OpenAI-format chat. The
baseline is a raw ``httpx.AsyncClient.post(...)`` + ``.json()`` of the same request through
a keep-alive pool; against it we time:

* ``await juggler.achat(...)`` with one target;
* ``juggler.chat(...)``, the sync façade (the call hops to the Juggler's loop thread);
* a 2-target chain whose first target's circuit is open (skipped without a request);
* a 2-target chain whose first target answers 503 (a real failed request, then the fallback);

sequentially and with 32 calls in flight (threads for the sync façade). Streaming compares
``astream_chat`` with raw ``client.stream`` + SSE parsing: time to the first content chunk
and to the end of the stream. Cases are interleaved over several rounds so that a burst of
noise on the shared machine hits every case, not just one.

    .venv/bin/python bench/overhead.py            # full run
    .venv/bin/python bench/overhead.py --quick    # a smoke run with few calls
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from _common import MESSAGES, Row, Stats, async_load, simulator, summary, thread_load

from juggler import Juggler
from juggler.testing import Scenario

__all__ = ["main", "run"]

HEALTHY, BROKEN = "groq", "cerebras"
GOOD = "groq/llama-3.1-8b-instant"
BAD = "cerebras/llama3.1-8b"
CONCURRENCY = 32


def _raw_client() -> httpx.AsyncClient:
    """The baseline client: the pool limits and timeouts the Juggler uses by default."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(60.0, connect=5.0),
        limits=httpx.Limits(max_connections=256, max_keepalive_connections=256),
    )


def _merge(into: dict[str, Stats], name: str, stats: Stats) -> None:
    if name in into:
        into[name].merge(stats)
    else:
        into[name] = stats


async def _stream_load(
    open_stream: Callable[[], Any], count: int, concurrency: int, limit: float
) -> Stats:
    """Time whole streams (latencies) and their first content (``firsts``)."""
    firsts: list[float] = []

    async def one() -> None:
        t0 = time.perf_counter()
        first = None
        async for _ in open_stream():
            if first is None:
                first = time.perf_counter() - t0
        assert first is not None, "the stream carried no content"
        firsts.append(first)

    await async_load(one, count=0, concurrency=concurrency, warmup=2)
    firsts.clear()
    stats = await async_load(one, count=count, concurrency=concurrency, time_limit=limit)
    stats.firsts = firsts
    return stats


async def _async_round(
    sim: Any, jugglers: dict[str, Juggler], count: int, limit: float, out: dict[str, Stats]
) -> None:
    url = sim.base_url(HEALTHY) + "/chat/completions"
    auth = {"Authorization": "Bearer sim-key"}
    body = {"model": GOOD.split("/", 1)[1], "messages": MESSAGES}
    stream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    async with _raw_client() as client:

        async def raw() -> Any:
            r = await client.post(url, json=body, headers=auth)
            r.raise_for_status()
            return r.json()["choices"][0]["message"]["content"]

        async def raw_stream() -> Any:
            headers = {**auth, "Accept": "text/event-stream"}
            async with client.stream("POST", url, json=stream_body, headers=headers) as r:
                r.raise_for_status()
                async for line in r.aiter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    event = json.loads(line[6:])
                    choices = event.get("choices") or [{}]
                    text = choices[0].get("delta", {}).get("content")
                    if text:
                        yield text

        one, skip, fail = jugglers["one"], jugglers["skip"], jugglers["fail"]
        cases: dict[str, Callable[[], Awaitable[Any]]] = {
            "raw httpx": raw,
            "achat (1 target)": lambda: one.achat(MESSAGES),
            "achat, 1st circuit open": lambda: skip.achat(MESSAGES),
            "achat, 1st answers 503": lambda: fail.achat(MESSAGES),
        }
        for name, call in cases.items():
            for conc, n in ((1, count), (CONCURRENCY, count * 2)):
                stats = await async_load(
                    call, count=n, concurrency=conc, time_limit=limit, warmup=2
                )
                _merge(out, f"{name} @{conc}", stats)

        async def juggler_stream() -> Any:
            async for chunk in one.astream_chat(MESSAGES):
                if chunk:
                    yield chunk

        for name, opener in (("raw httpx stream", raw_stream), ("astream_chat", juggler_stream)):
            for conc, n in ((1, count // 2), (CONCURRENCY, count)):
                _merge(out, f"{name} @{conc}", await _stream_load(opener, n, conc, limit))
        await one.aclose()
        await skip.aclose()
        await fail.aclose()


def _sync_round(juggler: Juggler, count: int, limit: float, out: dict[str, Stats]) -> None:
    def call() -> Any:
        return juggler.chat(MESSAGES)

    for conc, n in ((1, count), (CONCURRENCY, count * 2)):
        _merge(
            out,
            f"chat (sync) @{conc}",
            thread_load(call, count=n, concurrency=conc, time_limit=limit, warmup=2),
        )


def _jugglers(sim: Any) -> dict[str, Juggler]:
    providers = sim.providers_config()
    one = Juggler(chat=[GOOD], providers=providers, env={})
    # circuit_cooldown long enough that the open circuit outlives the run
    skip = Juggler(chat=[BAD, GOOD], providers=providers, env={}, circuit_cooldown=3600)
    fail = Juggler(chat=[BAD, GOOD], providers=providers, env={}, circuit_breaker=False)
    for _ in range(10):  # 5 consecutive failures open the first target's circuit
        response = skip.chat(MESSAGES)
    assert response.models_used[0].outcome == "skipped", response.models_used
    assert fail.chat(MESSAGES).models_used[0].status_code == 503
    return {"one": one, "skip": skip, "fail": fail}


def run(quick: bool = False) -> list[Row]:
    """Run every case; return the rows (ratios are against raw httpx at the same concurrency)."""
    count, rounds, limit = (60, 1, 3.0) if quick else (300, 3, 5.0)
    results: dict[str, Stats] = {}
    scenarios = {HEALTHY: Scenario(), BROKEN: Scenario(error_rates={503: 1.0})}
    with simulator(scenarios) as sim:
        jugglers = _jugglers(sim)
        try:
            for _ in range(rounds):
                asyncio.run(_async_round(sim, jugglers, count, limit, results))
                _sync_round(jugglers["one"], count, limit, results)
        finally:
            for j in jugglers.values():
                j.close()
    return _rows(results)


def _rows(results: dict[str, Stats]) -> list[Row]:
    rows: list[Row] = []
    for conc in (1, CONCURRENCY):
        base = results[f"raw httpx @{conc}"]
        for name in (
            "raw httpx",
            "achat (1 target)",
            "chat (sync)",
            "achat, 1st circuit open",
            "achat, 1st answers 503",
        ):
            s = results[f"{name} @{conc}"]
            rows.append(
                Row(
                    "overhead",
                    f"{name}, {'sequential' if conc == 1 else f'{conc} in flight'}",
                    {"p50 ms": s.p(50), "p99 ms": s.p(99), "calls/s": s.rps, "n": s.n},
                    {
                        "p50": s.p(50) / base.p(50),
                        "p99": s.p(99) / base.p(99),
                        "calls/s": s.rps / base.rps,
                    },
                    note=f"{s.errors} errors" if s.errors else "",
                )
            )
        raw = results[f"raw httpx stream @{conc}"]
        for name in ("raw httpx stream", "astream_chat"):
            s = results[f"{name} @{conc}"]
            rows.append(
                Row(
                    "overhead, streaming",
                    f"{name}, {'sequential' if conc == 1 else f'{conc} in flight'}",
                    {
                        "first chunk p50 ms": s.first(50),
                        "p50 ms": s.p(50),
                        "p99 ms": s.p(99),
                        "calls/s": s.rps,
                        "n": s.n,
                    },
                    {
                        "first chunk p50": s.first(50) / raw.first(50),
                        "p50": s.p(50) / raw.p(50),
                        "p99": s.p(99) / raw.p(99),
                        "calls/s": s.rps / raw.rps,
                    },
                    note=f"{s.errors} errors" if s.errors else "",
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
