"""models_used: one typed ModelAttempt per attempt, in order, on every answer and error."""

from __future__ import annotations

import json

import httpx
import pytest

from juggler import AllProvidersFailedError, ModelAttempt, RateLimitError, ServerError

CHAIN = ["groq/llama-3.1-8b-instant", "cerebras/qwen-3-32b", "nvidia/meta/llama-3.1-8b-instruct"]


def ok(request: httpx.Request) -> httpx.Response:
    model = json.loads(request.content)["model"]
    return httpx.Response(
        200,
        json={
            "model": model,
            "choices": [{"message": {"content": "Hello!"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        },
    )


def chain_429_500_ok(request: httpx.Request) -> httpx.Response:
    if request.url.host == "api.groq.com":
        return httpx.Response(429, json={"error": {"message": "Rate limit reached"}})
    if request.url.host == "api.cerebras.ai":
        return httpx.Response(500, json={"error": {"message": "internal error"}})
    return ok(request)


def test_a_429_then_500_then_success_gives_exactly_three_attempts(make_juggler):
    juggler = make_juggler(chain_429_500_ok, CHAIN)
    response = juggler.chat([{"role": "user", "content": "Hello"}])

    assert response == "Hello!"
    assert response.provider == "nvidia"
    assert [a.attempt for a in response.models_used] == [1, 2, 3]
    first, second, third = response.models_used
    assert (first.provider, first.model, first.success) == ("groq", "llama-3.1-8b-instant", False)
    assert (first.status_code, first.error_type) == (429, "RateLimitError")
    assert first.error == "Rate limit reached"
    assert (second.status_code, second.error_type) == (500, "ServerError")
    assert third.success and third.status_code == 200 and third.error is None
    assert all(a.elapsed_ms >= 0 for a in response.models_used)


def test_the_answer_carries_content_usage_and_finish_reason(make_juggler):
    response = make_juggler(ok, CHAIN[:1]).chat("Hello")

    assert response.content == "Hello!"
    assert response.usage.input_tokens == 5 and response.usage.output_tokens == 2
    assert response.usage.total_tokens == 7
    assert response.finish_reason == "stop"
    assert response.latency_ms >= 0


def test_a_chat_response_behaves_like_a_string(make_juggler):
    response = make_juggler(ok, CHAIN[:1]).chat("Hello")

    assert len(response) == 6
    assert response.upper() == "HELLO!"
    assert "Hell" in response
    assert f"{response}" == "Hello!"


def test_a_model_attempt_is_a_mapping_and_json_serialisable(make_juggler):
    response = make_juggler(chain_429_500_ok, CHAIN).chat("Hello")
    attempt = response.models_used[0]

    as_dict = dict(attempt)
    assert {
        "provider",
        "model",
        "success",
        "attempt",
        "status_code",
        "error",
        "error_type",
        "elapsed_ms",
    } <= set(as_dict)
    assert attempt["provider"] == attempt.provider == "groq"
    assert json.loads(json.dumps([dict(a) for a in response.models_used]))[2]["success"] is True


def test_a_model_attempt_is_frozen():
    attempt = ModelAttempt(provider="groq", model="m", success=True, outcome="success", attempt=1)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's ValidationError for frozen models
        attempt.provider = "other"  # type: ignore[misc]


def test_when_every_target_fails_the_error_carries_every_attempt(make_juggler):
    def always_503(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"message": "unavailable"}})

    juggler = make_juggler(always_503, CHAIN, retries=0)
    with pytest.raises(AllProvidersFailedError) as caught:
        juggler.chat("Hello")

    error = caught.value
    assert [a.provider for a in error.models_used] == ["groq", "cerebras", "nvidia"]
    assert all(a.error_type == "ServerError" for a in error.models_used)
    lines = str(error).splitlines()
    assert len(lines) == 1 + 3
    assert "groq/llama-3.1-8b-instant" in lines[1] and "HTTP 503" in lines[1]


async def test_achat_gives_the_same_answer_and_attempts(make_juggler):
    juggler = make_juggler(chain_429_500_ok, CHAIN)
    response = await juggler.achat([{"role": "user", "content": "Hello"}])

    assert response == "Hello!"
    assert [a.error_type for a in response.models_used] == ["RateLimitError", "ServerError", None]


def test_error_classes_say_whether_to_fall_back():
    assert RateLimitError.fallback and RateLimitError.transient
    assert ServerError.fallback and ServerError.transient


def _sse(request: httpx.Request) -> httpx.Response:
    chunks = "".join(
        f'data: {{"choices":[{{"delta":{{"content":"word{i} "}}}}]}}\n\n' for i in range(50)
    )
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, text=chunks + "data: [DONE]\n\n"
    )


async def test_closing_a_stream_early_records_the_attempt_as_cancelled(make_juggler):
    juggler = make_juggler(_sse, CHAIN[:1])
    async with juggler.astream_chat("Tell me a story") as stream:
        async for _chunk in stream:
            break
    assert [a.outcome for a in stream.models_used] == ["cancelled"]
    assert stream.models_used[0].error == "stream closed by the caller"


def test_a_sync_stream_closes_early_in_a_with_block(make_juggler):
    juggler = make_juggler(_sse, CHAIN[:1])
    with juggler.stream_chat("Tell me a story") as stream:
        first = next(iter(stream))
    assert first == "word0 "
    assert stream.models_used[0].outcome == "cancelled"


def test_answers_survive_copy_deepcopy_and_pickle(make_juggler):
    import copy
    import pickle

    response = make_juggler(chain_429_500_ok, CHAIN).chat("Hello")
    for clone in (
        copy.copy(response),
        copy.deepcopy(response),
        pickle.loads(pickle.dumps(response)),
    ):
        assert clone == "Hello!"
        assert clone.provider == "nvidia"
        assert [a.attempt for a in clone.models_used] == [1, 2, 3]
