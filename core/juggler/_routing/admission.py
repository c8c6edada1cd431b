"""Admission: who may be sent a request now, and what an attempt's verdict changes.

The :class:`Gate` holds the policy state a call must pass before each request: the call's
deadline, the target's circuit breaker and the retry budget (and, shared between replicas,
circuits other processes opened). It records every refusal as a ``skipped`` attempt, feeds
each verdict to the breaker, and when a circuit opens, shares it and drops the provider's idle
connections. The engine asks; the gate answers. No provider is named here.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import anyio

from juggler._attempts import ModelAttempt
from juggler._exceptions import ProviderTimeoutError, redact
from juggler._policy.breaker import BreakerConfig, Breakers, Permit
from juggler._policy.lag import LagMeter
from juggler._policy.retry import RetryBudget
from juggler._routing.load import Load
from juggler._routing.record import DEADLINE, AttemptLog, Call, Skipped, cut_by_deadline
from juggler._types import Target
from juggler.state import SharedState, as_shared_state
from juggler.state._retry import SharedRetryBudget

if TYPE_CHECKING:
    from juggler._config import Settings

__all__ = ["Gate"]

logger = logging.getLogger("juggler")
Note = Callable[..., ModelAttempt]
# An admission check: the reason ``target`` must not be sent a request now (a spent budget,
# a predicted 429), or None. Checks run before the breaker, in order.
Check = Callable[[Call, Target], str | None]


class Gate:
    """Admission control for one Juggler: breakers, retry budget, shared circuits.

    ``note(log, target, outcome, elapsed, ...)`` records a refusal; ``sleep`` waits before a
    retry; ``on_open(provider)`` runs when a circuit opens; ``shared`` is the optional state
    shared between replicas: a :class:`~juggler.state.SharedState`, a URL, or an old
    ``BreakerStore`` (see :func:`juggler.state.as_shared_state`).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        note: Note,
        on_open: Callable[[str], Awaitable[None]] | None = None,
        shared: Any = None,
    ) -> None:
        s = settings
        self.clock = clock
        self.sleep = sleep
        self.note = note
        self.on_open = on_open
        self.breakers = Breakers(
            BreakerConfig(
                window=s.circuit_window,
                window_seconds=s.circuit_window_seconds,
                min_calls=s.circuit_min_calls,
                failure_rate=s.circuit_failure_rate,
                consecutive_failures=s.circuit_consecutive_failures,
                cooldown=s.circuit_cooldown,
                max_cooldown=s.circuit_max_cooldown,
                half_open_probes=s.circuit_half_open_probes,
                auth_cooldown=s.circuit_auth_cooldown,
                retry_after_cap=s.circuit_retry_after_cap,
            ),
            enabled=s.circuit_breaker,
        )
        self.budget = RetryBudget(s.retry_budget_ratio, s.retry_budget_min, s.retry_budget_window)
        self.checks: list[Check] = []
        # Told each call's admitted chain before its first request (the rate-limit policy
        # picks the soonest reset there when every target is predicted limited).
        self.on_admit: list[Callable[[Sequence[Target]], None]] = []
        # Shared state (Redis, or an old breaker_store=): typed, guarded by its own timeouts.
        self.shared: SharedState | None = as_shared_state(shared)
        # The half-open probe lock is held at most one attempt's timeout (a crashed prober
        # frees it); replicas that lose the race look again this soon.
        self.probe_ttl = max(1.0, float(s.timeout))
        self.probe_recheck = 0.25
        self.shared_blocks: dict[tuple[str, str], float] = {}  # rate-limited: clock() at reset
        if self.shared is not None:
            self.budget = SharedRetryBudget(
                s.retry_budget_ratio, s.retry_budget_min, s.retry_budget_window, self.shared
            )

            def blocked_elsewhere(call: Call, target: Target) -> str | None:
                until = self.shared_blocks.get((target.provider, target.model))
                if until is not None and until > self.clock():
                    return "rate limit: 0 requests left (seen by another replica)"
                return None

            self.checks.append(blocked_elsewhere)

    # The client's own event-loop lag (see ``throttle``; None: every timeout counts).
    lag: LagMeter | None = None

    def throttle(self, settings: Settings) -> Load:
        """The engine's admission control (``max_in_flight``), whose lag monitor feeds this
        gate's :meth:`excused_by_lag`."""
        load = Load.from_settings(settings, self.clock)
        self.lag = load.meter
        return load

    def excused_by_lag(self, permit: Permit, error: BaseException | None) -> bool:
        """Was this timeout the client's doing? When its event loop lagged for a good share of
        the attempt (overload), the timeout says nothing about the provider: the gate
        releases the permit instead of recording a failure."""
        if self.lag is None or not isinstance(error, ProviderTimeoutError):
            return False
        return self.lag.explains(permit.issued, self.clock())

    def admit(self, chain: Sequence[Target]) -> list[tuple[Target, bool]]:
        """Each target with ``force``: when every circuit is open, the target whose cool-down
        ends soonest is tried anyway rather than failing with no request at all. Likewise,
        when every target is predicted rate-limited, the admission checks exempt the one whose
        reset comes first (see ``juggler._routing.traffic``)."""
        for hook in self.on_admit:
            hook(chain)
        now = self.clock()
        keys = [(t.provider, t.model) for t in chain]
        if not keys or any(self.breakers.remaining(k, now) == 0 for k in keys):
            return [(t, False) for t in chain]
        soonest = self.breakers.soonest(keys, now)
        return [(t, (t.provider, t.model) == soonest) for t in chain]

    def permit(self, call: Call, target: Target, *, force: bool = False) -> Permit:
        """Leave to send a first request to ``target`` now, or record why not and raise
        :class:`Skipped`. A first request counts toward the retry budget's base."""
        left = call.left(self.clock())
        if left is not None and left <= 0:
            self._refuse(call.log, target, DEADLINE, retry=False)
        for check in self.checks:
            reason = check(call, target)
            if reason is not None:
                self._refuse(call.log, target, reason, retry=False)
        permit = self.breakers.acquire((target.provider, target.model), self.clock(), force=force)
        if permit is None:
            self._refuse(call.log, target, "circuit open", retry=False)
        assert permit is not None
        self.budget.request(self.clock())
        return permit

    def may_retry(self, call: Call, target: Target, wait: float) -> Permit | None:
        """Leave to retry ``target`` after ``wait`` seconds, or None, with the reason recorded:
        the deadline would pass, the circuit is open, or the retry budget is spent."""
        now = self.clock()
        left = call.left(now)
        why = None
        permit = None
        if left is not None and left - wait <= 0:
            why = DEADLINE
        else:
            permit = self.breakers.acquire((target.provider, target.model), now)
            if permit is None:
                why = "circuit open"
            elif not self.budget.try_spend(now):
                self.breakers.release(permit)
                permit, why = None, "retry budget exhausted"
        if why is not None:
            self.note(call.log, target, "skipped", 0.0, note=why, retry=True)
        return permit

    def _refuse(self, log: AttemptLog, target: Target, why: str, *, retry: bool) -> None:
        self.note(log, target, "skipped", 0.0, note=why, retry=retry)
        raise Skipped(why)

    async def pause(self, seconds: float, permit: Permit) -> None:
        """Wait before a retry that holds ``permit``; if the wait is cancelled the retry never
        goes out, so its permit (perhaps the half-open probe slot) is given back."""
        try:
            await self.sleep(seconds)
        except BaseException:
            self.breakers.release(permit)
            raise

    def release(self, permit: Permit) -> None:
        """Give a permit back unused (a cancelled attempt says nothing about the provider)."""
        self.breakers.release(permit)

    async def verdict(self, permit: Permit, error: BaseException | None) -> None:
        """Feed the breaker; when a circuit opens, share it and close the provider's idle
        connections (they would only slow the pools of healthy providers). An attempt the
        call's deadline cut short says nothing about the provider: its permit is released."""
        if cut_by_deadline(error) or self.excused_by_lag(permit, error):
            self.breakers.release(permit)
            return
        opened = self.breakers.record(permit, self.clock(), error)
        provider, _ = permit.key
        if opened:
            if self.shared is not None:  # never raises; bounded by the store's timeout
                seconds = self.breakers.remaining(permit.key, self.clock())
                await self.shared.open_circuit(permit.key, seconds)
            if self.on_open is not None:
                await self._best_effort("close idle connections", self.on_open, provider)
        elif error is None and permit.probe and self.shared is not None:
            await self.shared.close_circuit(permit.key)

    async def sync_shared(self, chain: Sequence[Target], left: float | None = None) -> None:
        """Adopt what other replicas know about ``chain`` (one round trip): circuits they
        opened, targets they saw rate-limited, the fleet's retry budget. A circuit whose
        cool-down is over here is probed by one replica only: the others wait a moment and
        look again (or close it, when that probe succeeded). ``left``: seconds left of the
        call's deadline; the shared store never takes longer than that (nor its own timeout).
        """
        if self.shared is None:
            return
        with anyio.move_on_after(math.inf if left is None else max(0.0, left)):
            keys = [(t.provider, t.model) for t in chain]
            view = await self.shared.read(keys)
            now = self.clock()
            for key, seconds in view.circuits.items():
                self.breakers.adopt(key, now, seconds)
            if isinstance(self.budget, SharedRetryBudget):
                self.budget.fleet = view.retries
            blocks = {k: now + s for k, s in view.blocked.items()}
            if blocks and len(blocks) == len(set(keys)):
                del blocks[min(blocks, key=blocks.__getitem__)]  # never block a whole chain
            self.shared_blocks = blocks
            if not self.breakers.enabled:
                return
            for key in keys:
                remote = view.circuits.get(key)
                if remote is None and self.breakers.state(key, now) != "half_open":
                    continue
                if remote:  # still cooling down somewhere: adopted above
                    continue
                claim = await self.shared.claim_probe(key, self.probe_ttl)
                breaker = self.breakers.get(key)
                if claim == "closed":  # a probe elsewhere succeeded
                    breaker.success(probe=True)
                elif claim == "mine":  # this replica probes; half-open here too, so that the
                    if not breaker.opened:  # probe's verdict is shared when it comes
                        breaker.opened, breaker.open_until = True, now
                else:  # another replica probes (or re-opened it): look again shortly
                    self.breakers.adopt(key, now, min(float(claim), self.probe_recheck))

    async def _best_effort(self, what: str, action: Callable[..., Any], *args: Any) -> Any:
        """Run a side task of the breaker (closing idle connections). Its failure must not
        fail the call: it is logged and the call goes on. (The shared store needs no such
        wrapper: every one of its operations is bounded and falls back by itself.)"""
        try:
            value = action(*args)
            return await value if inspect.isawaitable(value) else value
        except Exception as exc:
            logger.warning(
                "juggler: could not %s: %s", what, redact(f"{type(exc).__name__}: {exc}")
            )
            return None
