"""`Juggler`: the public façade. Async methods do the work; sync methods run them on the
instance's own long-lived event-loop thread."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import httpx

from . import _validate as check
from ._engine import AttemptLog, Engine, Routed
from ._errors import InvalidRequestError
from ._fleet import TargetSpec, build_fleet
from ._http import HttpClients
from ._loop import LoopThread
from ._plan import estimate_tokens, plan_chain, resolve_target, space_of
from ._requests import ChatRequest, EmbedResult
from ._responses import (
    ChatResponse,
    EmbeddingResponse,
    RerankResponse,
    SpeechResponse,
    TranscriptionResponse,
)
from ._settings import ProviderConfig, Settings
from ._stream import AsyncChatStream, ChatStream
from ._types import Capability, Target, Usage
from .providers.base import BaseProvider

__all__ = ["Juggler"]


class Juggler:
    """Routes each call through an ordered chain of provider/model targets.

    Args:
        chat, embed, rerank, transcribe, speak: the chain per capability, as
            ``"provider/model"`` strings or ``Target`` objects. Left out: every catalogued
            provider whose ``<NAME>_API_KEY`` is set, in the default order.
        providers: ``{"groq": {"api_key": ..., "base_url": ...}}``; wins over the environment.
            A name that is not catalogued adds an OpenAI-compatible server (``base_url``).
        http_client: your own ``httpx.AsyncClient`` (proxies, certificates, transports).
        allow_cross_space: let embedding fallback cross embedding spaces (see README).
        tier_neighbours: let ``tier=`` also take the neighbouring tiers, after the exact one.
        env: the environment to read keys from (default ``os.environ``).
        **settings: any :class:`Settings` field (timeouts, retries, deadline, …).
    """

    def __init__(
        self,
        chat: Sequence[TargetSpec] | None = None,
        *,
        embed: Sequence[TargetSpec] | None = None,
        rerank: Sequence[TargetSpec] | None = None,
        transcribe: Sequence[TargetSpec] | None = None,
        speak: Sequence[TargetSpec] | None = None,
        providers: Mapping[str, Mapping[str, Any] | ProviderConfig] | None = None,
        http_client: httpx.AsyncClient | None = None,
        allow_cross_space: bool = False,
        tier_neighbours: bool = False,
        env: Mapping[str, str] | None = None,
        **settings: Any,
    ) -> None:
        self.settings = Settings(**settings)
        self._clients = HttpClients(self.settings, http_client)
        explicit = {
            Capability.CHAT: chat,
            Capability.EMBED: embed,
            Capability.RERANK: rerank,
            Capability.TRANSCRIBE: transcribe,
            Capability.SPEAK: speak,
        }
        self._fleet = build_fleet(
            explicit, providers, self._clients, env=env, allow_cross_space=allow_cross_space
        )
        self.tier_neighbours = tier_neighbours
        self.engine = Engine(self._fleet.providers, self.settings)
        self._loop = LoopThread()

    def __repr__(self) -> str:
        chains = {c.value: [str(t) for t in ts] for c, ts in self._fleet.chains.items() if ts}
        return f"Juggler({chains})"

    @property
    def providers(self) -> dict[str, BaseProvider]:
        """Configured provider instances by name."""
        return dict(self._fleet.providers)

    def chain(self, capability: Capability | str) -> list[Target]:
        """The configured chain of a capability."""
        return list(self._fleet.chain(Capability(capability)))

    # ----- planning shared by every capability -----

    def _plan(
        self,
        capability: Capability,
        log: AttemptLog,
        *,
        targets: Sequence[TargetSpec] | None = None,
        tier: int | None = None,
        preferred_provider: str | None = None,
        preferred_model: str | None = None,
        model: str | None = None,
        request: ChatRequest | None = None,
    ) -> list[Target]:
        chain = (
            [self._known(Target.parse(t), capability) for t in targets]
            if targets is not None
            else self._fleet.chain(capability)
        )
        if model is not None:  # a framework's per-call model=: a target string, to the front
            front = self._known(Target.parse(model), capability)
            preferred_provider, preferred_model = front.provider, front.model
            chain = [front, *[t for t in chain if t != front]]
        plan = plan_chain(
            chain,
            tier=tier,
            tier_neighbours=self.tier_neighbours,
            preferred_provider=str(preferred_provider) if preferred_provider else None,
            preferred_model=preferred_model,
            prompt_tokens=estimate_tokens(request.messages) if request else None,
            max_tokens=request.max_tokens if request else None,
        )
        for target, reason in plan.skipped:
            self.engine.note(log, target, "skipped", 0.0, note=reason)
        return [self._known(t, capability) for t in plan.targets]

    def _known(self, target: Target, capability: Capability) -> Target:
        provider = self._fleet.providers.get(target.provider)
        if provider is None:
            raise InvalidRequestError(
                f"provider {target.provider!r} is not configured in this Juggler; configured: "
                f"{', '.join(sorted(self._fleet.providers))}"
            )
        if capability not in provider.capabilities:
            raise InvalidRequestError(f"{target} cannot serve {capability.value}")
        return resolve_target(target, provider.spec)

    # ----- chat -----

    async def achat(
        self,
        messages: Any,
        *,
        targets: Sequence[TargetSpec] | None = None,
        model: str | None = None,
        tier: int | None = None,
        preferred_provider: str | None = None,
        preferred_model: str | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> ChatResponse:
        """Chat with fallback. ``params``: temperature, max_tokens, top_p, stop, tools,
        tool_choice, response_format, seed, extra_body."""
        request = check.chat_request(messages, **params)
        log = AttemptLog()
        chain = self._plan(
            Capability.CHAT,
            log,
            targets=targets,
            model=model,
            tier=tier,
            preferred_provider=preferred_provider,
            preferred_model=preferred_model,
            request=request,
        )
        routed = await self.engine.run(
            chain, lambda p, t: p.chat(t.model, request), deadline=deadline, log=log
        )
        r = routed.result
        return ChatResponse(
            r.content,
            provider=routed.target.provider,
            model=r.model or routed.target.model,
            latency_ms=routed.latency_ms,
            usage=r.usage,
            finish_reason=r.finish_reason,
            tool_calls=r.tool_calls,
            models_used=routed.attempts,
            raw=r.raw,
        )

    def chat(self, messages: Any, **kwargs: Any) -> ChatResponse:
        """Sync :meth:`achat`."""
        return self._loop.run(self.achat(messages, **kwargs))

    def astream_chat(
        self,
        messages: Any,
        *,
        targets: Sequence[TargetSpec] | None = None,
        model: str | None = None,
        tier: int | None = None,
        preferred_provider: str | None = None,
        preferred_model: str | None = None,
        **params: Any,
    ) -> AsyncChatStream:
        """Stream a chat answer with fallback before the first token (``async for``)."""
        request = check.chat_request(messages, **params)
        log = AttemptLog()
        chain = self._plan(
            Capability.CHAT,
            log,
            targets=targets,
            model=model,
            tier=tier,
            preferred_provider=preferred_provider,
            preferred_model=preferred_model,
            request=request,
        )
        return AsyncChatStream(
            self.engine, chain, lambda p, t: p.stream_chat(t.model, request), log
        )

    def stream_chat(self, messages: Any, **kwargs: Any) -> ChatStream:
        """Sync :meth:`astream_chat` (``for chunk in ...``)."""
        return ChatStream(self.astream_chat(messages, **kwargs), self._loop.run)

    # ----- embeddings -----

    async def aembed(
        self,
        texts: str | Sequence[str],
        *,
        input_type: str | None = None,
        dimensions: int | None = None,
        targets: Sequence[TargetSpec] | None = None,
        deadline: float | None = None,
    ) -> EmbeddingResponse:
        """Embed texts; inputs are split to each provider's batch limit and kept in order."""
        request = check.embed_request(texts, input_type=input_type, dimensions=dimensions)
        log = AttemptLog()
        chain = self._plan(Capability.EMBED, log, targets=targets)

        async def op(provider: BaseProvider, target: Target) -> EmbedResult:
            size = provider.spec.embed_batch_limit
            vectors: list[list[float]] = []
            result: EmbedResult | None = None
            tokens = 0
            for start in range(0, len(request.texts), size):
                part = type(request)(request.texts[start : start + size], input_type, dimensions)
                result = await provider.embed(target.model, part)
                vectors.extend(result.vectors)
                tokens += result.usage.input_tokens or 0
            assert result is not None
            return EmbedResult(vectors, result.model, Usage.of(tokens or None, None))

        routed: Routed[EmbedResult] = await self.engine.run(chain, op, deadline=deadline, log=log)
        r = routed.result
        return EmbeddingResponse(
            r.vectors,
            provider=routed.target.provider,
            model=routed.target.model,
            space=space_of(routed.target),
            latency_ms=routed.latency_ms,
            usage=r.usage,
            models_used=routed.attempts,
        )

    def embed(self, texts: str | Sequence[str], **kwargs: Any) -> EmbeddingResponse:
        """Sync :meth:`aembed`."""
        return self._loop.run(self.aembed(texts, **kwargs))

    # ----- rerank -----

    async def arerank(
        self,
        query: str,
        documents: Sequence[Any],
        top_k: int | None = None,
        *,
        text_of: Callable[[Any], str] | None = None,
        targets: Sequence[TargetSpec] | None = None,
        deadline: float | None = None,
    ) -> RerankResponse:
        """Order ``documents`` (strings, or objects with ``.text``/``text_of``) by relevance."""
        request = check.rerank_request(query, documents, top_k, text_of)
        log = AttemptLog()
        chain = self._plan(Capability.RERANK, log, targets=targets)
        routed = await self.engine.run(
            chain, lambda p, t: p.rerank(t.model, request), deadline=deadline, log=log
        )
        ranking = sorted(routed.result.ranking, key=lambda pair: -pair[1])
        if top_k is not None:
            ranking = ranking[:top_k]
        docs = list(documents)
        return RerankResponse(
            [docs[i] for i, _ in ranking],
            scores=[s for _, s in ranking],
            indices=[i for i, _ in ranking],
            provider=routed.target.provider,
            model=routed.target.model,
            latency_ms=routed.latency_ms,
            usage=routed.result.usage,
            models_used=routed.attempts,
        )

    def rerank(
        self, query: str, documents: Sequence[Any], top_k: int | None = None, **kwargs: Any
    ) -> RerankResponse:
        """Sync :meth:`arerank`."""
        return self._loop.run(self.arerank(query, documents, top_k, **kwargs))

    # ----- speech to text, text to speech -----

    async def atranscribe(
        self,
        audio: str | Path | bytes | IO[bytes],
        *,
        filename: str | None = None,
        language: str | None = None,
        prompt: str | None = None,
        targets: Sequence[TargetSpec] | None = None,
        deadline: float | None = None,
    ) -> TranscriptionResponse:
        """Transcribe audio (a path, bytes or a binary file; mp3, wav, m4a, webm, ogg, flac)."""
        request = check.transcribe_request(
            audio, filename=filename, language=language, prompt=prompt
        )
        log = AttemptLog()
        chain = self._plan(Capability.TRANSCRIBE, log, targets=targets)
        routed = await self.engine.run(
            chain, lambda p, t: p.transcribe(t.model, request), deadline=deadline, log=log
        )
        r = routed.result
        return TranscriptionResponse(
            r.text,
            provider=routed.target.provider,
            model=routed.target.model,
            language=r.language,
            duration=r.duration,
            segments=r.segments,
            latency_ms=routed.latency_ms,
            models_used=routed.attempts,
        )

    def transcribe(
        self, audio: str | Path | bytes | IO[bytes], **kwargs: Any
    ) -> TranscriptionResponse:
        """Sync :meth:`atranscribe`."""
        return self._loop.run(self.atranscribe(audio, **kwargs))

    async def aspeak(
        self,
        text: str,
        voice: str | None = None,
        format: str = "mp3",
        *,
        speed: float | None = None,
        targets: Sequence[TargetSpec] | None = None,
        deadline: float | None = None,
    ) -> SpeechResponse:
        """Text to speech; ``.write_to_file(path)`` saves it."""
        request = check.speak_request(text, voice=voice, format=format, speed=speed)
        log = AttemptLog()
        chain = self._plan(Capability.SPEAK, log, targets=targets)
        routed = await self.engine.run(
            chain, lambda p, t: p.speak(t.model, request), deadline=deadline, log=log
        )
        r = routed.result
        return SpeechResponse(
            r.audio,
            content_type=r.content_type,
            provider=routed.target.provider,
            model=routed.target.model,
            latency_ms=routed.latency_ms,
            models_used=routed.attempts,
        )

    def speak(
        self, text: str, voice: str | None = None, format: str = "mp3", **kwargs: Any
    ) -> SpeechResponse:
        """Sync :meth:`aspeak`."""
        return self._loop.run(self.aspeak(text, voice, format, **kwargs))

    # ----- lifecycle -----

    async def aclose(self) -> None:
        """Close the connection pools of the running event loop."""
        await self._clients.aclose()

    def close(self) -> None:
        """Close every pool and stop the loop thread. Safe to call twice."""
        if self._loop.running:
            self._loop.run(self._clients.aclose())
            self._loop.stop()

    def __enter__(self) -> Juggler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Juggler:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
        self.close()
