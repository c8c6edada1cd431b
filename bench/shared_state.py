"""What sharing state through Redis costs a call: round trips and added latency.

    .venv/bin/python bench/shared_state.py

Starts its own redis-server on a free loopback port (stopped by PID at the end) and a
simulator in its own process. Same run, same machine: a Redis PING (the floor of one round
trip), ``RedisState.read`` of a 2-target chain (the hot path's one round trip), and N
sequential chat calls with and without ``state=``; figures are medians, with ratios to the
same-run baseline. Bounded: N calls per mode.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from juggler import Juggler
from juggler.state.redis import RedisState
from juggler.testing import ProviderSimulator, Scenario

CHAIN = ["groq/llama-3.1-8b-instant", "nvidia/meta/llama-3.1-8b-instruct"]
N = 300


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _median(action, n: int = N) -> float:
    took = []
    for _ in range(n):
        start = time.perf_counter()
        await action()
        took.append((time.perf_counter() - start) * 1000)
    return statistics.median(took)


async def main(url: str, providers: dict) -> None:
    state = RedisState.from_url(url, timeout=0.5)
    keys = [("groq", "llama-3.1-8b-instant"), ("nvidia", "meta/llama-3.1-8b-instruct")]
    ping = await _median(state.client.ping)
    read = await _median(lambda: state.read(keys))
    trips: list[str] = []
    pipeline = state.client.pipeline

    def counting(*a, **k):
        pipe = pipeline(*a, **k)
        run = pipe.execute

        async def execute(*a2, **k2):
            trips.append("x")
            return await run(*a2, **k2)

        pipe.execute = execute
        return pipe

    state.client.pipeline = counting
    local = Juggler(chat=CHAIN, providers=providers, env={})
    shared = Juggler(chat=CHAIN, providers=providers, env={}, state=state)
    for j in (local, shared):
        await j.achat("warm up")
    trips.clear()
    took: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(N):  # interleaved, so drift on a shared machine hits both modes alike
        for mode, j in enumerate((local, shared)):
            start = time.perf_counter()
            await j.achat("hello")
            took[mode].append((time.perf_counter() - start) * 1000)
    t_local, t_shared = (statistics.median(took[m]) for m in (0, 1))
    print(f"redis PING (one round trip)     p50 {ping:.3f} ms")
    print(f"RedisState.read, 2 targets      p50 {read:.3f} ms  ({read / ping:.2f}x PING)")
    print(f"round trips per healthy call    {len(trips) / N:.2f}  (N = {N})")
    print(f"chat call, in-process state     p50 {t_local:.3f} ms")
    print(f"chat call, Redis state          p50 {t_shared:.3f} ms  "
          f"(+{t_shared - t_local:.3f} ms, {t_shared / t_local:.2f}x)")  # fmt: skip
    await state.aclose()
    for j in (local, shared):
        await j.aclose()
        j.close()


if __name__ == "__main__":
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed")
    port = _port()
    with tempfile.TemporaryDirectory() as directory:
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", directory],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        sim = ProviderSimulator.spawn({"groq": Scenario(), "nvidia": Scenario()})
        try:
            time.sleep(0.3)  # the server's start-up (the bench, not a test)
            asyncio.run(main(f"redis://127.0.0.1:{port}/0", sim.providers_config()))
        finally:
            sim.stop()
            server.terminate()
            server.wait(timeout=10)
