"""Circuit state shared between two Juggler "replicas" through a real Redis server on
127.0.0.1 (started by this test; ``make test`` installs redis-server with apt-get).

Skipped, with the reason, only on a machine where redis-server could not be installed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from juggler import Juggler
from juggler.testing import ProviderSimulator, Scenario

redis = pytest.importorskip("redis")
pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed here"
)

CHAIN = ["groq/llama-3.1-8b-instant", "nvidia/meta/llama-3.1-8b-instruct"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):  # bounded: at most ~5 s for the server to come up
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.skip("redis-server did not start")
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


async def test_a_circuit_one_replica_opened_is_skipped_by_another_through_real_redis(redis_url):
    from redis.asyncio import Redis

    from juggler.state.redis import RedisBreakerStore

    async with ProviderSimulator(
        {"groq": Scenario(error_rates={503: 1.0}), "nvidia": Scenario()}
    ) as sim:
        client = Redis.from_url(redis_url)
        await client.flushdb()
        store = RedisBreakerStore(client)
        options = {"providers": sim.providers_config(), "env": {}, "retries": 0}
        one = Juggler(chat=CHAIN, breaker_store=store, **options)
        two = Juggler(chat=CHAIN, breaker_store=store, **options)

        for _ in range(5):  # five consecutive failures open groq's circuit in replica one
            await one.achat("hello")
        ttl_ms = await client.pttl("juggler:circuit:groq/llama-3.1-8b-instant")
        before = sim.total("groq")
        answer = await two.achat("hello")

        assert 0 < ttl_ms <= 30_000  # the cool-down, expired by Redis itself
        assert [(a.provider, a.outcome) for a in answer.models_used] == [
            ("groq", "skipped"),
            ("nvidia", "success"),
        ]
        assert sim.total("groq") == before  # replica two sent groq nothing
        await one.aclose()
        await two.aclose()
        one.close()
        two.close()
        await client.aclose()
