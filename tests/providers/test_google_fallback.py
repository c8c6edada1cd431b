"""Fallback away from Gemini: a bad key, a 429, a blocked answer and a broken stream hand
over to the next target before the first token; a failure after text raises
``StreamInterruptedError``.

The handler serves recorded bodies (from ``cassettes/``) through ``httpx.MockTransport``:
Gemini's on ``generativelanguage.googleapis.com``, Anthropic's on ``api.anthropic.com``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from juggler import StreamInterruptedError

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
CHAIN = ["google/gemini-2.5-flash", "anthropic/claude-sonnet-4-5"]


def recorded(path: str) -> httpx.Response:
    """The first recorded response of a cassette, as an httpx.Response."""
    answer = yaml.safe_load((CASSETTES / path).read_text())["interactions"][0]["response"]
    headers = {k: v[0] for k, v in answer["headers"].items()}
    return httpx.Response(answer["status"]["code"], headers=headers, text=answer["body"]["string"])


def route(google: str | httpx.Response, anthropic: str) -> Any:
    """A handler answering each host with one recorded response."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "generativelanguage.googleapis.com":
            return google if isinstance(google, httpx.Response) else recorded(google)
        return recorded(anthropic)

    return handler


@pytest.mark.parametrize(
    ("recording", "error_type"),
    [
        ("google/chat_error_bad_key.yaml", "AuthenticationError"),
        ("google/chat_error_429.yaml", "RateLimitError"),
        ("google/chat_blocked_safety.yaml", "ContentPolicyError"),
    ],
)
def test_chat_falls_back_to_the_next_target(
    make_juggler: Any, recording: str, error_type: str
) -> None:
    j = make_juggler(route(recording, "anthropic/chat_plain.yaml"), CHAIN)
    r = j.chat("When do you use 'whom' instead of 'who'?")
    assert r == "# Who vs. Whom\n\n**Simple rule:** \n- **"
    assert r.provider == "anthropic"
    assert [(a.provider, a.error_type) for a in r.models_used] == [
        ("google", error_type),
        ("anthropic", None),
    ]


def test_stream_falls_back_when_gemini_fails_before_text(make_juggler: Any) -> None:
    j = make_juggler(
        route("google/chat_stream_error_bad_key.yaml", "anthropic/chat_stream.yaml"), CHAIN
    )
    stream = j.stream_chat("Two names for a pet pelican, be brief")
    assert "".join(stream) == "- Captain\n- Scoop"
    assert [(a.provider, a.error_type) for a in stream.models_used] == [
        ("google", "AuthenticationError"),
        ("anthropic", None),
    ]


def test_stream_error_frame_after_text_raises_interrupted(make_juggler: Any) -> None:
    # The recorded first chunk of chat_stream.yaml, then an error frame in Gemini's envelope
    # (the shape of shared/wire/google/errors/*: {"error": {"code", "message", "status"}}).
    # Gemini ends SSE lines with CRLF.
    first = recorded("google/chat_stream.yaml").text.split("\r\n\r\n")[0]
    error = (
        'data: {"error": {"code": 503, "message": "The model is overloaded. '
        'Please try again later.", "status": "UNAVAILABLE"}}'
    )
    broken = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, text=f"{first}\n\n{error}\n\n"
    )
    j = make_juggler(route(broken, "anthropic/chat_stream.yaml"), CHAIN)
    with pytest.raises(StreamInterruptedError) as info:
        list(j.stream_chat("What is the temperature in Paris?"))
    assert info.value.partial_text == "The temperature in Paris"
    assert [(a.provider, a.error_type) for a in info.value.models_used] == [
        ("google", "OverloadedError")
    ]
