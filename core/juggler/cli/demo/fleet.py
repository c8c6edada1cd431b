"""The cast of ``juggler demo``: a simulated fleet named after real providers, the chains the
story uses, a small health recorder, and a tiny WAV file made with the stdlib.

The scenarios are seeded, so the story is the same on every run: cerebras is rate-limited
(429 with Retry-After), groq is flaky (half its answers are 500s), nvidia is healthy,
anthropic is overloaded (529), cohere's reranker is down (503), together is slow, and google,
openai and voyage answer the other capabilities.
"""

from __future__ import annotations

import io
import math
import statistics
import struct
import wave
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from juggler._attempts import ModelAttempt
from juggler._types import Capability, Target
from juggler.providers import WIRE_FORMATS
from juggler.providers.base import BaseProvider
from juggler.providers.catalog import CATALOG

if TYPE_CHECKING:
    from juggler._juggler import Juggler

__all__ = [
    "HealthRecorder",
    "chain_for",
    "default_target",
    "demo_scenarios",
    "speaks",
    "story_line",
    "tiny_wav",
]

# With seed 7 the first two draws of groq's random stream are failures and the third is not:
# the fallback chat and the transcription fall over, the speech call then succeeds on groq.
GROQ_SEED = 7
SLOW_MS = 1500.0

# Who the story asks first, per step; the demo keeps the ones this build can speak to.
STORY_CHAINS: dict[str, tuple[tuple[str, Capability], ...]] = {
    "fallback": (
        ("cerebras", Capability.CHAT),
        ("groq", Capability.CHAT),
        ("nvidia", Capability.CHAT),
        ("openai", Capability.CHAT),
    ),
    "stream": (("anthropic", Capability.CHAT), ("nvidia", Capability.CHAT)),
    "embed": (
        ("voyage", Capability.EMBED),
        ("openai", Capability.EMBED),
        ("google", Capability.EMBED),
        ("nvidia", Capability.EMBED),
    ),
    "rerank": (
        ("cohere", Capability.RERANK),
        ("voyage", Capability.RERANK),
        ("nvidia", Capability.RERANK),
    ),
    "transcribe": (("groq", Capability.TRANSCRIBE), ("openai", Capability.TRANSCRIBE)),
    "speak": (("groq", Capability.SPEAK), ("openai", Capability.SPEAK)),
    "outage": (("nvidia", Capability.CHAT), ("openai", Capability.CHAT)),
    "hedge": (("together", Capability.CHAT), ("nvidia", Capability.CHAT)),
}


def demo_scenarios() -> dict[str, Any]:
    """``{provider: Scenario}`` for the simulated fleet."""
    from juggler.testing import Scenario

    return {
        "cerebras": Scenario(error_rates={429: 1.0}, retry_after=2),
        "groq": Scenario(error_rates={500: 0.5}, seed=GROQ_SEED),
        "nvidia": Scenario(latency_ms=40, latency="normal", jitter_ms=8, seed=1),
        "anthropic": Scenario(error_rates={529: 1.0}),
        "cohere": Scenario(error_rates={503: 1.0}),
        "together": Scenario(latency_ms=SLOW_MS),
        "google": Scenario(latency_ms=30),
        "openai": Scenario(latency_ms=60, latency="normal", jitter_ms=10, seed=2),
        "voyage": Scenario(latency_ms=25),
    }


def speaks(name: str, capability: Capability) -> bool:
    """True when ``name`` is catalogued with ``capability`` and this build's wire format for it
    implements that capability (a wire format still being written does not)."""
    spec = CATALOG.get(name)
    if spec is None or capability not in spec.capabilities:
        return False
    wire = WIRE_FORMATS.get(spec.wire)
    if wire is None:
        return False
    method = {
        Capability.CHAT: "chat",
        Capability.EMBED: "embed",
        Capability.RERANK: "rerank",
        Capability.TRANSCRIBE: "transcribe",
        Capability.SPEAK: "speak",
    }[capability]
    return getattr(wire, method) is not getattr(BaseProvider, method)


def default_target(name: str, capability: Capability) -> str:
    """``provider/model`` with the catalogue's default model for ``capability``."""
    return f"{name}/{CATALOG[name].models[capability]}"


def chain_for(step: str, *, single: bool = False) -> tuple[list[str], list[str]]:
    """The step's chain (targets this build can serve) and the providers left out."""
    chain, missing = [], []
    for name, capability in STORY_CHAINS[step]:
        if speaks(name, capability):
            chain.append(default_target(name, capability))
        else:
            missing.append(name)
    return (chain[:1] if single else chain), missing


def story_line(attempts: Iterable[ModelAttempt]) -> str:
    """One line telling what happened: ``cerebras 429 → groq 500 → nvidia answered (41 ms)``."""
    parts = []
    for a in attempts:
        if a.outcome == "success":
            flag = " (hedge)" if a.hedged else ""
            parts.append(f"{a.provider} answered{flag} in {a.elapsed_ms:.0f} ms")
        elif a.outcome == "skipped":
            parts.append(f"{a.provider} skipped ({a.error})")
        elif a.outcome == "cancelled":
            parts.append(f"{a.provider} cancelled (lost the race)")
        else:
            code = a.status_code if a.status_code else (a.error_type or "error")
            parts.append(f"{a.provider} {code}")
    return " → ".join(parts)


@dataclass
class _Figures:
    requests: int = 0
    failures: int = 0
    times: list[float] = field(default_factory=list)
    last_error: str | None = None


class HealthRecorder:
    """Health figures per target, from the engine's attempt observers.

    Used for the demo's health table when the Juggler has no ``get_health_status()`` yet;
    skipped and cancelled attempts are not requests the provider answered, so they are left
    out.
    """

    def __init__(self) -> None:
        self._figures: dict[str, _Figures] = {}

    def __call__(self, target: Target, attempt: ModelAttempt) -> None:
        """Engine observer: count one attempt."""
        if attempt.outcome not in ("success", "error"):
            return
        figures = self._figures.setdefault(f"{target.provider}/{target.model}", _Figures())
        figures.requests += 1
        figures.times.append(attempt.elapsed_ms)
        if not attempt.success:
            figures.failures += 1
            figures.last_error = f"{attempt.status_code or ''} {attempt.error_type or ''}".strip()

    def status(self) -> dict[str, dict[str, Any]]:
        """``{"provider/model": {success_rate, p50_ms, p95_ms, requests, failures, …}}``."""
        out: dict[str, dict[str, Any]] = {}
        for key, f in self._figures.items():
            times = sorted(f.times)
            p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)] if times else None
            out[key] = {
                "circuit_state": None,
                "success_rate": (f.requests - f.failures) / f.requests if f.requests else None,
                "p50_ms": statistics.median(times) if times else None,
                "p95_ms": p95,
                "requests": f.requests,
                "failures": f.failures,
                "last_error": f.last_error,
            }
        return out


def tiny_wav(seconds: float = 0.25, rate: int = 16_000, hz: float = 440.0) -> bytes:
    """A short, valid mono 16-bit WAV (a sine tone), built in memory."""
    frames = int(seconds * rate)
    samples = (int(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()


def counts_line(counts: Mapping[str, Mapping[Any, int]]) -> str:
    """``groq 200x1 500x2, nvidia 200x3`` from the simulator's per-status counts."""
    parts = []
    for name, by_status in counts.items():
        if by_status:
            cells = " ".join(
                f"{s}x{n}" for s, n in sorted(by_status.items(), key=lambda kv: str(kv[0]))
            )
            parts.append(f"{name} {cells}")
    return ", ".join(parts) or "none"


PROMPT = "In one sentence: why do LLM apps need fallbacks?"


def health_source(juggler: Juggler) -> Callable[[], Any]:
    """What the demo shows after each step: the Juggler's own health status."""
    return juggler.get_health_status
