"""Event-loop lag: how late the client itself ran, so its own slowness is not blamed on a
provider.

Under overload (hundreds of calls on a couple of cores) the event loop falls behind: every
await resumes late, and a request that the provider answered in time still overruns its
timeout. Counting those timeouts as provider failures opens the circuits of healthy targets,
all of them at once. A small monitor (``juggler._routing.load``) sleeps ``interval`` seconds
in a loop and records each overshoot here; a timeout is *explained by lag* when the lag
recorded while its attempt ran adds up to at least ``share`` of the attempt's duration (a
timed-out attempt lasts its limit).

Pure policy: no I/O, no sleeping; every method takes times on the engine's clock.

Defaults and their reasons:

* ``share=0.25``: a loop that was behind for a quarter of the limit (0.5 s of a 2 s timeout)
  is the client's doing; an idle loop overshoots a 50 ms sleep by about a millisecond, so
  a healthy client records about 2 % of the limit, far below, and a real provider timeout
  still counts.
* ``horizon=600`` s and at most ``max_samples=20_000`` samples: longer than any attempt
  limit one would set, and bounded memory (20,000 × 50 ms is over 16 minutes).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["LagMeter"]


@dataclass(slots=True)
class LagMeter:
    """Recent lag samples ``(when, seconds late)`` and the rule that excuses a timeout."""

    share: float = 0.25
    horizon: float = 600.0
    max_samples: int = 20_000
    samples: deque[tuple[float, float]] = field(default_factory=deque)

    def record(self, at: float, lag: float) -> None:
        """One monitor tick that woke ``lag`` seconds later than it asked, at ``at``."""
        self.samples.append((at, max(0.0, lag)))
        oldest = at - self.horizon
        while self.samples and (
            len(self.samples) > self.max_samples or self.samples[0][0] < oldest
        ):
            self.samples.popleft()

    def lag_between(self, start: float, end: float) -> float:
        """Seconds of lag recorded by ticks that woke between ``start`` and ``end``."""
        total = 0.0
        for at, lag in reversed(self.samples):  # newest first: stop at the window's start
            if at < start:
                break
            if at <= end:
                total += lag
        return total

    def worst(self, since: float) -> float:
        """The largest single lag recorded since ``since`` (0 when none)."""
        return max((lag for at, lag in self.samples if at >= since), default=0.0)

    def explains(self, started: float, ended: float) -> bool:
        """Did the client's own lag cause the timeout of an attempt that ran from ``started``
        to ``ended``? (A timed-out attempt ran for its limit, plus the lag at its end.)"""
        span = ended - started
        return span > 0 and self.lag_between(started, ended) >= self.share * span
