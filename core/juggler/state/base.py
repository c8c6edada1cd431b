"""The shared-state interface: :class:`SharedState`, what a read returns, the old
``BreakerStore``. See :mod:`juggler.state`."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from juggler._attempts import ModelAttempt
    from juggler._policy.budget import BudgetStore
    from juggler._types import Target

__all__ = ["BreakerStore", "Key", "ProbeClaim", "SharedState", "SharedView"]

Key = tuple[str, str]  # (provider, model)
# What a replica learns when its breaker for a key reaches half-open: it holds the probe
# ("mine"), another replica probes or re-opened it (seconds to wait), or a probe elsewhere
# already closed it ("closed").
ProbeClaim = Literal["mine", "closed"] | float


@dataclass(slots=True)
class SharedView:
    """What the other replicas know about a call's targets, read in one round trip."""

    # Seconds of cool-down left of circuits opened somewhere; 0.0: the cool-down is over but no
    # probe has closed it yet (half-open for every replica: ask ``claim_probe``).
    circuits: dict[Key, float] = field(default_factory=dict)
    blocked: dict[Key, float] = field(default_factory=dict)  # rate-limited: seconds to reset
    retries: tuple[int, int] = (0, 0)  # fleet-wide (requests, retries) in this window


@runtime_checkable
class SharedState(Protocol):
    """The shared-state backend the engine talks to. Every method is safe to call when the
    backend is down: it then returns the "nothing shared" answer quickly (within its timeout).
    """

    async def read(self, keys: Sequence[Key]) -> SharedView:
        """Openings, rate-limit blocks and retry counters for ``keys``, in one round trip.
        Counters queued by :meth:`observe` and :meth:`count_retry_budget` are flushed in the
        same round trip."""
        ...

    async def open_circuit(self, key: Key, seconds: float) -> None:
        """Tell every replica ``key`` is open for ``seconds``."""
        ...

    async def close_circuit(self, key: Key) -> None:
        """A probe succeeded: ``key`` is closed for every replica."""
        ...

    async def claim_probe(self, key: Key, seconds: float) -> ProbeClaim:
        """Try to become the one replica that probes ``key`` (a lock held ``seconds``)."""
        ...

    async def block(self, key: Key, seconds: float) -> None:
        """``key`` said "0 requests left": every replica skips it for ``seconds``."""
        ...

    def observe(self, target: Target, attempt: ModelAttempt) -> None:
        """Queue an attempt's outcome and latency for the shared health figures (no I/O)."""
        ...

    def count_retry_budget(self, requests: int, retries: int) -> None:
        """Queue retry-budget counts for the fleet-wide window (no I/O)."""
        ...

    async def health(self, keys: Sequence[Key]) -> dict[Key, dict[str, Any]]:
        """Health merged across replicas: ``success_rate``, ``p50_ms``, ``p95_ms``, counts."""
        ...

    async def cache_get(self, key: str) -> str | None:
        """A cached answer (serialised), or None."""
        ...

    async def cache_put(self, key: str, value: str, ttl: float) -> None:
        """Store a serialised answer for ``ttl`` seconds."""
        ...

    def budget_store(self) -> BudgetStore:
        """Where budget spend lives (shared when the backend is)."""
        ...

    def state_status(self) -> dict[str, Any]:
        """For ``get_health_status()``: backend, ``status`` (up/down/local), last error."""
        ...

    async def aclose(self) -> None:
        """Close connections."""
        ...


class BreakerStore(Protocol):
    """The older circuits-only interface (sync or async methods); see :func:`as_shared_state`."""

    def publish_open(self, provider: str, model: str, seconds: float) -> Awaitable[None] | None:
        """Record that (provider, model) is open for ``seconds``."""

    def clear(self, provider: str, model: str) -> Awaitable[None] | None:
        """Record that (provider, model) closed again."""

    def open_remaining(
        self, keys: Iterable[tuple[str, str]]
    ) -> Awaitable[Mapping[tuple[str, str], float]] | Mapping[tuple[str, str], float]:
        """Seconds of cool-down left for each of ``keys`` that another replica opened."""
