"""``juggler demo``: the scripted story of what Juggler does, told in well under a minute.

Without ``--live`` it needs no keys and no network: a :class:`ProviderSimulator` on 127.0.0.1
plays a fleet named after real providers (see ``_demo_fleet``), and one Juggler is pointed at
it with ``providers=sim.providers_config()`` and explicit chains. Each step prints a heading,
one line of explanation, the answer, its ``models_used`` table and the health table.

With ``--live`` the same story runs against the real providers whose keys are set; steps
whose capability has no configured provider are skipped with a line saying so. The outage and
the hedge cannot be scripted on a real provider, so there a simulated provider is put in
front of the real chain.
"""

from __future__ import annotations

import os
import time
from typing import Any

from rich.console import Console
from rich.markup import escape

from juggler._exceptions import CapabilityNotConfiguredError, JugglerError
from juggler._juggler import Juggler
from juggler._types import Capability
from juggler.cli.demo.fleet import (
    PROMPT,
    chain_for,
    counts_line,
    demo_scenarios,
    health_source,
    tiny_wav,
)
from juggler.cli.demo.narration import Story
from juggler.cli.demo.resilience import ResilienceStory, resilience_available

__all__ = ["Story", "run_demo"]

DOCS = [
    "Fallbacks keep an app answering when a provider rate-limits or fails.",
    "Bananas are rich in potassium.",
    "A circuit breaker stops sending traffic to a provider that keeps failing.",
]


def _chain(juggler: Juggler | None, step: str, capability: Capability, live: bool) -> list[str]:
    if live:
        assert juggler is not None
        try:
            return [str(t) for t in juggler.chain(capability)]
        except CapabilityNotConfiguredError:
            return []
    chain, _missing = chain_for(step, single=step == "embed")
    return chain


def _step(story: Story, title: str, why: str, chain: list[str], cap: Capability) -> bool:
    story.heading(title, why)
    if not chain:
        story.skip(f"no configured provider offers {cap.value}")
        return False
    return True


def _run_calls(story: Story, juggler: Juggler, live: bool) -> None:
    """Steps 1 to 3: fallback, streaming, and the four other capabilities."""
    chat = _chain(juggler, "fallback", Capability.CHAT, live)
    why = (
        "The chain is tried in order: a rate-limited provider and a failing one are passed "
        "over, and the next one answers."
    )
    if _step(story, "A chat that falls back", why, chat, Capability.CHAT):
        answer = juggler.chat(PROMPT, targets=chat)
        story.result(str(answer), answer.models_used)

    stream_chain = _chain(juggler, "stream", Capability.CHAT, live)
    why = "Before the first token, a failure falls over invisibly; then tokens arrive live."
    if _step(story, "A streamed answer", why, stream_chain, Capability.CHAT):
        chunks = juggler.stream_chat("Count from one to five.", targets=stream_chain)
        story.out.print("[bold]answer:[/] ", end="")
        for chunk in chunks:
            story.out.print(escape(str(chunk)), end="")
        story.out.print()
        story.result(chunks.text, chunks.models_used, show_answer=False)

    embed_chain = _chain(juggler, "embed", Capability.EMBED, live)
    why = "Embeddings go through the same engine; a chain stays in one vector space."
    if _step(story, "An embedding", why, embed_chain, Capability.EMBED):
        vectors = juggler.embed(DOCS, targets=embed_chain)
        story.result(f"{len(vectors)} vectors x {vectors.dimensions} dims", vectors.models_used)

    rerank_chain = _chain(juggler, "rerank", Capability.RERANK, live)
    why = "Rerankers fall back too (LangChain's with_fallbacks has none for them)."
    if _step(story, "A rerank", why, rerank_chain, Capability.RERANK):
        ranked = juggler.rerank("What keeps an LLM app up?", DOCS, 2, targets=rerank_chain)
        best = f"{ranked[0]} (score {ranked.scores[0]:.3f})"
        story.result(best, ranked.models_used)

    stt_chain = _chain(juggler, "transcribe", Capability.TRANSCRIBE, live)
    why = "Speech to text: a quarter-second WAV made in memory with the stdlib wave module."
    if _step(story, "A transcription", why, stt_chain, Capability.TRANSCRIBE):
        text = juggler.transcribe(tiny_wav(), filename="tone.wav", targets=stt_chain)
        story.result(str(text) or "(silence)", text.models_used)

    tts_chain = _chain(juggler, "speak", Capability.SPEAK, live)
    why = "Text to speech: the answer is the audio itself, with models_used on it."
    if _step(story, "A speech call", why, tts_chain, Capability.SPEAK):
        audio = juggler.speak("Juggler keeps your calls in the air.", targets=tts_chain)
        story.result(f"{len(audio)} bytes of {audio.content_type}", audio.models_used)


def _simulated(out: Console) -> None:
    from juggler.testing import ProviderSimulator

    with ProviderSimulator(demo_scenarios()) as sim:
        missing = sorted(
            {n for step in ("fallback", "stream", "embed", "rerank") for n in chain_for(step)[1]}
        )
        if missing:
            out.print(f"[dim]not in this build yet (left out of the chains): {missing}[/]")
        config = sim.providers_config()
        chains: dict[str, Any] = {
            "chat": chain_for("fallback")[0] + chain_for("stream")[0],
            "embed": chain_for("embed", single=True)[0] or None,
            "rerank": chain_for("rerank")[0] or None,
            "transcribe": chain_for("transcribe")[0] or None,
            "speak": chain_for("speak")[0] or None,
        }
        chains["chat"] = list(dict.fromkeys(chains["chat"])) or None
        juggler = Juggler(
            providers=config, env={}, retry_base_wait=0.05, retry_max_wait=0.2, **chains
        )
        with juggler:
            out.print(f"[dim]simulated fleet on {sim.url}; chains: {juggler!r}[/]")
            story = Story(out, health_source(juggler))
            _run_calls(story, juggler, live=False)
        resilience = ResilienceStory(story, sim=sim, config=config)
        resilience.outage()
        resilience.hedge()
        out.print()
        counts = {name: dict(sim.counts(name)) for name in config}
        out.print(f"[dim]the simulator saw: {escape(counts_line(counts))}[/]", soft_wrap=True)


def _live(out: Console) -> None:
    juggler = Juggler(env=os.environ)
    if not juggler.providers:
        raise CapabilityNotConfiguredError(
            "--live needs at least one provider key (see `juggler providers`)"
        )
    with juggler:
        out.print(f"[dim]live chains from your keys: {juggler!r}[/]")
        story = Story(out, health_source(juggler))
        _run_calls(story, juggler, live=True)
        chat = _chain(juggler, "fallback", Capability.CHAT, live=True)
    resilience = ResilienceStory(story, sim=None, config={}, live_chain=chat)
    resilience.outage()
    resilience.hedge()


def run_demo(out: Console, *, live: bool = False) -> float:
    """Tell the story; returns the seconds it took. Raises ``JugglerError`` on failure."""
    started = time.perf_counter()
    mode = "live providers" if live else "a simulated fleet (no keys, no network)"
    out.rule(f"[bold]Juggler demo: {mode}")
    if not resilience_available():
        out.print("[dim]circuit breakers and hedging are not in this build yet[/]")
    try:
        if live:
            _live(out)
        else:
            _simulated(out)
    except JugglerError:
        raise
    elapsed = time.perf_counter() - started
    out.print()
    out.rule(f"[bold]done in {elapsed:.1f} s")
    return elapsed
