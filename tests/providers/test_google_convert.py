"""The pure OpenAI → Gemini conversions, and what the provider puts on the wire.

Where a recording in ``shared/wire`` shows the request a client sent, the conversion of the
same conversation is compared with it field for field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from juggler import InvalidRequestError
from juggler.providers._google_convert import (
    finish_reason,
    gemini_schema,
    generation_config,
    to_gemini_contents,
    to_gemini_tool_config,
    to_gemini_tools,
)

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def recorded_request(path: str) -> Any:
    """The first recorded request body of a cassette, decoded."""
    data = yaml.safe_load((CASSETTES / path).read_text())
    return json.loads(data["interactions"][0]["request"]["body"])


# ----- contents -----


def test_system_becomes_system_instruction_and_assistant_becomes_model() -> None:
    system, contents = to_gemini_contents(
        [
            {"role": "system", "content": "You are a chatbot."},
            {"role": "user", "content": "Hello!"},
            {"role": "assistant", "content": "Hi there."},
        ]
    )
    assert system == {"parts": [{"text": "You are a chatbot."}]}
    assert contents == [
        {"role": "user", "parts": [{"text": "Hello!"}]},
        {"role": "model", "parts": [{"text": "Hi there."}]},
    ]


def test_tool_history_matches_the_recorded_gemini_request() -> None:
    # cassettes/google/chat_tools.yaml: pydantic-ai's second request of a tool round trip.
    sent = recorded_request("google/chat_tools.yaml")
    call_id = "pyd_ai_3fa5644dae1d4aad997ae39c70006fbd"
    _, contents = to_gemini_contents(
        [
            {"role": "user", "content": "What is the largest city in the user country?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": "get_user_country", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call_id, "content": '{"return_value": "Mexico"}'},
        ]
    )
    assert contents == sent["contents"]


def test_function_response_name_comes_from_the_earlier_tool_call() -> None:
    _, contents = to_gemini_contents(
        [
            {"role": "user", "content": "Capital of France?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "c1", "function": {"name": "get_capital", "arguments": "{}"}},
                    {"id": "c2", "function": {"name": "get_time", "arguments": "{}"}},
                ],
            },
            {"role": "tool", "tool_call_id": "c2", "content": "10:00"},
            {"role": "tool", "tool_call_id": "c1", "content": "Paris"},
        ]
    )
    # Both results answer one model turn, so they share one user content.
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_time", "response": {"result": "10:00"}, "id": "c2"}},
            {
                "functionResponse": {
                    "name": "get_capital",
                    "response": {"result": "Paris"},
                    "id": "c1",
                }
            },
        ],
    }


def test_tool_result_with_unknown_call_id_is_a_clear_error() -> None:
    with pytest.raises(InvalidRequestError, match="function name"):
        to_gemini_contents([{"role": "tool", "tool_call_id": "nope", "content": "x"}])


def test_thought_signature_is_sent_back_with_its_function_call() -> None:
    _, contents = to_gemini_contents(
        [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "function": {"name": "get_country", "arguments": ""}}],
            }
        ],
        signatures={"c1": "EpwICpkI"},
    )
    assert contents[0]["parts"] == [
        {
            "functionCall": {"name": "get_country", "args": {}, "id": "c1"},
            "thoughtSignature": "EpwICpkI",
        }
    ]


def test_image_data_url_becomes_inline_data() -> None:
    _, contents = to_gemini_contents(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}},
                ],
            }
        ]
    )
    assert contents[0]["parts"] == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0K"}},
    ]


# ----- schemas, tools, config -----


def test_schema_keys_gemini_rejects_are_stripped() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "when": {"type": "string", "format": "date-time"},
            "note": {"type": ["string", "null"]},
        },
        "required": ["url"],
    }
    assert gemini_schema(schema) == {
        "type": "OBJECT",
        "properties": {
            "url": {"type": "STRING"},
            "when": {"type": "STRING", "format": "date-time"},
            "note": {"type": "STRING", "nullable": True},
        },
        "required": ["url"],
    }


def test_refs_are_inlined_and_optional_any_of_becomes_nullable() -> None:
    schema = {
        "$defs": {"City": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "type": "object",
        "properties": {"city": {"anyOf": [{"$ref": "#/$defs/City"}, {"type": "null"}]}},
    }
    assert gemini_schema(schema)["properties"]["city"] == {
        "type": "OBJECT",
        "properties": {"name": {"type": "STRING"}},
        "nullable": True,
    }


def test_tools_match_the_recorded_function_declarations() -> None:
    sent = recorded_request("google/chat_tools.yaml")["tools"]
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_user_country",
                "parameters": {"type": "object", "properties": {}},
            },
        },
        {
            "type": "function",
            "function": {
                "name": "final_result",
                "description": "The final response which ends this conversation",
                "parameters": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
                    "required": ["city", "country"],
                },
            },
        },
    ]
    assert to_gemini_tools(tools) == sent


def test_tool_choice_maps_to_function_calling_modes() -> None:
    assert to_gemini_tool_config("auto") == {"functionCallingConfig": {"mode": "AUTO"}}
    assert to_gemini_tool_config("required") == {"functionCallingConfig": {"mode": "ANY"}}
    assert to_gemini_tool_config("none") == {"functionCallingConfig": {"mode": "NONE"}}
    named = {"type": "function", "function": {"name": "final_result"}}
    assert to_gemini_tool_config(named) == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["final_result"]}
    }


def test_generation_config_carries_sampling_and_json_schema() -> None:
    config = generation_config(
        temperature=0,
        max_tokens=100,
        top_p=0.5,
        stop=["END"],
        seed=7,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "c", "schema": {"type": "object", "properties": {}}},
        },
    )
    assert config == {
        "temperature": 0,
        "maxOutputTokens": 100,
        "topP": 0.5,
        "stopSequences": ["END"],
        "seed": 7,
        "responseMimeType": "application/json",
        "responseSchema": {"type": "OBJECT", "properties": {}},
    }


def test_finish_reasons_map_to_openai_values() -> None:
    assert finish_reason("STOP") == "stop"
    assert finish_reason("STOP", has_calls=True) == "tool_calls"
    assert finish_reason("MAX_TOKENS") == "length"
    assert finish_reason("SAFETY") == "content_filter"


# ----- the wire -----


def _first_answer(path: str) -> httpx.Response:
    answer = yaml.safe_load((CASSETTES / path).read_text())["interactions"][0]["response"]
    headers = {k: v[0] for k, v in answer["headers"].items()}
    return httpx.Response(answer["status"]["code"], headers=headers, text=answer["body"]["string"])


def test_key_travels_in_a_header_never_in_the_url(make_juggler: Any) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "stream" in request.url.path:
            return _first_answer("google/chat_stream.yaml")
        return _first_answer("google/chat_plain.yaml")

    j = make_juggler(handler, ["google/gemini-2.5-flash"])
    j.chat("Hello!")
    list(j.stream_chat("Hello!"))
    plain, stream = seen
    assert str(plain.url) == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    assert str(stream.url).endswith(":streamGenerateContent?alt=sse")
    for request in seen:
        assert request.headers["x-goog-api-key"] == "test-key-google"
        assert "test-key-google" not in str(request.url)
        assert "key=" not in str(request.url)
        assert "authorization" not in request.headers


def test_thought_signature_round_trips_into_the_next_request(make_juggler: Any) -> None:
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        if len(seen) == 1:
            return _first_answer("google/chat_tools_stream_signature.yaml")
        return _first_answer("google/chat_stream.yaml")

    j = make_juggler(handler, ["google/gemini-3-pro-preview"])
    first = j.stream_chat("What is the capital of the user country? Call the tool")
    list(first)
    (call,) = first.tool_calls
    assert (call.name, call.arguments) == ("get_country", {})
    history = [
        {"role": "user", "content": "What is the capital of the user country? Call the tool"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "Mexico"},
    ]
    list(j.stream_chat(history))
    model_turn = seen[1]["contents"][1]["parts"][0]
    assert model_turn["thoughtSignature"].startswith("EpwICpkIAXLI2nxlU6gsWZaZ")
    assert seen[1]["contents"][2]["parts"][0]["functionResponse"]["name"] == "get_country"
