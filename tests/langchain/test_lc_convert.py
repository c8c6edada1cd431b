"""The pure conversions between LangChain objects and Juggler's requests and answers."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel

from juggler import ChatResponse, ModelAttempt, ToolCall, Usage
from langchain_juggler._convert import (
    chat_result,
    final_chunk,
    format_tool_choice,
    format_tools,
    json_schema_format,
    models_used_dicts,
    to_openai_messages,
    usage_metadata,
)

ATTEMPTS = [
    ModelAttempt(
        provider="groq",
        model="llama-3.1-8b-instant",
        success=False,
        outcome="error",
        attempt=1,
        status_code=503,
        error="down",
        error_type="ServerError",
    ),
    ModelAttempt(
        provider="openai", model="gpt-4o-mini", success=True, outcome="success", attempt=2
    ),
]


class GetWeather(BaseModel):
    """Get the weather in a city."""

    city: str


def test_tool_call_turns_become_openai_messages_with_null_content() -> None:
    messages = [
        SystemMessage("be brief"),
        HumanMessage("weather in Paris?", name="ann"),
        AIMessage("", tool_calls=[{"name": "GetWeather", "args": {"city": "Paris"}, "id": "c1"}]),
        ToolMessage("sunny", tool_call_id="c1"),
    ]
    wire = to_openai_messages(messages)
    assert [m["role"] for m in wire] == ["system", "user", "assistant", "tool"]
    assert wire[1]["name"] == "ann"
    assert wire[2]["content"] is None
    call = wire[2]["tool_calls"][0]
    assert call["function"]["name"] == "GetWeather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert wire[3] == {"role": "tool", "tool_call_id": "c1", "content": "sunny"}


def test_models_used_become_plain_json_ready_dicts() -> None:
    used = models_used_dicts(ATTEMPTS)
    assert all(type(a) is dict for a in used)
    assert json.loads(json.dumps(used)) == used
    assert used[0]["status_code"] == 503 and used[1]["success"] is True


def test_chat_result_carries_answerer_usage_tool_calls_and_models_used() -> None:
    response = ChatResponse(
        "",
        provider="openai",
        model="gpt-4o-mini",
        usage=Usage.of(10, 5),
        finish_reason="tool_calls",
        tool_calls=[ToolCall(id="c1", name="GetWeather", arguments={"city": "Paris"})],
        models_used=ATTEMPTS,
    )
    result = chat_result(response, {})
    message = result.generations[0].message
    assert isinstance(message, AIMessage)
    assert message.tool_calls == [
        {"name": "GetWeather", "args": {"city": "Paris"}, "id": "c1", "type": "tool_call"}
    ]
    assert message.usage_metadata == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    assert message.response_metadata["model_name"] == "gpt-4o-mini"
    assert message.response_metadata["model_provider"] == "openai"
    assert len(message.response_metadata["models_used"]) == 2
    assert result.llm_output == message.response_metadata


def test_final_stream_chunk_is_marked_last_and_holds_the_metadata() -> None:
    chunk = final_chunk(
        provider="openai",
        model="gpt-4o-mini",
        attempts=ATTEMPTS,
        usage=Usage.of(3, 4),
        finish_reason="stop",
        extra_generation_info={},
    )
    assert chunk.message.chunk_position == "last"
    assert chunk.message.usage_metadata == {
        "input_tokens": 3,
        "output_tokens": 4,
        "total_tokens": 7,
    }
    assert chunk.message.response_metadata["models_used"][1]["provider"] == "openai"


def test_missing_usage_gives_no_usage_metadata() -> None:
    assert usage_metadata(None) is None
    assert usage_metadata(Usage()) is None


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("any", "required"),
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("GetWeather", {"type": "function", "function": {"name": "GetWeather"}}),
        (True, {"type": "function", "function": {"name": "GetWeather"}}),
        (None, None),
    ],
)
def test_tool_choice_maps_to_the_openai_form(choice: object, expected: object) -> None:
    assert format_tool_choice(choice, format_tools([GetWeather])) == expected  # type: ignore[arg-type]


def test_tool_choice_naming_an_unbound_tool_is_refused() -> None:
    with pytest.raises(ValueError, match="names no bound tool"):
        format_tool_choice("search", format_tools([GetWeather]))


def test_json_schema_format_names_the_schema_after_its_title() -> None:
    fmt = json_schema_format(GetWeather.model_json_schema(), strict=True)
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "GetWeather"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["required"] == ["city"]


def test_tool_arguments_that_are_not_an_object_reach_langchain_as_a_dict() -> None:
    response = ChatResponse(
        "",
        provider="nvidia",
        model="nvidia/nemotron-parse",
        tool_calls=[ToolCall(id="c1", name="markdown_no_bbox", arguments=[{"text": "# T"}])],
        models_used=ATTEMPTS,
    )
    message = chat_result(response, {}).generations[0].message
    assert isinstance(message, AIMessage)
    assert message.tool_calls[0]["args"] == {"value": [{"text": "# T"}]}
