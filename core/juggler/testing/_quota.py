"""A simulated provider's request quota and the rate-limit headers it announces.

With ``Scenario(quota_requests=N)`` a provider answers at most N requests per fixed window of
``quota_window_s`` seconds (the window opens with the first request); the next ones get a 429
with ``Retry-After`` until the window ends. Every answer then carries the vendor's rate-limit
headers, in the style of ``Scenario.rate_limit_style`` (default: by wire format), with the
header names and value formats recorded from the real vendors (see ``shared/wire``):

* ``openai`` (OpenAI, Groq, Cerebras): ``x-ratelimit-limit/remaining/reset-requests``, resets
  as Go durations (``6m0s``, ``1.5s``, ``20ms``);
* ``together``: ``x-ratelimit-limit``, ``x-ratelimit-remaining``, ``x-ratelimit-reset`` in
  plain seconds;
* ``mistral``: ``x-ratelimit-limit/remaining-req-minute`` (no reset header);
* ``anthropic``: ``anthropic-ratelimit-requests-limit/remaining/reset``, the reset an RFC 3339
  instant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["STYLES", "QuotaWindow", "rate_headers"]

STYLES = ("openai", "together", "mistral", "anthropic")


def _go_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text


def rate_headers(
    style: str, limit: int, remaining: int, reset_in: float, wall: float
) -> tuple[tuple[str, str], ...]:
    """The headers a vendor of ``style`` sends for a request budget."""
    left = str(max(0, remaining))
    if style == "together":
        seconds = str(max(0, round(reset_in)))
        return (
            ("x-ratelimit-limit", str(limit)),
            ("x-ratelimit-remaining", left),
            ("x-ratelimit-reset", seconds),
        )
    if style == "mistral":
        return (
            ("x-ratelimit-limit-req-minute", str(limit)),
            ("x-ratelimit-remaining-req-minute", left),
        )
    if style == "anthropic":
        when = datetime.fromtimestamp(wall + reset_in, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            ("anthropic-ratelimit-requests-limit", str(limit)),
            ("anthropic-ratelimit-requests-remaining", left),
            ("anthropic-ratelimit-requests-reset", when),
        )
    return (
        ("x-ratelimit-limit-requests", str(limit)),
        ("x-ratelimit-remaining-requests", left),
        ("x-ratelimit-reset-requests", _go_duration(reset_in)),
    )


@dataclass(slots=True)
class QuotaWindow:
    """One provider's fixed-window request counter (guarded by the simulator's lock)."""

    limit: int
    window: float
    opened: float | None = None
    used: int = 0

    def take(self, now: float | None = None) -> tuple[bool, int, float]:
        """Count one request: (admitted, remaining after it, seconds until the window ends)."""
        now = time.monotonic() if now is None else now
        if self.opened is None or now >= self.opened + self.window:
            self.opened, self.used = now, 0
        reset_in = self.opened + self.window - now
        if self.used >= self.limit:
            return False, 0, reset_in
        self.used += 1
        return True, self.limit - self.used, reset_in
