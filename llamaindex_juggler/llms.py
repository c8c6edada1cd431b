"""`JugglerLLM`: a LlamaIndex FunctionCallingLLM that routes every call through Juggler.

Every public method carries LlamaIndex's ``llm_chat_callback`` / ``llm_completion_callback``
and calls a private, undecorated helper, so instrumentation fires exactly once per call
(``complete`` fires completion events only). Async methods use Juggler's async API on the
caller's loop. ``models_used`` lands in the responses' ``additional_kwargs`` (on the last
chunk when streaming), in a :class:`ModelsUsedEvent`, and on ``AllProvidersFailedError``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUTS
from llama_index.core.instrumentation.span import active_span_id
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import Model

from juggler import AllProvidersFailedError, Capability, Juggler, StreamInterruptedError, Target
from juggler._params import CHAT_PARAMS, check_wires, unknown_keyword_error
from juggler._validate import chat_request

from ._construct import OwnsJuggler, adapter_juggler
from ._convert import (
    StreamAssembler,
    chat_response,
    completion_response,
    to_openai_messages,
    tool_selections,
)
from ._events import dispatch_models_used
from ._structured import parse, schema_request, structured_events

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = ["JugglerLLM"]


# What a single call may override: the chat parameters (declared once, in juggler._params)
# and the routing options; anything else is a mistake we report, not drop.
_CALL_PARAMS = frozenset(CHAT_PARAMS) | frozenset(
    {
        "targets",
        "model",
        "tier",
        "preferred_provider",
        "preferred_model",
        "deadline",
        "parallel_attempts",
        "hedge_after_ms",
        "hedge",
        "cache_enabled",
        "cache_ttl_seconds",
    }
)
_FAILURES = (AllProvidersFailedError, StreamInterruptedError)


class JugglerLLM(OwnsJuggler, FunctionCallingLLM):
    """A LlamaIndex LLM whose calls fall back along a chain of provider/model targets.

    ``JugglerLLM(targets=["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"], providers=...,
    timeout=20)`` builds its own Juggler (any Juggler option is accepted);
    ``JugglerLLM(juggler=j)`` shares an existing one. As llama-index-llms-openai's ``OpenAI``:
    ``JugglerLLM(model="gpt-4o-mini", api_key=..., max_retries=2, timeout=30)`` (a bare
    model id resolves through the catalogue; ``base_url=``/``api_base=`` with ``model=`` is a
    single OpenAI-compatible target). A misspelt argument gets a did-you-mean.

    ``metadata`` describes the first target: its context window (catalogue or
    ``Target.context_window``; ``context_window=`` overrides) and
    ``num_output`` = ``max_tokens`` or LlamaIndex's default (256).
    """

    targets: list[str] = Field(default_factory=list, description="The chat chain, in order.")
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, gt=0, description="Also metadata.num_output.")
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    context_window: int | None = Field(default=None, gt=0, description="Overrides the target's.")
    structured_output_method: Literal["function_calling", "json_schema"] = Field(
        default="function_calling",
        description="How structured_predict asks for JSON: a forced tool call, or "
        "response_format json_schema.",
    )
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Sent with every call, e.g. {'extra_body': {...}}."
    )

    _juggler: Juggler = PrivateAttr()
    _owns: bool = PrivateAttr(default=False)

    def __init__(
        self,
        targets: Sequence[str | Target] | None = None,
        *,
        juggler: Juggler | None = None,
        **kwargs: Any,
    ) -> None:
        own, built, owns = adapter_juggler(
            "JugglerLLM", Capability.CHAT, targets, juggler, kwargs, type(self).model_fields
        )
        try:
            super().__init__(targets=[str(t) for t in built.chain(Capability.CHAT)], **own)
            self._juggler = built
            self._owns = owns
            self._check_additional_kwargs()
        except BaseException:
            if owns:
                built.close()
            raise

    def _check_additional_kwargs(self) -> None:
        """``additional_kwargs`` is checked now, not at the first call: names (with a
        did-you-mean), values, and whether every target's wire can honour them."""
        for key in self.additional_kwargs:
            if key not in _CALL_PARAMS:
                raise unknown_keyword_error(key, _CALL_PARAMS, where="JugglerLLM additional_kwargs")
        params = self._params({})
        chat_request("check", **{k: v for k, v in params.items() if k in CHAT_PARAMS})
        providers = self._juggler.providers
        chain = self._juggler.chain(Capability.CHAT)
        check_wires(params, [(str(t), providers.get(t.provider)) for t in chain])

    @classmethod
    def class_name(cls) -> str:
        """Class name used in LlamaIndex payloads."""
        return "JugglerLLM"

    @property
    def metadata(self) -> LLMMetadata:
        """Context window and output size of the first target of the chain."""
        first = self._juggler.chain(Capability.CHAT)[0]
        return LLMMetadata(
            context_window=self.context_window or first.context_window or DEFAULT_CONTEXT_WINDOW,
            num_output=self.max_tokens or DEFAULT_NUM_OUTPUTS,
            is_chat_model=True,
            is_function_calling_model=True,
            model_name=str(first),
        )

    # ----- public, decorated: each fires its events once -----

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Chat with fallback; ``additional_kwargs["models_used"]`` lists every attempt."""
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat` (Juggler's async API, no thread)."""
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream with fallback before the first token; the last chunk carries models_used."""
        return self._stream_chat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`."""
        return self._astream_chat(messages, **kwargs)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Complete a prompt (sent as one user message)."""
        return completion_response(self._chat(self._prompt(prompt, formatted), **kwargs))

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async :meth:`complete`."""
        return completion_response(await self._achat(self._prompt(prompt, formatted), **kwargs))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream a completion; the last chunk carries models_used."""
        chats = self._stream_chat(self._prompt(prompt, formatted), **kwargs)
        return (completion_response(c) for c in chats)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`."""
        chats = self._astream_chat(self._prompt(prompt, formatted), **kwargs)
        return (completion_response(c) async for c in chats)

    # ----- private, undecorated: the work -----

    def _prompt(self, prompt: str, formatted: bool) -> list[ChatMessage]:
        to_prompt = self.completion_to_prompt
        text = prompt if formatted or to_prompt is None else to_prompt(prompt)
        return [ChatMessage(role=MessageRole.USER, content=text)]

    def _params(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        for key in kwargs:
            if key not in _CALL_PARAMS:
                raise unknown_keyword_error(key, _CALL_PARAMS, where="JugglerLLM (per call)")
        defaults = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "seed": self.seed,
        }
        params = {k: v for k, v in defaults.items() if v is not None}
        params.update(self.additional_kwargs)
        params.update({k: v for k, v in kwargs.items() if v is not None})
        return params

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        with _report_failure():
            answer = self._juggler.chat(to_openai_messages(messages), **self._params(kwargs))
        return _reported(chat_response(answer))

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        with _report_failure():
            answer = await self._juggler.achat(to_openai_messages(messages), **self._params(kwargs))
        return _reported(chat_response(answer))

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        stream = self._juggler.stream_chat(to_openai_messages(messages), **self._params(kwargs))
        span_id = active_span_id.get()  # the stream outlives the call's span

        def gen() -> Generator[ChatResponse, None, None]:
            assembler = StreamAssembler()
            try:
                with _report_failure(span_id):
                    for piece in stream:
                        out = assembler.chunk(piece)
                        if out is not None:
                            yield out
            finally:
                if not stream.done:
                    stream.close()  # the caller stopped early: free the connection
            yield _reported(assembler.final(stream), span_id)

        return gen()

    def _astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        stream = self._juggler.astream_chat(to_openai_messages(messages), **self._params(kwargs))
        span_id = active_span_id.get()

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            assembler = StreamAssembler()
            try:
                with _report_failure(span_id):
                    async for piece in stream:
                        out = assembler.chunk(piece)
                        if out is not None:
                            yield out
            finally:
                # Runs when an abandoned stream is finalised (LlamaIndex's wrapper never
                # closes this generator itself): closes the connection in order.
                if not stream.done:
                    await stream.aclose()
            yield _reported(assembler.final(stream), span_id)

        return gen()

    # ----- tool calling -----

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The ``chat`` arguments for a call offering ``tools`` (OpenAI tool specs)."""
        specs = [tool.metadata.to_openai_tool(skip_length_check=True) for tool in tools]
        messages = list(chat_history or [])  # never mutate the caller's history
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        prepared: dict[str, Any] = {"messages": messages, **kwargs}
        if specs:
            prepared["tools"] = specs
            prepared["tool_choice"] = _tool_choice(tool_choice, tool_required)
        return prepared

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """Keep only the first tool call unless parallel calls were allowed."""
        if not allow_parallel_tool_calls:
            blocks, seen = [], False
            for block in response.message.blocks:
                if isinstance(block, ToolCallBlock):
                    if seen:
                        continue
                    seen = True
                blocks.append(block)
            response.message.blocks = blocks
        return response

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        """The response's tool calls as ToolSelections (from the juggler answer's tool_calls)."""
        selections = tool_selections(response.message)
        if not selections and error_on_no_tool_call:
            raise ValueError("Expected at least one tool call, but the response had none.")
        return selections

    # ----- structured output -----

    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Structured output through a forced tool call, or response_format json_schema."""
        if self.structured_output_method != "json_schema":
            return super().structured_predict(output_cls, prompt, llm_kwargs, **prompt_args)
        messages, kwargs = schema_request(self, output_cls, prompt, llm_kwargs, prompt_args)
        with structured_events(output_cls, prompt, prompt_args) as out:
            out.append(parse(output_cls, self.chat(messages, **kwargs)))
        return out[0]  # type: ignore[return-value]

    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Async :meth:`structured_predict`."""
        if self.structured_output_method != "json_schema":
            return await super().astructured_predict(output_cls, prompt, llm_kwargs, **prompt_args)
        messages, kwargs = schema_request(self, output_cls, prompt, llm_kwargs, prompt_args)
        with structured_events(output_cls, prompt, prompt_args) as out:
            out.append(parse(output_cls, await self.achat(messages, **kwargs)))
        return out[0]  # type: ignore[return-value]


def _tool_choice(choice: str | dict[str, Any] | None, required: bool) -> str | dict[str, Any]:
    """LlamaIndex's tool_choice/tool_required as an OpenAI tool_choice."""
    if choice is None:
        return "required" if required else "auto"
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        return {"type": "function", "function": {"name": choice}}
    return choice


@contextmanager
def _report_failure(span_id: str | None = None) -> Iterator[None]:
    """On a failed call, dispatch ModelsUsedEvent(success=False) and re-raise unchanged."""
    try:
        yield
    except _FAILURES as exc:
        dispatch_models_used("llm", exc.models_used, success=False, span_id=span_id)
        raise


def _reported(response: ChatResponse, span_id: str | None = None) -> ChatResponse:
    kw = response.additional_kwargs
    assert response.raw is not None  # always a JugglerRaw here
    dispatch_models_used(
        "llm",
        response.raw.models_used,
        provider=kw.get("provider"),
        model=kw.get("model"),
        span_id=span_id,
    )
    return response
