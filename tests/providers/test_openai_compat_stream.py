"""Streamed chat over the OpenAI wire format, replayed from real SSE recordings.

Each test iterates a real ``Juggler.stream_chat`` over a recorded ``text/event-stream`` answer
and checks the joined text, the usage on the final chunk (OpenAI's ``stream_options`` chunk,
Groq's ``x_groq.usage``, Mistral's and Together's usage beside the finish reason), the finish
reason, and the tool calls assembled from their fragments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from juggler import AllProvidersFailedError, Juggler, ToolCall, Usage

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def recorded_text(path: str) -> str:
    """The answer text of a recorded SSE body: every ``delta.content`` string, joined."""
    data = yaml.safe_load((CASSETTES / path).read_text())
    body = data["interactions"][0]["response"]["body"]["string"]
    parts = []
    for line in body.splitlines():
        payload = line.removeprefix("data:").strip()
        if line.startswith("data:") and payload != "[DONE]":
            for choice in json.loads(payload).get("choices") or []:
                content = (choice.get("delta") or {}).get("content")
                parts.append(content if isinstance(content, str) else "")
    return "".join(parts)


# ----- text streams -----


def test_openai_stream_joins_text_and_reads_usage_from_the_last_chunk(
    cassette: Any, juggler_for: Any
) -> None:
    # The usage chunk has "choices": [] and comes after the finish_reason chunk.
    with cassette.use_cassette("openai/chat_stream.yaml"):
        stream = juggler_for("openai", "gpt-5.4").stream_chat("What is 1 + 1?")
        chunks = list(stream)
    assert "".join(chunks) == "2"
    assert stream.text == "2"
    assert stream.usage == Usage(input_tokens=26, output_tokens=4, total_tokens=30)
    assert stream.finish_reason == "stop"
    assert chunks[-1].usage == stream.usage
    assert stream.provider == "openai"
    assert stream.model == "gpt-5.4-2026-03-05"
    assert [(a.provider, a.model, a.success) for a in stream.models_used] == [
        ("openai", "gpt-5.4", True)
    ]


def test_groq_stream_reads_usage_from_x_groq_on_the_final_chunk(
    cassette: Any, juggler_for: Any
) -> None:
    with cassette.use_cassette("groq/chat_stream.yaml"):
        stream = juggler_for("groq", "llama3-8b-8192").stream_chat(
            "Tell me a joke about opentelemetry"
        )
        text = "".join(stream)
    assert text == recorded_text("groq/chat_stream.yaml")
    assert text.startswith("A joke about OpenTelemetry!\n\nWhy did the OpenTelemetry Span")
    assert stream.usage == Usage(input_tokens=18, output_tokens=73, total_tokens=91)
    assert stream.finish_reason == "stop"


def test_together_stream_replays_text_and_usage(cassette: Any, juggler_for: Any) -> None:
    # Recorded against api.together.ai; Together's chunks also carry "text" and "token_id".
    with cassette.use_cassette("together/chat_stream.yaml"):
        stream = juggler_for(
            "together",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            base_url="https://api.together.ai/v1",
        ).stream_chat("Count from one to five.")
        text = "".join(stream)
    assert text == "1, 2, 3, 4, 5."
    assert stream.usage == Usage(input_tokens=41, output_tokens=15, total_tokens=56)
    assert stream.finish_reason == "stop"


def test_mistral_stream_replays_text_and_usage(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("mistral/chat_stream.yaml"):
        stream = juggler_for("mistral", "mistral-large-latest").stream_chat("What is 1 + 1?")
        text = "".join(stream)
    assert text == "2"
    assert stream.usage == Usage(input_tokens=22, output_tokens=2, total_tokens=24)
    assert stream.finish_reason == "stop"


def test_mistral_stream_cut_at_max_tokens_reports_length(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("mistral/chat_stream_length.yaml"):
        stream = juggler_for("mistral", "mistral-large-latest").stream_chat(
            "Why is the sky blue?", max_tokens=100
        )
        text = "".join(stream)
    assert text == recorded_text("mistral/chat_stream_length.yaml")
    assert text.endswith("### 2. **Scattering by Air Molecules**\n")
    assert stream.finish_reason == "length"
    assert stream.usage == Usage(input_tokens=9, output_tokens=100, total_tokens=109)


def test_deepseek_stream_skips_reasoning_content(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("deepseek/chat_stream.yaml"):
        stream = juggler_for("deepseek", "deepseek-v4-flash").stream_chat(
            "What's the current date in YYYY-MM-DD format?"
        )
        text = "".join(stream)
    assert text == "It is 2024-01-01."
    assert stream.usage == Usage(
        input_tokens=353, output_tokens=23, total_tokens=376, cached_tokens=256
    )
    assert stream.finish_reason == "stop"


# ----- streamed tool calls -----


def test_openai_streamed_parallel_tool_calls_are_assembled(cassette: Any, juggler_for: Any) -> None:
    with cassette.use_cassette("openai/chat_tools_stream.yaml"):
        stream = juggler_for("openai", "gpt-3.5-turbo").stream_chat(
            "What's the weather like in San Francisco and Boston?"
        )
        text = "".join(stream)
    assert text == ""
    assert stream.tool_calls == [
        ToolCall(
            id="call_u0T52evs3Y0byXDiUv5Al8dG",
            name="get_current_weather",
            arguments={"location": "San Francisco"},
        ),
        ToolCall(
            id="call_iXfR9wmFaDTHUw5YaVxD1uFH",
            name="get_current_weather",
            arguments={"location": "Boston"},
        ),
    ]
    assert stream.finish_reason == "tool_calls"
    assert stream.usage is None  # this request did not ask for stream_options usage


def test_groq_streamed_tool_call_is_assembled_with_x_groq_usage(
    cassette: Any, juggler_for: Any
) -> None:
    with cassette.use_cassette("groq/chat_tools_stream.yaml"):
        stream = juggler_for("groq", "openai/gpt-oss-120b").stream_chat(
            "Call get_something_by_name"
        )
        list(stream)
    assert stream.tool_calls == [
        ToolCall(
            id="fc_bfb39741-3748-4def-9886-a93fc9c64a90",
            name="get_something_by_name",
            arguments={"name": "example"},
        )
    ]
    assert stream.finish_reason == "tool_calls"
    assert stream.usage == Usage(input_tokens=304, output_tokens=49, total_tokens=353)


def test_mistral_streamed_tool_call_in_one_chunk_is_assembled(
    cassette: Any, juggler_for: Any
) -> None:
    with cassette.use_cassette("mistral/chat_tools_stream.yaml"):
        stream = juggler_for("mistral", "mistral-large-latest").stream_chat(
            "What's the weather in NYC?"
        )
        list(stream)
    assert stream.tool_calls == [
        ToolCall(id="aX2gaLIyo", name="get_weather", arguments={"location": "New York City"})
    ]
    assert stream.finish_reason == "tool_calls"
    assert stream.usage == Usage(input_tokens=72, output_tokens=14, total_tokens=86)


def test_deepseek_streamed_tool_call_with_empty_arguments_is_assembled(
    cassette: Any, juggler_for: Any
) -> None:
    with cassette.use_cassette("deepseek/chat_tools_stream.yaml"):
        stream = juggler_for("deepseek", "deepseek-v4-flash").stream_chat(
            "What's the current date in YYYY-MM-DD format?"
        )
        list(stream)
    assert stream.tool_calls == [
        ToolCall(id="call_00_tz6Vq4aG59EtpFCVbpoY3635", name="get_date", arguments={})
    ]
    assert stream.finish_reason == "tool_calls"
    assert stream.usage == Usage(input_tokens=297, output_tokens=35, total_tokens=332)


# ----- errors inside a stream -----


def test_groq_error_event_inside_a_200_stream_fails_the_attempt(
    cassette: Any, juggler_for: Any
) -> None:
    # Groq sends "event: error" with a tool_use_failed body after reasoning-only deltas, so no
    # answer text reached the caller: the attempt fails (and would fall back), never a silent
    # empty answer.
    with cassette.use_cassette("groq/chat_stream_error_event.yaml"):
        stream = juggler_for("groq", "openai/gpt-oss-120b", retries=0).stream_chat("Call a tool")
        with pytest.raises(AllProvidersFailedError) as info:
            list(stream)
    (attempt,) = info.value.models_used
    assert attempt.provider == "groq"
    assert attempt.success is False
    assert attempt.error_type == "InvalidResponseError"
    assert attempt.error is not None
    assert "Tool call validation failed" in attempt.error
    assert len(attempt.error) <= 300


async def test_async_stream_replays_the_same_as_the_sync_one(
    cassette: Any, juggler_for: Any
) -> None:
    with cassette.use_cassette("openai/chat_stream.yaml"):
        stream = juggler_for("openai", "gpt-5.4").astream_chat("What is 1 + 1?")
        chunks = [chunk async for chunk in stream]
    assert "".join(chunks) == "2"
    assert stream.usage == Usage(input_tokens=26, output_tokens=4, total_tokens=30)
    assert stream.finish_reason == "stop"
    assert [a.success for a in stream.models_used] == [True]


def test_recorded_401_on_a_stream_request_fails_before_the_first_token(cassette: Any) -> None:
    # OpenAI answers a stream=true request with a JSON 401, not an event stream.
    with cassette.use_cassette("openai/chat_error_401_stream.yaml"):
        j = Juggler(["openai/gpt-4o"], providers={"openai": {"api_key": "test"}}, env={})
        stream = j.stream_chat("This should fail with AuthenticationError")
        with pytest.raises(AllProvidersFailedError) as info:
            list(stream)
        j.close()
    (attempt,) = info.value.models_used
    assert (attempt.status_code, attempt.error_type) == (401, "AuthenticationError")
    assert stream.text == ""
