"""429s avoided by reading the vendors' rate-limit headers, against a simulated quota wall.

Chain [Q, F]: Q (groq) answers at most ``QUOTA`` requests per ``WINDOW`` s and then 429 with
``Retry-After`` until its window ends; every answer carries ``x-ratelimit-remaining-requests``
and ``x-ratelimit-reset-requests`` as Groq sends them. F (openai) has no quota. The same
calls (``IN_FLIGHT`` in flight) run twice against a fresh quota:

* without rate-limit awareness: the Juggler's headers are not read (its behaviour before the
  traffic policy: it reacts to each 429 with fallback, and its breaker opens for Retry-After);
* the same without the breaker either (a router that only falls back, call by call);
* with awareness (the default): a target that said ``remaining: 0`` is skipped until its
  reset, and no 429 needs to be met first.

Reported: the 429s Q sent per 1,000 calls (counted at the simulator), requests per call,
failed calls and the latency. Ratios are against the run without awareness.

    .venv/bin/python bench/ratelimit_429.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Hashable, Mapping
from typing import Any

from _common import MESSAGES, Row, Stats, async_load, simulator, summary

from juggler import Juggler
from juggler._policy.limits import RateLimitBook
from juggler.testing import Scenario

__all__ = ["main", "run"]

LIMITED, FREE = "groq", "openai"
CHAIN = ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]
QUOTA, WINDOW = 40, 1.0
IN_FLIGHT = 8


class _Unread(RateLimitBook):
    """A book that never hears the headers: rate-limit awareness off."""

    def observe(self, key: Hashable, headers: Mapping[str, str], now: float, **_: Any) -> None:
        return None


async def _case(
    sim: Any, aware: bool, calls: int, breaker: bool = True
) -> tuple[Stats, dict[str, float]]:
    sim.set_scenario(LIMITED, Scenario(quota_requests=QUOTA, quota_window_s=WINDOW))
    sim.set_scenario(FREE, Scenario())
    sim.reset_counts()
    j = Juggler(chat=CHAIN, providers=sim.providers_config(), env={}, circuit_breaker=breaker)
    if not aware:
        j.engine.traffic.book = _Unread()
    try:
        stats = await async_load(
            lambda: j.achat(MESSAGES), count=calls, concurrency=IN_FLIGHT, time_limit=60.0
        )
    finally:
        await j.aclose()
        j.close()
    done = stats.n + stats.errors
    limited, free = sim.counts(LIMITED), sim.total(FREE)
    too_many = limited.get(429, 0)
    requests = sum(limited.values()) + free
    return stats, {
        "429s per 1,000 calls": 1000.0 * too_many / max(1, done),
        "requests/call": requests / max(1, done),
        "Q answered": float(limited.get(200, 0)),
        "failed calls": float(stats.errors),
    }


async def _run(quick: bool) -> list[Row]:
    calls = 400 if quick else 2000
    rows: list[Row] = []
    with simulator({LIMITED: Scenario(), FREE: Scenario()}) as sim:
        results = {
            "headers ignored (429 -> fallback, breaker)": await _case(sim, False, calls),
            "headers ignored, no breaker": await _case(sim, False, calls, breaker=False),
            "headers read (default)": await _case(sim, True, calls),
        }
    base_stats, base = results["headers ignored (429 -> fallback, breaker)"]
    for case, (stats, figures) in results.items():
        ratios = {
            "429s": figures["429s per 1,000 calls"] / base["429s per 1,000 calls"]
            if base["429s per 1,000 calls"]
            else float("nan"),
            "p50": stats.p(50) / base_stats.p(50),
        }
        rows.append(
            Row(
                "ratelimit 429",
                case,
                {**figures, "p50 ms": stats.p(50), "n": float(stats.n)},
                ratios,
                f"quota {QUOTA} req / {WINDOW:g} s on Q, {IN_FLIGHT} in flight",
            )
        )
    return rows


def run(quick: bool = False) -> list[Row]:
    """Every case, the same calls, a fresh quota each."""
    return asyncio.run(_run(quick))


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    print(summary(run(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
