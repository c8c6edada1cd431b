"""Same-target retry policy: which errors are retried, how long to wait, and the retry budget.

The strategies are tenacity callables, combined by the engine with ``|`` and ``&``:

* :func:`retry_if_transient` retries only errors marked ``transient`` (429, 5xx, timeouts,
  dropped connections, garbled answers); a 400, 401/403 or 404 never repeats.
* :class:`wait_retry_after_or_jitter` waits what a 429/503 ``Retry-After`` asks, capped at
  ``cap`` seconds; otherwise full-jitter exponential backoff, ``uniform(0, min(cap,
  base * 2**n))`` (AWS Architecture Blog, "Exponential Backoff and Jitter"), which spreads
  retrying clients out instead of synchronising them.
* :class:`RetryBudget` keeps retries under ``ratio`` of the requests of the last ``window``
  seconds, with a floor of ``minimum`` per window, after Envoy's retry budgets and Finagle's
  ``RetryBudget`` (Google SRE book, "Handling Overload": at most 10-20 % retries). When a
  provider goes down, retries then add at most 20 % to the traffic instead of multiplying
  it by the number of retries; the floor keeps a quiet process able to retry at all.

Pure policy: the budget takes ``now``; nothing here sleeps.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable

from tenacity import RetryCallState, retry_if_exception
from tenacity.wait import wait_base

from juggler._exceptions import ProviderError

__all__ = ["RetryBudget", "is_transient", "retry_if_transient", "wait_retry_after_or_jitter"]


def is_transient(error: BaseException) -> bool:
    """Worth repeating against the same target."""
    return isinstance(error, ProviderError) and error.transient


def retry_if_transient() -> retry_if_exception:
    """tenacity ``retry=`` strategy: transient provider errors only."""
    return retry_if_exception(is_transient)


class wait_retry_after_or_jitter(wait_base):  # tenacity names its strategies in snake_case
    """tenacity ``wait=`` strategy: Retry-After (capped) if the error carries one, else
    full-jitter exponential backoff."""

    def __init__(
        self, base: float = 0.5, cap: float = 10.0, rng: Callable[[], float] = random.random
    ) -> None:
        self.base = base
        self.cap = cap
        self.rng = rng

    def for_error(self, error: BaseException | None, retry_number: int) -> float:
        """Seconds before retry ``retry_number`` (1-based) after ``error``."""
        after = getattr(error, "retry_after", None)
        if after is not None:
            return min(float(after), self.cap)
        return self.rng() * min(self.cap, self.base * 2 ** (retry_number - 1))

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        return self.for_error(error, retry_state.attempt_number)


class RetryBudget:
    """Allows retries while they are under ``ratio`` of recent requests (plus a floor).

    Counts live in one-second buckets over a sliding ``window``, so memory stays constant
    however busy the process is.
    """

    def __init__(self, ratio: float = 0.2, minimum: int = 3, window: float = 10.0) -> None:
        self.ratio = ratio
        self.minimum = minimum
        self.window = window
        self._buckets: deque[list[float]] = deque()  # [bucket start, requests, retries]

    def _bucket(self, now: float) -> list[float]:
        start = float(int(now))
        while self._buckets and self._buckets[0][0] <= now - self.window:
            self._buckets.popleft()
        if not self._buckets or self._buckets[-1][0] != start:
            self._buckets.append([start, 0.0, 0.0])
        return self._buckets[-1]

    def _totals(self, now: float) -> tuple[float, float]:
        self._bucket(now)
        return sum(b[1] for b in self._buckets), sum(b[2] for b in self._buckets)

    def request(self, now: float) -> None:
        """Count one first attempt (a call reaching a target, not a retry)."""
        self._bucket(now)[1] += 1

    def allowed(self, now: float) -> int:
        """Retries the window allows in all."""
        requests, _ = self._totals(now)
        return max(self.minimum, int(requests * self.ratio))

    def try_spend(self, now: float) -> bool:
        """Take one retry from the budget; False (nothing taken) when it is exhausted."""
        requests, retries = self._totals(now)
        if retries >= max(self.minimum, int(requests * self.ratio)):
            return False
        self._bucket(now)[2] += 1
        return True
