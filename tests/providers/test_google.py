"""Gemini's generateContent, streamGenerateContent and batchEmbedContents through a real
``Juggler``, replayed from recorded traffic under ``cassettes/google/``.

Each test checks that the parsed answer equals what Gemini sent: text, function-call names
and arguments, usage, finish reason, vector lengths and values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from juggler import (
    AllProvidersFailedError,
    AuthenticationError,
    Juggler,
    ModelNotFoundError,
    RateLimitError,
    ToolCall,
    Usage,
)
from juggler.providers._google_convert import stable_call_id
from juggler.providers.google import ContentBlockedError

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"

COUNTRY_TOOLS = [
    {
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
]


@pytest.fixture
def gemini() -> Iterator[Any]:
    """``gemini(model, capability)``: a one-target Juggler on google with a dummy key."""
    made: list[Juggler] = []

    def make(model: str = "gemini-2.5-flash", capability: str = "chat", **settings: Any) -> Juggler:
        j = Juggler(
            **{capability: [f"google/{model}"]},
            providers={"google": {"api_key": "test"}},
            env={},
            **{"retries": 0, **settings},
        )
        made.append(j)
        return j

    yield make
    for j in made:
        j.close()


def recorded_json(path: str) -> Any:
    """The first recorded response body of a cassette, decoded."""
    data = yaml.safe_load((CASSETTES / path).read_text())
    return json.loads(data["interactions"][0]["response"]["body"]["string"])


# ----- generateContent -----


def test_plain_chat_returns_text_usage_and_finish(cassette: Any, gemini: Any) -> None:
    with cassette.use_cassette("google/chat_plain.yaml"):
        r = gemini().chat(
            [
                {"role": "system", "content": "You are a chatbot."},
                {"role": "user", "content": "Hello!"},
            ]
        )
    assert r == "Hello! How can I help you today?"
    assert r.finish_reason == "stop"
    # candidatesTokenCount 9 + thoughtsTokenCount 34 = 43; totalTokenCount 52
    assert r.usage == Usage(input_tokens=9, output_tokens=43, total_tokens=52)
    assert r.model == "gemini-2.5-flash"
    assert [(a.provider, a.success) for a in r.models_used] == [("google", True)]


def test_function_call_becomes_a_tool_call_with_a_stable_id(cassette: Any, gemini: Any) -> None:
    with cassette.use_cassette("google/chat_tools.yaml"):
        r = gemini("gemini-2.0-flash").chat(
            "What is the largest city in the user country?",
            tools=COUNTRY_TOOLS,
            tool_choice="required",
        )
    args = {"city": "Mexico City", "country": "Mexico"}
    assert r.tool_calls == [
        ToolCall(
            id=stable_call_id("LlteaOzCOPOdnvgPrJbnoQg", 0, "final_result", args),
            name="final_result",
            arguments=args,
        )
    ]
    assert r == ""
    assert r.finish_reason == "tool_calls"
    assert r.usage == Usage(input_tokens=47, output_tokens=8, total_tokens=55)


def test_function_call_without_args_has_empty_arguments(cassette: Any, gemini: Any) -> None:
    with cassette.use_cassette("google/chat_tools_no_args.yaml"):
        r = gemini("gemini-2.0-flash").chat("Which country?", tools=COUNTRY_TOOLS)
    assert [(c.name, c.arguments) for c in r.tool_calls] == [("get_user_country", {})]


def test_candidate_withheld_for_safety_is_blocked_and_not_retried(
    cassette: Any, gemini: Any
) -> None:
    # Even with retries allowed, a blocked answer is not retried on the same model.
    with (
        cassette.use_cassette("google/chat_blocked_safety.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        gemini("gemini-1.5-flash", retries=2).chat("Tell me a joke about a Brazilians.")
    assert isinstance(info.value.__cause__, ContentBlockedError)
    assert [(a.error_type, a.retry) for a in info.value.models_used] == [
        ("ContentPolicyError", False)
    ]


# ----- streamGenerateContent -----


def test_stream_joins_text_and_takes_the_last_usage(cassette: Any, gemini: Any) -> None:
    with cassette.use_cassette("google/chat_stream.yaml"):
        stream = gemini("gemini-2.0-flash").stream_chat("What is the temperature in Paris?")
        chunks = list(stream)
    assert [str(c) for c in chunks] == ["The temperature in Paris", " is 30°C.\n"]
    assert stream.usage == Usage(input_tokens=79, output_tokens=12, total_tokens=91)
    assert stream.finish_reason == "stop"
    assert stream.model == "gemini-2.0-flash"


def test_stream_counts_thinking_tokens_as_output(cassette: Any, gemini: Any) -> None:
    with cassette.use_cassette("google/chat_stream_thinking_usage.yaml"):
        stream = gemini().stream_chat("What is 1 + 1?", temperature=0)
        assert "".join(stream) == "2"
    assert stream.usage == Usage(input_tokens=25, output_tokens=67, total_tokens=92)


def test_streamed_function_call_is_assembled(cassette: Any, gemini: Any) -> None:
    with cassette.use_cassette("google/chat_tools_stream.yaml"):
        stream = gemini("gemini-2.0-flash").stream_chat(
            "What is the temperature of the capital of France?", tools=COUNTRY_TOOLS
        )
        list(stream)
    assert [(c.name, c.arguments) for c in stream.tool_calls] == [
        ("get_capital", {"country": "France"})
    ]
    assert stream.finish_reason == "tool_calls"
    assert stream.usage == Usage(input_tokens=52, output_tokens=5, total_tokens=57)


# ----- errors -----


def test_invalid_key_400_is_an_authentication_error(cassette: Any, gemini: Any) -> None:
    # Gemini answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID.
    with (
        cassette.use_cassette("google/chat_error_bad_key.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        gemini().chat("This should fail with AuthenticationError")
    assert isinstance(info.value.__cause__, AuthenticationError)
    attempt = info.value.models_used[0]
    assert (attempt.status_code, attempt.error) == (
        400,
        "API key not valid. Please pass a valid API key.",
    )


def test_invalid_key_on_a_stream_is_an_authentication_error(cassette: Any, gemini: Any) -> None:
    with (
        cassette.use_cassette("google/chat_stream_error_bad_key.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        list(gemini().stream_chat("This should fail with AuthenticationError"))
    assert isinstance(info.value.__cause__, AuthenticationError)


def test_unknown_model_is_model_not_found(cassette: Any, gemini: Any) -> None:
    with (
        cassette.use_cassette("google/chat_error_404.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        gemini("this-model-does-not-exist-12345").chat("This should fail")
    assert isinstance(info.value.__cause__, ModelNotFoundError)


def test_429_reads_retry_delay_from_the_body(cassette: Any, gemini: Any) -> None:
    with (
        cassette.use_cassette("google/chat_error_429.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        gemini().chat("Hello!")
    error = info.value.__cause__
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 34.4


# ----- batchEmbedContents -----


def test_batch_embeddings_return_one_vector_per_text(cassette: Any, gemini: Any) -> None:
    sent = recorded_json("google/embed_batch.yaml")["embeddings"]
    with cassette.use_cassette("google/embed_batch.yaml"):
        r = gemini("gemini-embedding-2", "embed").embed(
            ["First text", "Second text"], dimensions=768
        )
    assert len(r) == 2
    assert r.dimensions == 768
    assert [list(v) for v in r] == [row["values"] for row in sent]
    assert [(a.provider, a.success) for a in r.models_used] == [("google", True)]


def test_query_embedding_with_dimensions(cassette: Any, gemini: Any) -> None:
    with cassette.use_cassette("google/embed_query.yaml"):
        r = gemini("gemini-embedding-2-preview", "embed").embed(
            "Hello, world!", input_type="query", dimensions=768
        )
    assert len(r) == 1
    assert len(r[0]) == 768


def test_unknown_embedding_model_is_model_not_found(cassette: Any, gemini: Any) -> None:
    with (
        cassette.use_cassette("google/embed_error_404.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        gemini("nonexistent-model", "embed").embed("Hello, world!")
    assert isinstance(info.value.__cause__, ModelNotFoundError)


async def test_async_embed_and_stream_replay_like_the_sync_ones(cassette: Any, gemini: Any) -> None:
    with cassette.use_cassette("google/embed_batch.yaml"):
        r = await gemini("gemini-embedding-2", "embed").aembed(["First text", "Second text"])
    assert [len(v) for v in r] == [768, 768]
    with cassette.use_cassette("google/chat_stream.yaml"):
        stream = gemini("gemini-2.0-flash").astream_chat("What is the temperature in Paris?")
        assert "".join([c async for c in stream]) == "The temperature in Paris is 30°C.\n"
