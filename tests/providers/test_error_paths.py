"""Every HTTP failure a provider can produce, and what the router does with it.

Requests go to an ``httpx.MockTransport`` script (one queue of answers per provider host).
Error bodies are the real ones from ``shared/wire`` (through ``cassettes/``) or, where no
recording exists, the bodies users quoted in public issues
(``shared/wire/_error_bodies_from_issues/error_bodies.json``). Each test checks the exception
class, and the ``ModelAttempt`` fields: status_code, error_type and a short error text.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import yaml

from juggler import (
    AllProvidersFailedError,
    Juggler,
    ModelAttempt,
    RequestRejectedError,
    StreamInterruptedError,
)

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
ISSUE_BODIES = Path("/work/shared/wire/_error_bodies_from_issues/error_bodies.json")
CHAIN = ["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant", "mistral/mistral-small-latest"]
HOSTS = {"openai": "api.openai.com", "groq": "api.groq.com", "mistral": "api.mistral.ai"}

Outcome = Callable[[httpx.Request], httpx.Response]


def recorded(path: str) -> tuple[int, str]:
    """(status, body text) of a cassette's first response."""
    response = yaml.safe_load((CASSETTES / path).read_text())["interactions"][0]["response"]
    return response["status"]["code"], response["body"]["string"]


def issue_body(code: str, provider: str = "openai") -> dict[str, Any]:
    """An error body quoted in a public issue (not a recording; shapes only)."""
    items = json.loads(ISSUE_BODIES.read_text())["items"]
    for item in items:
        body = item["body"]
        if item["provider"] == provider and code in json.dumps(body):
            return dict(body)
    raise LookupError(code)


OK_STATUS, OK_BODY = recorded("openai/chat_plain.yaml")
OK_TEXT = json.loads(OK_BODY)["choices"][0]["message"]["content"]


def reply(
    status: int = 200,
    body: str | dict[str, Any] = OK_BODY,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> Outcome:
    """An outcome that answers with ``status`` and ``body``."""
    text = body if isinstance(body, str) else json.dumps(body)

    def outcome(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, text=text, headers={"content-type": content_type, **(headers or {})}
        )

    return outcome


def fail(exc_type: type[httpx.TransportError], message: str) -> Outcome:
    """An outcome that raises an httpx transport error (timeout, reset, refused)."""

    def outcome(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)

    return outcome


class Script:
    """A MockTransport handler: per provider, the answers to give, in order (the last repeats)."""

    def __init__(self, **by_provider: list[Outcome]) -> None:
        self.queues = {HOSTS[name]: list(outcomes) for name, outcomes in by_provider.items()}
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.calls.append(next(n for n, h in HOSTS.items() if h == host))
        queue = self.queues[host]
        return (queue.pop(0) if len(queue) > 1 else queue[0])(request)


def shape(attempts: list[ModelAttempt]) -> list[tuple[str, bool, int | None, str | None]]:
    """(provider, success, status_code, error_type) of each attempt."""
    return [(a.provider, a.success, a.status_code, a.error_type) for a in attempts]


def short(attempt: ModelAttempt) -> str:
    """The attempt's error text, checked to be present and short."""
    assert attempt.error is not None
    assert 0 < len(attempt.error) <= 300
    return attempt.error


# ----- each failure falls back to the next target -----


@pytest.mark.parametrize(
    ("outcome", "status", "error_type"),
    [
        (reply(500, {"error": {"message": "The server had an error", "type": "server_error"}}),
         500, "ServerError"),
        (reply(503, {"error": {"message": "Service Unavailable", "type": "server_error"}}),
         503, "ServerError"),
        (reply(529, issue_body("overloaded_error", "anthropic")), 529, "OverloadedError"),
        (reply(429, issue_body("rate_limit_exceeded")), 429, "RateLimitError"),
        (fail(httpx.ReadTimeout, "The read operation timed out"), None, "ProviderTimeoutError"),
        (fail(httpx.RemoteProtocolError, "Server disconnected without sending a response."),
         None, "ProviderConnectionError"),
        (fail(httpx.ConnectError, "[Errno 111] Connection refused"),
         None, "ProviderConnectionError"),
    ],
    ids=["500", "503", "529", "429", "read-timeout", "connection-reset", "connection-refused"],
)  # fmt: skip
def test_transient_failure_falls_back_to_the_next_target(
    make_juggler: Any, outcome: Outcome, status: int | None, error_type: str
) -> None:
    script = Script(openai=[outcome], groq=[reply()])
    r = make_juggler(script, CHAIN[:2]).chat("hi")
    assert r == OK_TEXT
    assert r.provider == "groq"
    assert shape(r.models_used) == [
        ("openai", False, status, error_type),
        ("groq", True, 200, None),
    ]
    short(r.models_used[0])


def test_529_is_an_overloaded_error_with_the_provider_message(make_juggler: Any) -> None:
    body = issue_body("overloaded_error", provider="anthropic")
    script = Script(openai=[reply(529, body)], groq=[reply()])
    r = make_juggler(script, CHAIN[:2]).chat("hi")
    assert r.models_used[0].error_type == "OverloadedError"
    assert short(r.models_used[0]) == "Overloaded"


def test_html_error_page_becomes_a_server_error_with_a_short_message(make_juggler: Any) -> None:
    page = (
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
        + "<!-- padding -->\n" * 200
        + "</body>\r\n</html>\r\n"
    )
    script = Script(openai=[reply(502, page, content_type="text/html")], groq=[reply()])
    r = make_juggler(script, CHAIN[:2]).chat("hi")
    first = r.models_used[0]
    assert (first.status_code, first.error_type) == (502, "ServerError")
    assert short(first).startswith("non-JSON error page: <html> <head><title>502 Bad Gateway")
    assert len(first.error or "") < 160


def test_truncated_json_in_a_200_is_an_invalid_response_and_falls_back(
    make_juggler: Any,
) -> None:
    script = Script(openai=[reply(200, OK_BODY[: len(OK_BODY) // 2])], groq=[reply()])
    r = make_juggler(script, CHAIN[:2]).chat("hi")
    assert r.provider == "groq"
    first = r.models_used[0]
    assert (first.status_code, first.error_type) == (200, "InvalidResponseError")
    assert short(first).startswith("answer is not valid JSON")


def test_error_object_inside_a_200_falls_back(make_juggler: Any) -> None:
    body = {"error": {"message": "Upstream provider returned an empty answer", "code": "upstream"}}
    script = Script(openai=[reply(200, body)], groq=[reply()])
    r = make_juggler(script, CHAIN[:2]).chat("hi")
    assert r.provider == "groq"
    first = r.models_used[0]
    assert (first.status_code, first.error_type) == (200, "InvalidResponseError")
    assert "Upstream provider returned an empty answer" in short(first)


def test_error_object_inside_a_200_with_a_status_code_is_classified_by_it(
    make_juggler: Any,
) -> None:
    # OpenRouter's envelope carries the upstream status as an integer "code".
    _, body = recorded("openrouter/chat_error_429.yaml")
    script = Script(openai=[reply(200, body)], groq=[reply()])
    r = make_juggler(script, CHAIN[:2]).chat("hi")
    first = r.models_used[0]
    assert (first.status_code, first.error_type) == (429, "RateLimitError")
    assert r.provider == "groq"


def test_context_length_400_falls_back_as_context_length_error(make_juggler: Any) -> None:
    script = Script(openai=[reply(400, issue_body("context_length_exceeded"))], groq=[reply()])
    r = make_juggler(script, CHAIN[:2]).chat("hi")
    assert r.provider == "groq"
    first = r.models_used[0]
    assert (first.status_code, first.error_type) == (400, "ContextLengthError")
    assert short(first).startswith("This model's maximum context length is 4097 tokens.")


def test_deepseek_context_length_400_without_a_code_is_still_recognised(
    make_juggler: Any,
) -> None:
    body = issue_body("maximum context length is 131072", provider="deepseek")
    script = Script(openai=[reply(400, body)], groq=[reply()])
    r = make_juggler(script, CHAIN[:2]).chat("hi")
    assert r.models_used[0].error_type == "ContextLengthError"
    assert r.provider == "groq"


def test_plain_400_stops_the_chain_with_request_rejected(make_juggler: Any) -> None:
    status, body = recorded("openai/chat_error_400.yaml")
    script = Script(openai=[reply(status, body)], groq=[reply()])
    with pytest.raises(RequestRejectedError) as info:
        make_juggler(script, CHAIN[:2]).chat("hi")
    assert isinstance(info.value, AllProvidersFailedError)
    assert script.calls == ["openai"]  # groq was never asked
    (attempt,) = info.value.models_used
    assert (attempt.status_code, attempt.error_type) == (400, "BadRequestError")
    assert (
        short(attempt) == "Error while downloading https://source.unsplash.com/8xznAGy4HcY/800x400."
    )


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_falls_back_to_the_next_provider(make_juggler: Any, status: int) -> None:
    _, body = recorded("openai/chat_error_401.yaml")
    script = Script(openai=[reply(status, body)], groq=[reply()])
    r = make_juggler(script, CHAIN[:2]).chat("hi")
    assert r.provider == "groq"
    first = r.models_used[0]
    assert (first.status_code, first.error_type) == (status, "AuthenticationError")
    assert short(first).startswith("Incorrect API key provided:")


def test_model_not_found_404_falls_back(make_juggler: Any) -> None:
    status, body = recorded("openai/chat_error_404.yaml")
    script = Script(openai=[reply(status, body)], groq=[reply()])
    r = make_juggler(script, CHAIN[:2]).chat("hi")
    assert r.provider == "groq"
    first = r.models_used[0]
    assert (first.status_code, first.error_type) == (404, "ModelNotFoundError")
    assert short(first) == (
        "The model `this-model-does-not-exist-12345` does not exist"
        " or you do not have access to it."
    )


# ----- the record of a whole call -----


def test_chain_429_then_500_then_success_gives_three_attempts(make_juggler: Any) -> None:
    script = Script(
        openai=[reply(429, issue_body("rate_limit_exceeded"), headers={"retry-after": "20"})],
        groq=[reply(500, {"error": {"message": "Internal Server Error"}})],
        mistral=[reply()],
    )
    r = make_juggler(script, CHAIN).chat("hi")
    assert r == OK_TEXT
    assert [a.attempt for a in r.models_used] == [1, 2, 3]
    assert shape(r.models_used) == [
        ("openai", False, 429, "RateLimitError"),
        ("groq", False, 500, "ServerError"),
        ("mistral", True, 200, None),
    ]
    assert [a.model for a in r.models_used] == [
        "gpt-4o-mini",
        "llama-3.1-8b-instant",
        "mistral-small-latest",
    ]
    assert [a.outcome for a in r.models_used] == ["error", "error", "success"]
    assert r.models_used[2].error is None
    assert all(a.elapsed_ms >= 0 for a in r.models_used)
    json.dumps([dict(a) for a in r.models_used])  # plain data all the way down


def test_all_fail_raises_with_one_line_per_attempt(make_juggler: Any) -> None:
    script = Script(
        openai=[reply(429, issue_body("rate_limit_exceeded"))],
        groq=[reply(503, {"error": {"message": "Service Unavailable"}})],
        mistral=[fail(httpx.ConnectError, "[Errno 111] Connection refused")],
    )
    j = make_juggler(script, CHAIN, retries=0)
    with pytest.raises(AllProvidersFailedError) as info:
        j.chat("hi")
    err = info.value
    assert shape(err.models_used) == [
        ("openai", False, 429, "RateLimitError"),
        ("groq", False, 503, "ServerError"),
        ("mistral", False, None, "ProviderConnectionError"),
    ]
    lines = str(err).splitlines()
    assert len(lines) == 1 + len(err.models_used)
    for line, attempt in zip(lines[1:], err.models_used, strict=True):
        assert line.strip() == attempt.summary()
        assert f"{attempt.provider}/{attempt.model}" in line


# ----- same-target retries (only on the last target left, by default) -----


class Sleeps:
    """An injected ``Engine.sleep`` that records each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_last_target_is_retried_honouring_retry_after_seconds(make_juggler: Any) -> None:
    limited = reply(429, issue_body("rate_limit_exceeded"), headers={"retry-after": "3"})
    script = Script(openai=[limited, reply()])
    j = make_juggler(script, CHAIN[:1], retries=2)
    j.engine.sleep = sleeps = Sleeps()
    r = j.chat("hi")
    assert sleeps.waits == [3.0]
    assert [(a.attempt, a.success, a.retry) for a in r.models_used] == [
        (1, False, False),
        (2, True, True),
    ]


def test_retry_after_as_an_http_date_is_honoured(make_juggler: Any) -> None:
    when = email.utils.formatdate(time.time() + 8, usegmt=True)
    script = Script(openai=[reply(429, "{}", headers={"retry-after": when}), reply()])
    j = make_juggler(script, CHAIN[:1], retries=1)
    j.engine.sleep = sleeps = Sleeps()
    j.chat("hi")
    (wait,) = sleeps.waits
    assert 6.0 <= wait <= 8.0  # HTTP-dates have one-second resolution


def test_retry_after_is_capped_by_retry_max_wait(make_juggler: Any) -> None:
    script = Script(openai=[reply(503, "{}", headers={"retry-after": "3600"})])
    j = make_juggler(script, CHAIN[:1], retries=2, retry_max_wait=4.0)
    j.engine.sleep = sleeps = Sleeps()
    with pytest.raises(AllProvidersFailedError) as info:
        j.chat("hi")
    assert sleeps.waits == [4.0, 4.0]
    assert [a.attempt for a in info.value.models_used] == [1, 2, 3]
    assert [a.retry for a in info.value.models_used] == [False, True, True]


def test_without_retry_after_the_wait_is_full_jitter_backoff(make_juggler: Any) -> None:
    script = Script(openai=[reply(500, "{}")])
    j = make_juggler(script, CHAIN[:1], retries=2, retry_base_wait=1.0, retry_max_wait=10.0)
    j.engine.sleep = sleeps = Sleeps()
    with pytest.raises(AllProvidersFailedError):
        j.chat("hi")
    first, second = sleeps.waits
    assert 0.0 <= first <= 1.0  # a random share of 1 s, then of 2 s
    assert 0.0 <= second <= 2.0


def test_earlier_targets_hand_over_at_once_and_only_the_last_is_retried(
    make_juggler: Any,
) -> None:
    script = Script(openai=[reply(500, "{}")], groq=[reply(500, "{}")])
    j = make_juggler(script, CHAIN[:2], retries=2)
    j.engine.sleep = Sleeps()
    with pytest.raises(AllProvidersFailedError):
        j.chat("hi")
    assert script.calls == ["openai", "groq", "groq", "groq"]


def test_non_transient_errors_are_not_retried(make_juggler: Any) -> None:
    _, body = recorded("openai/chat_error_401.yaml")
    script = Script(openai=[reply(401, body)])
    j = make_juggler(script, CHAIN[:1], retries=2)
    j.engine.sleep = sleeps = Sleeps()
    with pytest.raises(AllProvidersFailedError):
        j.chat("hi")
    assert script.calls == ["openai"]
    assert sleeps.waits == []


# ----- streams -----

SSE_OK = (
    'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
    'data: {"choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\n'
    'data: {"choices":[{"index":0,"delta":{"content":" world"},"finish_reason":"stop"}]}\n\n'
    "data: [DONE]\n\n"
)


class BrokenStream(httpx.AsyncByteStream):
    """An SSE body that sends ``first`` and then either breaks or goes silent forever."""

    def __init__(self, first: bytes, *, then_silent: bool = False) -> None:
        self.first = first
        self.then_silent = then_silent

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        if self.then_silent:
            await anyio.Event().wait()  # never set: the idle timeout must end this
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def sse(stream: httpx.AsyncByteStream | str) -> Outcome:
    """An outcome answering 200 text/event-stream with ``stream``."""

    def outcome(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream"}
        if isinstance(stream, str):
            return httpx.Response(200, text=stream, headers=headers)
        return httpx.Response(200, stream=stream, headers=headers)

    return outcome


def test_stream_failing_before_the_first_token_falls_back(make_juggler: Any) -> None:
    script = Script(openai=[reply(503, {"error": {"message": "busy"}})], groq=[sse(SSE_OK)])
    stream = make_juggler(script, CHAIN[:2]).stream_chat("hi")
    assert "".join(stream) == "Hello world"
    assert stream.provider == "groq"
    assert shape(stream.models_used) == [
        ("openai", False, 503, "ServerError"),
        ("groq", True, 200, None),
    ]


def test_stream_breaking_after_text_raises_stream_interrupted(make_juggler: Any) -> None:
    first = b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
    script = Script(openai=[sse(BrokenStream(first))], groq=[sse(SSE_OK)])
    stream = make_juggler(script, CHAIN[:2]).stream_chat("hi")
    seen = []
    with pytest.raises(StreamInterruptedError) as info:
        for chunk in stream:
            seen.append(chunk)
    assert seen == ["Hel"]
    assert info.value.partial_text == "Hel"
    assert script.calls == ["openai"]  # text already reached the caller: no silent switch
    (attempt,) = info.value.models_used
    assert (attempt.provider, attempt.error_type) == ("openai", "ProviderConnectionError")
    short(attempt)


async def test_stream_silent_past_first_token_timeout_fails_over(make_juggler: Any) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == HOSTS["openai"]:
            await anyio.Event().wait()  # never answers
        return httpx.Response(200, text=SSE_OK, headers={"content-type": "text/event-stream"})

    j: Juggler = make_juggler(handler, CHAIN[:2], first_token_timeout=0.05, retries=0)
    stream = j.astream_chat("hi")
    with anyio.fail_after(5):  # a safety net only: the 0.05 s timeout ends the wait
        text = "".join([chunk async for chunk in stream])
    assert text == "Hello world"
    assert shape(stream.models_used) == [
        ("openai", False, None, "ProviderTimeoutError"),
        ("groq", True, 200, None),
    ]
    assert "before the first token" in short(stream.models_used[0])


async def test_stream_silent_between_chunks_raises_stream_interrupted(make_juggler: Any) -> None:
    first = b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
    script = Script(openai=[sse(BrokenStream(first, then_silent=True))], groq=[sse(SSE_OK)])
    j: Juggler = make_juggler(script, CHAIN[:2], stream_idle_timeout=0.05)
    stream = j.astream_chat("hi")
    with anyio.fail_after(5), pytest.raises(StreamInterruptedError) as info:
        async for _ in stream:
            pass
    assert info.value.partial_text == "Hel"
    assert info.value.models_used[0].error_type == "ProviderTimeoutError"


def test_stream_all_fail_raises_with_every_attempt(make_juggler: Any) -> None:
    script = Script(
        openai=[reply(429, issue_body("rate_limit_exceeded"))],
        groq=[fail(httpx.ReadTimeout, "timed out")],
    )
    stream = make_juggler(script, CHAIN[:2], retries=0).stream_chat("hi")
    with pytest.raises(AllProvidersFailedError) as info:
        list(stream)
    assert shape(info.value.models_used) == [
        ("openai", False, 429, "RateLimitError"),
        ("groq", False, None, "ProviderTimeoutError"),
    ]
