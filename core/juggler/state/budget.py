"""Budget spend shared through Redis (see :mod:`juggler._policy.budget`)."""

from __future__ import annotations

from typing import Any

from juggler._policy.budget import MemoryBudgetStore
from juggler.state._guard import Guard

__all__ = ["RedisBudgetStore"]


class RedisBudgetStore:
    """A :class:`~juggler._policy.budget.BudgetStore` in Redis: ``INCRBYFLOAT`` on
    ``{prefix}budget:{key}:{window_start}``, expiring at the end of the window.

    ``BudgetStore`` is synchronous (budgets are checked in the sync admission checks), so this
    uses redis-py's sync client with ``timeout`` on connect and socket: a sick Redis costs at
    most that, then the guard skips it and spend is counted locally until it is back.
    """

    def __init__(self, client: Any, *, prefix: str = "juggler:", retry_after: float = 1.0) -> None:
        self.client = client
        self.prefix = prefix
        self.guard = Guard("redis budgets", retry_after=retry_after)
        self.local = MemoryBudgetStore()

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "juggler:", timeout: float = 0.05) -> Any:
        """A store with its own sync client (no retries inside redis-py)."""
        from redis import Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=max(0.25, timeout),
            retry=Retry(NoBackoff(), 0), retry_on_timeout=False,
        )  # fmt: skip
        return cls(client, prefix=prefix)

    def _key(self, key: str, window_start: float) -> str:
        return f"{self.prefix}budget:{key}:{int(window_start)}"

    def spent(self, key: str, window_start: float) -> float:
        """The fleet's spend in that window (local spend while Redis is down)."""
        local = self.local.spent(key, window_start)
        value = self.guard.run_sync(
            "read budget spend", lambda: self.client.get(self._key(key, window_start)), None
        )
        return local if value is None else max(local, float(value))

    def add(
        self, key: str, window_start: float, usd: float, window_end: float | None = None
    ) -> float:
        """Add atomically; the counter expires when its window ends (default: 32 days)."""
        local = self.local.add(key, window_start, usd)
        name = self._key(key, window_start)

        def go() -> float:
            pipe = self.client.pipeline(transaction=True)
            pipe.incrbyfloat(name, usd)
            if window_end is not None:
                pipe.expireat(name, int(window_end) + 1)
            else:
                pipe.expire(name, 32 * 86400)
            return float(pipe.execute()[0])

        return self.guard.run_sync("add budget spend", go, local)
