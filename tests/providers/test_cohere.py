"""The Cohere v2 wire format, replayed from real recordings: chat, streaming, embed, rerank.

Each cassette under ``cassettes/cohere/`` was converted from a recording in ``shared/wire``
(its header comment names the file). The tests drive a real ``Juggler`` and check the answer
carries exactly what Cohere sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from juggler import AllProvidersFailedError, Juggler, ModelNotFoundError, ToolCall, Usage

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def recorded(path: str, index: int = 0) -> dict[str, Any]:
    """The JSON body of a cassette's response, read straight from the YAML file."""
    data = yaml.safe_load((CASSETTES / path).read_text())
    body: dict[str, Any] = json.loads(data["interactions"][index]["response"]["body"]["string"])
    return body


@pytest.fixture
def sent() -> list[dict[str, Any]]:
    """The JSON bodies this test's Juggler sent (the cassette replays only the answers)."""
    return []


@pytest.fixture
def cohere(sent: list[dict[str, Any]]) -> Iterator[Juggler]:
    """A Juggler that sends every capability to Cohere, recording the request bodies."""

    async def spy(request: httpx.Request) -> None:
        sent.append(json.loads(request.content))

    j = Juggler(
        chat=["cohere/command-r"],
        embed=["cohere/embed-english-light-v3.0"],
        rerank=["cohere/rerank-english-v3.0"],
        providers={"cohere": {"api_key": "test"}},
        http_client=httpx.AsyncClient(event_hooks={"request": [spy]}),
        env={},
    )
    yield j
    j.close()


# ----- chat -----


def test_chat_answer_is_the_text_parts_with_token_usage(cassette: Any, cohere: Juggler) -> None:
    with cassette.use_cassette("cohere/chat_plain.yaml"):
        r = cohere.chat("I'm Pickle Rick")
    assert r == (
        "Hi there! You're Pickle Rick? That's a fun nickname! Do you have a question or would "
        "you like some help with something?"
    )
    assert r.usage == Usage(input_tokens=70, output_tokens=28, total_tokens=98)
    assert r.finish_reason == "stop"  # COMPLETE, in the vocabulary every answer uses
    assert [(a.provider, a.model, a.success) for a in r.models_used] == [
        ("cohere", "command-r", True)
    ]


def test_chat_tool_call_is_parsed_with_its_arguments(cassette: Any, cohere: Juggler) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "Person",
            "parameters": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
    }
    with cassette.use_cassette("cohere/chat_tools.yaml"):
        r = cohere.chat("Erick, 27 years old", tools=[tool])
    assert r.tool_calls == [
        ToolCall(id="Person_zh3gneaxfh7q", name="Person", arguments={"age": 27, "name": "Erick"})
    ]
    assert r.finish_reason == "tool_calls"
    assert r.usage.input_tokens == 906


def test_parallel_tool_calls_keep_their_order(cassette: Any, cohere: Juggler) -> None:
    with cassette.use_cassette("cohere/chat_parallel_tools.yaml"):
        r = cohere.chat("What is the weather and current time in Tokyo?")
    assert [(c.id, c.name, c.arguments) for c in r.tool_calls] == [
        ("get_time_dp3men9jrvhf", "get_time", {"location": "Tokyo"}),
        ("get_weather_d7arjgsc96yf", "get_weather", {"location": "Tokyo"}),
    ]
    assert r == ""  # a tool_plan is not the answer text


async def test_tool_results_go_back_as_tool_messages(
    cassette: Any, cohere: Juggler, sent: list[dict[str, Any]]
) -> None:
    history = [
        {"role": "user", "content": "What is the weather and current time in Tokyo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "get_time_dp3men9jrvhf",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": '{"location":"Tokyo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "get_time_dp3men9jrvhf", "content": "4:20 PM"},
    ]
    with cassette.use_cassette("cohere/chat_tool_history.yaml"):
        r = await cohere.achat(history)
    assert r.startswith("The current time in Tokyo is 4:20 PM")
    assert r.finish_reason == "stop"
    assistant = sent[0]["messages"][1]
    assert "content" not in assistant  # Cohere's schema has no null content
    assert assistant["tool_calls"][0]["function"]["name"] == "get_time"
    assert sent[0]["messages"][2] == {
        "role": "tool",
        "tool_call_id": "get_time_dp3men9jrvhf",
        "content": "4:20 PM",
    }


def test_stream_yields_the_content_deltas_and_ends_with_usage(
    cassette: Any, cohere: Juggler
) -> None:
    with cassette.use_cassette("cohere/chat_stream.yaml"):
        stream = cohere.stream_chat("I'm Pickle Rick")
        chunks = [str(c) for c in stream]
    text = "".join(chunks)
    assert text.startswith("Hi there! You're Pickle Rick?")
    assert text.endswith("theories or episode recommendations?")
    assert stream.usage == Usage(input_tokens=70, output_tokens=69, total_tokens=139)
    assert stream.finish_reason == "stop"
    assert [a.success for a in stream.models_used] == [True]


async def test_streamed_tool_call_is_assembled_from_its_deltas(
    cassette: Any, cohere: Juggler
) -> None:
    tool = {"type": "function", "function": {"name": "Person", "parameters": {"type": "object"}}}
    with cassette.use_cassette("cohere/chat_stream_tools.yaml"):
        stream = cohere.astream_chat("Erick, 27 years old", tools=[tool])
        async for _ in stream:
            pass
    assert stream.tool_calls == [
        ToolCall(id="Person_2fnrphbsnr66", name="Person", arguments={"name": "Erick", "age": 27})
    ]
    assert stream.finish_reason == "tool_calls"
    assert stream.usage is not None and stream.usage.output_tokens == 77


# ----- embed -----


def test_embed_returns_the_float_vectors_cohere_sent(cassette: Any, cohere: Juggler) -> None:
    expected = recorded("cohere/embed.yaml")["embeddings"]["float"]
    texts = [f"text {i}" for i in range(6)]
    with cassette.use_cassette("cohere/embed.yaml"):
        r = cohere.embed(texts)
    assert len(r) == 6
    assert r.dimensions == 384
    assert r[0][:3] == [0.032318115, -0.031188965, -0.06604004]
    assert list(r) == expected
    assert r.usage.input_tokens == 208  # meta.billed_units.input_tokens


async def test_embed_sends_search_query_for_queries(
    cassette: Any, cohere: Juggler, sent: list[dict[str, Any]]
) -> None:
    with cassette.use_cassette("cohere/embed_query.yaml"):
        r = await cohere.aembed("Hello, world!", input_type="query")
    assert sent[0]["input_type"] == "search_query"
    assert sent[0]["embedding_types"] == ["float"]
    assert r.dimensions == 1536
    assert r[0][:2] == [-0.018445116, 0.008921167]


def test_embed_unknown_model_is_a_recorded_404(cassette: Any) -> None:
    j = Juggler(embed=["cohere/nonexistent"], providers={"cohere": {"api_key": "test"}}, env={})
    with (
        cassette.use_cassette("cohere/embed_error.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        j.embed("Hello, world!")
    j.close()
    (attempt,) = info.value.models_used
    assert attempt.error_type == ModelNotFoundError.__name__
    assert attempt.status_code == 404
    assert "nonexistent" in (attempt.error or "")


# ----- rerank -----


def test_rerank_returns_documents_best_first_with_cohere_scores(
    cassette: Any, cohere: Juggler, sent: list[dict[str, Any]]
) -> None:
    docs = [f"document {i}" for i in range(6)]
    with cassette.use_cassette("cohere/rerank.yaml"):
        r = cohere.rerank("What is the capital of the United States?", docs, top_k=3)
    assert sent[0]["top_n"] == 3
    assert r.indices == [3, 4, 1]
    assert r.scores == [0.999071, 0.7779754, 0.08882029]
    assert r == ["document 3", "document 4", "document 1"]


async def test_rerank_works_async_with_models_used(cassette: Any, cohere: Juggler) -> None:
    docs = [f"document {i}" for i in range(6)]
    with cassette.use_cassette("cohere/rerank.yaml"):
        r = await cohere.arerank("query", docs, top_k=2)
    assert len(r) == 2 and len(r.scores) == 2
    assert [(a.provider, a.success) for a in r.models_used] == [("cohere", True)]


# ----- failures are classified from Cohere's error body -----


async def test_cohere_error_message_is_kept_and_the_key_is_not() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"id": "x", "message": "trial key rate limit exceeded"})

    j = Juggler(
        rerank=["cohere/rerank-v3.5"],
        providers={"cohere": {"api_key": "co-secret-key"}},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        env={},
        retries=0,
    )
    with pytest.raises(AllProvidersFailedError) as info:
        await j.arerank("q", ["a"])
    j.close()
    (attempt,) = info.value.models_used
    assert attempt.error_type == "RateLimitError"
    assert "trial key rate limit" in (attempt.error or "")
    assert "co-secret-key" not in repr(info.value.models_used)
