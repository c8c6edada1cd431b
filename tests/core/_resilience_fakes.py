"""Test helpers for the resilience tests: virtual time and scripted in-process providers.

``VirtualTime`` runs a coroutine on an asyncio loop whose clock only moves when every task
is waiting: a 30 s cool-down or a 60 s timeout passes instantly, and anyio's timeouts,
sleeps and task groups behave exactly as they do for real. Nothing here touches a socket.

``Scripted`` is a wire format whose answers come from a script of steps: ``ok(latency)``,
``fail(status)``, ``hang()``. Errors are built by ``classify``, as the HTTP boundary does.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from juggler import Juggler
from juggler._exceptions import ProviderError
from juggler._types import Capability, Usage
from juggler.providers._classify import classify
from juggler.providers.base import BaseProvider
from juggler.providers.catalog import ProviderSpec
from juggler.providers.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    EmbedRequest,
    EmbedResult,
    RerankRequest,
    RerankResult,
)

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


@dataclass
class Step:
    """One scripted answer: wait ``latency`` seconds, then answer, fail or never answer."""

    latency: float = 0.0
    error: ProviderError | None = None
    hang: bool = False
    text: str = "ok"
    cut_after: int | None = None  # streams: fail after this many chunks


def ok(latency: float = 0.0, text: str = "ok") -> Step:
    """A successful answer after ``latency`` seconds."""
    return Step(latency=latency, text=text)


def fail(status: int, latency: float = 0.0, retry_after: float | None = None) -> Step:
    """An HTTP error answer, classified as the HTTP boundary would."""
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    error = classify(status, headers, '{"error": {"message": "scripted"}}', provider="", model="")
    return Step(latency=latency, error=error)


def hang() -> Step:
    """Never answers (until cancelled)."""
    return Step(hang=True)


class Scripted(BaseProvider):
    """A provider that follows ``script`` (then repeats ``default``) and counts its calls."""

    wire = "scripted"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.script: list[Step] = []
        self.default = ok()
        self.calls = 0
        self.cancelled = 0

    def plan(self, *steps: Step, default: Step | None = None) -> Scripted:
        """Queue ``steps``; afterwards answer with ``default`` (unchanged if None)."""
        self.script = list(steps)
        if default is not None:
            self.default = default
        return self

    async def _play(self, model: str) -> Step:
        self.calls += 1
        step = self.script.pop(0) if self.script else self.default
        try:
            if step.hang:
                await asyncio.sleep(10**9)
            await asyncio.sleep(step.latency)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if step.error is not None:
            e = step.error
            raise type(e)(
                e.message,
                provider=self.name,
                model=model,
                status_code=e.status_code,
                retry_after=e.retry_after,
            )
        return step

    async def chat(self, model: str, request: ChatRequest) -> ChatResult:
        step = await self._play(model)
        return ChatResult(f"{step.text} from {self.name}", model, usage=Usage.of(3, 2))

    async def stream_chat(self, model: str, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        step = await self._play(model)
        words = [f"{step.text} ", "from ", self.name]
        for index, word in enumerate(words):
            if step.cut_after is not None and index >= step.cut_after:
                raise classify(502, {}, "cut", provider=self.name, model=model)
            yield ChatDelta(text=word, model=model)
            await asyncio.sleep(0.01)
        yield ChatDelta(finish_reason="stop", usage=Usage.of(3, 3))

    async def embed(self, model: str, request: EmbedRequest) -> EmbedResult:
        await self._play(model)
        return EmbedResult([[float(len(t)), 1.0] for t in request.texts], model)

    async def rerank(self, model: str, request: RerankRequest) -> RerankResult:
        await self._play(model)
        ranking = sorted(
            ((i, float(len(d))) for i, d in enumerate(request.documents)), key=lambda p: -p[1]
        )
        return RerankResult(ranking, model)


def scripted(
    name: str, cls: type[Scripted] | None = None, models: dict[str, str] | None = None
) -> Scripted:
    """A scripted provider instance named ``name`` (pass it in ``providers=``)."""
    spec = ProviderSpec(
        name=name,
        wire="scripted",
        base_url=f"http://{name}.invalid",
        env_prefix=name.upper(),
        models={Capability(c): m for c, m in (models or {"chat": "m"}).items()},
    )
    return (cls or Scripted)(spec, api_key=None, base_url=spec.base_url)


def scripted_juggler(
    chat: list[str] | None = None, vt: VirtualTime | None = None, **kwargs: Any
) -> tuple[Juggler, dict[str, Scripted]]:
    """A Juggler over scripted providers named in the chains (``"a/m"``, ``"b/m"``, …)."""
    chains = {"chat": chat, **{k: kwargs.pop(k) for k in ("embed", "rerank") if k in kwargs}}
    names = sorted({t.split("/", 1)[0] for ts in chains.values() if ts for t in ts})
    models: dict[str, dict[str, str]] = {n: {} for n in names}
    for capability, targets in chains.items():
        for t in targets or []:
            name, model = t.split("/", 1)
            models[name][capability] = model
    providers: dict[str, Any] = {n: scripted(n, models=models[n]) for n in names}
    if vt is not None:
        kwargs.setdefault("clock", vt.time)
    kwargs.setdefault("rng", lambda: 0.5)
    juggler = Juggler(
        chat,
        embed=chains.get("embed"),
        rerank=chains.get("rerank"),
        providers=providers,
        env={},
        **kwargs,
    )
    fakes = {n: p for n, p in juggler.providers.items() if isinstance(p, Scripted)}
    return juggler, fakes


def outcomes(response: Any) -> list[tuple[str, str]]:
    """``[(provider, outcome), ...]`` of a response's models_used."""
    return [(a.provider, a.outcome) for a in response.models_used]
