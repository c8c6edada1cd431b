"""`ChatJuggler`: a LangChain chat model whose every call goes through a Juggler chain.

Sync paths (invoke, stream, batch) use Juggler's sync API, async paths (ainvoke, astream,
abatch) its async API, natively. Every answer says who served it: ``response_metadata``
carries ``model_name``, ``model_provider`` and ``models_used`` (and so does ``llm_output``);
a stream carries them, with the usage, on its last chunk only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from operator import itemgetter
from typing import Any, ClassVar, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, BaseMessage
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
)
from langchain_core.runnables.configurable import RunnableConfigurableFields
from langchain_core.runnables.utils import AnyConfigurableField
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel

from juggler import Capability, InvalidRequestError, Target

from ._construct import JugglerBacked, cloning
from ._convert import (
    PROVIDER,
    chat_result,
    final_chunk,
    format_tool_choice,
    format_tools,
    json_schema_format,
    stream_chunk,
    to_openai_messages,
)
from ._tracing import gateway_info, tag_run

__all__ = ["ChatJuggler"]

# Per-call keyword arguments Juggler understands (besides messages).
_CHAT_PARAMS = frozenset(
    {
        "temperature",
        "max_tokens",
        "top_p",
        "stop",
        "tools",
        "tool_choice",
        "response_format",
        "seed",
        "extra_body",
    }
)
_ROUTING_PARAMS = frozenset({"targets", "tier", "preferred_provider", "preferred_model"})
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

    Attributes:
        model: a target string put at the front of the chain for every call (a per-call
            ``model=`` wins). Without ``targets`` it is the whole chain.
        temperature, max_tokens, top_p, seed, stop: request defaults.
        streaming: make ``invoke`` stream under the hood (callbacks then see tokens).
    """

    capability: ClassVar[Capability] = Capability.CHAT

    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] | None = None
    streaming: bool = False

    @property
    def _llm_type(self) -> str:
        return "juggler-chat"

    def _chain_for_construction(self) -> list[Any] | None:
        if self.targets is None and self.model is not None:
            return [self.model]
        return super()._chain_for_construction()

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
            raise InvalidRequestError(
                f"model={model!r} is not a model of this chain ({chain}); "
                "pass a target string such as 'openai/gpt-4.1-mini'"
            )
        return model

    def _request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The OpenAI-shaped messages and the keyword arguments for Juggler's chat call."""
        unknown = set(kwargs) - _CHAT_PARAMS - _ROUTING_PARAMS - {"model"}
        if unknown:
            raise InvalidRequestError(
                f"ChatJuggler got unsupported call arguments {sorted(unknown)}; supported: "
                f"{sorted(_CHAT_PARAMS | _ROUTING_PARAMS | {'model'})}"
            )
        params: dict[str, Any] = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "seed": self.seed,
            "stop": stop if stop is not None else self.stop,
        }
        params.update(kwargs)
        params = {k: v for k, v in params.items() if v is not None and v != []}
        model = params.pop("model", None) or self.model
        if model is not None:
            params["model"] = self._resolve_model(model)
        if "targets" not in params and (targets := self.call_targets()) is not None:
            params["targets"] = targets
        return to_openai_messages(messages), params

    # ----- LangChain entry points -----

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        wire, params = self._request(messages, stop, kwargs)
        try:
            response = self.client.chat(wire, **params)
        except Exception as exc:
            _tag_failure(run_manager, exc)
            raise
        tag_run(run_manager, response.models_used)
        info = gateway_info(response.provider, response.model, response.models_used)
        return chat_result(response, info)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        wire, params = self._request(messages, stop, kwargs)
        try:
            response = await self.client.achat(wire, **params)
        except Exception as exc:
            _tag_failure(run_manager, exc)
            raise
        tag_run(run_manager, response.models_used)
        info = gateway_info(response.provider, response.model, response.models_used)
        return chat_result(response, info)

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
        tag_run(run_manager, stream.models_used)
        yield self._last_chunk(stream)

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
        tag_run(run_manager, stream.models_used)
        yield self._last_chunk(stream)

    @staticmethod
    def _last_chunk(stream: Any) -> ChatGenerationChunk:
        attempts = stream.models_used
        return final_chunk(
            provider=stream.provider,
            model=stream.model,
            attempts=attempts,
            usage=stream.usage,
            finish_reason=stream.finish_reason,
            extra_generation_info=gateway_info(stream.provider, stream.model, attempts),
        )

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        outputs = [o for o in llm_outputs if o]
        if len(outputs) == 1:
            return dict(outputs[0])
        return {"models_used": [a for o in outputs for a in o.get("models_used", [])]}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = PROVIDER
        model = kwargs.get("model") or self.model
        if not isinstance(model, str):
            chain = self._chain()
            model = str(chain[0]) if chain else PROVIDER
        params["ls_model_name"] = model
        return params

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


def _tag_failure(run_manager: Any, exc: BaseException) -> None:
    """A failed call still puts its attempts in the run's metadata."""
    attempts = getattr(exc, "models_used", None)
    if attempts:
        tag_run(run_manager, attempts)
