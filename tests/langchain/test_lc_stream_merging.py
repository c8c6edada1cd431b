"""ChatJuggler streams merge the way LangChain merges chunks: strings that LangChain would
concatenate (a tool call's name and id) appear once per tool call, even when the server
repeats them on every fragment, as some OpenAI-compatible servers do."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from langchain_core.messages import AIMessageChunk

from juggler import Juggler
from langchain_juggler import ChatJuggler


def _call(index: int, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def _event(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "model": "gpt-4o-mini",
        "choices": [choice],
    }


def _repeating_server(request: httpx.Request) -> httpx.Response:
    """Streams two tool calls whose every fragment repeats the call's id and name."""
    events = [
        _event({"role": "assistant", "tool_calls": [_call(0, "call_a", "multiply", '{"a":')]}),
        _event({"tool_calls": [_call(0, "call_a", "multiply", ' 6, "b": 7}')]}),
        _event({"tool_calls": [_call(1, "call_b", "add", '{"a": 1,')]}),
        _event({"tool_calls": [_call(1, "call_b", "add", ' "b": 2}')]}),
        _event({}, finish="tool_calls"),
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "model": "gpt-4o-mini",
            "choices": [],
            "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
        },
    ]
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


def _merged(chunks: list[Any]) -> AIMessageChunk:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert isinstance(full, AIMessageChunk)
    return full


def test_repeated_tool_call_names_and_ids_are_not_concatenated(
    make_juggler: Callable[..., Juggler],
) -> None:
    llm = ChatJuggler(juggler=make_juggler(_repeating_server, chat=["openai/gpt-4o-mini"]))
    full = _merged(list(llm.stream("6 times 7, and 1 plus 2")))
    assert [(c["name"], c["id"], c["args"]) for c in full.tool_calls] == [
        ("multiply", "call_a", {"a": 6, "b": 7}),
        ("add", "call_b", {"a": 1, "b": 2}),
    ]


async def test_repeated_tool_call_names_are_not_concatenated_when_streaming_async(
    make_juggler: Callable[..., Juggler],
) -> None:
    llm = ChatJuggler(juggler=make_juggler(_repeating_server, chat=["openai/gpt-4o-mini"]))
    full = _merged([c async for c in llm.astream("6 times 7, and 1 plus 2")])
    assert [c["name"] for c in full.tool_calls] == ["multiply", "add"]
    assert full.usage_metadata is not None and full.usage_metadata["total_tokens"] == 14
