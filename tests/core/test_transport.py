"""The HTTP transport under every provider: aiohttp's pool behind httpx's API when the ``fast``
extra is installed, a tuned httpx pool otherwise; per-provider pools, idle-connection drop,
and a caller's own client used as given."""

from __future__ import annotations

import subprocess
import sys

import aiohttp
import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from juggler._config import Settings
from juggler.providers import transport
from juggler.providers._classify import _not_a_timeout
from juggler.providers.transport import HttpClients
from juggler.testing import ProviderSimulator, Scenario


@pytest.fixture
def sim() -> object:
    with ProviderSimulator({"groq": Scenario()}, any_model=True) as s:
        yield s


def test_default_backend_is_aiohttp_when_the_fast_extra_is_installed() -> None:
    assert transport.default_backend() == "aiohttp"
    assert HttpClients(Settings()).backend == "aiohttp"


async def test_aiohttp_backend_puts_aiohttp_under_an_httpx_client() -> None:
    clients = HttpClients(Settings(), backend="aiohttp")
    client = clients.get("groq")
    assert isinstance(client, httpx.AsyncClient)
    assert isinstance(client._transport, AiohttpTransport)
    await clients.aclose()


async def test_httpx_backend_keeps_few_keepalive_connections_for_a_short_time() -> None:
    clients = HttpClients(Settings(), backend="httpx")
    pool = clients.get("groq")._transport._pool  # type: ignore[attr-defined]
    assert pool._max_keepalive_connections == transport.HTTPX_KEEPALIVE_CONNECTIONS
    assert pool._keepalive_expiry == transport.HTTPX_KEEPALIVE_EXPIRY
    await clients.aclose()


async def test_each_provider_gets_its_own_pool() -> None:
    clients = HttpClients(Settings())
    assert clients.get("groq") is clients.get("groq")
    assert clients.get("groq") is not clients.get("cerebras")
    await clients.aclose()


async def test_user_client_serves_every_provider_and_stays_open() -> None:
    mine = httpx.AsyncClient()
    clients = HttpClients(Settings(), mine)
    assert clients.get("groq") is mine and clients.get("cerebras") is mine
    await clients.drop_idle("groq")
    await clients.aclose()
    assert not mine.is_closed
    await mine.aclose()


async def _idle_after_one_call(clients: HttpClients, sim: ProviderSimulator) -> int:
    client = clients.get("groq")
    r = await client.post(sim.base_url("groq") + "/chat/completions", json={"model": "m"})
    assert r.status_code == 200
    await r.aclose()
    return _idle(clients)


def _idle(clients: HttpClients) -> int:
    t = clients.get("groq")._transport
    if isinstance(t, AiohttpTransport):
        assert isinstance(t.client, aiohttp.ClientSession)
        return sum(len(d) for d in t.client.connector._conns.values())  # type: ignore[union-attr]
    return sum(1 for c in t._pool._connections if c.is_idle())  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", ["aiohttp", "httpx"])
async def test_drop_idle_closes_idle_connections_and_the_next_call_reconnects(
    sim: ProviderSimulator, backend: transport.Backend
) -> None:
    clients = HttpClients(Settings(), backend=backend)
    assert await _idle_after_one_call(clients, sim) == 1
    await clients.drop_idle("groq")
    assert _idle(clients) == 0
    assert await _idle_after_one_call(clients, sim) == 1
    await clients.aclose()


def test_a_lost_connection_reported_as_connect_timeout_is_not_a_timeout() -> None:
    wrapped = httpx.ConnectTimeout("Server disconnected")
    wrapped.__cause__ = aiohttp.ServerDisconnectedError()
    assert _not_a_timeout(wrapped)


def test_an_aiohttp_timeout_stays_a_timeout() -> None:
    wrapped = httpx.TimeoutException("timed out")
    wrapped.__cause__ = aiohttp.ServerTimeoutError()
    assert not _not_a_timeout(wrapped)


def test_import_juggler_loads_neither_aiohttp_nor_httpx_aiohttp() -> None:
    code = (
        "import sys, juggler\n"
        "from juggler._config import Settings\n"
        "from juggler.providers.transport import HttpClients\n"
        "HttpClients(Settings())\n"
        "print(sorted(m for m in ('aiohttp', 'httpx_aiohttp') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_the_fast_extra_the_default_is_the_httpx_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = transport.importlib.util.find_spec
    monkeypatch.setattr(
        transport.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "httpx_aiohttp" else real(name, *a),
    )
    assert transport.default_backend() == "httpx"
