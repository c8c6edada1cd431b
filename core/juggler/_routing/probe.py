"""Health: the status report, active probes of every provider, and background probing
(:class:`Health`, which the Juggler's health methods delegate to).

``health_status`` joins the breakers' state with the health figures, per provider and model.
``health_check`` sends each configured provider one minimal request (a one-token chat; an
embedding of one word for embed-only providers; the cheapest call it offers otherwise) and
says which answered. A probe goes through the breaker even when the circuit is open, so a
successful probe of an open circuit closes it; background probing does exactly that, every
``background_probe_interval`` seconds, for open circuits only.
"""

from __future__ import annotations

import asyncio
import struct
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import anyio

from juggler._policy.health import percentile
from juggler._routing.engine import Engine
from juggler._routing.options import CallOptions
from juggler._routing.record import AttemptLog, Call
from juggler._types import Capability, Provider, Target
from juggler.providers.base import BaseProvider
from juggler.providers.types import (
    ChatRequest,
    EmbedRequest,
    RerankRequest,
    SpeakRequest,
    TranscribeRequest,
)

__all__ = [
    "PROBE_TIMEOUT",
    "Health",
    "health_check",
    "health_status",
    "probe",
    "probe_open_circuits",
]

PROBE_TIMEOUT = 15.0  # a probe answers in about a second when healthy; never wait a minute


_STATE_ORDER = ("closed", "half_open", "open")


def provider_circuit_state(states: Sequence[str]) -> str:
    """A provider's circuit state from its models' (one breaker per provider and model).

    The provider is as available as its most available model: ``closed`` when any model's
    circuit is closed, else ``half_open`` when any is half-open, else ``open`` (every model's
    circuit is open, as after a 401/403, which opens them all). A provider with no known
    model is ``closed``.
    """
    known = [s for s in states if s in _STATE_ORDER]
    return min(known, key=_STATE_ORDER.index) if known else "closed"


def health_status(
    engine: Engine, chains: Mapping[Capability, Sequence[Target]]
) -> dict[str, dict[str, Any]]:
    """Keyed by provider, as the seed's ``get_health_status()``::

        {provider: {circuit_state, success_rate, p50_ms, p95_ms, requests, failures,
                    last_success_at,
                    models: {model: {circuit_state, success_rate, p50_ms, p95_ms, requests,
                                     failures, last_error, last_success_at}}}}

    for every configured target and every one tried. A provider's figures pool its models'
    (success rate over their recent verdicts, latency percentiles over their recent
    latencies, summed counts, the latest success); its ``circuit_state`` follows
    :func:`provider_circuit_state`.
    """
    now = engine.clock()
    keys = {(t.provider, t.model) for chain in chains.values() for t in chain}
    keys.update(engine.health.keys())
    keys.update(engine.breakers.known())
    models: dict[str, dict[str, dict[str, Any]]] = {}
    for provider, model in sorted(keys):
        figures = {"circuit_state": engine.breakers.state((provider, model), now)}
        figures.update(engine.health.snapshot(provider, model))
        models.setdefault(provider, {})[model] = figures
    out: dict[str, dict[str, Any]] = {}
    for provider, per_model in models.items():
        verdicts: list[bool] = []
        latencies: list[float] = []
        for model in per_model:
            health = engine.health.get(provider, model)
            verdicts += health.outcomes
            latencies += health.latencies
        successes = [f["last_success_at"] for f in per_model.values() if f["last_success_at"]]
        out[provider] = {
            "circuit_state": provider_circuit_state(
                [f["circuit_state"] for f in per_model.values()]
            ),
            "success_rate": round(sum(verdicts) / len(verdicts), 4) if verdicts else None,
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
            "requests": sum(f["requests"] for f in per_model.values()),
            "failures": sum(f["failures"] for f in per_model.values()),
            "last_success_at": max(successes) if successes else None,
            "models": per_model,
        }
    return out


def _silent_wav(seconds: float = 0.1, rate: int = 8000) -> bytes:
    frames = int(seconds * rate)
    data = b"\x00\x00" * frames
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, 1, rate,
        rate * 2, 2, 16, b"data", len(data),
    )  # fmt: skip
    return header + data


def _probe_op(capability: Capability) -> Callable[[BaseProvider, Target], Awaitable[Any]]:
    if capability is Capability.CHAT:
        request = ChatRequest([{"role": "user", "content": "ping"}], max_tokens=1)
        return lambda p, t: p.chat(t.model, request)
    if capability is Capability.EMBED:
        return lambda p, t: p.embed(t.model, EmbedRequest(["ping"]))
    if capability is Capability.RERANK:
        return lambda p, t: p.rerank(t.model, RerankRequest("ping", ["ping", "pong"], 1))
    if capability is Capability.SPEAK:
        return lambda p, t: p.speak(t.model, SpeakRequest("ok"))
    audio = TranscribeRequest(_silent_wav(), "probe.wav", "audio/wav")
    return lambda p, t: p.transcribe(t.model, audio)


_CHEAPEST = (
    Capability.CHAT,
    Capability.EMBED,
    Capability.RERANK,
    Capability.SPEAK,
    Capability.TRANSCRIBE,
)


def probe_target(
    provider: BaseProvider, chains: Mapping[Capability, Sequence[Target]]
) -> tuple[Target, Capability] | None:
    """The cheapest probe of ``provider``: its first target in the cheapest capability."""
    for capability in _CHEAPEST:
        for target in chains.get(capability, ()):
            if target.provider == provider.name:
                return target, capability
    for capability in _CHEAPEST:
        model = provider.spec.models.get(capability)
        if model:
            return Target(provider=provider.name, model=model), capability
    return None


async def probe(engine: Engine, target: Target, capability: Capability) -> bool:
    """One minimal request to ``target``, through its breaker (a success closes an open
    circuit) and into the health figures. True when it answered."""
    # A timeout, not a deadline: a probe that does not answer in time is the provider's
    # failure and must reach the breaker (a deadline cut would be released as no verdict).
    limit = min(engine.settings.timeout, PROBE_TIMEOUT)
    call = Call(AttemptLog(), CallOptions(), engine.clock(), None, limit, False, capability)
    key = (target.provider, target.model)
    permit = engine.breakers.acquire(key, engine.clock(), force=True)
    assert permit is not None  # forced
    try:
        held = await engine.attempt(call, target, _probe_op(capability), permit)
    except Exception:
        return False
    await engine.settle(held.attempt)
    return True


async def health_check(
    engine: Engine, chains: Mapping[Capability, Sequence[Target]]
) -> dict[str, bool]:
    """Probe every configured provider at once: ``{provider: answered}``. The keys are
    :class:`~juggler.Provider` members for catalogued providers (a ``str`` enum, so
    ``results["groq"]`` works) and plain names for custom ones. A provider without its API
    key is not probed (no request could succeed): it is reported False."""
    results: dict[str, bool] = {}

    async def one(provider: BaseProvider) -> None:
        found = probe_target(provider, chains)
        keyless = getattr(provider, "missing_key", None) is not None
        results[provider.name] = found is not None and not keyless and await probe(engine, *found)

    async with anyio.create_task_group() as group:
        for provider in engine.providers.values():
            group.start_soon(one, provider)
    return {_provider_key(name): results[name] for name in engine.providers}


def _provider_key(name: str) -> str:
    """``Provider.GROQ`` for a catalogued name, else the name itself."""
    try:
        return Provider(name)
    except ValueError:
        return name


async def probe_open_circuits(
    engine: Engine, chains: Mapping[Capability, Sequence[Target]], interval: float
) -> None:
    """Forever: every ``interval`` seconds, probe the targets whose circuit is not closed."""
    capability_of = {(t.provider, t.model): cap for cap, chain in chains.items() for t in chain}
    while True:
        await engine.sleep(interval)
        now = engine.clock()
        for key in engine.breakers.known():
            if engine.breakers.state(key, now) != "closed" and key in capability_of:
                target = next(t for t in chains[capability_of[key]] if (t.provider, t.model) == key)
                await probe(engine, target, capability_of[key])


class Health:
    """A Juggler's health: its status report, its probes and its background probe (one task
    per event loop, started by the first call when ``background_probe_interval`` is set)."""

    def __init__(self, engine: Engine, chains: Mapping[Capability, Sequence[Target]]) -> None:
        self.engine = engine
        self.chains = chains
        self._probers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = (
            weakref.WeakKeyDictionary()
        )

    def status(self) -> dict[str, dict[str, Any]]:
        """See :meth:`juggler.Juggler.get_health_status`. Beside the providers: ``"budgets"``
        (spend in each budget's window) when budgets are set, and ``"shared_state"`` (up or
        down, last error, timeouts) when Redis is configured."""
        status = health_status(self.engine, self.chains)
        accounts = self.engine.accounting
        if accounts.budgets:  # spend against each budget in its current window
            status["budgets"] = accounts.budgets.snapshot(accounts.wall())
        if self.engine.gate.shared is not None:
            status["shared_state"] = self.engine.gate.shared.state_status()
        return status

    async def check(self) -> dict[str, bool]:
        """See :meth:`juggler.Juggler.ahealth_check`."""
        return await health_check(self.engine, self.chains)

    def start_background_probe(self) -> None:
        """Start this loop's background prober, once, when an interval is configured."""
        interval = self.engine.settings.background_probe_interval
        if interval is None:
            return
        loop = asyncio.get_running_loop()
        task = self._probers.get(loop)
        if task is None or task.done():
            coro = probe_open_circuits(self.engine, self.chains, interval)
            self._probers[loop] = loop.create_task(coro)

    def stop_background_probe(self) -> None:
        """Stop this loop's background prober."""
        task = self._probers.pop(asyncio.get_running_loop(), None)
        if task is not None:
            task.cancel()
