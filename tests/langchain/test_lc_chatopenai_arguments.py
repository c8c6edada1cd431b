"""ChatOpenAI's constructor arguments, accepted by ChatJuggler and forwarded to every wire that
supports them; a target whose wire cannot honour one is refused before any request.

The requests are captured with ``httpx.MockTransport`` (Juggler's ``http_client=``), so the
assertions are on the exact JSON, headers and URL each wire receives.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from langchain_core.messages import HumanMessage

from juggler import InvalidRequestError, Juggler
from juggler._validate import chat_request
from langchain_juggler import ChatJuggler

ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "hello"},
            "finish_reason": "stop",
            "logprobs": {"content": [{"token": "hello", "logprob": -0.1, "top_logprobs": []}]},
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
SSE = (
    'data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":'
    '[{"index":0,"delta":{"content":"hel"},"finish_reason":null}]}\n\n'
    'data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":'
    '[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}\n\n'
    'data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],'
    '"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n'
    "data: [DONE]\n\n"
)


class Capture:
    """Every request the wire would have sent, answered with a canned OpenAI answer."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = json.loads(request.content)
        if body.get("stream"):
            return httpx.Response(
                200, content=SSE.encode(), headers={"content-type": "text/event-stream"}
            )
        return httpx.Response(200, json=ANSWER)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture
def capture() -> Capture:
    return Capture()


@pytest.fixture
def make(capture: Capture) -> Callable[..., ChatJuggler]:
    made: list[ChatJuggler] = []

    def build(**kwargs: Any) -> ChatJuggler:
        kwargs.setdefault("targets", ["openai/gpt-4o-mini"])
        kwargs.setdefault("providers", {"openai": {"api_key": "sk-test"}})
        llm = ChatJuggler(env={}, http_client=capture.client(), **kwargs)
        made.append(llm)
        return llm

    yield build  # type: ignore[misc]
    for llm in made:
        llm.close()


def test_sampling_and_openai_arguments_reach_the_openai_wire(
    make: Callable[..., ChatJuggler], capture: Capture
) -> None:
    llm = make(
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        logprobs=True,
        top_logprobs=2,
        reasoning_effort="low",
        model_kwargs={"user": "u-1", "metadata": {"k": "v"}},
        extra_body={"service_tier": "flex"},
    )
    llm.invoke("hi")
    (body,) = capture.bodies
    assert body["presence_penalty"] == 0.5 and body["frequency_penalty"] == -0.5
    assert body["logprobs"] is True and body["top_logprobs"] == 2
    assert body["reasoning_effort"] == "low" and body["user"] == "u-1"
    assert body["metadata"] == {"k": "v"} and body["service_tier"] == "flex"


def test_logprobs_come_back_in_generation_info_as_with_chatopenai(
    make: Callable[..., ChatJuggler],
) -> None:
    result = make(logprobs=True).generate([[HumanMessage("hi")]])
    info = result.generations[0][0].generation_info or {}
    assert info["logprobs"]["content"][0]["token"] == "hello"


def test_default_headers_are_sent_without_replacing_the_key(
    make: Callable[..., ChatJuggler], capture: Capture
) -> None:
    make(default_headers={"X-Team": "search"}).invoke("hi")
    (request,) = capture.requests
    assert request.headers["x-team"] == "search"
    assert request.headers["authorization"] == "Bearer sk-test"


def test_a_default_header_that_would_replace_the_key_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="credentials"):
        ChatJuggler(
            targets=["openai/gpt-4o-mini"],
            providers={"openai": {"api_key": "sk"}},
            env={},
            default_headers={"Authorization": "Bearer other"},
        )


def test_n_makes_n_routed_calls_and_n_generations(
    make: Callable[..., ChatJuggler], capture: Capture
) -> None:
    result = make(n=3).generate([[HumanMessage("hi")]])
    assert len(result.generations[0]) == 3
    assert len(capture.requests) == 3 and all("n" not in b for b in capture.bodies)


def test_the_core_refuses_n_above_one_with_the_alternative() -> None:
    with pytest.raises(InvalidRequestError, match="one answer per call"):
        chat_request("hi", n=2)


def test_stream_usage_false_leaves_usage_off_the_stream(
    make: Callable[..., ChatJuggler],
) -> None:
    with_usage = list(make().stream("hi"))
    without = list(make(stream_usage=False).stream("hi"))
    assert with_usage[-1].usage_metadata is not None
    assert all(c.usage_metadata is None for c in without)


def test_base_url_with_api_key_is_a_single_openai_compatible_target(
    capture: Capture,
) -> None:
    llm = ChatJuggler(
        model="my-local-model",
        base_url="http://llm.internal:8000/v1",
        api_key="k-local",
        env={},
        http_client=capture.client(),
    )
    try:
        assert [str(t) for t in llm._chain()] == ["openai_compatible/my-local-model"]
        msg = llm.invoke("hi")
        (request,) = capture.requests
        assert str(request.url) == "http://llm.internal:8000/v1/chat/completions"
        assert request.headers["authorization"] == "Bearer k-local"
        assert json.loads(request.content)["model"] == "my-local-model"
        assert msg.response_metadata["model_provider"] == "openai_compatible"
    finally:
        llm.close()


def test_a_parameter_a_chain_target_cannot_honour_is_refused_at_construction() -> None:
    with pytest.raises(InvalidRequestError, match=r"anthropic/claude-sonnet-4-5.*presence_penalty"):
        ChatJuggler(
            targets=["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"],
            providers={"openai": {"api_key": "a"}, "anthropic": {"api_key": "b"}},
            env={},
            presence_penalty=0.5,
        )


def test_a_per_call_parameter_a_target_cannot_honour_sends_nothing(
    make: Callable[..., ChatJuggler], capture: Capture
) -> None:
    llm = make(
        targets=["openai/gpt-4o-mini", "cohere/command-r"],
        providers={"openai": {"api_key": "a"}, "cohere": {"api_key": "b"}},
    )
    with pytest.raises(InvalidRequestError, match=r"cohere/command-r.*reasoning_effort"):
        llm.invoke("hi", reasoning_effort="high")
    assert capture.requests == []


def _payload(provider: str, model: str, **params: Any) -> dict[str, Any]:
    j = Juggler(chat=[f"{provider}/{model}"], providers={provider: {"api_key": "k"}}, env={})
    try:
        wire = j.providers[provider]
        request = chat_request("hi", **params)
        if provider == "google":
            return wire.chat_payload(request)  # type: ignore[attr-defined,no-any-return]
        return wire.chat_payload(model, request, False)  # type: ignore[attr-defined,no-any-return]
    finally:
        j.close()


def test_anthropic_gets_user_as_metadata_user_id() -> None:
    assert _payload("anthropic", "claude-sonnet-4-5", user="u-1")["metadata"] == {"user_id": "u-1"}


def test_gemini_gets_penalties_logprobs_and_thinking_level() -> None:
    config = _payload(
        "google",
        "gemini-2.5-flash",
        presence_penalty=0.1,
        frequency_penalty=0.2,
        logprobs=True,
        top_logprobs=3,
        reasoning_effort="high",
    )["generationConfig"]
    assert (config["presencePenalty"], config["frequencyPenalty"]) == (0.1, 0.2)
    assert (config["responseLogprobs"], config["logprobs"]) == (True, 3)
    assert config["thinkingConfig"] == {"thinkingLevel": "high"}


def test_cohere_gets_penalties_and_logprobs() -> None:
    body = _payload(
        "cohere", "command-r", presence_penalty=0.3, frequency_penalty=0.4, logprobs=True
    )
    assert (body["presence_penalty"], body["frequency_penalty"], body["logprobs"]) == (
        0.3,
        0.4,
        True,
    )


def test_a_payload_builder_never_drops_a_parameter_silently() -> None:
    with pytest.raises(InvalidRequestError, match="top_logprobs"):
        _payload("cohere", "command-r", logprobs=True, top_logprobs=2)


# ----- item 7: a model without a provider prefix -----


def test_a_bare_model_resolves_to_the_providers_that_serve_it() -> None:
    keys = {"OPENAI_API_KEY": "a", "OPENROUTER_API_KEY": "b"}
    llm = ChatJuggler(model="gpt-4o-mini", env=keys)
    try:
        assert [str(t) for t in llm._chain()] == [
            "openai/gpt-4o-mini",
            "openrouter/openai/gpt-4o-mini",
        ]
    finally:
        llm.close()


def test_a_bare_model_keeps_the_providers_with_a_key() -> None:
    llm = ChatJuggler(model="gpt-4o-mini", env={"OPENROUTER_API_KEY": "b"})
    try:
        assert [str(t) for t in llm._chain()] == ["openrouter/openai/gpt-4o-mini"]
    finally:
        llm.close()


def test_an_unknown_bare_model_gets_a_did_you_mean_with_its_providers() -> None:
    with pytest.raises(InvalidRequestError, match=r"did you mean 'gpt-4o-mini' \(served by "):
        ChatJuggler(model="gpt4o-mini", env={})


# ----- item 8: get_num_tokens without transformers -----


def test_get_num_tokens_is_a_character_estimate_without_transformers(
    make: Callable[..., ChatJuggler], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # importing it would now fail
    llm = make()
    assert llm.get_num_tokens("x" * 40) == 11
    assert llm.get_num_tokens_from_messages([("user", "x" * 40)]) > 11  # type: ignore[list-item]
