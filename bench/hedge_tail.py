"""Hedged requests against a heavy-tailed provider ("The Tail at Scale", Dean & Barroso 2013).

Provider S answers every request, after a log-normal latency (median 20 ms, sigma 1: the
slowest 1 % take 10x the median or more). Provider H is healthy (20 ms +- 3 ms). The chain
is [S, H]. Over the same calls we compare the Juggler's attempt strategies:

* sequential (the default: H is only asked when S fails, which it never does);
* ``hedge_after_ms=X`` with X = the p95 latency measured in the sequential run;
* ``hedge="p95"``: the hedge delay is S's own observed p95 (from the health board);
* ``parallel_attempts=2``: S and H are asked at once, the first answer wins.

For each: p50/p95/p99 of the call latency, and the load: requests the providers received
per call (1.00 = no extra load; the paper's hedging costs about 1.05).

    .venv/bin/python bench/hedge_tail.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from typing import Any

from _common import MESSAGES, Row, Stats, async_load, simulator, summary

from juggler import Juggler
from juggler.testing import Scenario

__all__ = ["hedging_missing", "main", "run"]

SLOW, HEALTHY = "cerebras", "groq"
CHAIN = ["cerebras/llama3.1-8b", "groq/llama-3.1-8b-instant"]
IN_FLIGHT = 8
SCENARIOS = {
    SLOW: Scenario(latency="heavy_tail", latency_ms=20, seed=11),
    HEALTHY: Scenario(latency="normal", latency_ms=20, jitter_ms=3, seed=12),
}


def hedging_missing() -> str | None:
    """Why the hedging modes cannot run with this Juggler, or None when they can."""
    from juggler._config import Settings

    fields = Settings.model_fields
    missing = [f for f in ("hedge_after_ms", "hedge", "parallel_attempts") if f not in fields]
    if missing:
        return f"the Juggler has no {', '.join(missing)} setting yet"
    try:
        from juggler._routing import overlap  # noqa: F401
    except ImportError as exc:
        return f"the concurrent attempt strategies are missing ({exc})"
    return None


async def _mode(
    sim: Any, j: Juggler, options: dict[str, Any], calls: int, limit: float
) -> tuple[Stats, dict[str, float]]:
    """Run ``calls`` calls with ``options``; return their stats and the load figures."""
    winners: Counter[str] = Counter()
    hedges = 0

    async def call() -> None:
        nonlocal hedges
        r = await j.achat(MESSAGES, **options)
        winners[r.provider] += 1
        hedges += sum(1 for a in r.models_used if a.hedged)

    await async_load(call, count=0, concurrency=IN_FLIGHT, warmup=1)
    await asyncio.to_thread(sim.reset_counts)
    winners.clear()
    hedges = 0
    stats = await async_load(call, count=calls, concurrency=IN_FLIGHT, time_limit=limit)
    sent = await asyncio.to_thread(lambda: sim.total(SLOW) + sim.total(HEALTHY))
    done = max(stats.n + stats.errors, 1)
    load = {
        "requests/call": sent / done,
        "won by backup %": 100.0 * winners[HEALTHY] / done,
        "hedged attempts/call": hedges / done,
    }
    return stats, load


def _slow_p95(j: Juggler) -> float:
    """S's p95 as the health board sees it (what ``hedge="p95"`` waits for)."""
    model = CHAIN[0].split("/", 1)[1]
    p95 = j.get_health_status().get(SLOW, {}).get(model, {}).get("p95_ms")
    return float(p95) if p95 is not None else float("nan")


async def _round(
    sim: Any, j: Juggler, calls: int, limit: float, x: float | None
) -> tuple[float, list[tuple[str, Stats, dict[str, float]]]]:
    """One pass over every strategy, sequential first; returns the hedge delay X it used."""
    out: list[tuple[str, Stats, dict[str, float]]] = []
    # Sequential first: it also fills S's health window, which hedge="p95" reads.
    seq, load = await _mode(sim, j, {}, calls, limit)
    out.append(("sequential", seq, load))
    if x is None:
        x = round(seq.p(95), 1)
    for name, options in (
        ("hedge_after_ms=X (sequential p95)", {"hedge_after_ms": x}),
        ('hedge="p95"', {"hedge": "p95"}),
        ("parallel_attempts=2", {"parallel_attempts": 2}),
    ):
        before = _slow_p95(j)
        stats, load = await _mode(sim, j, options, calls, limit)
        if "hedge" in options:
            load["S health p95 before ms"] = before
            load["S health p95 after ms"] = _slow_p95(j)
        out.append((name, stats, load))
    return x, out


async def _all(
    sim: Any, calls: int, limit: float, rounds: int
) -> tuple[float, list[tuple[str, Stats, dict[str, float]]]]:
    j = Juggler(chat=CHAIN, providers=sim.providers_config(), env={})
    merged: list[tuple[str, Stats, dict[str, float]]] = []
    x: float | None = None
    try:
        for number in range(rounds):
            x, results = await _round(sim, j, calls, limit, x)
            if number == 0:
                merged = results
                continue
            for (_, total, load), (_, stats, more) in zip(merged, results, strict=True):
                n0, n1 = total.n, stats.n
                total.merge(stats)
                for key, value in more.items():  # call-weighted means of the load figures
                    load[key] = (load[key] * n0 + value * n1) / max(n0 + n1, 1)
    finally:
        await j.aclose()
        j.close()
    assert x is not None
    return x, merged


def run(quick: bool = False) -> list[Row]:
    """Rows for every strategy; ratios are against the sequential run."""
    reason = hedging_missing()
    if reason is not None:
        print(f"hedge_tail: skipped: {reason}")
        return [Row("hedge tail", "skipped", {}, note=reason)]
    calls, limit, rounds = (200, 4.0, 1) if quick else (250, 5.0, 4)
    with simulator(SCENARIOS) as sim:
        x, results = asyncio.run(_all(sim, calls, limit, rounds))
    base = results[0][1]
    rows = []
    for name, s, load in results:
        rows.append(
            Row(
                "hedge tail",
                name.replace("X", f"{x:g}"),
                {"p50 ms": s.p(50), "p95 ms": s.p(95), "p99 ms": s.p(99), "n": s.n, **load},
                {
                    "p50": s.p(50) / base.p(50),
                    "p95": s.p(95) / base.p(95),
                    "p99": s.p(99) / base.p(99),
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
