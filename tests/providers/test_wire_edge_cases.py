"""Regression tests from the wire-format review: error bodies from real recordings classified
as the README's table says, OpenAI stream edge cases, request bodies a vendor would refuse,
and input validation that must refuse bad requests (and accept valid OpenAI-shaped ones).

Error bodies are quoted from ``shared/wire`` (recordings) or from public issues, each with its
source; requests go to an ``httpx.MockTransport`` handler, never to the network.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from juggler import (
    AllProvidersFailedError,
    InvalidRequestError,
    Juggler,
    RequestRejectedError,
)
from juggler._exceptions import ModelNotFoundError, UnsupportedRequestError
from juggler.providers._classify import classify

OK = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
# shared/wire/groq/chat_completions/pydantic-ai/test_tool_use_failed_error.yaml (the 400).
GROQ_TOOL_USE_FAILED = {
    "error": {
        "code": "tool_use_failed",
        "failed_generation": '{"name": "get_something_by_name", "arguments": {\n  "foo": "bar"\n}}',
        "message": "Tool call validation failed: tool call validation failed: parameters for "
        "tool get_something_by_name did not match schema: errors: [missing properties: 'name', "
        "additionalProperties 'foo' not allowed]",
        "type": "invalid_request_error",
    }
}
# Quoted in mistralai/mistral-vibe#617 (not a recording): Mistral's answer to an unknown model.
MISTRAL_INVALID_MODEL = {
    "object": "error",
    "message": "Invalid model: mistral-medium-3.5",
    "type": "invalid_model",
    "param": None,
    "code": "1500",
}
# shared/wire/voyage/embeddings/pydantic-ai/TestVoyageAI.test_embed_error.yaml (shortened list).
VOYAGE_UNKNOWN_MODEL = {
    "detail": "Model nonexistent is not supported. Supported models are ['voyage-law-2']."
}


def _juggler(handler: Any, chain: list[str]) -> Juggler:
    names = {t.split("/", 1)[0] for t in chain}
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return Juggler(
        chain,
        providers={n: {"api_key": f"test-key-{n}"} for n in names},
        http_client=client,
        env={},
        retries=0,
    )


def _first_fails_with(status: int, body: dict[str, Any]) -> Any:
    """Groq answers ``status``/``body``; every other host answers OK."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.groq.com":
            return httpx.Response(status, json=body)
        return httpx.Response(200, json=OK)

    return handler


# ----- errors -----


def test_groq_tool_use_failed_400_falls_back_as_an_unsupported_request() -> None:
    # The reason is in "code"; "type" only says invalid_request_error. Reading type alone made
    # this a BadRequestError, which stops the whole chain.
    j = _juggler(
        _first_fails_with(400, GROQ_TOOL_USE_FAILED),
        ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"],
    )
    r = j.chat("call a tool")
    j.close()
    assert str(r) == "fine"
    first = r.models_used[0]
    assert (first.error_type, first.status_code) == ("UnsupportedRequestError", 400)
    assert r.models_used[1].success


def test_an_error_code_is_read_even_when_the_type_is_generic() -> None:
    body = {
        "error": {
            "message": "Bad value",
            "type": "invalid_request_error",
            "code": "unsupported_value",
        }
    }
    error = classify(400, {}, json.dumps(body), provider="openai", model="o1-mini")
    assert isinstance(error, UnsupportedRequestError)
    assert error.fallback


def test_mistral_invalid_model_400_falls_back_as_model_not_found() -> None:
    error = classify(
        400, {}, json.dumps(MISTRAL_INVALID_MODEL), provider="mistral", model="mistral-x"
    )
    assert isinstance(error, ModelNotFoundError)
    assert error.status_code == 400 and error.fallback


def test_voyage_unknown_model_400_is_model_not_found_not_a_rejected_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=VOYAGE_UNKNOWN_MODEL)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    j = Juggler(
        rerank=["voyage/nonexistent"],
        providers={"voyage": {"api_key": "test-key"}},
        http_client=client,
        env={},
    )
    with pytest.raises(AllProvidersFailedError) as info:
        j.rerank("q", ["a", "b"])
    j.close()
    assert not isinstance(info.value, RequestRejectedError)
    assert info.value.models_used[0].error_type == "ModelNotFoundError"
    assert (info.value.models_used[0].error or "").startswith("Model nonexistent is not")


def test_a_plain_malformed_request_400_still_stops_the_chain() -> None:
    # shared/wire/anthropic/messages/dd-trace-py/anthropic_completion_error.yaml
    body = {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "messages.0: Input does not match the expected shape.",
        },
    }
    error = classify(400, {}, json.dumps(body), provider="anthropic", model="claude")
    assert type(error).__name__ == "BadRequestError"
    assert not error.fallback


# ----- OpenAI stream edge cases -----


def _sse(*chunks: dict[str, Any]) -> str:
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def _chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": choices,
        **extra,
    }


def _stream_juggler(text: str) -> Juggler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=text, headers={"content-type": "text/event-stream"})

    return _juggler(handler, ["openai/gpt-4o-mini"])


def test_a_stream_with_two_choices_delivers_only_the_first() -> None:
    body = _sse(
        _chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
        _chunk([{"index": 0, "delta": {"content": "Hel"}}]),
        _chunk([{"index": 1, "delta": {"content": "Other"}}]),
        _chunk([{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]),
        _chunk([{"index": 1, "delta": {}, "finish_reason": "length"}]),
    )
    j = _stream_juggler(body)
    stream = j.stream_chat("hi", extra_body={"n": 2})
    assert "".join(stream) == "Hello"
    assert stream.finish_reason == "stop"
    j.close()


def test_stream_chunks_with_empty_choices_and_empty_deltas_are_harmless() -> None:
    # The usage-only last chunk has choices: [] (shared/wire/openai/.../chatlas streaming).
    body = _sse(
        _chunk([{"index": 0, "delta": {}}]),
        _chunk([{"index": 0, "delta": {"content": "2"}, "finish_reason": "stop"}]),
        _chunk([], usage={"prompt_tokens": 26, "completion_tokens": 4, "total_tokens": 30}),
    )
    j = _stream_juggler(body)
    stream = j.stream_chat("1+1?")
    assert "".join(stream) == "2"
    assert stream.usage is not None and stream.usage.total_tokens == 30
    j.close()


# ----- request bodies -----


def _sent_body(chain: list[str], **params: Any) -> dict[str, Any]:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=OK)

    j = _juggler(handler, chain)
    messages = params.pop("messages", "hi")
    j.chat(messages, **params)
    j.close()
    return sent[0]


def test_openai_gets_max_completion_tokens_which_its_reasoning_models_accept() -> None:
    body = _sent_body(["openai/o3-mini"], max_tokens=50)
    assert body["max_completion_tokens"] == 50
    assert "max_tokens" not in body


def test_other_openai_format_vendors_keep_max_tokens() -> None:
    body = _sent_body(["groq/llama-3.1-8b-instant"], max_tokens=50)
    assert body["max_tokens"] == 50
    assert "max_completion_tokens" not in body


def test_tool_call_arguments_given_as_a_dict_are_sent_as_a_json_string() -> None:
    history = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    body = _sent_body(["groq/llama-3.1-8b-instant"], messages=history)
    arguments = body["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(arguments) == {"city": "Paris"}
    assert history[1]["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}  # untouched


# ----- validation: bad input never reaches a provider -----


def _never(request: httpx.Request) -> httpx.Response:
    raise AssertionError("a request was sent")


TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


@pytest.mark.parametrize(
    ("messages", "params", "words"),
    [
        ([{"role": "user", "content": []}], {}, "empty content list"),
        ([{"role": "user", "content": [{"text": "no type"}]}], {}, "content[0]"),
        ([{"role": "user", "content": [{"type": "text"}]}], {}, "'text' string"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}], {}, "url"),
        ("hi", {"max_tokens": True}, "max_tokens"),
        ("hi", {"temperature": "0.5"}, "temperature"),
        ("hi", {"top_p": "high"}, "top_p"),
        ("hi", {"stop": ["ok", 3]}, "stop"),
        ("hi", {"stop": [""]}, "stop"),
        ("hi", {"tools": [TOOL], "tool_choice": "any"}, "tool_choice"),
        (
            "hi",
            {"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "x"}}},
            "not among the tools",
        ),
        ("hi", {"seed": "7"}, "seed"),
        (
            [{"role": "assistant", "content": None, "tool_calls": [{"id": "c", "function": {}}]}],
            {},
            "tool_calls[0]",
        ),
    ],
)
def test_bad_chat_input_is_refused_before_any_request(
    messages: Any, params: dict[str, Any], words: str
) -> None:
    j = _juggler(_never, ["openai/gpt-4o-mini"])
    with pytest.raises(InvalidRequestError, match=words.replace("[", r"\[").replace("(", r"\(")):
        j.chat(messages, **params)
    j.close()


def test_bad_rerank_and_embed_numbers_are_refused() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(_never))
    j = Juggler(
        embed=["openai/text-embedding-3-small"],
        rerank=["cohere/rerank-v3.5"],
        providers={"openai": {"api_key": "k"}, "cohere": {"api_key": "k"}},
        http_client=client,
        env={},
    )
    with pytest.raises(InvalidRequestError, match="top_k"):
        j.rerank("q", ["a"], top_k=True)
    with pytest.raises(InvalidRequestError, match="dimensions"):
        j.embed("a", dimensions=2.5)  # type: ignore[arg-type]
    j.close()


def test_valid_openai_shaped_requests_are_accepted() -> None:
    messages = [
        {"role": "developer", "content": "be brief"},
        {"role": "system", "content": [{"type": "text", "text": "and kind"}]},
        {
            "role": "user",
            "name": "ada",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "thanks"},
    ]
    body = _sent_body(
        ["openai/gpt-4o-mini"],
        messages=messages,
        tools=[TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        temperature=1,
        stop="\n",
    )
    assert body["messages"] == messages
    assert body["temperature"] == 1.0 and body["stop"] == ["\n"]
