"""Non-streamed chat over the OpenAI wire format, replayed from real recordings.

Every cassette under ``cassettes/<provider>/chat_*.yaml`` was converted from a recording in
``shared/wire`` (its header comment names the file). Each test drives a real ``Juggler`` through
the recorded HTTP answer and checks that the answer carries exactly what the provider sent:
the text, the token usage, the finish reason and the tool calls.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from juggler import AllProvidersFailedError, Juggler, RequestRejectedError, ToolCall, Usage

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
PROVIDERS = (
    "openai",
    "groq",
    "cerebras",
    "nvidia",
    "together",
    "mistral",
    "deepseek",
    "openrouter",
)


def recorded_body(path: str) -> dict[str, Any]:
    """The JSON body of a cassette's first response, read straight from the YAML file."""
    data = yaml.safe_load((CASSETTES / path).read_text())
    body: dict[str, Any] = json.loads(data["interactions"][0]["response"]["body"]["string"])
    return body


# ----- plain text answers -----


def test_openai_plain_answer_replays_content_usage_and_finish_reason(
    cassette: Any, juggler_for: Any
) -> None:
    with cassette.use_cassette("openai/chat_plain.yaml"):
        r = juggler_for("openai", "gpt-3.5-turbo").chat("Tell me a joke about opentelemetry")
    assert r == (
        "Why did the opentelemetry developer go broke? \n\nBecause he couldn't track his expenses!"
    )
    assert r.usage == Usage(input_tokens=15, output_tokens=19, total_tokens=34)
    assert r.finish_reason == "stop"
    assert r.provider == "openai"
    assert r.model == "gpt-3.5-turbo-0125"  # the model the provider says answered
    assert [(a.provider, a.model, a.success, a.status_code) for a in r.models_used] == [
        ("openai", "gpt-3.5-turbo", True, 200)
    ]


def test_groq_plain_answer_ignores_groq_timing_fields_in_usage(
    cassette: Any, juggler_for: Any
) -> None:
    with cassette.use_cassette("groq/chat_plain.yaml"):
        r = juggler_for("groq", "llama3-8b-8192").chat("Tell me a joke about opentelemetry")
    expected = recorded_body("groq/chat_plain.yaml")["choices"][0]["message"]["content"]
    assert r.content == expected
    assert r.startswith("Why did the OpenTelemetry span go to therapy?")
    assert r.usage == Usage(input_tokens=18, output_tokens=52, total_tokens=70)
    assert r.finish_reason == "stop"
    assert r.provider == "groq"


def test_cerebras_plain_answer_replays(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("cerebras/chat_plain.yaml"):
        r = juggler_for("cerebras", "llama-3.3-70b").chat("What is 2 + 2?")
    assert r == "2 + 2 = 4."
    assert r.usage == Usage(input_tokens=43, output_tokens=9, total_tokens=52)
    assert r.finish_reason == "stop"
    assert r.model == "llama-3.3-70b"


def test_together_plain_answer_replays(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("together/chat_plain.yaml"):
        r = juggler_for("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo").chat(
            "What is 4200 + 42?"
        )
    assert r == "To find the answer, add 4200 and 42.\n\n4200 + 42 = 4242"
    assert r.usage == Usage(input_tokens=44, output_tokens=23, total_tokens=67)
    assert r.finish_reason == "stop"
    assert r.tool_calls == []  # Together sends "tool_calls": [] on plain answers


def test_mistral_plain_answer_replays(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("mistral/chat_plain.yaml"):
        r = juggler_for("mistral", "mistral-tiny").chat("Tell me a joke about OpenTelemetry")
    expected = recorded_body("mistral/chat_plain.yaml")["choices"][0]["message"]["content"]
    assert r.content == expected
    assert r.startswith("Here's a light-hearted, tech-themed joke related to OpenTelemetry:")
    assert r.usage == Usage(input_tokens=11, output_tokens=96, total_tokens=107)
    assert r.finish_reason == "stop"


def test_mistral_answer_cut_at_max_tokens_reports_length(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("mistral/chat_length.yaml"):
        r = juggler_for("mistral", "mistral-large-latest").chat(
            "Why is the sky blue?", max_tokens=100
        )
    expected = recorded_body("mistral/chat_length.yaml")["choices"][0]["message"]["content"]
    assert r.content == expected
    assert r.finish_reason == "length"
    assert r.usage == Usage(input_tokens=9, output_tokens=100, total_tokens=109)


def test_mistral_reasoning_blocks_yield_only_the_answer_text(
    cassette: Any, juggler_for: Any
) -> None:
    # magistral answers with a list of blocks: a "thinking" block, then the "text" block.
    with cassette.use_cassette("mistral/chat_thinking_blocks.yaml"):
        r = juggler_for("mistral", "magistral-medium-latest").chat("What is 2+2?")
    assert r == "What is 2+2?\n\\[ 2 + 2 = 4 \\]\n\n${answer}"
    assert "Okay, the user" not in r  # the thinking block is not answer text
    assert r.usage == Usage(input_tokens=10, output_tokens=63, total_tokens=73, cached_tokens=5)
    assert r.finish_reason == "stop"


def test_deepseek_plain_answer_replays(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("deepseek/chat_plain.yaml"):
        r = juggler_for("deepseek", "deepseek-chat").chat(
            [
                {"role": "system", "content": "You are a helpful assistant"},
                {"role": "user", "content": "Hello"},
            ]
        )
    assert r == "Hello! How can I assist you today?"
    assert r.usage == Usage(input_tokens=20, output_tokens=96, total_tokens=116)
    assert r.finish_reason == "stop"


def test_deepseek_reasoner_answer_excludes_reasoning_content(
    cassette: Any, juggler_for: Any
) -> None:
    with cassette.use_cassette("deepseek/chat_thinking.yaml"):
        r = juggler_for("deepseek", "deepseek-reasoner").chat("How do I cross the street?")
    message = recorded_body("deepseek/chat_thinking.yaml")["choices"][0]["message"]
    assert r.content == message["content"]
    assert message["reasoning_content"] not in r
    assert r.usage == Usage(input_tokens=12, output_tokens=789, total_tokens=801)
    assert r.finish_reason == "stop"


# ----- tool calls -----


def test_openai_parallel_tool_calls_are_parsed_in_order(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("openai/chat_tools.yaml"):
        r = juggler_for("openai", "gpt-3.5-turbo").chat(
            "What's the weather like in San Francisco and Boston?", tools=[WEATHER_TOOL]
        )
    assert r.tool_calls == [
        ToolCall(
            id="call_rU416PaA6UFgxje2GemBVAwt",
            name="get_current_weather",
            arguments={"location": "San Francisco"},
        ),
        ToolCall(
            id="call_iqCZB6DkOW5TPjHK29vpiAFa",
            name="get_current_weather",
            arguments={"location": "Boston"},
        ),
    ]
    assert r == ""  # "content": null
    assert r.finish_reason == "tool_calls"
    assert r.usage == Usage(input_tokens=70, output_tokens=46, total_tokens=116)


def test_groq_tool_call_is_parsed(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("groq/chat_tools.yaml"):
        r = juggler_for("groq", "openai/gpt-oss-120b").chat(
            "Call get_something_by_name", tools=[SOMETHING_TOOL]
        )
    assert r.tool_calls == [
        ToolCall(
            id="fc_311ba17b-89f9-48d3-8fd9-7e74a1264855",
            name="get_something_by_name",
            arguments={"name": "test"},
        )
    ]
    assert r.finish_reason == "tool_calls"
    assert r.usage == Usage(input_tokens=301, output_tokens=52, total_tokens=353)


def test_cerebras_tool_call_is_parsed(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("cerebras/chat_tools.yaml"):
        r = juggler_for("cerebras", "qwen-3-coder-480b").chat(
            "What is the capital of France?", tools=[LOCATION_TOOL], tool_choice="auto"
        )
    assert r.tool_calls == [
        ToolCall(
            id="b8847f144", name="final_result", arguments={"city": "Paris", "country": "France"}
        )
    ]
    assert r.finish_reason == "tool_calls"
    assert r.usage == Usage(input_tokens=364, output_tokens=33, total_tokens=397)


def test_together_tool_call_is_parsed(cassette: Any, juggler_for: Any) -> None:
    # This recording was made against api.together.ai (the catalogue uses api.together.xyz).
    with cassette.use_cassette("together/chat_tools.yaml"):
        j = juggler_for(
            "together",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            base_url="https://api.together.ai/v1",
        )
        r = j.chat("What is the weather in Paris right now?", tools=[CITY_WEATHER_TOOL])
    assert r.tool_calls == [
        ToolCall(
            id="call_3xdm9hr8hghhxh9xjmclmt8s",
            name="get_current_weather",
            arguments={"city": "Paris"},
        )
    ]
    assert r.finish_reason == "tool_calls"
    assert r.usage == Usage(input_tokens=198, output_tokens=24, total_tokens=222)


def test_mistral_tool_call_is_parsed(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("mistral/chat_tools.yaml"):
        r = juggler_for("mistral", "mistral-large-latest").chat(
            "What's the weather in NYC?", tools=[NYC_WEATHER_TOOL]
        )
    assert r.tool_calls == [
        ToolCall(id="Caf7Pyrd8", name="get_weather", arguments={"location": "New York City"})
    ]
    assert r == ""  # Mistral sends "content": "" beside tool calls
    assert r.finish_reason == "tool_calls"
    assert r.usage == Usage(input_tokens=72, output_tokens=14, total_tokens=86)


def test_tool_arguments_that_are_a_json_array_are_kept_as_they_came(
    cassette: Any, juggler_for: Any
) -> None:
    with cassette.use_cassette("nvidia/chat_tools.yaml"):
        r = juggler_for("nvidia", "nvidia/nemotron-parse", retries=0).chat(
            "<img src='data:image/png;base64,...' />",
            tools=[{"type": "function", "function": {"name": "markdown_no_bbox"}}],
            tool_choice={"type": "function", "function": {"name": "markdown_no_bbox"}},
        )
    call = recorded_body("nvidia/chat_tools.yaml")["choices"][0]["message"]["tool_calls"][0]
    assert [c.name for c in r.tool_calls] == ["markdown_no_bbox"]
    assert r.tool_calls[0].arguments == json.loads(call["function"]["arguments"])
    assert isinstance(r.tool_calls[0].arguments, list)
    assert r.tool_calls[0].kwargs == {"value": r.tool_calls[0].arguments}
    assert r.models_used[-1].outcome == "success"
    assert r.usage == Usage(input_tokens=5, output_tokens=944, total_tokens=949)


# ----- shapes the tests above send -----

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}
CITY_WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
NYC_WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a location.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}
SOMETHING_TOOL = {
    "type": "function",
    "function": {
        "name": "get_something_by_name",
        "description": "",
        "parameters": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
        },
    },
}
LOCATION_TOOL = {
    "type": "function",
    "function": {
        "name": "final_result",
        "description": "The final response which ends this conversation",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
            "required": ["city", "country"],
        },
    },
}


def test_every_openai_format_chat_cassette_names_its_source_recording() -> None:
    paths = [p for name in PROVIDERS for p in sorted((CASSETTES / name).glob("chat_*.yaml"))]
    assert len(paths) >= len(PROVIDERS)
    for path in paths:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# Source: shared/wire/"), path


# ----- recorded error answers -----


@pytest.mark.parametrize(
    ("path", "target", "status", "error_type", "message_start"),
    [
        ("openai/chat_error_401.yaml", "openai/gpt-4o", 401, "AuthenticationError",
         "Incorrect API key provided: [redacted]."),
        ("openai/chat_error_404.yaml", "openai/this-model-does-not-exist-12345", 404,
         "ModelNotFoundError", "The model `this-model-does-not-exist-12345` does not exist"),
        ("groq/chat_error_404.yaml", "groq/non-existent", 404, "ModelNotFoundError",
         "The model `non-existent` does not exist"),
        ("openrouter/chat_error_429.yaml", "openrouter/google/gemini-2.0-flash-exp:free", 429,
         "RateLimitError", "Provider returned error: google/gemini-2.0-flash-exp:free is"),
    ],
    ids=["openai-401", "openai-404", "groq-404", "openrouter-429"],
)  # fmt: skip
def test_recorded_error_answer_is_classified(
    cassette: Any, path: str, target: str, status: int, error_type: str, message_start: str
) -> None:
    provider, model = target.split("/", 1)
    with cassette.use_cassette(path):
        j = Juggler([target], providers={provider: {"api_key": "test"}}, env={}, retries=0)
        with pytest.raises(AllProvidersFailedError) as info:
            j.chat("hi")
        j.close()
    (attempt,) = info.value.models_used
    assert (attempt.provider, attempt.model) == (provider, model)
    assert (attempt.status_code, attempt.error_type) == (status, error_type)
    assert attempt.error is not None
    assert attempt.error.startswith(message_start)
    assert len(attempt.error) <= 300


def test_recorded_400_rejects_the_request_without_trying_further(cassette: Any) -> None:
    with cassette.use_cassette("openai/chat_error_400.yaml"):
        j = Juggler(
            ["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"],
            providers={"openai": {"api_key": "test"}, "groq": {"api_key": "test"}},
            env={},
        )
        with pytest.raises(RequestRejectedError) as info:
            j.chat("What is in this image?")
        j.close()
    assert [(a.provider, a.status_code, a.error_type) for a in info.value.models_used] == [
        ("openai", 400, "BadRequestError")
    ]


def test_openrouter_recorded_429s_are_retried_on_the_last_target(cassette: Any) -> None:
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    with cassette.use_cassette("openrouter/chat_error_429.yaml"):
        j = Juggler(
            ["openrouter/google/gemini-2.0-flash-exp:free"],
            providers={"openrouter": {"api_key": "test"}},
            env={},
            retries=2,
        )
        j.engine.sleep = no_sleep
        with pytest.raises(AllProvidersFailedError) as info:
            j.chat("Tell me a joke.")
        j.close()
    assert [(a.attempt, a.status_code, a.error_type) for a in info.value.models_used] == [
        (1, 429, "RateLimitError"),
        (2, 429, "RateLimitError"),
        (3, 429, "RateLimitError"),
    ]
    assert len(waits) == 2
