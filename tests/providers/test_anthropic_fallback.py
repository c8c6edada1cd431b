"""Fallback away from Anthropic: a 529 and an ``overloaded_error`` frame hand over to the
next target; an error frame after text raises ``StreamInterruptedError``.

The handler serves recorded bodies (from ``cassettes/``) through ``httpx.MockTransport``:
Anthropic's on ``api.anthropic.com``, Gemini's on ``generativelanguage.googleapis.com``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from juggler import StreamInterruptedError

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
CHAIN = ["anthropic/claude-sonnet-4-5", "google/gemini-2.5-flash"]


def recorded(path: str) -> httpx.Response:
    """The first recorded response of a cassette, as an httpx.Response."""
    answer = yaml.safe_load((CASSETTES / path).read_text())["interactions"][0]["response"]
    headers = {k: v[0] for k, v in answer["headers"].items()}
    return httpx.Response(answer["status"]["code"], headers=headers, text=answer["body"]["string"])


def route(anthropic: str, google: str) -> Any:
    """A handler answering each host with one recorded cassette response."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.anthropic.com":
            return recorded(anthropic)
        return recorded(google)

    return handler


def test_chat_falls_back_when_anthropic_answers_529(make_juggler: Any) -> None:
    j = make_juggler(route("anthropic/chat_error_529.yaml", "google/chat_plain.yaml"), CHAIN)
    r = j.chat("Hello!")
    assert r == "Hello! How can I help you today?"
    assert r.provider == "google"
    assert [(a.provider, a.outcome, a.status_code, a.error_type) for a in r.models_used] == [
        ("anthropic", "error", 529, "OverloadedError"),
        ("google", "success", 200, None),
    ]


def test_stream_falls_back_when_an_error_frame_comes_before_text(make_juggler: Any) -> None:
    j = make_juggler(
        route("anthropic/chat_stream_error_event.yaml", "google/chat_stream.yaml"), CHAIN
    )
    stream = j.stream_chat("What is the temperature of the capital of France?")
    assert "".join(stream) == "The temperature in Paris is 30°C.\n"
    assert stream.provider == "google"
    assert [(a.provider, a.error_type) for a in stream.models_used] == [
        ("anthropic", "OverloadedError"),
        ("google", None),
    ]


def test_stream_raises_interrupted_when_the_error_frame_comes_after_text(
    make_juggler: Any,
) -> None:
    j = make_juggler(
        route("anthropic/chat_stream_error_after_text.yaml", "google/chat_stream.yaml"), CHAIN
    )
    stream = j.stream_chat("Two names for a pet pelican, be brief")
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as info:
        for chunk in stream:
            received.append(chunk)
    assert "".join(received) == "- Captain"
    assert info.value.partial_text == "- Captain"
    # Google was never tried: the caller already holds Anthropic's text.
    assert [(a.provider, a.error_type) for a in info.value.models_used] == [
        ("anthropic", "OverloadedError")
    ]
