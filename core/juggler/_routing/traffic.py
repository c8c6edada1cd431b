"""Traffic policy of one engine: groups of deployments, rate-limit headers, client-side caps.

The engine asks :class:`Traffic` four things, at four points of a call:

* :meth:`Traffic.configured` (planning): the capability's chain for this call, every group
  expanded in place in the order its strategy gives (``juggler._policy.balance``). The call's
  token estimate is kept for the admission check (chat only: prompt estimate + max_tokens).
* :meth:`Traffic.admit` (before the first request): when every target of the call is
  predicted to answer 429, the one whose reset comes first is exempted, so a call never
  fails without one request.
* :meth:`Traffic.check` (an admission check of the ``Gate``): the skip reason of a target the
  vendor's last headers (``RateLimitBook``) or its ``rpm``/``tpm`` caps (``ClientQuota``) say
  is out of budget now, e.g. ``rate limit: 0 requests left until 12:01:30``.
* :meth:`Traffic.sending` (around the request): calls in flight per target (``least-busy``),
  the caps and the book charged, the answer's rate-limit headers read (success or error).

One call's planning state travels in a context variable: admission checks run in the call's
task or in the child tasks of its hedged or raced attempts, which inherit it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from juggler._exceptions import InvalidRequestError, ProviderError
from juggler._policy.balance import InFlight, order_group
from juggler._policy.limits import RateLimitBook
from juggler._routing.groups import Group
from juggler._routing.plan import estimate_tokens
from juggler._types import Target
from juggler.providers.base import capture_rate_headers

if TYPE_CHECKING:
    from juggler._fleet import Fleet
    from juggler._policy.health import HealthBoard
    from juggler._policy.quota import ClientQuota
    from juggler._routing.admission import Gate
    from juggler._routing.job import Job
    from juggler._routing.record import Call

__all__ = ["Sent", "Traffic"]

_LIMITER_KEYS = ("storage", "strategy")


@dataclass(slots=True)
class _Planned:
    """One call's traffic state: its token estimate and the target exempted from the
    rate-limit check (the soonest reset, when every target is predicted limited)."""

    tokens: int = 0
    exempt: tuple[str, str] | None = None


_CALL: ContextVar[_Planned | None] = ContextVar("juggler_traffic_call", default=None)


@dataclass(slots=True)
class Sent:
    """One request in flight; set ``result`` once it answers (its usage corrects the caps)."""

    result: Any = None


class _Draw(random.Random):
    """A ``random.Random`` drawing from the engine's injected ``rng`` (seedable in tests)."""

    def __init__(self, rng: Callable[[], float]) -> None:
        super().__init__()
        self._rng = rng

    def random(self) -> float:
        return self._rng()


class Traffic:
    """Balancing, rate-limit awareness and client-side caps for one engine.

    Args:
        fleet: the providers and chains (``fleet.positions`` holds the groups).
        gate: the engine's admission gate; :meth:`check` and :meth:`admit` join it.
        health: the engine's health board (``fastest`` reads each member's recent p50).
        wall: wall-clock seconds since the epoch (vendors' resets are absolute instants).
        rng: the engine's random source (``weighted`` and ``fastest``'s exploration).
        limiter: ``{"storage": "memory://" | "redis://...", "strategy": "moving-window" |
            "fixed-window"}`` for the ``rpm``/``tpm`` caps; the ``limits`` package is only
            imported when a target has a cap.
    """

    def __init__(
        self,
        fleet: Fleet,
        gate: Gate,
        health: HealthBoard,
        *,
        wall: Callable[[], float],
        rng: Callable[[], float] = random.random,
        limiter: Mapping[str, Any] | None = None,
    ) -> None:
        self.fleet = fleet
        self.shared = gate.shared
        self._publishing: set[asyncio.Task[None]] = set()
        self.health = health
        self.wall = wall
        self.draw = _Draw(rng)
        self.in_flight = InFlight()
        self.book = RateLimitBook()
        given = dict(limiter or {})
        for key in given:
            if key not in _LIMITER_KEYS:
                raise InvalidRequestError(
                    f"limiter: unknown key {key!r}; known: {', '.join(_LIMITER_KEYS)}"
                )
        self.limiter = given
        self._quota: ClientQuota | None = None
        capped = any(t.rpm or t.tpm for chain in fleet.chains.values() for t in chain)
        if capped:
            self.quota  # noqa: B018 - built now, so a missing 'limits' fails at construction
        gate.checks.append(self.check)
        gate.on_admit.append(self.admit)

    @property
    def quota(self) -> ClientQuota:
        """The client-side caps, built on first use (needs the ``limits`` package)."""
        if self._quota is None:
            from juggler._policy.quota import ClientQuota

            self._quota = ClientQuota(
                self.limiter.get("storage", "memory://"),
                self.limiter.get("strategy", "moving-window"),
            )
        return self._quota

    # ----- planning -----

    def configured(self, job: Job[Any]) -> list[Target]:
        """This call's configured chain, groups ordered by their strategy (empty when the call
        names its own ``targets``); starts the call's traffic state (its token estimate, from
        a chat request)."""
        tokens = 0
        messages = getattr(job.request, "messages", None)
        if messages is not None:
            tokens = estimate_tokens(messages) + (getattr(job.request, "max_tokens", None) or 0)
        _CALL.set(_Planned(tokens=tokens))
        if job.choices.targets is not None:
            return []
        capability = job.capability
        positions = self.fleet.positions.get(capability)
        if not positions:
            return self.fleet.chain(capability)  # the flat chain, or the clear error
        out: list[Target] = []
        for position in positions:
            if isinstance(position, Group):
                out.extend(
                    order_group(
                        position.members,
                        position.strategy,
                        rng=self.draw,
                        in_flight=lambda t: self.in_flight(t.key),
                        latency_ms=self._p50,
                    )
                )
            else:
                out.append(position)
        return out

    def _p50(self, target: Target) -> float | None:
        health = self.health.get(target.provider, target.model)
        return health.p(50) if health.latencies else None

    # ----- admission -----

    def admit(self, chain: Sequence[Target]) -> None:
        """When every target is predicted limited, exempt the one whose reset comes first."""
        state = _state()
        state.exempt = None
        if not chain:
            return
        now = self.wall()
        resets: list[tuple[float, int, tuple[str, str]]] = []
        for i, target in enumerate(chain):
            when = self._reset_at(target, now, state.tokens)
            if when is None:
                return  # at least one target is free: no exemption needed
            resets.append((when, i, target.key))
        state.exempt = min(resets)[2]

    def _reset_at(self, target: Target, now: float, tokens: int) -> float | None:
        """When ``target`` stops being limited (None: it is not limited now)."""
        when = self.book.reset_at(target.key, now, tokens)
        if (target.rpm or target.tpm) and self.quota.blocked(target, tokens):
            until = self.quota.reset_at(target, tokens)
            when = until if when is None else max(when, until)
        return when

    def check(self, call: Call, target: Target) -> str | None:
        """Admission check: why ``target`` must not be sent a request now, or None."""
        state = _state()
        if state.exempt == target.key:
            return None
        reason = self.book.blocked(target.key, self.wall(), state.tokens)
        if reason is None and (target.rpm or target.tpm):
            reason = self.quota.blocked(target, state.tokens)
        return reason

    # ----- around the request -----

    @contextmanager
    def sending(self, target: Target) -> Iterator[Sent]:
        """Wrap one request: count it in flight, charge the caps and the book, and read the
        answer's rate-limit headers (from ``ProviderError.headers`` on a failure)."""
        tokens = _state().tokens
        key = target.key
        if target.rpm or target.tpm:
            self.quota.acquire(target, tokens)
        self.book.sent(key, tokens)
        self.in_flight.acquire(key)
        sent = Sent()
        try:
            with capture_rate_headers() as headers:
                yield sent
        except ProviderError as exc:
            self._observe(key, exc.headers or headers, exc.status_code)
            raise
        finally:
            self.in_flight.release(key)
        self._observe(key, headers, None)
        if target.tpm and sent.result is not None:
            self.quota.correct(target, tokens, _used_tokens(sent.result))

    def _observe(
        self, key: tuple[str, str], headers: Mapping[str, str], status: int | None
    ) -> None:
        # This request has left the in-flight count; the others still to be answered will
        # spend the budget the vendor announced.
        others = self.in_flight(key)
        now = self.wall()
        self.book.observe(key, headers, now, status=status, in_flight=others)
        reset = self.book.reset_at(key, now)
        if reset is not None and self.shared is not None:
            # Tell the other replicas, in the background: the store bounds its own time.
            task = asyncio.get_running_loop().create_task(self.shared.block(key, reset - now))
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)


def _state() -> _Planned:
    state = _CALL.get()
    if state is None:  # a probe, or a caller that did not plan: no estimate, no exemption
        state = _Planned()
        _CALL.set(state)
    return state


def _used_tokens(result: Any) -> int | None:
    usage = getattr(result, "usage", None)
    if usage is None:
        return None
    total = getattr(usage, "total_tokens", None)
    if total is not None:
        return int(total)
    counts = (getattr(usage, "input_tokens", None), getattr(usage, "output_tokens", None))
    parts = [int(p) for p in counts if p is not None]
    return sum(parts) if parts else None
