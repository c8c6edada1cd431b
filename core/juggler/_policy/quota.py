"""Client-side ``rpm`` / ``tpm`` caps per target, through the ``limits`` library.

Why ``limits`` (over ``aiolimiter`` and ``pyrate-limiter``): it counts *cost* per hit (a call
costs its token estimate against ``tpm``), it can *test* a window without consuming it (a capped
target is skipped, not waited for: waiting is the fallback chain's job), it offers moving and
fixed windows, and the same code runs on in-memory or Redis storage, so several processes can
share one cap. ``aiolimiter`` is a single leaky bucket that only waits; ``pyrate-limiter``
also only blocks or raises on acquire.

Token counts come from the request estimate when the call is sent; :meth:`ClientQuota.correct`
charges the difference once the answer's usage is known (a moving window cannot refund, so an
over-estimate stays charged until it slides out: the cap errs on the safe side).
``limits`` is an extra (``pip install 'juggler[limits]'``), imported only when a target has a cap.
"""

from __future__ import annotations

from typing import Any

from juggler._exceptions import InvalidRequestError
from juggler._types import Target

__all__ = ["ClientQuota"]


class ClientQuota:
    """Per-target request and token caps (``Target.rpm`` / ``Target.tpm``).

    Args:
        storage_uri: ``limits`` storage, ``memory://`` (default) or ``redis://host:6379``.
        strategy: ``moving-window`` (default: no burst at window edges) or ``fixed-window``.
    """

    def __init__(self, storage_uri: str = "memory://", strategy: str = "moving-window") -> None:
        try:
            from limits import storage, strategies
        except ImportError as exc:
            raise InvalidRequestError(
                "rpm/tpm caps need the 'limits' package: pip install 'juggler[limits]'"
            ) from exc
        kinds = {
            "moving-window": strategies.MovingWindowRateLimiter,
            "fixed-window": strategies.FixedWindowRateLimiter,
        }
        if strategy not in kinds:
            raise InvalidRequestError(
                f"unknown limiter strategy {strategy!r}; known: {', '.join(kinds)}"
            )
        self._limiter: Any = kinds[strategy](storage.storage_from_string(storage_uri))
        self._items: dict[tuple[str, int], Any] = {}

    def _item(self, per_minute: int) -> Any:
        from limits import RateLimitItemPerMinute

        key = ("minute", per_minute)
        if key not in self._items:
            self._items[key] = RateLimitItemPerMinute(per_minute)
        return self._items[key]

    def blocked(self, target: Target, tokens: int = 0) -> str | None:
        """The skip reason when sending to ``target`` now would exceed its cap, else None."""
        ident = str(target)
        if target.rpm and not self._limiter.test(self._item(target.rpm), ident, "requests"):
            return f"rate limit: rpm cap {target.rpm} reached (client side)"
        if target.tpm and not self._limiter.test(
            self._item(target.tpm), ident, "tokens", cost=max(1, tokens)
        ):
            return f"rate limit: tpm cap {target.tpm} reached (client side)"
        return None

    def acquire(self, target: Target, tokens: int = 0) -> bool:
        """Charge one request and ``tokens`` tokens; False (nothing charged) when over a cap."""
        if self.blocked(target, tokens):
            return False
        ident = str(target)
        if target.rpm:
            self._limiter.hit(self._item(target.rpm), ident, "requests")
        if target.tpm and tokens > 0:
            self._limiter.hit(self._item(target.tpm), ident, "tokens", cost=tokens)
        return True

    def reset_at(self, target: Target, tokens: int = 0) -> float:
        """When ``target``'s exhausted cap frees up (wall-clock seconds since the epoch, as
        ``limits`` counts); now if no cap is exhausted."""
        import time

        ident, latest = str(target), time.time()
        for cap, kind, cost in ((target.rpm, "requests", 1), (target.tpm, "tokens", tokens)):
            if cap and not self._limiter.test(self._item(cap), ident, kind, cost=max(1, cost)):
                stats = self._limiter.get_window_stats(self._item(cap), ident, kind)
                latest = max(latest, float(stats.reset_time))
        return latest

    def correct(self, target: Target, estimated: int, actual: int | None) -> None:
        """Charge what the answer's usage showed beyond the estimate."""
        if target.tpm and actual is not None and actual > estimated:
            self._limiter.hit(
                self._item(target.tpm), str(target), "tokens", cost=actual - estimated
            )
