"""How many requests per second the provider simulator serves on one core.

The simulator runs in its own process (``ProviderSimulator.spawn``); the load comes from
``--clients`` client processes, each an ``httpx.AsyncClient`` with keep-alive and
``--concurrency`` requests in flight, sending a bounded number of requests in total. The
figure is total requests / wall time of the slowest client. httpx itself costs more CPU per
request than the simulator, so with one client process the client is the bottleneck; use
``--clients 2`` or more (on a machine with the cores for it), or ``--raw`` (a minimal asyncio
client), to see the server's ceiling.

    .venv/bin/python bench/simulator_rps.py --requests 20000 --concurrency 32 --clients 2
    .venv/bin/python bench/simulator_rps.py --kind stream      # streamed chat answers
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import time
from typing import Any

import httpx

from juggler.testing import ProviderSimulator, Scenario

_BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "chat": (
        "/chat/completions",
        {"model": "bench", "messages": [{"role": "user", "content": "hello there"}]},
    ),
    "stream": (
        "/chat/completions",
        {
            "model": "bench",
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hello there"}],
        },
    ),
    "embed": ("/embeddings", {"model": "bench", "input": ["one text", "another text"]}),
}


async def _load(url: str, body: dict[str, Any], n: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await client.post(url, json=body)  # warm the pool
        left = n

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                r = await client.post(url, json=body)
                r.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


async def _raw_load(url: str, body: dict[str, Any], n: int, concurrency: int) -> float:
    """A minimal keep-alive HTTP/1.1 client (one request in flight per connection)."""
    rest = url.split("//", 1)[1]
    hostport, path = rest.split("/", 1)
    host, port = hostport.split(":")
    data = json.dumps(body).encode()
    request = (
        f"POST /{path} HTTP/1.1\r\nhost: {hostport}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(data)}\r\n\r\n"
    ).encode() + data

    async def connection(count: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if b"content-length:" in head:
                length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
            else:  # chunked stream: read to the terminating chunk
                await reader.readuntil(b"\r\n0\r\n\r\n")
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection(n // concurrency) for _ in range(concurrency)))
    return time.perf_counter() - start


def _client(url: str, kind: str, n: int, concurrency: int, raw: bool, out: Any) -> None:
    load = _raw_load if raw else _load
    out.put(asyncio.run(load(url, _BODIES[kind][1], n, concurrency)))


def main() -> None:
    """Run the benchmark and print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--kind", choices=sorted(_BODIES), default="chat")
    parser.add_argument(
        "--raw", action="store_true", help="a minimal asyncio client instead of httpx"
    )
    args = parser.parse_args()
    # The bodies name the placeholder model "bench": serve every name.
    with ProviderSimulator.spawn({"openai": Scenario(any_model=True)}) as sim:
        url = sim.base_url("openai") + _BODIES[args.kind][0]
        per_client = args.requests // args.clients // args.concurrency * args.concurrency
        queue: Any = mp.get_context("spawn").Queue()
        procs = [
            mp.get_context("spawn").Process(
                target=_client, args=(url, args.kind, per_client, args.concurrency, args.raw, queue)
            )
            for _ in range(args.clients)
        ]
        for p in procs:
            p.start()
        times = [queue.get() for _ in procs]
        for p in procs:
            p.join()
        served = sim.counts("openai").get(200, 0)
    total = per_client * args.clients
    wall = max(times)
    print(
        f"simulator ({args.kind}, {'raw asyncio' if args.raw else 'httpx'} client): {total} "
        f"requests, {args.clients} client process(es) x "
        f"{args.concurrency} in flight: {total / wall:,.0f} requests/s "
        f"({wall:.2f} s; server counted {served} answers)"
    )


if __name__ == "__main__":
    main()
