"""The in-process default: nothing is shared, so every answer is "nothing known elsewhere".

Circuits, health and the retry budget already live in the engine's own policy objects; this
backend only gives the engine one interface whether or not Redis is configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from juggler._policy.budget import BudgetStore, MemoryBudgetStore
from juggler.state.base import Key, ProbeClaim, SharedView

if TYPE_CHECKING:
    from juggler._attempts import ModelAttempt
    from juggler._types import Target

__all__ = ["MemoryState"]


class MemoryState:
    """A :class:`~juggler.state.SharedState` for one process (no-op for circuits)."""

    def __init__(self) -> None:
        self._budgets = MemoryBudgetStore()

    async def read(self, keys: Sequence[Key]) -> SharedView:
        """Nothing opened elsewhere."""
        return SharedView()

    async def open_circuit(self, key: Key, seconds: float) -> None:
        """The local breaker already knows."""

    async def close_circuit(self, key: Key) -> None:
        """The local breaker already knows."""

    async def claim_probe(self, key: Key, seconds: float) -> ProbeClaim:
        """The only replica probes."""
        return "mine"

    async def block(self, key: Key, seconds: float) -> None:
        """The local rate-limit book already knows."""

    def observe(self, target: Target, attempt: ModelAttempt) -> None:
        """The engine's HealthBoard already counts it."""

    def count_retry_budget(self, requests: int, retries: int) -> None:
        """The engine's RetryBudget already counts it."""

    async def health(self, keys: Sequence[Key]) -> dict[Key, dict[str, Any]]:
        """No figures beyond the local ones."""
        return {}

    async def cache_get(self, key: str) -> str | None:
        """The engine's ResponseCache is the only cache."""
        return None

    async def cache_put(self, key: str, value: str, ttl: float) -> None:
        """The engine's ResponseCache is the only cache."""

    def budget_store(self) -> BudgetStore:
        """In-process spend."""
        return self._budgets

    def state_status(self) -> dict[str, Any]:
        """Always local."""
        return {"backend": "memory", "status": "local"}

    async def aclose(self) -> None:
        """Nothing to close."""
