"""What the wires pass up about headers: rate-limit headers of answers and errors, and the
extra headers a provider entry configures."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from juggler import Juggler
from juggler._config import Settings, resolve_provider
from juggler._exceptions import RateLimitError
from juggler.providers import WIRE_FORMATS
from juggler.providers.base import BaseProvider, capture_rate_headers
from juggler.providers.transport import HttpClients
from juggler.providers.types import ChatRequest

RATE = {
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "6m0s",
    "x-request-id": "req_1",
}
OK = {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}


def _provider(name: str, handler: Any, config: dict[str, Any] | None = None) -> BaseProvider:
    spec, cfg = resolve_provider(name, {"api_key": "k-123456", **(config or {})}, env={})
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    key = cfg.api_key.get_secret_value() if cfg.api_key else None
    return WIRE_FORMATS[spec.wire](
        spec, api_key=key, base_url=cfg.base_url or "", clients=HttpClients(Settings(), client)
    )


async def test_a_successful_answer_hands_its_rate_limit_headers_to_the_caller() -> None:
    groq = _provider("groq", lambda r: httpx.Response(200, json=OK, headers=RATE))
    with capture_rate_headers() as headers:
        await groq.chat("m", ChatRequest(messages=[{"role": "user", "content": "hi"}]))
    assert headers == {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s"}


async def test_a_429_carries_its_rate_limit_headers_on_the_error() -> None:
    error = {"error": {"message": "Rate limit reached", "type": "requests"}}
    groq = _provider(
        "groq", lambda r: httpx.Response(429, json=error, headers={**RATE, "retry-after": "7"})
    )
    with pytest.raises(RateLimitError) as info:
        await groq.chat("m", ChatRequest(messages=[{"role": "user", "content": "hi"}]))
    assert info.value.headers["x-ratelimit-remaining-requests"] == "0"
    assert info.value.headers["retry-after"] == "7"


def test_configured_extra_headers_are_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=OK)

    j = Juggler(
        chat=["openrouter/openai/gpt-4o-mini"],
        providers={
            "openrouter": {"api_key": "k-123456", "headers": {"HTTP-Referer": "https://x.org"}}
        },
        env={},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    j.chat("hi")
    j.close()
    assert seen[0].headers["http-referer"] == "https://x.org"
    assert seen[0].headers["authorization"] == "Bearer k-123456"


def test_a_second_key_of_a_vendor_is_its_own_provider() -> None:
    spec, config = resolve_provider(
        "openai-eu", {"like": "openai"}, env={"OPENAI_EU_API_KEY": "k-2"}
    )
    assert (spec.name, spec.wire, spec.base_url) == (
        "openai-eu",
        "openai",
        "https://api.openai.com/v1",
    )
    assert config.api_key is not None and config.api_key.get_secret_value() == "k-2"
