"""Shared test fixtures.

No test reaches the network: pytest-socket (configured in pyproject.toml) lets sockets reach
loopback only, cassettes replay recorded traffic, and error paths use httpx.MockTransport.
Live tests are marked ``integration`` and skip themselves when their key is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest

from juggler import Juggler

Handler = Callable[[httpx.Request], httpx.Response]


def mock_juggler(
    handler: Handler,
    chat: Sequence[str] | None = None,
    **kwargs: Any,
) -> Juggler:
    """A Juggler whose every request goes to ``handler`` (httpx.MockTransport)."""
    names = {
        t.split("/", 1)[0]
        for cap in ("chat", "embed", "rerank", "transcribe", "speak")
        for t in (kwargs.get(cap) or (chat if cap == "chat" else None) or [])
    }
    providers = kwargs.pop("providers", None) or {n: {"api_key": f"test-key-{n}"} for n in names}
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return Juggler(chat, providers=providers, http_client=client, env={}, **kwargs)


@pytest.fixture
def make_juggler() -> Iterator[Callable[..., Juggler]]:
    """Factory fixture around :func:`mock_juggler`; closes what it made."""
    made: list[Juggler] = []

    def factory(handler: Handler, chat: Sequence[str] | None = None, **kwargs: Any) -> Juggler:
        j = mock_juggler(handler, chat, **kwargs)
        made.append(j)
        return j

    yield factory
    for j in made:
        j.close()
