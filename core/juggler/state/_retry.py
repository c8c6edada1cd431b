"""The retry budget over the whole fleet: local counts plus what every replica counted.

Each replica keeps its sliding-window :class:`~juggler._policy.retry.RetryBudget` and queues its
counts to the shared store (flushed with the next call's read, so no extra round trip). The
store's fleet-wide figures for the current window come back with that read; a retry is allowed
while the fleet's retries stay under ``ratio`` of the fleet's requests. Taking the larger of the
local and fleet figures keeps the budget at least as strict as a single process's when the
store is down or behind.
"""

from __future__ import annotations

from juggler._policy.retry import RetryBudget
from juggler.state.base import SharedState

__all__ = ["SharedRetryBudget"]


class SharedRetryBudget(RetryBudget):
    """A :class:`RetryBudget` that also counts, and respects, the other replicas' traffic."""

    def __init__(self, ratio: float, minimum: int, window: float, shared: SharedState) -> None:
        super().__init__(ratio, minimum, window)
        self.shared = shared
        self.fleet: tuple[int, int] = (0, 0)  # (requests, retries) from the last shared read

    def _totals(self, now: float) -> tuple[float, float]:
        requests, retries = super()._totals(now)
        return max(requests, float(self.fleet[0])), max(retries, float(self.fleet[1]))

    def request(self, now: float) -> None:
        """Count a first attempt here and, queued, in the fleet."""
        super().request(now)
        self.shared.count_retry_budget(1, 0)

    def try_spend(self, now: float) -> bool:
        """Take a retry if the fleet's budget (and ours) allows it."""
        if not super().try_spend(now):
            return False
        self.shared.count_retry_budget(0, 1)
        self.fleet = (self.fleet[0], self.fleet[1] + 1)
        return True
