"""`Juggler`: the public façade. Async methods do the work; sync methods run them on the
instance's own long-lived event-loop thread."""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar, Unpack

import httpx

import juggler._routing.answers as calls
import juggler._validate as check
from juggler._config import ProviderConfig, SettingsKwargs, check_keywords, settings_from
from juggler._env import load_env_file
from juggler._fleet import ChainSpec, TargetSpec, build_fleet
from juggler._params import check_wires
from juggler._responses import (
    ChatResponse,
    EmbeddingResponse,
    RerankResponse,
    SpeechResponse,
    TranscriptionResponse,
)
from juggler._routing.accounting import Accounting
from juggler._routing.engine import Engine, Job
from juggler._routing.options import (
    CHAT_KEYWORDS,
    ROUTING_OPTIONS,
    CallOptions,
    ChatKwargs,
    RoutingOptions,
    call_options,
    split_options,
)
from juggler._routing.plan import Choices
from juggler._routing.probe import Health
from juggler._routing.record import Routed
from juggler._routing.stream import AsyncChatStream, opener
from juggler._sync import LoopThread, stream_twin, sync_twin
from juggler._telemetry import Telemetry
from juggler._types import Capability, Target
from juggler.providers.base import BaseProvider
from juggler.providers.transport import HttpClients
from juggler.providers.types import RerankResult, SpeechResult, TranscriptionResult
from juggler.state import SharedState
from juggler.state.factory import resolve_state

__all__ = ["Juggler"]

R = TypeVar("R")


class Juggler:
    """Routes each call through an ordered chain of provider/model targets.

    Args:
        chat, embed, rerank, transcribe, speak: the chain per capability, as
            ``"provider/model"``, ``Target`` or groups (README: "Spreading load"). Left
            out: every catalogued provider whose ``<NAME>_API_KEY`` is set, in order.
        providers: ``{"groq": {"api_key": ..., "base_url": ...}}``; wins over the environment.
            A name that is not catalogued adds an OpenAI-compatible server (``base_url``).
        http_client: your own ``httpx.AsyncClient`` (proxies, certificates, transports).
        allow_cross_space: let embedding fallback cross embedding spaces (see README).
        tier_neighbours: let ``tier=`` also take the neighbouring tiers, after the exact one.
        env: the environment to read keys from (default ``os.environ``).
        state: state shared between replicas, ``"redis://host:6379/0"`` or a
            :class:`juggler.state.SharedState` (default ``JUGGLER_STATE_URL``, else in process).
        breaker_store: deprecated alias of ``state=`` taking an old ``BreakerStore``.
        budgets: spending caps, ``{"openai": {"usd": 5, "per": "day"}}`` (README: budgets).
        telemetry, tracer_provider, meter_provider: OpenTelemetry (``juggler[otel]``).
        env_file: also read keys from this ``.env`` (set variables win; ``juggler[dotenv]``).
        clock, sleep, rng, wall: monotonic clock, sleep, random source, wall clock (tests).
        limiter: ``{"storage": "redis://...", "strategy": "fixed-window"}`` for the targets'
            ``rpm``/``tpm`` caps (default: in memory, moving window; needs ``limits``).
        **settings: any :class:`Settings` field (timeouts, retries, circuit_*, …).

    Every call also takes ``deadline`` and the routing options (:class:`RoutingOptions`).
    """

    def __init__(
        self,
        chat: Sequence[ChainSpec] | None = None,
        *,
        embed: Sequence[ChainSpec] | None = None,
        rerank: Sequence[ChainSpec] | None = None,
        transcribe: Sequence[ChainSpec] | None = None,
        speak: Sequence[ChainSpec] | None = None,
        providers: Mapping[str, Mapping[str, Any] | ProviderConfig] | None = None,
        http_client: httpx.AsyncClient | None = None,
        allow_cross_space: bool = False,
        tier_neighbours: bool = False,
        env: Mapping[str, str] | None = None,
        breaker_store: Any = None,
        budgets: Mapping[str, Any] | None = None,
        telemetry: Telemetry | None = None,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        env_file: str | Path | None = None,
        state: str | SharedState | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: Callable[[], float] | None = None,
        wall: Callable[[], float] | None = None,
        limiter: Mapping[str, Any] | None = None,
        **settings: Unpack[SettingsKwargs],
    ) -> None:
        self.settings = settings_from(settings)
        if env_file is not None:
            env = load_env_file(env_file, env)
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
        timing: dict[str, Any] = {"clock": clock, "sleep": sleep, "rng": rng, "wall": wall}
        shared = resolve_state(state, breaker_store, env)
        self.engine = Engine(
            self._fleet,
            self.settings,
            on_open=self._clients.drop_idle,
            shared=shared,
            tier_neighbours=tier_neighbours,
            accounting=Accounting.build(
                providers, budgets, self._fleet.providers, wall or time.time, shared
            ),
            telemetry=telemetry or Telemetry(tracer_provider, meter_provider),
            limiter=limiter,
            **{k: v for k, v in timing.items() if v is not None},
        )
        self._health = Health(self.engine, self._fleet.chains)
        self._loop = LoopThread(on_stop=self._clients.aclose)
        # A Juggler dropped without close() must not leave its loop thread behind.
        weakref.finalize(self, self._loop.stop).atexit = False

    @classmethod
    def from_config(
        cls, path: str | Path, *, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> Juggler:
        """A Juggler from a YAML or TOML file (``juggler/config.schema.json``); ``overrides``
        (``http_client=``, ``clock=``, ...) win over it. Loading sends no request."""
        from juggler._configfile import load_config

        return cls(**{**load_config(path, env), "env": env, **overrides})

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

    # ----- what every call shares -----

    def _options(self, given: Mapping[str, Any], deadline: float | None) -> CallOptions:
        """The call's routing options over the instance's settings, checked before anything
        else so a bad value fails first."""
        return call_options(self.settings, {**given, "deadline": deadline})

    def _chat_job(
        self,
        messages: Any,
        choices: Choices,
        deadline: float | None,
        params: Mapping[str, Any],
        *,
        stream: bool,
    ) -> Job[Any]:
        """A checked chat call as a Job: keywords, options and input first (before any
        request), then each planned target's wire must honour every parameter given."""
        check_keywords(params, CHAT_KEYWORDS, "chat()")
        given = dict(params)
        options = self._options(split_options(given), deadline)
        request = check.chat_request(messages, **given)
        providers = self._fleet.providers

        def honoured(chain: Sequence[Target]) -> None:
            check_wires(request, [(str(t), providers.get(t.provider)) for t in chain])

        op: Any = opener(request) if stream else (lambda p, t: p.chat(t.model, request))
        return Job(Capability.CHAT, op, options, request.cache_fields(), request, choices,
                   stream=stream, check=honoured)  # fmt: skip

    async def _run(self, job: Job[R]) -> Routed[R]:
        """Hand a validated call to the engine (and start the background prober, once)."""
        self._health.start_background_probe()
        return await self.engine.run(job)

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
        **params: Unpack[ChatKwargs],
    ) -> ChatResponse:
        """Chat with fallback. ``params``: temperature, max_tokens, top_p, stop, tools,
        tool_choice, response_format, seed, extra_body, and the routing options
        (parallel_attempts, hedge_after_ms, hedge, cache_enabled, cache_ttl_seconds)."""
        choices = Choices(targets, model, tier, preferred_provider, preferred_model)
        job = self._chat_job(messages, choices, deadline, params, stream=False)
        return calls.chat_response(await self._run(job))

    chat = sync_twin(achat)

    def astream_chat(
        self,
        messages: Any,
        *,
        targets: Sequence[TargetSpec] | None = None,
        model: str | None = None,
        tier: int | None = None,
        preferred_provider: str | None = None,
        preferred_model: str | None = None,
        deadline: float | None = None,
        **params: Unpack[ChatKwargs],
    ) -> AsyncChatStream:
        """Stream a chat answer with fallback before the first token (``async for``). Takes
        the routing options too; hedging and racing apply before the first token."""
        choices = Choices(targets, model, tier, preferred_provider, preferred_model)
        return AsyncChatStream(self.engine, self._chat_job(messages, choices, deadline, params,
                                                          stream=True))  # fmt: skip

    stream_chat = stream_twin(astream_chat)

    async def aembed(
        self,
        texts: str | Sequence[str],
        *,
        input_type: str | None = None,
        dimensions: int | None = None,
        targets: Sequence[TargetSpec] | None = None,
        deadline: float | None = None,
        **options: Unpack[RoutingOptions],
    ) -> EmbeddingResponse:
        """Embed texts; inputs are split to each provider's batch limit and kept in order.
        ``options``: the routing options (cache_enabled, parallel_attempts, hedge, …)."""
        check_keywords(
            options, ROUTING_OPTIONS | {"input_type", "dimensions", "targets"}, "embed()"
        )
        opts = self._options(dict(options), deadline)
        request = check.embed_request(texts, input_type=input_type, dimensions=dimensions)
        job = Job(Capability.EMBED, calls.embed_op(request), opts, request,
                  choices=Choices(targets))  # fmt: skip
        return calls.embedding_response(await self._run(job))

    embed = sync_twin(aembed)

    async def arerank(
        self,
        query: str,
        documents: Sequence[Any],
        top_k: int | None = None,
        *,
        text_of: Callable[[Any], str] | None = None,
        targets: Sequence[TargetSpec] | None = None,
        deadline: float | None = None,
        **options: Unpack[RoutingOptions],
    ) -> RerankResponse:
        """Order ``documents`` (strings, or objects with ``.text``/``text_of``) by relevance.
        ``options``: the routing options."""
        check_keywords(options, ROUTING_OPTIONS | {"top_k", "text_of", "targets"}, "rerank()")
        opts = self._options(dict(options), deadline)
        request = check.rerank_request(query, documents, top_k, text_of)
        job: Job[RerankResult] = Job(
            Capability.RERANK, lambda p, t: p.rerank(t.model, request), opts, request,
            choices=Choices(targets), meter=calls.rerank_meter,
        )  # fmt: skip
        return calls.rerank_response(await self._run(job), documents, top_k)

    rerank = sync_twin(arerank)

    async def atranscribe(
        self,
        audio: str | Path | bytes | IO[bytes],
        *,
        filename: str | None = None,
        language: str | None = None,
        prompt: str | None = None,
        targets: Sequence[TargetSpec] | None = None,
        deadline: float | None = None,
        **options: Unpack[RoutingOptions],
    ) -> TranscriptionResponse:
        """Transcribe audio (a path, bytes or a binary file; mp3, wav, m4a, webm, ogg, flac).
        ``options``: the routing options."""
        check_keywords(
            options, ROUTING_OPTIONS | {"filename", "language", "prompt", "targets"}, "transcribe()"
        )
        opts = self._options(dict(options), deadline)
        request = check.transcribe_request(
            audio, filename=filename, language=language, prompt=prompt
        )
        job: Job[TranscriptionResult] = Job(
            Capability.TRANSCRIBE, lambda p, t: p.transcribe(t.model, request), opts, request,
            choices=Choices(targets), meter=calls.transcription_meter,
        )  # fmt: skip
        return calls.transcription_response(await self._run(job))

    transcribe = sync_twin(atranscribe)

    async def aspeak(
        self,
        text: str,
        voice: str | None = None,
        format: str = "mp3",
        *,
        speed: float | None = None,
        targets: Sequence[TargetSpec] | None = None,
        deadline: float | None = None,
        **options: Unpack[RoutingOptions],
    ) -> SpeechResponse:
        """Text to speech; ``.write_to_file(path)`` saves it. ``options``: the routing options."""
        check_keywords(
            options, ROUTING_OPTIONS | {"voice", "format", "speed", "targets"}, "speak()"
        )
        opts = self._options(dict(options), deadline)
        request = check.speak_request(text, voice=voice, format=format, speed=speed)
        job: Job[SpeechResult] = Job(
            Capability.SPEAK, lambda p, t: p.speak(t.model, request), opts, request,
            choices=Choices(targets), meter=calls.speech_meter(request.text),
        )  # fmt: skip
        return calls.speech_response(await self._run(job))

    speak = sync_twin(aspeak)

    def get_health_status(self) -> dict[str, dict[str, Any]]:
        """Per provider: circuit_state (closed / open / half_open), success_rate, p50_ms,
        p95_ms, requests, failures, last_success_at (epoch seconds), and under ``models`` the
        same figures (plus last_error) per model. A provider's circuit is closed while any of
        its models' is, half_open while any is probing, else open."""
        return self._health.status()

    async def ahealth_check(self) -> dict[str, bool]:
        """Probe every configured provider with one minimal request: ``{provider: answered}``.
        A successful probe closes that target's open circuit."""
        return await self._health.check()

    health_check = sync_twin(ahealth_check)

    async def aclose(self) -> None:
        """Close the connection pools of the running event loop (and its background probe)."""
        self._health.stop_background_probe()
        await self._clients.aclose()
        if self.engine.gate.shared is not None:
            await self.engine.gate.shared.aclose()

    def close(self) -> None:
        """Close every pool and stop the loop thread. Safe to call twice. A sync call still
        running in another thread is cancelled (it raises instead of waiting forever)."""
        self._loop.stop()  # the loop thread cancels its tasks and closes its own pools

    def __enter__(self) -> Juggler:
        return self

    def __exit__(self, *exc: object) -> None:
        Juggler.close(self)  # BackupModelRouter's close() is awaitable

    async def __aenter__(self) -> Juggler:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
        Juggler.close(self)
