"""Test helpers for the resilience tests: virtual time and a Juggler over public fakes.

``VirtualTime`` runs a coroutine on an asyncio loop whose clock only moves when every task
is waiting: a 30 s cool-down or a 60 s timeout passes instantly, and anyio's timeouts,
sleeps and task groups behave exactly as they do for real. Nothing here touches a socket.

``scripted_juggler`` builds a Juggler over ``juggler.testing.FakeProvider`` instances, one
per provider named in the chains; each answers ``"ok from <name>"`` unless scripted with
``fake.plan(...)`` (``FakeHttpError``, ``FakeDelay``, ``FakeHang``, ``FakeStream``, ...).
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

from juggler import Juggler
from juggler.testing import FakeProvider

T = TypeVar("T")


class _JumpingSelector:
    """Wraps the loop's selector: when the loop would wait for a timer, jump the clock."""

    def __init__(self, inner: selectors.BaseSelector, clock: VirtualTime) -> None:
        self._inner = inner
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[Any]:
        events = self._inner.select(0)
        if events or timeout == 0:
            return events
        if timeout is None:
            return self._inner.select(5.0)  # nothing scheduled: only another thread can help
        self._clock.now += timeout
        return []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class VirtualTime:
    """A clock for the engine (``clock=vt.time``) and a loop runner driven by it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def time(self) -> float:
        """The engine's clock."""
        return self.now

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to completion on a fresh virtual-time loop."""
        clock = self

        class Loop(asyncio.SelectorEventLoop):
            def time(self) -> float:
                return clock.now

        loop = Loop()
        loop._selector = _JumpingSelector(loop._selector, self)  # type: ignore[attr-defined]
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()


def fake(name: str, models: dict[str, str] | None = None) -> FakeProvider:
    """A fake named ``name`` that answers ``"ok from <name>"`` until scripted otherwise."""
    return FakeProvider(name, then=f"ok from {name}", models=models or {"chat": "m"})


def scripted_juggler(
    chat: list[str] | None = None, vt: VirtualTime | None = None, **kwargs: Any
) -> tuple[Juggler, dict[str, FakeProvider]]:
    """A Juggler over fakes for the providers named in the chains (``"a/m"``, ``"b/m"``, …)."""
    chains = {"chat": chat, **{k: kwargs.pop(k) for k in ("embed", "rerank") if k in kwargs}}
    names = sorted({t.split("/", 1)[0] for ts in chains.values() if ts for t in ts})
    models: dict[str, dict[str, str]] = {n: {} for n in names}
    for capability, targets in chains.items():
        for t in targets or []:
            name, model = t.split("/", 1)
            models[name][capability] = model
    fakes = {n: fake(n, models[n]) for n in names}
    if vt is not None:
        kwargs.setdefault("clock", vt.time)
    kwargs.setdefault("rng", lambda: 0.5)
    juggler = Juggler(
        chat,
        embed=chains.get("embed"),
        rerank=chains.get("rerank"),
        providers=dict(fakes),
        env={},
        **kwargs,
    )
    assert all(juggler.providers[n] is f for n, f in fakes.items())
    return juggler, fakes


def outcomes(response: Any) -> list[tuple[str, str]]:
    """``[(provider, outcome), ...]`` of a response's models_used."""
    return [(a.provider, a.outcome) for a in response.models_used]
