"""``FakeProvider``: a scripted, in-process provider (no HTTP) for unit tests of your own code.

Each call to the provider takes the next step of its script:

* a ``str``: the chat answer (streamed word by word) or the transcript (embed and rerank
  ignore it);
* a ``ToolCall`` or a list of them: a chat answer that calls tools;
* an exception (e.g. ``RateLimitError("slow down")``): raised as this attempt's failure;
* a result object (``ChatResult``, ``EmbedResult``, ``RerankResult``,
  ``TranscriptionResult``, ``SpeechResult``): returned as is;
* ``FakeStream(["Hel", "lo"], error=...)``: a stream that yields these deltas, then fails
  (a stream cut after N chunks is ``FakeStream(first_n, error=FakeHttpError(502))``); a
  delta may be a ``ChatDelta``, yielded as is, to mimic raw wire events (usage-only chunks,
  tool-call fragments); if one carries a ``finish_reason`` no closing chunk is added;
* ``FakeHttpError(429, retry_after=4.0)``: an HTTP error answer, turned into the error the
  real HTTP boundary raises for that status, headers and body (``RateLimitError`` here);
* ``FakeDelay(1.5, step)``: wait 1.5 s on the event loop's clock, then take ``step``
  (``FakeDelay(1.5, FakeHttpError(500))`` fails slowly; the default step is ``None``);
* ``FakeHang()``: never answers; only a timeout or a cancellation ends the call;
* ``None``: the simulator's deterministic answer for the capability.

Once the script is exhausted, every call takes the step ``then`` (default ``None``).
``fake.plan(*steps, then=...)`` replaces the rest of the script between calls. A callable
script is called as ``script(capability, request)`` and returns a step.

``fake.calls`` lists the calls received (``FakeCall``); ``fake.cancelled`` counts the calls
cancelled while they waited in a ``FakeDelay`` or ``FakeHang`` (a lost hedge or race, a
timeout, a caller that gave up), so a test can check that an abandoned attempt was stopped.

It plugs into a Juggler as an instance: ``Juggler(chat=["fake-a/m"], providers={"fake-a":
fake})`` (``fake.config()`` returns exactly that mapping). The Juggler then holds this very
object, so ``fake.calls`` shows what it received. Nothing is registered anywhere.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import anyio.lowlevel

import juggler.testing._behaviour as behaviour
from juggler._exceptions import ProviderError
from juggler._types import Capability, ToolCall, Usage
from juggler.providers._classify import classify
from juggler.providers.base import BaseProvider
from juggler.providers.catalog import ProviderSpec
from juggler.providers.transport import HttpClients
from juggler.providers.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    EmbedRequest,
    EmbedResult,
    RerankRequest,
    RerankResult,
    SpeakRequest,
    SpeechResult,
    ToolCallDelta,
    TranscribeRequest,
    TranscriptionResult,
)
from juggler.testing.wires.openai import chat_input

__all__ = [
    "FakeCall",
    "FakeDelay",
    "FakeHang",
    "FakeHttpError",
    "FakeProvider",
    "FakeStream",
]

_tokens = itertools.count(1)

Step = Any
Script = Sequence[Step] | Callable[[str, Any], Step]


@dataclass(slots=True)
class FakeHttpError:
    """A step (not an exception): an HTTP error answer, raised as the error the real HTTP
    boundary classifies it into (``juggler.providers._classify.classify``), naming the fake
    and the model of the call.

    Args:
        status: the HTTP status (429, 500, 503, 529, 401, ...).
        retry_after: seconds, sent as a ``retry-after`` header.
        headers: more response headers (e.g. ``x-ratelimit-*``).
        body: the response body (default: an OpenAI-style error object).
    """

    status: int
    retry_after: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"error": {"message": "scripted error"}}'

    def error(self, provider: str, model: str) -> ProviderError:
        """The ``ProviderError`` the HTTP boundary would raise for this answer."""
        headers = dict(self.headers)
        if self.retry_after is not None:
            headers["retry-after"] = str(self.retry_after)
        return classify(self.status, headers, self.body, provider=provider, model=model)


@dataclass(slots=True)
class FakeDelay:
    """Wait ``seconds`` on the event loop's clock, then take ``then`` (any other step)."""

    seconds: float
    then: Any = None


@dataclass(slots=True)
class FakeHang:
    """A call that never answers: only a timeout or a cancellation ends it."""


@dataclass(slots=True)
class FakeStream:
    """A scripted stream: these deltas, then ``error`` (if given) is raised.

    A delta is a ``str`` (text) or a ``ChatDelta`` (yielded as is). ``error`` is an
    exception or a :class:`FakeHttpError`.
    """

    deltas: Sequence[str | ChatDelta]
    error: BaseException | FakeHttpError | None = None


@dataclass(slots=True)
class FakeCall:
    """One call the fake received: capability, model and the wire-neutral request."""

    capability: str
    model: str
    request: Any = field(repr=False)


class FakeProvider(BaseProvider):
    """A scripted provider; see the module docstring.

    Args:
        name: the provider name used in targets (``"fake-a/any-model"``).
        script: steps taken one per call, or a callable ``(capability, request) -> step``.
        then: the step for every call once ``script`` is exhausted (default ``None``).
        models: default model per capability (default: ``"fake-model"`` for all five).
    """

    wire = "fake"

    def __init__(
        self,
        name: str,
        script: Script | None = None,
        *,
        then: Step = None,
        models: dict[str, str] | None = None,
    ) -> None:
        offered = models or {c.value: "fake-model" for c in Capability}
        spec = ProviderSpec(
            name=name,
            wire="fake",
            base_url=f"fake://{name}-{next(_tokens)}",
            env_prefix=name.upper().replace("-", "_"),
            models={Capability(k): v for k, v in offered.items()},
        )
        super().__init__(spec, api_key=None, base_url=spec.base_url, clients=_NO_CLIENTS)
        self._script = script
        self._steps: Iterator[Step] | None = (
            iter(script) if script is not None and not callable(script) else None
        )
        self._then: Step = then
        self.calls: list[FakeCall] = []
        self.cancelled = 0

    def config(self) -> dict[str, FakeProvider]:
        """``providers=`` entry for a Juggler: ``{name: this instance}``."""
        return {self.name: self}

    def plan(self, *steps: Step, then: Step = ...) -> FakeProvider:
        """Replace the rest of the script with ``steps``; ``then`` as in the constructor
        (unchanged if not given). Returns this fake."""
        self._script = list(steps)
        self._steps = iter(self._script)
        if then is not ...:
            self._then = then
        return self

    # ----- scripting -----

    async def _next(self, capability: Capability, model_name: str, request: Any) -> Step:
        self.calls.append(FakeCall(capability.value, model_name, request))
        # Every call is a checkpoint, as a network call is: other tasks run before any answer
        # (an error that came back without yielding would beat every call still starting).
        await anyio.lowlevel.checkpoint()
        if callable(self._script):
            step = self._script(capability.value, request)
        else:
            step = next(self._steps, self._then) if self._steps is not None else self._then
        try:
            while isinstance(step, FakeDelay | FakeHang):
                if isinstance(step, FakeHang):
                    await anyio.sleep_forever()
                else:
                    await anyio.sleep(step.seconds)
                    step = step.then
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise
        if isinstance(step, FakeHttpError):
            raise step.error(self.name, model_name)
        if isinstance(step, BaseException):
            if isinstance(step, ProviderError):
                step.provider = step.provider or self.name
                step.model = step.model or model_name
            raise step
        return step

    # ----- capabilities -----

    async def chat(self, model: str, request: ChatRequest) -> ChatResult:
        """The next scripted chat answer."""
        step = await self._next(Capability.CHAT, model, request)
        if isinstance(step, FakeStream):
            step = "".join(d if isinstance(d, str) else d.text for d in step.deltas)
        return _chat_result(step, model, request)

    async def stream_chat(self, model: str, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """The next scripted answer, streamed word by word (or a scripted ``FakeStream``)."""
        step = await self._next(Capability.CHAT, model, request)
        if isinstance(step, FakeStream):
            for delta in step.deltas:
                # a copy: a script (or `then`) may hand out the same stream many times
                if isinstance(delta, ChatDelta):
                    yield replace(delta)
                else:
                    yield ChatDelta(text=delta, model=model)
            if isinstance(step.error, FakeHttpError):
                raise step.error.error(self.name, model)
            if step.error is not None:
                raise step.error
            if not any(isinstance(d, ChatDelta) and d.finish_reason for d in step.deltas):
                yield ChatDelta(finish_reason="stop", usage=Usage.of(1, len(step.deltas)))
            return
        result = _chat_result(step, model, request)
        for i, call in enumerate(result.tool_calls):
            yield ChatDelta(
                tool_calls=[ToolCallDelta(i, call.id, call.name, _json(call.arguments))],
                model=model,
            )
        if result.content:
            for piece in behaviour.pieces(result.content):
                yield ChatDelta(text=piece, model=model)
        yield ChatDelta(finish_reason=result.finish_reason, usage=result.usage, model=model)

    async def embed(self, model: str, request: EmbedRequest) -> EmbedResult:
        """Scripted vectors, or deterministic hash-seeded ones."""
        step = await self._next(Capability.EMBED, model, request)
        if isinstance(step, EmbedResult):
            return step
        dims = request.dimensions or 256
        vectors = (
            step
            if isinstance(step, list)
            else [behaviour.embedding(t, dims) for t in request.texts]
        )
        return EmbedResult(vectors=vectors, model=model, usage=Usage.of(len(request.texts), None))

    async def rerank(self, model: str, request: RerankRequest) -> RerankResult:
        """Scripted ranking, or word-overlap scores."""
        step = await self._next(Capability.RERANK, model, request)
        if isinstance(step, RerankResult):
            return step
        ranking = step if isinstance(step, list) else _ranking(request)
        return RerankResult(ranking=ranking, model=model)

    async def transcribe(self, model: str, request: TranscribeRequest) -> TranscriptionResult:
        """A scripted transcript (a str), or the simulator's canned one."""
        step = await self._next(Capability.TRANSCRIBE, model, request)
        if isinstance(step, TranscriptionResult):
            return step
        canned = _transcription(request)
        text = step if isinstance(step, str) else canned["text"]
        return TranscriptionResult(
            text=text, model=model, language=canned["language"], duration=canned["duration"]
        )

    async def speak(self, model: str, request: SpeakRequest) -> SpeechResult:
        """Scripted audio bytes, or silent audio of the requested format."""
        step = await self._next(Capability.SPEAK, model, request)
        if isinstance(step, SpeechResult):
            return step
        audio, ctype = _speech(request)
        return SpeechResult(
            audio=step if isinstance(step, bytes) else audio, content_type=ctype, model=model
        )


# ----- helpers -----


def _json(args: Any) -> str:
    return json.dumps(args, ensure_ascii=False)


def _ranking(request: RerankRequest) -> list[tuple[int, float]]:
    ranked = behaviour.rerank_scores(request.query, request.documents)
    return ranked[: request.top_k] if request.top_k else ranked


def _transcription(request: TranscribeRequest) -> dict[str, Any]:
    return behaviour.transcription(request.audio, request.filename, request.language)


def _speech(request: SpeakRequest) -> tuple[bytes, str]:
    return behaviour.speech(request.text, request.format)


def _chat_result(step: Step, model_name: str, request: ChatRequest) -> ChatResult:
    if isinstance(step, ChatResult):
        return step
    if isinstance(step, ToolCall):
        step = [step]
    if isinstance(step, list) and all(isinstance(s, ToolCall) for s in step):
        return ChatResult(
            content="",
            model=model_name,
            tool_calls=list(step),
            usage=Usage.of(1, 1),
            finish_reason="tool_calls",
        )
    if isinstance(step, str):
        return ChatResult(
            content=step,
            model=model_name,
            usage=Usage.of(1, behaviour.count_tokens(step)),
            finish_reason="stop",
        )
    r = behaviour.reply(chat_input(_openai_body(model_name, request)))
    calls = [ToolCall(id=cid, name=name, arguments=args) for cid, name, args in r.tool_calls]
    return ChatResult(
        content=r.text,
        model=model_name,
        tool_calls=calls,
        usage=Usage.of(r.prompt_tokens, r.completion_tokens),
        finish_reason=r.finish,
    )


def _openai_body(model_name: str, request: ChatRequest) -> dict[str, Any]:
    return {
        "model": model_name,
        "messages": request.messages,
        "tools": request.tools,
        "tool_choice": request.tool_choice,
        "response_format": request.response_format,
        "max_tokens": request.max_tokens,
        "stop": request.stop,
    }


class _NoClients(HttpClients):
    """A fake never sends HTTP; asking it for a client is a bug."""

    def __init__(self) -> None:
        pass

    def get(self, provider: str) -> Any:
        raise RuntimeError("FakeProvider does not use HTTP")


_NO_CLIENTS = _NoClients()
