"""httpx clients: one pool per provider per event loop, on the fastest transport installed.

The interface stays ``httpx.AsyncClient`` everywhere. What sits under it is chosen once per
:class:`HttpClients`:

* ``"aiohttp"`` (the default when the ``fast`` extra is installed: ``httpx-aiohttp`` and
  ``aiohttp``): httpx's API on aiohttp's connection pool. httpcore 1.0's pool walks every
  connection it holds on every request (``_assign_requests_to_connections``), so its CPU per
  request grows with the pool; aiohttp's pool is a deque per host. Measured in
  ``bench/peers.py``: see ``bench/results.md``.
* ``"httpx"`` (the fallback, and what ``backend="httpx"`` forces): httpcore with a pool tuned
  for that walk: few keep-alive connections and a short keep-alive expiry, so the pool stays
  small under a burst.

httpx and aiohttp pools are bound to the event loop they were first used on, and the sync
façade runs on its own loop thread, so clients are kept per loop. Within a loop each provider
gets its own pool: idle connections to a failing provider then never slow the healthy ones.
A caller's own ``http_client=`` is used as given, for every provider, and never closed here.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ssl
import weakref
from typing import TYPE_CHECKING, Any, Literal

import httpx

if TYPE_CHECKING:
    from juggler._config import Settings

__all__ = ["Backend", "HttpClients", "default_backend"]

Backend = Literal["aiohttp", "httpx"]

# httpcore walks its whole pool per request: a small keep-alive set keeps that walk short.
# Raw httpx's own defaults (20 keep-alive, 5 s) measured faster at 64 in flight than 256/30 s.
HTTPX_KEEPALIVE_CONNECTIONS = 20
HTTPX_KEEPALIVE_EXPIRY = 5.0
# aiohttp's pool costs O(1) per request whatever its size; a longer expiry saves handshakes.
AIOHTTP_KEEPALIVE_EXPIRY = 15.0


def default_backend() -> Backend:
    """``"aiohttp"`` when ``httpx-aiohttp`` and ``aiohttp`` are installed, else ``"httpx"``."""
    found = all(importlib.util.find_spec(m) is not None for m in ("httpx_aiohttp", "aiohttp"))
    return "aiohttp" if found else "httpx"


class HttpClients:
    """Hands out the right ``httpx.AsyncClient`` for (current loop, provider)."""

    def __init__(
        self,
        settings: Settings,
        user_client: httpx.AsyncClient | None = None,
        *,
        backend: Backend | None = None,
    ) -> None:
        self._settings = settings
        self._user_client = user_client
        self.backend: Backend = backend or default_backend()
        self._by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]
        ] = weakref.WeakKeyDictionary()
        self._ssl_context: ssl.SSLContext | None = None

    def get(self, provider: str) -> httpx.AsyncClient:
        """The client for ``provider`` on the running loop (created on first use)."""
        if self._user_client is not None:
            return self._user_client
        loop = asyncio.get_running_loop()
        clients = self._by_loop.get(loop)
        if clients is None:
            clients = self._by_loop[loop] = {}
        client = clients.get(provider)
        if client is None:
            client = clients[provider] = self._new_client()
        return client

    def _ssl(self) -> ssl.SSLContext:
        # Building an SSL context costs ~30 ms (loading the CA bundle); every pool shares one
        # so a new provider's first call does not pay it again.
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    def _new_client(self) -> httpx.AsyncClient:
        s = self._settings
        timeout = httpx.Timeout(s.timeout, connect=s.connect_timeout)
        if self.backend == "aiohttp":
            return httpx.AsyncClient(
                transport=self._aiohttp_transport(), timeout=timeout, follow_redirects=False
            )
        return httpx.AsyncClient(
            verify=self._ssl(),
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=s.max_connections,
                max_keepalive_connections=min(HTTPX_KEEPALIVE_CONNECTIONS, s.max_connections),
                keepalive_expiry=HTTPX_KEEPALIVE_EXPIRY,
            ),
            follow_redirects=False,
        )

    def _aiohttp_transport(self) -> httpx.AsyncBaseTransport:
        import aiohttp
        from httpx_aiohttp import AiohttpTransport

        context = self._ssl()
        limit = self._settings.max_connections

        def session() -> aiohttp.ClientSession:
            # Called on the first request, inside the loop the session then belongs to.
            connector = aiohttp.TCPConnector(
                limit=limit, keepalive_timeout=AIOHTTP_KEEPALIVE_EXPIRY, ssl=context
            )
            # No cookie jar: provider APIs do not use cookies, and one caller's cookies must
            # never ride along on another caller's request.
            return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

        transport: httpx.AsyncBaseTransport = AiohttpTransport(verify=context, client=session)
        return transport

    async def drop_idle(self, provider: str) -> None:
        """Close ``provider``'s idle keep-alive connections on this loop (its circuit just
        opened). Requests in flight are left alone; a caller's own client is never touched.

        Idle connections to a failing provider only cost: measured, idle keep-alives to a
        provider answering 429 slowed calls to a healthy one by 2.6x at p99 when they shared a
        pool. Neither httpx nor aiohttp has a public call for this, so it reaches into the pool
        the way the pool itself prunes expired connections; if that shape ever changes, it
        does nothing (the connections then expire after their keep-alive expiry).
        """
        if self._user_client is not None:
            return
        client = self._by_loop.get(asyncio.get_running_loop(), {}).get(provider)
        transport = getattr(client, "_transport", None)
        if transport is None:
            return
        session = getattr(transport, "client", None)
        if session is not None and hasattr(session, "connector"):
            _drop_idle_aiohttp(session)
            return
        await _drop_idle_httpcore(transport)

    async def aclose(self) -> None:
        """Close the pools that belong to the running loop. A caller's own client is left open."""
        clients = self._by_loop.pop(asyncio.get_running_loop(), {})
        for client in clients.values():
            await client.aclose()


def _drop_idle_aiohttp(session: Any) -> None:
    """aiohttp keeps idle connections in ``connector._conns`` ({key: deque of (proto, t)})."""
    connector = getattr(session, "connector", None)
    conns = getattr(connector, "_conns", None)
    if not isinstance(conns, dict):
        return
    for key in list(conns):
        for proto, _ in conns.pop(key):
            proto.close()


async def _drop_idle_httpcore(transport: Any) -> None:
    pool = getattr(transport, "_pool", None)
    connections = getattr(pool, "_connections", None)
    lock = getattr(pool, "_optional_thread_lock", None)
    closer = getattr(pool, "_close_connections", None)
    if not isinstance(connections, list) or lock is None or closer is None:
        return
    with lock:
        idle = [c for c in connections if c.is_idle()]
        for connection in idle:
            connections.remove(connection)
    await closer(idle)
