"""Optional shared state between processes (replicas of one service).

A ``BreakerStore`` shares circuit openings: when one replica opens a circuit, the others skip
that target too, within one call, instead of each paying for five failures of its own.
``juggler.state.redis.RedisBreakerStore`` is the Redis backend (``pip install
'juggler[redis]'``); pass it as ``Juggler(breaker_store=...)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from typing import Protocol

__all__ = ["BreakerStore"]


class BreakerStore(Protocol):
    """What the engine needs from a shared breaker backend (sync or async methods)."""

    def publish_open(self, provider: str, model: str, seconds: float) -> Awaitable[None] | None:
        """Record that (provider, model) is open for ``seconds``."""

    def clear(self, provider: str, model: str) -> Awaitable[None] | None:
        """Record that (provider, model) closed again."""

    def open_remaining(
        self, keys: Iterable[tuple[str, str]]
    ) -> Awaitable[Mapping[tuple[str, str], float]] | Mapping[tuple[str, str], float]:
        """Seconds of cool-down left for each of ``keys`` that another replica opened."""
