"""Circuit breakers, one per (provider, model): closed → open → half-open → closed.

Pure policy: no I/O, no sleeping; every method takes ``now`` (seconds on the engine's clock).

A breaker **opens** when, over its sliding window (the last ``window`` calls, none older than
``window_seconds``), at least ``min_calls`` calls were made and the failure rate reaches
``failure_rate``. Below that volume the rate means little, so there ``consecutive_failures``
failures in a row decide instead, when they are also at least ``failure_rate`` of the calls
in the window and still in flight (a dead target that sees few calls still opens after five
requests).
It stays **open** for a cool-down, lengthened by a 429's Retry-After; each re-open after
failed probes doubles the cool-down up to ``max_cooldown``. Then it is **half-open**: up to
``half_open_probes`` calls go through at a time; a success closes it, and
``consecutive_failures`` failed probes in a row re-open it (half-open is low volume by
construction, so the low-volume rule applies: one failed probe says little about a target
that fails 30 % of its calls, five say it is still down).
A 401/403 opens every breaker of that provider for ``auth_cooldown`` (a bad key does not heal).

Only failures that say something about the provider count: fallback-worthy ``ProviderError``
s (429, 5xx, timeouts, connection errors, 401/403, 404, invalid answers). A 400 that any
provider would refuse, a context-length refusal, a content-policy refusal (about this
request, not the provider's health) and a cancelled attempt do not.

Defaults and their reasons:

* ``failure_rate=0.5`` over ``window=100`` calls with ``min_calls=100``: resilience4j's
  defaults (50 % of a 100-call window, at least 100 calls). Fewer calls cannot tell a target
  that fails 30 % of the time from a dead one: with 20 calls, a 30 % fault rate reaches 50 %
  about once in 20 windows, and at 200 concurrent calls that opened healthy-enough targets
  many times a minute. At 100 calls it happens about once in 60,000 windows.
* ``window_seconds=60``: calls older than a minute leave the window, so the volume is recent
  and a quiet target falls back to the consecutive rule instead of judging by last hour.
* ``consecutive_failures=5``, only below ``min_calls`` calls in the window, and only when the
  failures are also at least half of the window: Envoy outlier detection's ``consecutive_5xx``
  default. At low volume it opens a dead target after five requests; at high volume five
  failures in a row happen by chance (a 30 % fault rate gives one run of five in about 400
  calls), so there the rate decides. The "half of the window" condition (calls in flight
  included) matters at start-up of a busy client, whose window is short too and whose fast
  errors come back before its answers: a target failing 30 % of its calls one at a time then
  trips in about 3 % of start-ups instead of 15 % (15 % faults: 0.08 % instead of 0.7 %).
* A request let through while every circuit was open (a forced probe) that fails keeps the
  circuit open but does not double its cool-down: under load many calls are forced at once,
  and their failures say no more than the one that opened it.
* ``cooldown=30`` s, doubling to ``max_cooldown=300`` s: Envoy's ``base_ejection_time`` (30 s,
  multiplied by the number of ejections) and ``max_ejection_time`` (300 s). Provider
  incidents and rate-limit windows last tens of seconds to minutes.
* ``half_open_probes=1``: one request in flight tests the water; the rest of the traffic keeps
  going to healthy targets instead of piling onto a provider that may still be down.
* ``auth_cooldown=3600`` s: a rejected key needs a human; probing it every 30 s is noise.
* ``retry_after_cap=600`` s: a Retry-After lengthens the cool-down, but never past ten
  minutes, so a wrong header cannot disable a provider for a day.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from juggler._exceptions import (
    AuthenticationError,
    ContentPolicyError,
    ContextLengthError,
    ProviderError,
)

__all__ = ["BreakerConfig", "Breakers", "CircuitBreaker", "CircuitState", "Permit", "counts"]

CircuitState = Literal["closed", "open", "half_open"]
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """Thresholds and cool-downs (see the module docstring for the reasons)."""

    window: int = 100
    min_calls: int = 100
    window_seconds: float = 60.0
    failure_rate: float = 0.5
    consecutive_failures: int = 5
    cooldown: float = 30.0
    max_cooldown: float = 300.0
    half_open_probes: int = 1
    auth_cooldown: float = 3600.0
    retry_after_cap: float = 600.0


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to send one request. ``probe`` is True for a half-open (or forced) probe."""

    key: Key
    probe: bool = False
    issued: float = 0.0  # when it was granted (on the breakers' clock): the attempt's start


def counts(error: BaseException) -> bool:
    """Does this failure say something about the provider's health?"""
    return (
        isinstance(error, ProviderError)
        and error.fallback
        and not isinstance(error, (ContextLengthError, ContentPolicyError))
    )


@dataclass(slots=True)
class CircuitBreaker:
    """The state of one (provider, model)."""

    config: BreakerConfig
    outcomes: deque[tuple[float, bool]] = field(default_factory=deque)  # (when, succeeded)
    consecutive: int = 0
    opened: bool = False
    open_until: float = 0.0
    reopens: int = 0
    probes: int = 0
    probe_failures: int = 0  # failed half-open probes in a row
    pending: int = 0  # requests let through while closed whose verdict has not come back
    hinted_until: float = 0.0  # a Retry-After seen while closed, used if we open soon

    def state(self, now: float) -> CircuitState:
        """``closed``, ``open`` (cooling down) or ``half_open`` (cool-down over)."""
        if not self.opened:
            return "closed"
        return "open" if now < self.open_until else "half_open"

    def remaining(self, now: float) -> float:
        """Seconds of cool-down left (0 unless open)."""
        return max(0.0, self.open_until - now) if self.opened else 0.0

    def allow(self, now: float, *, force: bool = False) -> bool:
        """May a request go now? In half-open this takes one of the probe slots."""
        state = self.state(now)
        if state == "closed":
            self.pending += 1
            return True
        if force or (state == "half_open" and self.probes < self.config.half_open_probes):
            self.probes += 1
            return True
        return False

    def success(self, probe: bool, now: float = 0.0) -> bool:
        """Record a success; returns True when this closed an open circuit."""
        self._settled(probe)
        if self.opened:
            if not probe:
                return False  # a call let through before the circuit opened: no verdict
            self._reset()
            return True
        self._push(now, True)
        self.consecutive = 0
        return False

    def failure(
        self, now: float, probe: bool, retry_after: float | None = None, auth: bool = False
    ) -> bool:
        """Record a failure; returns True when this opened (or re-opened) the circuit."""
        c = self.config
        if retry_after is not None:
            self.hinted_until = max(self.hinted_until, now + min(retry_after, c.retry_after_cap))
        self._settled(probe)
        if auth:
            self.open_for(now, c.auth_cooldown)
            return True
        if self.opened:
            if not probe or now < self.open_until:
                return False  # let through before it opened, or forced while every one was open
            self.probe_failures += 1
            if self.probe_failures < c.consecutive_failures:
                return False  # still half-open: the next probe may go
            self.reopens += 1
            self.open_for(now, min(c.cooldown * 2**self.reopens, c.max_cooldown))
            return True
        self._push(now, False)
        self.consecutive += 1
        calls = len(self.outcomes)
        failures = sum(1 for _, ok in self.outcomes if not ok)
        if calls >= c.min_calls:  # enough volume: the rate decides
            tripped = failures / calls >= c.failure_rate
        else:
            # Too few calls for a rate: a run of failures decides, if it also dominates the
            # calls seen and still in flight (a busy client starting up has a short window
            # too, its fast errors come back before its answers, and a 30 % fault rate gives
            # a run of five in about 400 calls).
            tripped = self.consecutive >= c.consecutive_failures and (
                failures / (calls + self.pending) >= c.failure_rate
            )
        if tripped:
            self.open_for(now, c.cooldown)
        return tripped

    def release(self, probe: bool) -> None:
        """An attempt ended with no verdict (cancelled, or a request-specific refusal)."""
        self._settled(probe)

    def _settled(self, probe: bool) -> None:
        if probe:
            self.probes = max(0, self.probes - 1)
        else:
            self.pending = max(0, self.pending - 1)

    def open_for(self, now: float, seconds: float) -> None:
        """Open (or keep open) until at least ``now + seconds`` and any Retry-After hint."""
        until = max(now + seconds, self.hinted_until)
        self.open_until = max(until, self.open_until) if self.opened else until
        self.opened = True
        self.outcomes.clear()
        self.consecutive = 0
        self.probe_failures = 0

    def _push(self, now: float, ok: bool) -> None:
        self.outcomes.append((now, ok))
        oldest = now - self.config.window_seconds
        while len(self.outcomes) > self.config.window or self.outcomes[0][0] < oldest:
            self.outcomes.popleft()

    def _reset(self) -> None:
        self.opened = False
        self.open_until = 0.0
        self.reopens = 0
        self.hinted_until = 0.0
        self.outcomes.clear()
        self.consecutive = 0
        self.probe_failures = 0


class Breakers:
    """Every breaker of one Juggler, keyed by (provider, model), plus provider-wide openings
    (a bad key opens all of a provider's models, including ones not tried yet)."""

    def __init__(self, config: BreakerConfig | None = None, *, enabled: bool = True) -> None:
        self.config = config or BreakerConfig()
        self.enabled = enabled
        self._breakers: dict[Key, CircuitBreaker] = {}
        self._bad_key_until: dict[str, float] = {}  # provider -> end of its auth cool-down

    def get(self, key: Key) -> CircuitBreaker:
        """The breaker of ``key``, created on first use: closed, or open until the end of
        the provider's auth cool-down when its key was rejected."""
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._breakers[key] = CircuitBreaker(self.config)
            until = self._bad_key_until.get(key[0])
            if until is not None:
                breaker.opened, breaker.open_until = True, until
        return breaker

    def _peek(self, key: Key) -> CircuitBreaker | None:
        """The breaker of ``key`` if it has a state worth reading (no side effect otherwise)."""
        if key[0] in self._bad_key_until:
            return self.get(key)
        return self._breakers.get(key)

    def known(self) -> list[Key]:
        """Keys seen so far."""
        return list(self._breakers)

    def state(self, key: Key, now: float) -> CircuitState:
        """The state of ``key`` (closed when unknown or when breakers are disabled)."""
        breaker = self._peek(key)
        return breaker.state(now) if breaker and self.enabled else "closed"

    def remaining(self, key: Key, now: float) -> float:
        """Seconds until ``key`` may be tried again (0 when it may now)."""
        breaker = self._peek(key)
        if breaker is None or not self.enabled:
            return 0.0
        if breaker.state(now) == "half_open":
            # probes all taken: the next slot frees when they end; treat as soon-ish
            return 0.0 if breaker.probes < self.config.half_open_probes else 1e-3
        return breaker.remaining(now)

    def acquire(self, key: Key, now: float, *, force: bool = False) -> Permit | None:
        """A permit to send, or None when the circuit is open (or its probe slots are taken).
        ``force`` lets one request through anyway: every target was open and this one's
        cool-down ends soonest."""
        if not self.enabled:
            return Permit(key, issued=now)
        breaker = self.get(key)
        before = breaker.state(now)
        if not breaker.allow(now, force=force):
            return None
        return Permit(key, probe=before != "closed", issued=now)

    def soonest(self, keys: Iterable[Key], now: float) -> Key | None:
        """Of ``keys``, the one whose cool-down ends first."""
        return min(keys, key=lambda k: self.remaining(k, now), default=None)

    def record(self, permit: Permit, now: float, error: BaseException | None) -> bool:
        """Feed one attempt's verdict; returns True when the circuit of ``permit.key`` (or, for
        a bad key, of the whole provider) just opened."""
        if not self.enabled:
            return False
        breaker = self.get(permit.key)
        if error is None:
            if breaker.success(permit.probe, now):
                self._bad_key_until.pop(permit.key[0], None)  # a probe got through: key works
            return False
        if not counts(error):
            breaker.release(permit.probe)
            return False
        auth = isinstance(error, AuthenticationError)
        retry_after = getattr(error, "retry_after", None)
        opened = breaker.failure(now, permit.probe, retry_after, auth=auth)
        if auth:
            # A bad key is the provider's, not the model's: its other models, including the
            # ones not tried yet (see ``get``), stay open as long.
            self._bad_key_until[permit.key[0]] = breaker.open_until
            for key, other in self._breakers.items():
                if key[0] == permit.key[0] and other is not breaker:
                    other.open_for(now, self.config.auth_cooldown)
        return opened

    def release(self, permit: Permit) -> None:
        """An attempt ended with no verdict (cancelled)."""
        if self.enabled:
            self.get(permit.key).release(permit.probe)

    def adopt(self, key: Key, now: float, seconds: float) -> None:
        """Open ``key`` because another replica opened it (shared state)."""
        if self.enabled and seconds > 0:
            breaker = self.get(key)
            if breaker.remaining(now) < seconds:
                breaker.open_for(now, seconds)
