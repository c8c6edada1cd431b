"""Anthropic's Messages API through a real ``Juggler``, replayed from recorded traffic.

Each test replays a cassette under ``cassettes/anthropic/`` (real recordings, except the 529
and the SSE error frames, whose headers say how they were built) and checks that the parsed
answer equals what Anthropic sent: text, tool-call names and arguments, usage, finish reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from juggler import (
    AllProvidersFailedError,
    AuthenticationError,
    BadRequestError,
    Juggler,
    ModelNotFoundError,
    OverloadedError,
    RequestRejectedError,
    StreamInterruptedError,
    ToolCall,
    Usage,
)

WEATHER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        },
    }
]


@pytest.fixture
def claude() -> Iterator[Any]:
    """``claude(model)``: a one-target Juggler on anthropic with a dummy key, no retries."""
    made: list[Juggler] = []

    def make(model: str = "claude-sonnet-4-5") -> Juggler:
        j = Juggler(
            chat=[f"anthropic/{model}"],
            providers={"anthropic": {"api_key": "test"}},
            env={},
            retries=0,
        )
        made.append(j)
        return j

    yield make
    for j in made:
        j.close()


# ----- plain answers -----


def test_plain_chat_returns_the_text_usage_and_length_finish(cassette: Any, claude: Any) -> None:
    with cassette.use_cassette("anthropic/chat_plain.yaml"):
        r = claude().chat("When do you use 'whom' instead of 'who'?", max_tokens=15)
    assert r == "# Who vs. Whom\n\n**Simple rule:** \n- **"
    assert r.finish_reason == "length"  # stop_reason max_tokens
    assert r.usage == Usage(input_tokens=22, output_tokens=15, total_tokens=37)
    assert r.provider == "anthropic"
    assert r.model == "claude-sonnet-4-5-20250929"
    assert [(a.provider, a.success) for a in r.models_used] == [("anthropic", True)]


def test_tool_use_blocks_become_tool_calls_beside_the_text(cassette: Any, claude: Any) -> None:
    with cassette.use_cassette("anthropic/chat_tools.yaml"):
        r = claude("claude-3-5-sonnet-20240620").chat(
            "What is the weather like right now in New York?", tools=WEATHER_TOOLS
        )
    assert r.startswith("Certainly! I'd be happy to help you")
    assert r.tool_calls == [
        ToolCall(
            id="toolu_012r6TBCWjRHG71j6zruYyUL",
            name="get_weather",
            arguments={"location": "New York, NY", "unit": "fahrenheit"},
        ),
        ToolCall(
            id="toolu_01SkeBKkLCNYWNuivqFerGDd",
            name="get_time",
            arguments={"timezone": "America/New_York"},
        ),
    ]
    assert r.finish_reason == "tool_calls"
    assert r.usage == Usage(input_tokens=514, output_tokens=152, total_tokens=666)


def test_thinking_blocks_are_not_part_of_the_answer(cassette: Any, claude: Any) -> None:
    with cassette.use_cassette("anthropic/chat_thinking.yaml"):
        r = claude("claude-sonnet-4-20250514").chat("What is the best selling book of all time?")
    assert r == 'THE BEST-SELLING BOOK OF ALL TIME IS "DON QUIXOTE"'
    assert r.finish_reason == "stop"


# ----- streams -----


def test_stream_joins_text_deltas_and_reads_usage_from_start_and_delta(
    cassette: Any, claude: Any
) -> None:
    with cassette.use_cassette("anthropic/chat_stream.yaml"):
        stream = claude().stream_chat("Two names for a pet pelican, be brief")
        chunks = list(stream)
    assert "".join(chunks) == "- Captain\n- Scoop"
    assert stream.text == "- Captain\n- Scoop"
    # input from message_start, output from message_delta
    assert stream.usage == Usage(input_tokens=17, output_tokens=10, total_tokens=27)
    assert stream.finish_reason == "stop"
    assert stream.model == "claude-sonnet-4-5-20250929"
    assert [(a.provider, a.success) for a in stream.models_used] == [("anthropic", True)]


def test_stream_assembles_a_tool_call_from_input_json_deltas(cassette: Any, claude: Any) -> None:
    with cassette.use_cassette("anthropic/chat_tools_stream.yaml"):
        stream = claude("claude-3-opus-20240229").stream_chat(
            "What is the weather in San Francisco, CA?", tools=WEATHER_TOOLS
        )
        list(stream)
    assert stream.text.startswith("<thinking>\nThe get_weather tool is relevant")
    assert stream.tool_calls == [
        ToolCall(
            id="toolu_01DYJo37oETVsCdLTTcCWcdq",
            name="get_weather",
            arguments={"location": "San Francisco, CA"},
        )
    ]
    assert stream.finish_reason == "tool_calls"
    assert stream.usage == Usage(input_tokens=599, output_tokens=135, total_tokens=734)


def test_stream_tool_call_with_empty_arguments_has_empty_dict(cassette: Any, claude: Any) -> None:
    with cassette.use_cassette("anthropic/chat_tools_stream_no_args.yaml"):
        stream = claude("claude-haiku-4-5-20251001").stream_chat(
            "Generate one name for a pet pelican", tools=WEATHER_TOOLS
        )
        list(stream)
    assert stream.text == ""
    assert stream.tool_calls == [
        ToolCall(id="toolu_01CzN6riCPqw4pVSuTd9Dwn7", name="pelican_name_generator")
    ]
    assert stream.usage == Usage(input_tokens=543, output_tokens=40, total_tokens=583)


def test_stream_skips_thinking_and_signature_deltas(cassette: Any, claude: Any) -> None:
    with cassette.use_cassette("anthropic/chat_stream_thinking.yaml"):
        stream = claude("claude-haiku-4-5-20251001").stream_chat("Two names for a pet pelican")
        text = "".join(stream)
    assert text == (
        '1. **Pouch** - references their iconic bill pouch\n2. **Pelé** - playful take on "pelican"'
    )
    assert stream.usage == Usage(input_tokens=46, output_tokens=133, total_tokens=179)


# ----- errors -----


def _cause(exc_info: pytest.ExceptionInfo[AllProvidersFailedError]) -> BaseException | None:
    return exc_info.value.__cause__


def test_401_is_an_authentication_error(cassette: Any, claude: Any) -> None:
    with (
        cassette.use_cassette("anthropic/chat_error_401.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        claude().chat("Hello")
    assert isinstance(_cause(info), AuthenticationError)
    attempt = info.value.models_used[0]
    assert (attempt.status_code, attempt.error_type) == (401, "AuthenticationError")
    assert attempt.error == "invalid x-api-key"


def test_401_on_a_stream_request_is_an_authentication_error(cassette: Any, claude: Any) -> None:
    with (
        cassette.use_cassette("anthropic/chat_stream_error_401.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        list(claude().stream_chat("This should fail with AuthenticationError"))
    assert isinstance(_cause(info), AuthenticationError)


def test_404_unknown_model_is_model_not_found(cassette: Any, claude: Any) -> None:
    with (
        cassette.use_cassette("anthropic/chat_error_404.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        claude("this-model-does-not-exist-12345").chat("This should fail")
    assert isinstance(_cause(info), ModelNotFoundError)
    assert info.value.models_used[0].error == "model: this-model-does-not-exist-12345"


def test_400_invalid_request_stops_the_chain(cassette: Any, claude: Any) -> None:
    with (
        cassette.use_cassette("anthropic/chat_error_400.yaml"),
        pytest.raises(RequestRejectedError) as info,
    ):
        claude().chat("Hello")
    assert isinstance(info.value.__cause__, BadRequestError)


def test_529_is_an_overloaded_error(cassette: Any, claude: Any) -> None:
    with (
        cassette.use_cassette("anthropic/chat_error_529.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        claude().chat("Hello")
    assert isinstance(_cause(info), OverloadedError)
    assert info.value.models_used[0].status_code == 529


def test_overloaded_error_frame_before_text_fails_the_attempt(cassette: Any, claude: Any) -> None:
    with (
        cassette.use_cassette("anthropic/chat_stream_error_event.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        list(claude().stream_chat("Two names for a pet pelican, be brief"))
    assert isinstance(_cause(info), OverloadedError)
    assert info.value.models_used[0].error_type == "OverloadedError"


def test_overloaded_error_frame_after_text_raises_stream_interrupted(
    cassette: Any, claude: Any
) -> None:
    with cassette.use_cassette("anthropic/chat_stream_error_after_text.yaml"):
        stream = claude().stream_chat("Two names for a pet pelican, be brief")
        with pytest.raises(StreamInterruptedError) as info:
            list(stream)
    assert info.value.partial_text == "- Captain"
    assert info.value.models_used[0].error_type == "OverloadedError"


# ----- JSON output through the forced tool, streamed -----


def test_streamed_json_answer_arrives_as_text_not_as_a_tool_call(make_juggler: Any) -> None:
    # The recorded tool stream of chat_tools_stream.yaml, with its tool renamed to the forced
    # JSON tool: its input_json_delta fragments become the answer's text.
    path = Path(__file__).resolve().parents[2] / "cassettes/anthropic/chat_tools_stream.yaml"
    answer = yaml.safe_load(path.read_text())["interactions"][0]["response"]
    body = answer["body"]["string"].replace('"name":"get_weather"', '"name":"json_response"')

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)

    j = make_juggler(handler, ["anthropic/claude-3-opus-20240229"])
    stream = j.stream_chat("Weather in San Francisco?", response_format={"type": "json_object"})
    list(stream)
    assert stream.text.endswith('{"location": "San Francisco, CA"}')
    assert stream.tool_calls == []
    assert stream.finish_reason == "stop"


async def test_async_stream_and_chat_replay_like_the_sync_ones(cassette: Any, claude: Any) -> None:
    j = claude()
    with cassette.use_cassette("anthropic/chat_stream.yaml"):
        stream = j.astream_chat("Two names for a pet pelican, be brief")
        assert "".join([chunk async for chunk in stream]) == "- Captain\n- Scoop"
    with cassette.use_cassette("anthropic/chat_plain.yaml"):
        r = await j.achat("When do you use 'whom' instead of 'who'?")
    assert r == "# Who vs. Whom\n\n**Simple rule:** \n- **"
    assert stream.usage == Usage(input_tokens=17, output_tokens=10, total_tokens=27)
