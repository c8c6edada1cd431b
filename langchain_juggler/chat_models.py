"""`ChatJuggler`: a LangChain chat model whose every call goes through a Juggler chain.

Sync paths (invoke, stream, batch) use Juggler's sync API, async paths (ainvoke, astream,
abatch) its async API, natively. Every answer says who served it: ``response_metadata``
carries ``model_name``, ``model_provider`` and ``models_used`` (and so does ``llm_output``);
a stream carries them, with the usage, on its last chunk only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, ClassVar

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.chat_models import (
    agenerate_from_stream,
    generate_from_stream,
)
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableSerializable,
)
from langchain_core.runnables.configurable import RunnableConfigurableFields
from langchain_core.runnables.utils import AnyConfigurableField
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from juggler import Capability, ChatResponse, InvalidRequestError, Target
from juggler._params import CHAT_PARAMS, ReasoningEffort
from juggler._types import CHARS_PER_TOKEN

from ._construct import JugglerBacked, SharedJugglerFields
from ._convert import (
    chat_result,
    format_tool_choice,
    format_tools,
    logprobs_of,
    models_used_dicts,
    stream_chunk,
    to_openai_messages,
)
from ._request import call_n, call_request, check_chain_wires, default_params
from ._structured import StructuredMethod, structured_output
from ._tracing import gateway_info, last_chunk, start_params, tag_failure, tag_run, with_tagger

__all__ = ["ChatJuggler"]


class ChatJuggler(JugglerBacked, BaseChatModel):
    """A chat model that falls back along a chain of provider/model targets.

    ```python
    llm = ChatJuggler(targets=["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"])
    msg = llm.invoke("hi")
    msg.response_metadata["models_used"]   # every attempt, as plain dicts
    llm.invoke("hi", model="openai/gpt-4.1-mini")  # this target first, for this call
    ```

    Besides the shared constructor arguments (``targets``, ``providers``, ``juggler``,
    ``api_key``, ``timeout``, ``max_retries`` and any Juggler option), it takes the usual
    sampling parameters, used as defaults for every call.

    It also takes ChatOpenAI's constructor arguments, forwarded to every wire that supports
    them (a target whose wire cannot honour one is refused before any request, never
    silently dropped; see the README).

    Attributes:
        model: a target string put at the front of the chain for every call (a per-call
            ``model=`` wins). Without ``targets`` it is the whole chain; a bare model id
            (``"gpt-4o-mini"``) is resolved through the catalogue to the providers serving it.
        temperature, max_tokens, top_p, seed, stop, presence_penalty, frequency_penalty,
        logprobs, top_logprobs, reasoning_effort: request defaults.
        n: answers per call; more than 1 makes n routed calls (n generations).
        default_headers: extra HTTP headers on every request.
        model_kwargs: more request parameters; chat parameters Juggler knows are used as
            such, anything else is merged into the body like ``extra_body``.
        extra_body: vendor-specific JSON merged into the request body.
        stream_usage: put token usage on the last streamed chunk.
        streaming: make ``invoke`` stream under the hood (callbacks then see tokens).
    """

    capability: ClassVar[Capability] = Capability.CHAT

    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    n: int = 1
    reasoning_effort: ReasoningEffort | None = None
    default_headers: dict[str, str] | None = Field(default=None, exclude=True, repr=False)
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    extra_body: dict[str, Any] | None = None
    stream_usage: bool = True
    streaming: bool = False

    @property
    def _llm_type(self) -> str:
        return "juggler-chat"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._check_defaults()

    def _construction_model(self) -> str | None:
        return self.model if self.targets is None else None

    def _check_defaults(self) -> None:
        """The constructor's request parameters, checked now rather than at the first call."""
        from juggler._validate import chat_request

        try:
            params = default_params(self)
            chat_request("check", **{k: v for k, v in params.items() if k in CHAT_PARAMS})
            check_chain_wires(self, params)
        except Exception:
            self.close()
            raise
        if isinstance(self.n, bool) or self.n < 1:
            raise InvalidRequestError(f"n must be a positive integer, got {self.n!r}")

    @property
    def _identifying_params(self) -> dict[str, Any]:
        """What LangChain reports as the run's ``invocation_params`` (besides ``stop``)."""
        params = {k: v for k, v in default_params(self).items() if k != "headers"}
        return {
            "model": self.model,
            "targets": [str(t) for t in self._chain()],
            "n": self.n,
            "streaming": self.streaming,
            **params,
        }

    # ----- requests -----

    def _chain(self) -> list[Target]:
        given = self.call_targets()
        if given is not None:
            return [Target.parse(t) for t in given]
        return self.client.chain(Capability.CHAT)

    def _stream_usage(self, kwargs: dict[str, Any]) -> bool:
        return bool(kwargs.get("stream_usage", self.stream_usage))

    # ----- LangChain entry points -----

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._streams_itself(False, run_manager, kwargs):
            return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
        n = call_n(self.n, kwargs)
        wire, params = call_request(self, messages, stop, kwargs)
        try:
            responses = [self.client.chat(wire, **params) for _ in range(n)]
        except Exception as exc:
            tag_failure(run_manager, exc)
            raise
        return self._result(run_manager, responses)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._streams_itself(True, run_manager, kwargs):
            stream = self._astream(messages, stop, run_manager, **kwargs)
            return await agenerate_from_stream(stream)
        n = call_n(self.n, kwargs)
        wire, params = call_request(self, messages, stop, kwargs)
        try:
            responses = list(
                await asyncio.gather(*(self.client.achat(wire, **params) for _ in range(n)))
            )
        except Exception as exc:
            tag_failure(run_manager, exc)
            raise
        return self._result(run_manager, responses)

    def _should_stream(
        self,
        *,
        async_api: bool,
        run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> bool:
        # With a run manager (invoke/batch, ``streaming=True`` or a streaming callback),
        # ``_generate`` streams itself: LangChain would call ``_stream`` without the run
        # manager, and the run would lose its models_used metadata.
        if run_manager is not None:
            return False
        return super()._should_stream(async_api=async_api, run_manager=run_manager, **kwargs)

    def _streams_itself(self, async_api: bool, run_manager: Any, kwargs: dict[str, Any]) -> bool:
        """Should this ``_generate`` call stream (what LangChain would have decided)?"""
        if run_manager is None:
            return False
        wanted = super()._should_stream(async_api=async_api, run_manager=run_manager, **kwargs)
        kwargs.pop("stream", None)
        return wanted

    def _result(self, run_manager: Any, responses: list[ChatResponse]) -> ChatResult:
        """One generation per answer; the run is tagged with every attempt of them all."""
        attempts = [a for r in responses for a in r.models_used]
        last = responses[-1]
        tag_run(run_manager, attempts, last.provider, last.model)
        results = []
        for response in responses:
            info = gateway_info(response.provider, response.model, response.models_used)
            logprobs = logprobs_of(response)
            if logprobs is not None:
                info = {**info, "logprobs": logprobs}
            results.append(chat_result(response, info))
        if len(results) == 1:
            return results[0]
        return ChatResult(
            generations=[g for r in results for g in r.generations],
            llm_output={"models_used": models_used_dicts(attempts)},
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        wire, params = call_request(self, messages, stop, kwargs)
        stream = self.client.stream_chat(wire, **params)
        sent: dict[int, set[str]] = {}  # per tool-call index: name/id already sent
        try:
            for chunk in stream:
                generation = stream_chunk(chunk, sent)
                if generation is not None:
                    if run_manager is not None:
                        run_manager.on_llm_new_token(generation.text, chunk=generation)
                    yield generation
        except Exception as exc:
            tag_failure(run_manager, exc)
            raise
        finally:
            if not stream.done:  # the caller stopped early: close the connection
                stream.close()
        tag_run(run_manager, stream.models_used, stream.provider, stream.model)
        yield last_chunk(stream, self._stream_usage(kwargs))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        wire, params = call_request(self, messages, stop, kwargs)
        stream = self.client.astream_chat(wire, **params)
        sent: dict[int, set[str]] = {}  # per tool-call index: name/id already sent
        try:
            async for chunk in stream:
                generation = stream_chunk(chunk, sent)
                if generation is not None:
                    if run_manager is not None:
                        await run_manager.on_llm_new_token(generation.text, chunk=generation)
                    yield generation
        except Exception as exc:
            tag_failure(run_manager, exc)
            raise
        finally:
            if not stream.done:
                await stream.aclose()
        tag_run(run_manager, stream.models_used, stream.provider, stream.model)
        yield last_chunk(stream, self._stream_usage(kwargs))

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        outputs = [o for o in llm_outputs if o]
        if len(outputs) == 1:
            return dict(outputs[0])
        return {"models_used": [a for o in outputs for a in o.get("models_used", [])]}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        """The run's metadata at its start: the requested (first) target as ``ls_provider`` /
        ``ls_model_name`` and the whole chain as ``juggler_chain``. When the call ends the
        run's ``ls_provider``/``ls_model_name`` are replaced by the model that answered."""
        params = super()._get_ls_params(stop=stop, **kwargs)
        model = kwargs.get("model") or self.model
        return start_params(params, [str(t) for t in self._chain()], model)

    def get_num_tokens(self, text: str) -> int:
        """A character estimate (about 4 characters a token, generous), as Juggler's own
        context-window check: no tokenizer download, no ``transformers``. The chain's
        models each count differently, so an exact count of one would be wrong anyway."""
        return len(text) // CHARS_PER_TOKEN + 1 if text else 0

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """The same estimate over the messages as Juggler sends them (tools included)."""
        from juggler._routing.plan import estimate_tokens

        count = estimate_tokens(to_openai_messages(messages))
        if tools:
            count += len(json.dumps(format_tools(list(tools)))) // CHARS_PER_TOKEN
        return count

    # ----- streams: run metadata -----

    def stream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        """LangChain's ``stream``; the run's metadata gets ``models_used`` as for ``invoke``."""
        yield from super().stream(input, with_tagger(config, self), stop=stop, **kwargs)

    async def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        """Async :meth:`stream`."""
        async for chunk in super().astream(input, with_tagger(config, self), stop=stop, **kwargs):
            yield chunk

    def configurable_fields(
        self, **kwargs: AnyConfigurableField
    ) -> RunnableSerializable[LanguageModelInput, AIMessage]:
        """LangChain's ``configurable_fields``; a configured call reuses this model's Juggler
        (pools, circuit breakers, loop thread) unless a field it depends on is configured."""
        configured = super().configurable_fields(**kwargs)
        assert isinstance(configured, RunnableConfigurableFields)
        return SharedJugglerFields(default=self, fields=configured.fields)

    # ----- tools and structured output -----

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (any LangChain tool form). ``tool_choice``: ``"auto"``, ``"none"``,
        ``"any"``/``"required"`` (some tool), a tool's name (that tool) or ``True`` (the
        only tool)."""
        formatted = format_tools(tools, strict=strict)
        choice = format_tool_choice(tool_choice, formatted)
        if choice is not None:
            kwargs["tool_choice"] = choice
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        method: StructuredMethod = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Answers parsed into ``schema`` (a pydantic class, TypedDict or JSON schema).

        ``method``: ``"function_calling"`` (default: a forced tool call, which every chat
        provider in the catalogue supports, so fallback never changes the method),
        ``"json_schema"`` (``response_format`` with the schema) or ``"json_mode"``
        (``response_format`` json_object; say the keys you want in the prompt).
        """
        if kwargs:
            raise ValueError(f"Received unsupported arguments {kwargs}")
        return structured_output(self, schema, method, include_raw=include_raw, strict=strict)
