"""Azure OpenAI: the OpenAI wire with Azure's URL scheme and ``api-key`` header.

The cassettes under ``cassettes/azure/`` are built from the official inference spec's shapes
(their header comments say so), not recordings; they replay through a real ``Juggler``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from juggler import AllProvidersFailedError, InvalidRequestError, Juggler, Usage

ENDPOINT = "https://my-resource.openai.azure.com"


def _azure(**settings: Any) -> Juggler:
    return Juggler(
        chat=["azure/my-gpt-4o-mini"],
        providers={"azure": {"api_key": "test-azure-key", "base_url": ENDPOINT}},
        env={},
        **settings,
    )


def test_azure_plain_answer_replays_content_and_usage(cassette: Any) -> None:
    with cassette.use_cassette("azure/chat_plain.yaml"):
        j = _azure()
        r = j.chat("Say hello")
        j.close()
    assert r == "Hello! How can I help you today?"
    assert r.usage == Usage(input_tokens=9, output_tokens=9, total_tokens=18)
    assert r.finish_reason == "stop"
    assert (r.provider, r.model) == ("azure", "gpt-4o-mini-2024-07-18")


def test_azure_stream_skips_the_prompt_filter_event(cassette: Any) -> None:
    with cassette.use_cassette("azure/chat_stream.yaml"):
        j = _azure()
        stream = j.stream_chat("Say hello")
        text = "".join(stream)
        j.close()
    assert text == "Hello there"
    assert stream.usage == Usage(input_tokens=9, output_tokens=2, total_tokens=11)
    assert stream.finish_reason == "stop"


def test_azure_content_filter_is_a_fallback_error(cassette: Any) -> None:
    with cassette.use_cassette("azure/chat_content_filter_400.yaml"):
        j = _azure(retries=0)
        with pytest.raises(AllProvidersFailedError) as info:
            j.chat("<text violating the content policy>")
        j.close()
    (attempt,) = info.value.models_used
    assert attempt.status_code == 400
    assert attempt.error_type == "ContentPolicyError"  # falls over: another filter may pass
    assert "content management policy" in (attempt.error or "")


def test_azure_sends_the_deployment_url_api_version_and_api_key_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}
        return httpx.Response(200, json=body)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    j = Juggler(
        chat=["azure/my-gpt-4o-mini"],
        providers={
            "azure": {"api_key": "k-123456", "base_url": ENDPOINT, "api_version": "2025-01-01"}
        },
        env={},
        http_client=client,
    )
    assert j.chat("hi") == "ok"
    j.close()
    (request,) = seen
    assert str(request.url) == (
        f"{ENDPOINT}/openai/deployments/my-gpt-4o-mini/chat/completions?api-version=2025-01-01"
    )
    assert request.headers["api-key"] == "k-123456"
    assert "authorization" not in request.headers
    assert json.loads(request.content)["messages"] == [{"role": "user", "content": "hi"}]


def test_azure_key_without_an_endpoint_is_refused_before_any_request() -> None:
    with pytest.raises(InvalidRequestError, match="AZURE_OPENAI_BASE_URL"):
        Juggler(chat=["azure/my-gpt-4o-mini"], env={"AZURE_OPENAI_API_KEY": "k-123456"})


def test_azure_spec_example_without_a_model_field_names_the_deployment(cassette: Any) -> None:
    with cassette.use_cassette("azure/chat_spec_example.yaml"):
        j = _azure()
        r = j.chat(
            [
                {
                    "role": "system",
                    "content": "you are a helpful assistant that talks like a pirate",
                },
                {"role": "user", "content": "can you tell me how to care for a parrot?"},
            ]
        )
        j.close()
    assert r.startswith("Ahoy matey!")
    assert r.usage == Usage(input_tokens=33, output_tokens=557, total_tokens=590)
    assert r.model == "my-gpt-4o-mini"
