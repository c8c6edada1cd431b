"""Circuit state shared through Redis, so every replica skips a target one of them opened.

One key per open circuit, ``{prefix}{provider}/{model}``, set with a time-to-live equal to the
cool-down (``SET ... PX``). Redis expires it, so no clock needs to agree between machines, and
a crashed replica leaves nothing behind. Before each call the engine reads the TTLs of the
chain's keys in one pipeline (``PTTL``); a closing probe deletes the key.

Works with ``redis.asyncio.Redis`` (recommended: the engine awaits it) and with the sync
``redis.Redis``. ``pip install 'juggler[redis]'``.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

__all__ = ["RedisBreakerStore"]


class RedisBreakerStore:
    """A :class:`~juggler.state.BreakerStore` over a Redis client."""

    def __init__(self, client: Any, prefix: str = "juggler:circuit:") -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, provider: str, model: str) -> str:
        return f"{self.prefix}{provider}/{model}"

    async def publish_open(self, provider: str, model: str, seconds: float) -> None:
        """Open (provider, model) for every replica for ``seconds``."""
        milliseconds = max(1, int(seconds * 1000))
        await _done(self.client.set(self._key(provider, model), "open", px=milliseconds))

    async def clear(self, provider: str, model: str) -> None:
        """A probe closed the circuit: forget the shared opening."""
        await _done(self.client.delete(self._key(provider, model)))

    async def open_remaining(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """Seconds left for each key that is open somewhere (PTTL > 0), in one round trip."""
        keys = list(keys)
        if not keys:
            return {}
        pipe = self.client.pipeline()
        for provider, model in keys:
            pipe.pttl(self._key(provider, model))
        answers = await _done(pipe.execute())
        return {
            key: ms / 1000.0
            for key, ms in zip(keys, answers, strict=True)
            if isinstance(ms, int) and ms > 0
        }


async def _done(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value
