"""``breaker_store=`` (deprecated): an old circuits-only store behind :class:`SharedState`.

The old store's methods may be sync or async; each call now runs under the same timeout and
store circuit as the Redis backend, so a sick store cannot hold a call (issue 19 item 2).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from juggler.state._guard import Guard
from juggler.state.base import Key, SharedView
from juggler.state.memory import MemoryState

__all__ = ["BreakerStoreState"]


async def _done(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class BreakerStoreState(MemoryState):
    """Circuits through an old ``BreakerStore``; everything else stays in process (as
    :class:`MemoryState`: no probe lock, no shared health, budget, rate limits or cache)."""

    def __init__(self, store: Any, *, timeout: float = 0.05, retry_after: float = 1.0) -> None:
        super().__init__()
        self.store = store
        self.guard = Guard(type(store).__name__, timeout=timeout, retry_after=retry_after)

    async def read(self, keys: Sequence[Key]) -> SharedView:
        """Openings from the old store's ``open_remaining``."""
        if not keys:
            return SharedView()

        async def go() -> dict[Key, float]:
            raw = await _done(self.store.open_remaining(list(keys)))
            return {(str(k[0]), str(k[1])): float(v) for k, v in dict(raw or {}).items()}

        return SharedView(circuits=await self.guard.run("read shared circuits", go, {}))

    async def open_circuit(self, key: Key, seconds: float) -> None:
        """``publish_open``."""
        await self.guard.run(
            "share an open circuit", lambda: _done(self.store.publish_open(*key, seconds)), None
        )

    async def close_circuit(self, key: Key) -> None:
        """``clear``."""
        await self.guard.run("share a closed circuit", lambda: _done(self.store.clear(*key)), None)

    def state_status(self) -> dict[str, Any]:
        """The old store's guard status."""
        return {"backend": type(self.store).__name__, **self.guard.status()}

    async def aclose(self) -> None:
        """The caller owns the old store's client."""
