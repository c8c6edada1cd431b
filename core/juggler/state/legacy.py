"""``breaker_store=`` (deprecated): an old circuits-only store behind :class:`SharedState`.

The old store's methods may be sync or async; each call now runs under the same timeout and
store circuit as the Redis backend, so a sick store cannot hold a call (issue 19 item 2).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from juggler._policy.budget import BudgetStore, MemoryBudgetStore
from juggler.state._guard import Guard
from juggler.state.base import Key, ProbeClaim, SharedView

if TYPE_CHECKING:
    from juggler._attempts import ModelAttempt
    from juggler._types import Target

__all__ = ["BreakerStoreState"]


async def _done(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class BreakerStoreState:
    """Circuits through an old ``BreakerStore``; everything else stays in process."""

    def __init__(self, store: Any, *, timeout: float = 0.05, retry_after: float = 1.0) -> None:
        self.store = store
        self.guard = Guard(type(store).__name__, timeout=timeout, retry_after=retry_after)
        self._budgets = MemoryBudgetStore()

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

    async def claim_probe(self, key: Key, seconds: float) -> ProbeClaim:
        """Old stores have no probe lock: every replica probes for itself."""
        return "mine"

    async def block(self, key: Key, seconds: float) -> None:
        """Not shared by old stores."""

    def observe(self, target: Target, attempt: ModelAttempt) -> None:
        """Not shared by old stores."""

    def count_retry_budget(self, requests: int, retries: int) -> None:
        """Not shared by old stores."""

    async def health(self, keys: Sequence[Key]) -> dict[Key, dict[str, Any]]:
        """Not shared by old stores."""
        return {}

    async def cache_get(self, key: str) -> str | None:
        """Not shared by old stores."""
        return None

    async def cache_put(self, key: str, value: str, ttl: float) -> None:
        """Not shared by old stores."""

    def budget_store(self) -> BudgetStore:
        """In-process spend."""
        return self._budgets

    def state_status(self) -> dict[str, Any]:
        """The old store's guard status."""
        return {"backend": type(self.store).__name__, **self.guard.status()}

    async def aclose(self) -> None:
        """The caller owns the old store's client."""
