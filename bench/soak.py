"""The soak test (``make soak``): 10,000 chat calls at concurrency 200 with ``timeout=2``
against three simulated providers that fail 30 % of attempts at random, the first one down
from 3 s to 7 s. It must end with 0 lost, 0 hung, 0 leaked tasks, file descriptors back to
the baseline, bounded RSS growth and at least 95 % answered; it prints its figures and exits
non-zero when one fails. All traffic goes to the simulator on 127.0.0.1, in its own process;
every call is bounded (60 s) and so is the run.

    .venv/bin/python bench/soak.py                       # the full run (about a minute)
    .venv/bin/python bench/soak.py --calls 2000 --concurrency 100
    .venv/bin/python bench/soak.py --setting max_in_flight=64
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import os
import sys
from pathlib import Path
from typing import Any

from juggler import Juggler
from juggler.testing import ProviderSimulator, Scenario
from juggler.testing._load import load_run

CHAIN = ["groq/llama-3.1-8b-instant", "cerebras/qwen-3-32b", "mistral/mistral-small-latest"]
# 30 % faulty attempts: server errors, rate limits, dropped connections and hangs.
FAULTY = Scenario(
    latency_ms=40.0, latency="normal", jitter_ms=15.0,
    error_rates={500: 0.10, 503: 0.06, 429: 0.04, "drop": 0.05, "hang": 0.05},
)  # fmt: skip
OUTAGE = Scenario(error_rates={503: 1.0})
MAX_RSS_GROWTH_MB = 100.0
HUNG_AFTER = 60.0


def fds() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def rss_mb() -> float:
    """Resident set size of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def count_openings(juggler: Juggler) -> list[int]:
    """Count every circuit opening (a bench-only peek at the engine's breakers)."""
    breakers = juggler.engine.gate.breakers
    record, opened = breakers.record, [0]

    def counted(*args: Any) -> bool:
        did = record(*args)
        opened[0] += did
        return did

    breakers.record = counted  # type: ignore[method-assign]
    return opened


async def soak(calls: int, concurrency: int, settings: dict[str, Any]) -> int:
    """Run the soak and print its figures; returns the number of failed checks."""
    sim = ProviderSimulator.spawn({"groq": FAULTY, "cerebras": FAULTY, "mistral": FAULTY},
                                  any_model=True)  # fmt: skip
    try:
        assert sim.url.startswith("http://127.0.0.1:"), sim.url
        gc.collect()
        fd0, rss0 = fds(), rss_mb()
        tasks0 = len(asyncio.all_tasks())
        juggler = Juggler(CHAIN, providers=sim.providers_config("groq", "cerebras", "mistral"),
                          env={}, timeout=2.0, **settings)  # fmt: skip
        opened = count_openings(juggler)
        events = [(3.0, lambda: sim.set_scenario("groq", OUTAGE)),
                  (7.0, lambda: sim.set_scenario("groq", FAULTY))]  # fmt: skip
        try:
            figures = await load_run(
                lambda: juggler.achat("hello there"),
                calls=calls, concurrency=concurrency, hung_after=HUNG_AFTER, events=events,
            )  # fmt: skip
            rss_peak = rss_mb()
        finally:
            await juggler.aclose()
        await asyncio.sleep(0.3)  # the lag monitor ends itself within one tick
        gc.collect()
        leaked = len(asyncio.all_tasks()) - tasks0
        fd1, rss1 = fds(), rss_mb()
    finally:
        sim.stop()
    print(figures.line())
    print(f"circuits opened: {opened[0]} times")
    if figures.lost_types:
        print(f"lost: {dict(figures.lost_types)}")
    print(f"leaked tasks {leaked}; fds {fd0} -> {fd1}; RSS {rss0:.0f} -> {rss_peak:.0f} "
          f"(peak) -> {rss1:.0f} MB")  # fmt: skip
    checks = {
        "0 lost": figures.lost == 0,
        "0 hung": figures.hung == 0,
        "0 leaked tasks": leaked == 0,
        "fds back to the baseline": fd1 <= fd0,
        f"RSS growth under {MAX_RSS_GROWTH_MB:.0f} MB": rss1 - rss0 < MAX_RSS_GROWTH_MB,
        ">= 95% answered": figures.answered_share >= 0.95,
    }
    for name, passed in checks.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    return sum(not passed for passed in checks.values())


def main() -> int:
    """Parse the arguments, run the soak, return the exit status."""
    parser = argparse.ArgumentParser(description=inspect.getdoc(sys.modules[__name__]))
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--setting", action="append", default=[],
                        help="a Juggler setting, name=value (a number or None)")  # fmt: skip
    args = parser.parse_args()
    settings: dict[str, Any] = {}
    for item in args.setting:
        name, _, value = item.partition("=")
        settings[name] = None if value == "None" else float(value) if "." in value else int(value)
    print(
        f"soak: {args.calls} calls, concurrency {args.concurrency}, timeout=2, 30% faulty "
        f"attempts, groq down from 3 s to 7 s, settings {settings or 'default'}"
    )
    return 1 if asyncio.run(soak(args.calls, args.concurrency, settings)) else 0


if __name__ == "__main__":
    sys.exit(main())
