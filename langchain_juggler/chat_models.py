"""`ChatJuggler`: a LangChain chat model whose every call goes through a Juggler chain.

Sync paths (invoke, stream, batch) use Juggler's sync API, async paths (ainvoke, astream,
abatch) its async API, natively. Every answer says who served it: ``response_metadata``
carries ``model_name``, ``model_provider`` and ``models_used`` (and so does ``llm_output``);
a stream carries them, with the usage, on its last chunk only.
"""

from __future__ import annotations

import asyncio
import difflib
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from operator import itemgetter
from typing import Any, ClassVar, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManager,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.chat_models import (
    agenerate_from_stream,
    generate_from_stream,
)
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableMap,
    RunnablePassthrough,
    RunnableSerializable,
    ensure_config,
)
from langchain_core.runnables.configurable import RunnableConfigurableFields
from langchain_core.runnables.utils import AnyConfigurableField
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel, Field

from juggler import Capability, ChatResponse, InvalidRequestError, Target
from juggler._params import CHAT_PARAMS, ReasoningEffort, check_wires, unknown_keyword_error

from ._construct import JugglerBacked, cloning
from ._convert import (
    PROVIDER,
    chat_result,
    final_chunk,
    format_tool_choice,
    format_tools,
    json_schema_format,
    models_used_dicts,
    stream_chunk,
    to_openai_messages,
)
from ._tracing import StreamRunTagger, gateway_info, tag_run

__all__ = ["ChatJuggler"]

# Per-call keyword arguments: the chat parameters (declared once, in juggler._params), the
# routing options, ``model`` (a target to try first) and LangChain's ``stream_usage``.
_ROUTING_PARAMS = frozenset({"targets", "tier", "preferred_provider", "preferred_model"})
_CALL_PARAMS = frozenset(CHAT_PARAMS) | _ROUTING_PARAMS | {"model", "stream_usage"}
# The ChatJuggler fields sent as chat parameters on every call (a per-call value wins).
_DEFAULT_FIELDS = (
    "temperature",
    "max_tokens",
    "top_p",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "logprobs",
    "top_logprobs",
    "reasoning_effort",
)
StructuredMethod = Literal["function_calling", "json_schema", "json_mode"]


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
            params = self._default_params()
            chat_request("check", **{k: v for k, v in params.items() if k in CHAT_PARAMS})
            self._check_wires(params, None)
        except Exception:
            self.close()
            raise
        if isinstance(self.n, bool) or self.n < 1:
            raise InvalidRequestError(f"n must be a positive integer, got {self.n!r}")

    @property
    def _identifying_params(self) -> dict[str, Any]:
        """What LangChain reports as the run's ``invocation_params`` (besides ``stop``)."""
        params = {k: v for k, v in self._default_params().items() if k != "headers"}
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

    def _resolve_model(self, model: str) -> str:
        """A per-call ``model=``: a target string, or a model id of a chain target."""
        for target in self._chain():
            if target.model == model:
                return str(target)
        if "/" not in model:
            chain = ", ".join(str(t) for t in self._chain())
            close = difflib.get_close_matches(model, [t.model for t in self._chain()], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidRequestError(
                f"model={model!r} is not a model of this chain ({chain}){hint}; "
                "pass a target string such as 'openai/gpt-4.1-mini'"
            )
        return model

    def _default_params(self) -> dict[str, Any]:
        """The request parameters set on the model (fields, model_kwargs, extra_body)."""
        params: dict[str, Any] = {name: getattr(self, name) for name in _DEFAULT_FIELDS}
        params["stop"] = self.stop
        extra: dict[str, Any] = {}
        for key, value in self.model_kwargs.items():
            if key in CHAT_PARAMS and key not in ("extra_body", "headers"):
                params[key] = value  # as ChatOpenAI: a known parameter in model_kwargs
            else:
                extra[key] = value
        extra.update(self.extra_body or {})
        params["extra_body"] = extra or None
        params["headers"] = self.default_headers
        return {k: v for k, v in params.items() if v is not None and v != []}

    def _request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The OpenAI-shaped messages and the keyword arguments for Juggler's chat call."""
        for key in kwargs:
            if key not in _CALL_PARAMS:
                raise unknown_keyword_error(key, _CALL_PARAMS, where="ChatJuggler (per call)")
        params = self._default_params()
        if stop is not None:
            params["stop"] = stop
        extra = kwargs.pop("extra_body", None)
        params.update(kwargs)
        if extra:
            params["extra_body"] = {**params.get("extra_body", {}), **extra}
        params = {k: v for k, v in params.items() if v is not None and v != []}
        params.pop("stream_usage", None)
        params.pop("n", None)
        model = params.pop("model", None) or self.model
        if model is not None:
            params["model"] = self._resolve_model(model)
        if "targets" not in params and (targets := self.call_targets()) is not None:
            params["targets"] = targets
        self._check_wires(params, params.get("model"))
        return to_openai_messages(messages), params

    def _check_wires(self, params: dict[str, Any], first: str | None) -> None:
        """Refuse, before any request, a parameter a target of the chain cannot honour."""
        chain = [Target.parse(t) for t in params.get("targets") or []] or self._chain()
        if first is not None:
            chain = [Target.parse(first), *chain]
        providers = self.client.providers
        check_wires(params, [(str(t), providers.get(t.provider)) for t in chain])

    def _call_n(self, kwargs: dict[str, Any]) -> int:
        n = kwargs.get("n", self.n)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidRequestError(f"n must be a positive integer, got {n!r}")
        return n

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
        n = self._call_n(kwargs)
        wire, params = self._request(messages, stop, kwargs)
        try:
            responses = [self.client.chat(wire, **params) for _ in range(n)]
        except Exception as exc:
            _tag_failure(run_manager, exc)
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
        n = self._call_n(kwargs)
        wire, params = self._request(messages, stop, kwargs)
        try:
            responses = list(
                await asyncio.gather(*(self.client.achat(wire, **params) for _ in range(n)))
            )
        except Exception as exc:
            _tag_failure(run_manager, exc)
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
            logprobs = _logprobs(response)
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
        wire, params = self._request(messages, stop, kwargs)
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
            _tag_failure(run_manager, exc)
            raise
        finally:
            if not stream.done:  # the caller stopped early: close the connection
                stream.close()
        tag_run(run_manager, stream.models_used, stream.provider, stream.model)
        yield self._last_chunk(stream, self._stream_usage(kwargs))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        wire, params = self._request(messages, stop, kwargs)
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
            _tag_failure(run_manager, exc)
            raise
        finally:
            if not stream.done:
                await stream.aclose()
        tag_run(run_manager, stream.models_used, stream.provider, stream.model)
        yield self._last_chunk(stream, self._stream_usage(kwargs))

    @staticmethod
    def _last_chunk(stream: Any, with_usage: bool = True) -> ChatGenerationChunk:
        attempts = stream.models_used
        return final_chunk(
            provider=stream.provider,
            model=stream.model,
            attempts=attempts,
            usage=stream.usage if with_usage else None,
            finish_reason=stream.finish_reason,
            extra_generation_info=gateway_info(stream.provider, stream.model, attempts),
        )

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
        chain = [str(t) for t in self._chain()]
        model = kwargs.get("model") or self.model
        first = model if isinstance(model, str) else (chain[0] if chain else PROVIDER)
        if "/" in first:
            provider, _, name = first.partition("/")
            params["ls_provider"], params["ls_model_name"] = provider, name
        else:
            params["ls_provider"], params["ls_model_name"] = PROVIDER, first
        params["juggler_chain"] = chain  # type: ignore[typeddict-unknown-key]
        return params

    def get_num_tokens(self, text: str) -> int:
        """A character estimate (about 4 characters a token, generous), as Juggler's own
        context-window check: no tokenizer download, no ``transformers``. The chain's
        models each count differently, so an exact count of one would be wrong anyway."""
        return len(text) // 4 + 1 if text else 0

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """The same estimate over the messages as Juggler sends them (tools included)."""
        from juggler._routing.plan import estimate_tokens

        count = estimate_tokens(to_openai_messages(messages))
        if tools:
            count += len(json.dumps(format_tools(list(tools)))) // 4
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
        yield from super().stream(input, _with_tagger(config, self), stop=stop, **kwargs)

    async def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        """Async :meth:`stream`."""
        async for chunk in super().astream(input, _with_tagger(config, self), stop=stop, **kwargs):
            yield chunk

    def configurable_fields(
        self, **kwargs: AnyConfigurableField
    ) -> RunnableSerializable[LanguageModelInput, AIMessage]:
        """LangChain's ``configurable_fields``; a configured call reuses this model's Juggler
        (pools, circuit breakers, loop thread) unless a field it depends on is configured."""
        configured = super().configurable_fields(**kwargs)
        assert isinstance(configured, RunnableConfigurableFields)
        return _SharedJugglerFields(default=self, fields=configured.fields)

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
        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        trace_format = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        llm: Runnable[Any, Any]
        parser: Runnable[Any, Any]
        if method == "function_calling":
            name = convert_to_openai_tool(schema)["function"]["name"]
            llm = self.bind_tools(
                [schema], tool_choice=name, strict=strict, ls_structured_output_format=trace_format
            )
            parser = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)  # type: ignore[list-item]
                if is_pydantic
                else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
            )
        elif method in ("json_schema", "json_mode"):
            response_format = (
                json_schema_format(convert_to_json_schema(schema), strict)
                if method == "json_schema"
                else {"type": "json_object"}
            )
            llm = self.bind(
                response_format=response_format, ls_structured_output_format=trace_format
            )
            parser = (
                PydanticOutputParser(pydantic_object=schema)  # type: ignore[arg-type]
                if is_pydantic
                else JsonOutputParser()
            )
        else:
            raise ValueError(
                f"method must be 'function_calling', 'json_schema' or 'json_mode', got {method!r}"
            )
        if not include_raw:
            return llm | parser
        parse_raw = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        no_parse = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse_raw.with_fallbacks(
            [no_parse], exception_key="parsing_error"
        )


class _SharedJugglerFields(RunnableConfigurableFields):
    """``configurable_fields`` whose per-call copies share the default model's Juggler.

    LangChain builds a new model from the default's fields on every configured call; without
    this, each such call would build a Juggler (a loop thread and connection pools, never
    closed) and start with fresh circuit breakers.
    """

    def _prepare(
        self, config: RunnableConfig | None = None
    ) -> tuple[Runnable[Any, Any], RunnableConfig]:
        assert isinstance(self.default, JugglerBacked)
        with cloning(self.default):
            return super()._prepare(config)


def _with_tagger(config: RunnableConfig | None, model: BaseChatModel) -> RunnableConfig:
    """``config`` whose callback manager starts with a :class:`StreamRunTagger` that can see
    the manager's tracers (those of ``config``, the model's own and the environment's)."""
    config = ensure_config(config)
    try:
        # Only the inheritable part: LangChain adds the model's own callbacks, tags and
        # metadata to a copy of this manager itself (passing them here would double them).
        manager = CallbackManager.configure(
            config.get("callbacks"), None, model.verbose, config.get("tags"), None
        )
    except Exception:  # never break a stream over tracing
        return config
    tagger = StreamRunTagger()
    tagger.handlers = manager.handlers
    manager.handlers.insert(0, tagger)
    return {**config, "callbacks": manager}


def _logprobs(response: ChatResponse) -> Any:
    """The token log-probabilities of an OpenAI-shaped answer, when it has them."""
    raw = response.raw
    if isinstance(raw, dict):
        choices = raw.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            return choices[0].get("logprobs")
    return None


def _tag_failure(run_manager: Any, exc: BaseException) -> None:
    """A failed call still puts its attempts in the run's metadata."""
    attempts = getattr(exc, "models_used", None)
    if attempts:
        tag_run(run_manager, attempts)
