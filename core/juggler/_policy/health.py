"""Health figures per (provider, model): success rate, latency percentiles, last error.

Fed by the engine with every attempt that sent a request (skipped attempts and cache hits
sent none and are not counted; cancelled hedges and races are counted as requests but neither
as successes nor failures). Latency percentiles come from the last ``window`` successful or
cancelled attempts (a cancelled one's time is a lower bound of its latency), so memory is
bounded and the figures follow the provider's current behaviour.
Pure: the wall clock (for ``last_success_at``) is injected.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from juggler._attempts import ModelAttempt

__all__ = ["HealthBoard", "ModelHealth", "percentile"]


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of ``values`` (q in 0..100); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[int(rank) - 1]


@dataclass(slots=True)
class ModelHealth:
    """Counters and a bounded latency window for one (provider, model)."""

    window: int
    latencies: deque[float] = field(default_factory=deque)
    outcomes: deque[bool] = field(default_factory=deque)
    requests: int = 0
    failures: int = 0
    last_error: str | None = None
    last_success_at: float | None = None

    def add(self, attempt: ModelAttempt, wall: float) -> None:
        """Count one attempt that sent a request."""
        self.requests += 1
        if attempt.outcome == "success":
            self._push(self.outcomes, True)
            self._push(self.latencies, attempt.elapsed_ms)
            self.last_success_at = wall
        elif attempt.outcome == "cancelled":
            # A hedged-away attempt was slow; its time so far is a lower bound of its latency.
            # Leaving it out would bias the p95 low (measured: hedges fired at ~9 % instead of
            # ~5 % of calls), because the slowest calls are exactly the ones cancelled.
            self._push(self.latencies, attempt.elapsed_ms)
        elif attempt.outcome == "error":
            self.failures += 1
            self._push(self.outcomes, False)
            self.last_error = f"{attempt.error_type}: {attempt.error}"

    def _push(self, queue: deque[Any], value: Any) -> None:
        queue.append(value)
        if len(queue) > self.window:
            queue.popleft()

    def p(self, q: float) -> float | None:
        """Latency percentile (ms) of recent successes."""
        return percentile(list(self.latencies), q)

    def success_rate(self) -> float | None:
        """Share of recent verdicts that were successes; None before any."""
        if not self.outcomes:
            return None
        return sum(self.outcomes) / len(self.outcomes)


class HealthBoard:
    """Every (provider, model)'s :class:`ModelHealth`."""

    def __init__(self, window: int = 100, wall: Callable[[], float] = time.time) -> None:
        self.window = window
        self.wall = wall
        self._models: dict[tuple[str, str], ModelHealth] = {}

    def get(self, provider: str, model: str) -> ModelHealth:
        """The figures of one target (created empty on first use)."""
        key = (provider, model)
        health = self._models.get(key)
        if health is None:
            health = self._models[key] = ModelHealth(self.window)
        return health

    def observe(self, attempt: ModelAttempt) -> None:
        """Attempt observer: count attempts that sent a request."""
        if attempt.outcome in ("success", "error", "cancelled"):
            self.get(attempt.provider, attempt.model).add(attempt, self.wall())

    def p95_ms(self, provider: str, model: str, min_samples: int) -> float | None:
        """The target's p95 latency, once it has ``min_samples`` successes; else None."""
        health = self._models.get((provider, model))
        if health is None or len(health.latencies) < min_samples:
            return None
        return health.p(95)

    def snapshot(self, provider: str, model: str) -> dict[str, Any]:
        """The public figures of one target (without circuit_state, which the caller adds)."""
        h = self._models.get((provider, model)) or ModelHealth(self.window)
        rate = h.success_rate()
        return {
            "success_rate": None if rate is None else round(rate, 4),
            "p50_ms": h.p(50),
            "p95_ms": h.p(95),
            "requests": h.requests,
            "failures": h.failures,
            "last_error": h.last_error,
            "last_success_at": h.last_success_at,
        }

    def keys(self) -> list[tuple[str, str]]:
        """Targets seen so far."""
        return list(self._models)
