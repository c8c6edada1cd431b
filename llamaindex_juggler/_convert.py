"""Pure conversions between LlamaIndex chat types and Juggler's OpenAI-shaped messages.

Nothing here does I/O or routing. LlamaIndex keeps tool calls as ``ToolCallBlock``s (older
code: ``additional_kwargs["tool_calls"]``) and tool results as ``role="tool"`` messages with
``additional_kwargs["tool_call_id"]``; Juggler takes OpenAI chat-completions dicts.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json

from juggler import (
    AsyncChatStream,
    ChatStream,
    InvalidRequestError,
    ModelAttempt,
    StreamChunk,
    ToolCall,
    Usage,
)
from juggler import ChatResponse as JugglerChatResponse
from juggler._money import total_cost

from ._events import models_used_dicts

__all__ = [
    "JugglerRaw",
    "StreamAssembler",
    "chat_response",
    "completion_response",
    "to_openai_messages",
    "tool_selections",
    "usage_dict",
]

_ROLE = {
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
}


class JugglerRaw(dict[str, Any]):
    """``ChatResponse.raw``: the juggler answer, behind a plain-dict face.

    LlamaIndex's token counter calls ``dict(response.raw)`` and reads ``raw["usage"]``; a
    ``str`` subclass (the juggler ``ChatResponse``) would make it raise. So ``raw`` is a dict
    with ``usage``, ``provider``, ``model`` and ``models_used``, its attributes are those of the
    juggler answer (``raw.models_used`` are ``ModelAttempt`` objects, ``raw.tool_calls``, ...),
    and ``raw.response`` is the juggler answer itself.
    """

    def __init__(self, response: Any, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self.response = response

    def __deepcopy__(self, memo: dict[int, Any]) -> JugglerRaw:
        # The juggler answer is never mutated, so copies share it; only the dict is copied.
        return JugglerRaw(self.response, copy.deepcopy(dict(self), memo))

    def __getattr__(self, name: str) -> Any:
        if name == "response":  # during unpickling, before __init__ ran
            raise AttributeError(name)
        return getattr(self.response, name)


def usage_dict(usage: Usage | None) -> dict[str, int]:
    """OpenAI-style token counts (the keys LlamaIndex's token counter looks for)."""
    if usage is None:
        return {}
    pairs = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }
    return {k: v for k, v in pairs.items() if v is not None}


def answer_kwargs(
    provider: str | None, model: str | None, usage: Usage | None, attempts: Sequence[ModelAttempt]
) -> dict[str, Any]:
    """The ``additional_kwargs`` of a final response: models_used, who answered, usage, and
    the call's cost in US dollars (every attempt's ``cost_usd`` summed; None when unknown)."""
    return {
        "models_used": models_used_dicts(attempts),
        "cost_usd": total_cost(attempts),
        "provider": provider,
        "model": model,
        **usage_dict(usage),
    }


def raw_of(response: Any, kwargs: Mapping[str, Any]) -> JugglerRaw:
    """Wrap a juggler answer or stream as ``raw`` (see :class:`JugglerRaw`)."""
    data = {
        "provider": kwargs.get("provider"),
        "model": kwargs.get("model"),
        "usage": usage_dict(getattr(response, "usage", None)),
        "models_used": kwargs.get("models_used", []),
    }
    return JugglerRaw(response, data)


# ----- LlamaIndex -> Juggler -----


def to_openai_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """LlamaIndex chat messages as OpenAI chat-completions dicts."""
    return [_message(m) for m in messages]


def _message(message: ChatMessage) -> dict[str, Any]:
    role = _ROLE.get(message.role, message.role.value)
    extra = message.additional_kwargs
    tool_call_id = extra.get("tool_call_id")
    if role == "function" and tool_call_id:
        role = "tool"
    out: dict[str, Any] = {"role": role}
    calls = _tool_calls_of(message) if role == "assistant" else []
    content = _content(message)
    if role == "tool":
        # A tool result is text on the wire; rich results travel as their JSON.
        if isinstance(content, str):
            out["content"] = content
        else:
            out["content"] = json.dumps(content) if content else ""
        out["tool_call_id"] = str(tool_call_id or "")
    elif calls:
        out["content"] = content or None
        out["tool_calls"] = calls
    else:
        out["content"] = content if content is not None else ""
    if extra.get("name"):
        out["name"] = extra["name"]
    return out


def _content(message: ChatMessage) -> str | list[dict[str, Any]] | None:
    parts: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            url = str(block.url) if block.url and not block.image else block.inline_url()
            image: dict[str, Any] = {"url": url}
            if block.detail:
                image["detail"] = block.detail
            parts.append({"type": "image_url", "image_url": image})
        elif isinstance(block, ToolCallBlock | ThinkingBlock | CachePoint):
            continue  # tool calls travel in "tool_calls"; thinking and cache hints stay local
        else:
            raise InvalidRequestError(
                f"JugglerLLM cannot send a {type(block).__name__} (text and images only)"
            )
    if not parts:
        return None
    if all(p["type"] == "text" for p in parts):
        return "\n".join(p["text"] for p in parts)
    return parts


def _tool_calls_of(message: ChatMessage) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, ToolCallBlock):
            args = block.tool_kwargs
            calls.append(
                _openai_call(block.tool_call_id or f"call_{len(calls)}", block.tool_name, args)
            )
    if calls:
        return calls
    for legacy in message.additional_kwargs.get("tool_calls") or []:
        fn = _get(legacy, "function")
        calls.append(_openai_call(_get(legacy, "id"), _get(fn, "name"), _get(fn, "arguments")))
    return calls


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def _openai_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
    return {
        "id": str(call_id),
        "type": "function",
        "function": {"name": str(name), "arguments": text},
    }


# ----- Juggler -> LlamaIndex -----


def assistant_message(text: str, tool_calls: Sequence[ToolCall | ToolCallBlock]) -> ChatMessage:
    """An assistant message with a text block (when there is text) and tool-call blocks.

    The tool calls also go in ``additional_kwargs["tool_calls"]`` in the OpenAI shape, as
    llama-index-llms-openai's ``OpenAI`` does: LlamaIndex's own streaming helpers
    (``process_streaming_objects``, behind ``stream_structured_predict``) look there.
    """
    blocks: list[Any] = [TextBlock(text=text)] if text else []
    openai_calls: list[dict[str, Any]] = []
    for call in tool_calls:
        if isinstance(call, ToolCall):
            call = ToolCallBlock(tool_call_id=call.id, tool_name=call.name, tool_kwargs=call.kwargs)
        blocks.append(call)
        kwargs = call.tool_kwargs
        openai_calls.append(
            {
                "id": call.tool_call_id,
                "type": "function",
                "function": {
                    "name": call.tool_name,
                    "arguments": kwargs
                    if isinstance(kwargs, str)
                    else json.dumps(kwargs, ensure_ascii=False),
                },
            }
        )
    extra = {"tool_calls": openai_calls} if openai_calls else {}
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=extra)


def chat_response(response: JugglerChatResponse) -> ChatResponse:
    """A juggler answer as a LlamaIndex ChatResponse carrying models_used."""
    kwargs = answer_kwargs(response.provider, response.model, response.usage, response.models_used)
    return ChatResponse(
        message=assistant_message(response.content, response.tool_calls),
        raw=raw_of(response, kwargs),
        additional_kwargs=kwargs,
    )


def completion_response(chat: ChatResponse) -> CompletionResponse:
    """The completion twin of a chat response (same text, raw and additional_kwargs)."""
    return CompletionResponse(
        text=chat.message.content or "",
        delta=chat.delta,
        raw=chat.raw,
        additional_kwargs=chat.additional_kwargs,
    )


def tool_selections(message: ChatMessage) -> list[ToolSelection]:
    """The tool calls of an assistant message, as LlamaIndex ToolSelections."""
    out = []
    for call in _tool_calls_of(message):
        fn = call["function"]
        try:
            args = parse_partial_json(fn["arguments"]) if fn["arguments"].strip() else {}
        except (ValueError, TypeError):
            args = {}  # a stream's fragment may not parse yet
        out.append(ToolSelection(tool_id=call["id"], tool_name=fn["name"], tool_kwargs=args))
    return out


class StreamAssembler:
    """Turns juggler stream chunks into cumulative LlamaIndex ChatResponses.

    Each chunk's message holds the text so far and the tool calls so far (arguments may still
    be partial JSON); ``final`` builds the last response, the only one with models_used.
    """

    def __init__(self) -> None:
        self.text = ""
        self._calls: dict[int, dict[str, Any]] = {}

    def chunk(self, piece: StreamChunk) -> ChatResponse | None:
        """The response for one chunk, or None when it carried no text and no tool call."""
        for fragment in piece.tool_calls:
            call = self._calls.setdefault(fragment.index, {"id": None, "name": "", "args": ""})
            call["id"] = call["id"] or fragment.id
            call["name"] = call["name"] or (fragment.name or "")
            call["args"] += fragment.arguments
        if not piece and not piece.tool_calls:
            return None
        self.text += piece
        blocks = [
            ToolCallBlock(tool_call_id=c["id"], tool_name=c["name"], tool_kwargs=c["args"])
            for _, c in sorted(self._calls.items())
        ]
        return ChatResponse(
            message=assistant_message(self.text, blocks),
            delta=str(piece),
            raw=JugglerRaw(piece, {"provider": piece.provider, "model": piece.model}),
        )

    @staticmethod
    def final(stream: AsyncChatStream | ChatStream) -> ChatResponse:
        """The last response: full text, complete tool calls, models_used and usage."""
        kwargs = answer_kwargs(stream.provider, stream.model, stream.usage, stream.models_used)
        return ChatResponse(
            message=assistant_message(stream.text, stream.tool_calls),
            delta="",
            raw=raw_of(stream, kwargs),
            additional_kwargs=kwargs,
        )
