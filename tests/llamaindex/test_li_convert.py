"""The pure conversions between LlamaIndex chat types and Juggler's OpenAI-shaped messages."""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    ToolCallBlock,
)

from juggler import ChatResponse as JugglerChatResponse
from juggler import InvalidRequestError, ModelAttempt, ToolCall, Usage
from llamaindex_juggler._convert import chat_response, to_openai_messages, tool_selections


def test_plain_messages_keep_role_and_text() -> None:
    messages = [
        ChatMessage(role="system", content="be brief"),
        ChatMessage(role="user", content="hi", additional_kwargs={"name": "ada"}),
        ChatMessage(role="chatbot", content="hello"),
    ]
    assert to_openai_messages(messages) == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi", "name": "ada"},
        {"role": "assistant", "content": "hello"},
    ]


def test_an_assistant_tool_call_and_its_result() -> None:
    call = ToolCallBlock(tool_call_id="c1", tool_name="add", tool_kwargs={"a": 1})
    assistant = ChatMessage(role="assistant", blocks=[call])
    result = ChatMessage(role="tool", content="2", additional_kwargs={"tool_call_id": "c1"})
    assert to_openai_messages([assistant, result]) == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "add", "arguments": '{"a": 1}'},
                }
            ],
        },
        {"role": "tool", "content": "2", "tool_call_id": "c1"},
    ]


def test_legacy_tool_calls_in_additional_kwargs_are_read() -> None:
    legacy = {"id": "c9", "function": {"name": "f", "arguments": "{}"}}
    message = ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [legacy]})
    (out,) = to_openai_messages([message])
    assert out["tool_calls"][0]["id"] == "c9"


def test_images_become_image_url_parts() -> None:
    message = ChatMessage(
        role="user",
        blocks=[TextBlock(text="what is this?"), ImageBlock(url="https://example.com/cat.png")],
    )
    (out,) = to_openai_messages([message])
    assert out["content"] == [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]


def test_unsupported_blocks_are_refused_clearly() -> None:
    message = ChatMessage(role="user", blocks=[DocumentBlock(data=b"%PDF-1.4", title="x")])
    with pytest.raises(InvalidRequestError, match="DocumentBlock"):
        to_openai_messages([message])


def test_a_juggler_answer_becomes_a_chat_response() -> None:
    attempt = ModelAttempt(provider="openai", model="m", success=True, outcome="success", attempt=1)
    answer = JugglerChatResponse(
        "",
        provider="openai",
        model="m",
        usage=Usage.of(5, 2),
        tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 1})],
        models_used=[attempt],
    )
    response = chat_response(answer)
    assert response.additional_kwargs["models_used"] == [dict(attempt)]
    assert response.additional_kwargs["prompt_tokens"] == 5
    (selection,) = tool_selections(response.message)
    assert (selection.tool_id, selection.tool_kwargs) == ("c1", {"a": 1})


def test_partial_streamed_arguments_still_parse() -> None:
    block = ToolCallBlock(tool_call_id="c1", tool_name="add", tool_kwargs='{"a": 1, "b": 2')
    (selection,) = tool_selections(ChatMessage(role="assistant", blocks=[block]))
    assert selection.tool_kwargs == {"a": 1, "b": 2}


def test_tool_arguments_that_are_not_an_object_reach_llamaindex_as_a_dict() -> None:
    answer = JugglerChatResponse(
        "",
        provider="nvidia",
        model="nvidia/nemotron-parse",
        tool_calls=[ToolCall(id="c1", name="markdown_no_bbox", arguments=[{"text": "# T"}])],
    )
    (selection,) = tool_selections(chat_response(answer).message)
    assert selection.tool_kwargs == {"value": [{"text": "# T"}]}
