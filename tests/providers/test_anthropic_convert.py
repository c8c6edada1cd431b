"""The pure OpenAI → Anthropic conversions, and the request the provider puts on the wire.

Where a recording in ``shared/wire`` shows the request an SDK sent, the conversion of the
same conversation is compared with it field for field.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from juggler import ToolCall
from juggler.providers._anthropic_convert import (
    finish_reason,
    image_block,
    json_tool,
    to_anthropic_messages,
    to_anthropic_tool_choice,
    to_anthropic_tools,
    usage_from_anthropic,
)
from juggler.providers.anthropic import AnthropicProvider
from juggler.providers.types import ChatRequest

# ----- messages -----


def test_system_messages_anywhere_are_lifted_into_system() -> None:
    system, messages = to_anthropic_messages(
        [
            {"role": "system", "content": "Respond only in all caps."},
            {"role": "user", "content": "Hello"},
            {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
        ]
    )
    assert system == "Respond only in all caps.\n\nBe brief."
    assert messages == [{"role": "user", "content": "Hello"}]


def test_conversion_matches_the_request_the_anthropic_sdk_sent() -> None:
    # shared/wire/anthropic/messages/dd-trace-py/anthropic_completion_invalid_api_key.yaml
    system, messages = to_anthropic_messages(
        [
            {"role": "system", "content": "Respond only in all caps."},
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "Hello, I am looking for information about some books!",
                    },
                    {"type": "text", "text": "What is the best selling book?"},
                ],
            },
        ]
    )
    assert system == "Respond only in all caps."
    assert messages == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Hello, I am looking for information about some books!"},
                {"type": "text", "text": "What is the best selling book?"},
            ],
        }
    ]


def test_assistant_tool_calls_become_tool_use_blocks() -> None:
    _, messages = to_anthropic_messages(
        [
            {"role": "user", "content": "What is the sum of 1 and 2?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "toolu_01E1nTDhsEjAChantYkxdavm",
                        "type": "function",
                        "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
                    }
                ],
            },
        ]
    )
    assert messages[1] == {
        "role": "assistant",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_01E1nTDhsEjAChantYkxdavm",
                "name": "add",
                "input": {"a": 1, "b": 2},
            }
        ],
    }


def test_consecutive_tool_results_merge_into_one_user_message() -> None:
    _, messages = to_anthropic_messages(
        [
            {"role": "user", "content": "Weather and time in New York?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "t1", "function": {"name": "get_weather", "arguments": "{}"}},
                    {"id": "t2", "function": {"name": "get_time", "arguments": "{}"}},
                ],
            },
            {"role": "tool", "tool_call_id": "t1", "content": "72F"},
            {"role": "tool", "tool_call_id": "t2", "content": "10:00"},
            {"role": "user", "content": "Thanks, and tomorrow?"},
        ]
    )
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "72F"},
        {"type": "tool_result", "tool_use_id": "t2", "content": "10:00"},
        {"type": "text", "text": "Thanks, and tomorrow?"},
    ]


def test_image_data_url_becomes_a_base64_image_block() -> None:
    assert image_block("data:image/png;base64,iVBORw0KGgo=") == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }


def test_image_http_url_becomes_a_url_image_block() -> None:
    _, messages = to_anthropic_messages(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            }
        ]
    )
    assert messages[0]["content"][1] == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
    }


# ----- tools, tool_choice, finish reasons, usage -----


def test_tools_match_the_recorded_anthropic_tool_shape() -> None:
    # shared/wire/anthropic/messages/openllmetry/test_anthropic_tools_legacy.yaml
    schema = {
        "type": "object",
        "properties": {"timezone": {"type": "string"}},
        "required": ["timezone"],
    }
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_time",
                "description": "Get the current time in a given time zone",
                "parameters": schema,
            },
        }
    ]
    assert to_anthropic_tools(tools) == [
        {
            "name": "get_time",
            "description": "Get the current time in a given time zone",
            "input_schema": schema,
        }
    ]


def test_tool_choice_maps_to_anthropic_forms() -> None:
    assert to_anthropic_tool_choice("auto") == {"type": "auto"}
    assert to_anthropic_tool_choice("required") == {"type": "any"}
    assert to_anthropic_tool_choice("none") == {"type": "none"}
    named = {"type": "function", "function": {"name": "add"}}
    assert to_anthropic_tool_choice(named) == {"type": "tool", "name": "add"}


def test_stop_reasons_map_to_openai_finish_reasons() -> None:
    assert [finish_reason(r) for r in ("end_turn", "max_tokens", "tool_use", "stop_sequence")] == [
        "stop",
        "length",
        "tool_calls",
        "stop",
    ]


def test_cached_prompt_tokens_count_as_input() -> None:
    raw = {"input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 7}
    usage = usage_from_anthropic(raw)
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (105, 7, 112)


# ----- the payload -----


def _payload(**kwargs: Any) -> dict[str, Any]:
    provider = AnthropicProvider.__new__(AnthropicProvider)
    request = ChatRequest(messages=[{"role": "user", "content": "hi"}], **kwargs)
    return provider.chat_payload("claude-sonnet-4-5", request, stream=False)


def test_max_tokens_defaults_to_1024() -> None:
    assert _payload()["max_tokens"] == 1024
    assert _payload(max_tokens=15)["max_tokens"] == 15


def test_temperature_is_clamped_and_wins_over_top_p() -> None:
    payload = _payload(temperature=1.5, top_p=0.9, stop=["END"])
    assert payload["temperature"] == 1.0
    assert "top_p" not in payload
    assert payload["stop_sequences"] == ["END"]
    assert _payload(top_p=0.9)["top_p"] == 0.9


def test_json_schema_response_format_becomes_a_forced_tool() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    payload = _payload(
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema}}
    )
    assert payload["tools"] == [
        {
            "name": "city",
            "description": "Give the final answer as a JSON object matching this schema.",
            "input_schema": schema,
        }
    ]
    assert payload["tool_choice"] == {"type": "tool", "name": "city"}


def test_json_mode_uses_an_open_object_schema() -> None:
    tool = json_tool({"type": "json_object"})
    assert tool is not None
    assert tool["input_schema"] == {"type": "object"}


def _recorded_tool_use_body() -> dict[str, Any]:
    # shared/wire/anthropic/messages/dd-trace-py/anthropic_v1_messages_post_28bbec95.json,
    # with the tool's name changed to the forced JSON tool's.
    return {
        "model": "claude-sonnet-4-5-20250929",
        "id": "msg_01PA7kvz8Fj2N3Y6PqWy6iaN",
        "type": "message",
        "role": "assistant",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_01E1nTDhsEjAChantYkxdavm",
                "name": "json_response",
                "input": {"a": 1, "b": 2},
            }
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 599, "output_tokens": 68},
    }


def test_forced_json_tool_answer_is_returned_as_text(make_juggler: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_recorded_tool_use_body())

    j = make_juggler(handler, ["anthropic/claude-sonnet-4-5"])
    r = j.chat("Give me a and b", response_format={"type": "json_object"})
    assert json.loads(r) == {"a": 1, "b": 2}
    assert r.tool_calls == []
    assert r.finish_reason == "stop"


def test_request_carries_x_api_key_and_version_not_a_bearer_token(make_juggler: Any) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = _recorded_tool_use_body()
        body["content"][0]["name"] = "add"
        return httpx.Response(200, json=body)

    j = make_juggler(handler, ["anthropic/claude-sonnet-4-5"])
    r = j.chat("What is the sum of 1 and 2?")
    assert r.tool_calls == [
        ToolCall(id="toolu_01E1nTDhsEjAChantYkxdavm", name="add", arguments={"a": 1, "b": 2})
    ]
    request = seen[0]
    assert str(request.url) == "https://api.anthropic.com/v1/messages"
    assert request.headers["x-api-key"] == "test-key-anthropic"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
