"""Profile Juggler ``achat`` at 64 in flight against the loopback server (pyinstrument).

Writes ``bench/profile_achat_64.txt`` (the call tree, client process only) and prints the
top of it. ``--backend httpx`` profiles the httpx-pool fallback instead of the default.

    .venv/bin/python bench/profile_achat.py [--backend httpx] [--calls 3000]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from _common import MESSAGES
from _server import spawn
from pyinstrument import Profiler

from juggler import Juggler
from juggler.testing import Scenario

HERE = Path(__file__).resolve().parent


async def _load(j: Juggler, calls: int, conc: int) -> None:
    left = calls

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await j.achat(MESSAGES)

    await asyncio.gather(*(worker() for _ in range(conc)))


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["aiohttp", "httpx"], default=None)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    sim = spawn({"groq": Scenario(), "cerebras": Scenario()})
    try:
        j = Juggler(
            chat=["groq/llama-3.1-8b-instant", "cerebras/llama3.1-8b"],
            providers=sim.providers_config(),
            env={},
        )
        if args.backend:
            j._clients.backend = args.backend  # type: ignore[attr-defined]

        async def go() -> None:
            await _load(j, 200, args.concurrency)  # warm the pool
            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
            await _load(j, args.calls, args.concurrency)
            profiler.stop()
            await j.aclose()
            text = profiler.output_text(unicode=False, color=False, show_all=False)
            name = f"profile_achat_{args.concurrency}_{j._clients.backend}.txt"  # type: ignore[attr-defined]
            (HERE / name).write_text(text)
            print(text[:6000])

        asyncio.run(go())
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
