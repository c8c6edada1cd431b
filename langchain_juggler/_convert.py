"""Pure conversions between LangChain objects and Juggler's requests and answers.

Nothing here calls a provider or holds state: the model classes call these functions, and
the tests can check each mapping on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    convert_to_openai_messages,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from juggler import ChatResponse, ModelAttempt, StreamChunk, Usage
from juggler._adapters import models_used_dicts
from juggler._money import total_cost

__all__ = [
    "answer_metadata",
    "chat_result",
    "final_chunk",
    "format_tool_choice",
    "format_tools",
    "json_schema_format",
    "models_used_dicts",
    "stream_chunk",
    "to_openai_messages",
    "usage_metadata",
]

PROVIDER = "juggler"


def to_openai_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages to the OpenAI chat shape Juggler routes (tool calls included)."""
    converted = convert_to_openai_messages(list(messages))
    out = []
    for message in converted:
        # An assistant turn that only called tools has empty content; the OpenAI shape
        # for that is ``null`` content next to ``tool_calls``.
        if (
            message.get("role") == "assistant"
            and message.get("tool_calls")
            and message.get("content") in ("", [])
        ):
            message = {**message, "content": None}
        out.append(message)
    return out


def usage_metadata(usage: Usage | None) -> UsageMetadata | None:
    """Juggler's Usage to LangChain's UsageMetadata (None when nothing was counted)."""
    if usage is None or (usage.input_tokens is None and usage.output_tokens is None):
        return None
    i = usage.input_tokens or 0
    o = usage.output_tokens or 0
    total = usage.total_tokens if usage.total_tokens is not None else i + o
    return UsageMetadata(input_tokens=i, output_tokens=o, total_tokens=total)


def answer_metadata(
    *,
    provider: str | None,
    model: str | None,
    attempts: Sequence[ModelAttempt],
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """``response_metadata``/``llm_output``: who answered, every attempt, and what the call
    cost in US dollars (every attempt's ``cost_usd`` summed, losers included; None when no
    price was known)."""
    meta: dict[str, Any] = {
        "model_name": model,
        "model_provider": provider,
        "models_used": models_used_dicts(attempts),
        "cost_usd": total_cost(attempts),
    }
    if finish_reason:
        meta["finish_reason"] = finish_reason
    return meta


def chat_result(response: ChatResponse, extra_generation_info: dict[str, Any]) -> ChatResult:
    """A complete Juggler answer as a LangChain ChatResult (message, usage, models_used)."""
    meta = answer_metadata(
        provider=response.provider,
        model=response.model,
        attempts=response.models_used,
        finish_reason=response.finish_reason,
    )
    message = AIMessage(
        content=response.content,
        tool_calls=[tool_call(name=c.name, args=c.kwargs, id=c.id) for c in response.tool_calls],
        usage_metadata=usage_metadata(response.usage),
        response_metadata=meta,
    )
    generation = ChatGeneration(message=message, generation_info=extra_generation_info or None)
    return ChatResult(generations=[generation], llm_output=dict(meta))


def stream_chunk(
    chunk: StreamChunk, sent: dict[int, set[str]] | None = None
) -> ChatGenerationChunk | None:
    """One streamed text or tool-call delta; None for deltas that carry neither.

    Usage, the model name and models_used are left for :func:`final_chunk`: LangChain
    concatenates strings and lists when it adds chunks, so they may appear only once.
    For the same reason a tool call's ``name`` and ``id`` go out once per call index:
    ``sent`` (one dict per stream) remembers which went out, because some servers repeat
    them on every fragment and merging would turn ``multiply`` into ``multiplymultiply``
    (Juggler's own assembly keeps the first value too).
    """
    sent = sent if sent is not None else {}
    calls = []
    for t in chunk.tool_calls:
        done = sent.setdefault(t.index, set())
        name = t.name if t.name and "name" not in done else None
        call_id = t.id if t.id and "id" not in done else None
        done.update(k for k, v in (("name", name), ("id", call_id)) if v)
        calls.append(tool_call_chunk(name=name, args=t.arguments, id=call_id, index=t.index))
    if not str(chunk) and not calls:
        return None
    return ChatGenerationChunk(message=AIMessageChunk(content=str(chunk), tool_call_chunks=calls))


def final_chunk(
    *,
    provider: str | None,
    model: str | None,
    attempts: Sequence[ModelAttempt],
    usage: Usage | None,
    finish_reason: str | None,
    extra_generation_info: dict[str, Any],
) -> ChatGenerationChunk:
    """The last chunk of a stream: usage, model name, provider and models_used, once."""
    meta = answer_metadata(
        provider=provider, model=model, attempts=attempts, finish_reason=finish_reason
    )
    message = AIMessageChunk(
        content="",
        usage_metadata=usage_metadata(usage),
        response_metadata=meta,
        chunk_position="last",
    )
    return ChatGenerationChunk(message=message, generation_info=extra_generation_info or None)


def format_tools(tools: Sequence[Any], strict: bool | None = None) -> list[dict[str, Any]]:
    """Any LangChain tool form (BaseTool, pydantic class, function, dict) as OpenAI tools."""
    return [convert_to_openai_tool(t, strict=strict) for t in tools]


def format_tool_choice(
    tool_choice: str | bool | dict[str, Any] | None, tools: Sequence[dict[str, Any]]
) -> str | dict[str, Any] | None:
    """LangChain's tool_choice to the OpenAI form.

    ``"any"`` means "some tool" (OpenAI's ``"required"``); a tool's name forces that tool;
    ``True`` forces the only tool.
    """
    if tool_choice is None or tool_choice is False:
        return None
    if isinstance(tool_choice, dict):
        return tool_choice
    if tool_choice is True:
        if len(tools) != 1:
            raise ValueError("tool_choice=True needs exactly one tool")
        return _force(tools[0]["function"]["name"])
    if tool_choice == "any":
        return "required"
    if tool_choice in ("auto", "none", "required"):
        return tool_choice
    names = [t["function"]["name"] for t in tools]
    if tool_choice not in names:
        raise ValueError(f"tool_choice {tool_choice!r} names no bound tool; tools: {names}")
    return _force(tool_choice)


def _force(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name}}


def json_schema_format(schema: dict[str, Any], strict: bool | None) -> dict[str, Any]:
    """An OpenAI ``response_format`` of type json_schema from a JSON schema."""
    name = str(schema.get("title") or "output").replace(" ", "_")
    spec: dict[str, Any] = {"name": name, "schema": schema}
    if schema.get("description"):
        spec["description"] = schema["description"]
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


def logprobs_of(response: ChatResponse) -> Any:
    """The token log-probabilities of an OpenAI-shaped answer, when it has them."""
    raw = response.raw
    if isinstance(raw, dict):
        choices = raw.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            return choices[0].get("logprobs")
    return None
