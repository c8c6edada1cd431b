"""API keys never leak: not into errors, reprs, models_used, logs, or the cassettes on disk.

Providers sometimes echo the key back in their error body (OpenAI's 401 says "Incorrect API key
provided: …"), so every message taken from a body is redacted before it is stored. A key only
ever travels in the request's auth header.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from juggler import AllProvidersFailedError, Juggler, RequestRejectedError

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
CHAIN = ["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"]
# A key with a vendor's shape, and one with no recognisable shape at all: both must vanish.
SHAPED_KEY = "sk-proj-Zq8wXbT4ExampleOnlyKey0123456789"
PLAIN_KEY = "my-gateway-token-6f1c2d9e8a7b"
KEYS = {"openai": SHAPED_KEY, "groq": PLAIN_KEY}
PROVIDERS = {name: {"api_key": key} for name, key in KEYS.items()}
CREDENTIAL_HEADERS = {"authorization", "x-api-key", "x-goog-api-key", "api-key"}
COOKIE_HEADERS = {"cookie", "set-cookie"}
FILTERED = re.compile(r"^(<filtered>|filtered|redacted|\[redacted\]|<redacted>|REDACTED|x+)$", re.I)


def assert_no_key(*texts: object) -> None:
    """None of the texts holds a key, whole or in part (first or last characters)."""
    for text in texts:
        rendered = text if isinstance(text, str) else repr(text)
        for key in KEYS.values():
            assert key not in rendered
            assert key[:12] not in rendered
            assert key[-8:] not in rendered


def echo(status: int, template: str) -> Callable[[httpx.Request], httpx.Response]:
    """A provider that answers ``status`` with its caller's key pasted into the message."""

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].removeprefix("Bearer ")
        body = {"error": {"message": template.format(key=key), "type": "invalid_request_error"}}
        return httpx.Response(status, json=body)

    return handler


def juggler(handler: Callable[[httpx.Request], Any], **settings: Any) -> Juggler:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return Juggler(CHAIN, providers=PROVIDERS, http_client=client, env={}, **settings)


# ----- errors and models_used -----


@pytest.mark.parametrize(
    ("status", "template"),
    [
        (401, "Incorrect API key provided: {key}. You can find your API key at https://x.y/keys."),
        (403, "key {key} may not use this model"),
        (429, "Rate limit reached for key {key}"),
        (500, "internal error while handling {key}"),
        (404, "model not found for '{key}'"),
        (200, "upstream rejected token={key}"),
    ],
    ids=["401", "403", "429", "500", "404", "error-in-200"],
)
def test_key_echoed_in_an_error_body_is_redacted_everywhere(status: int, template: str) -> None:
    j = juggler(echo(status, template), retries=0)
    with pytest.raises(AllProvidersFailedError) as info:
        j.chat("hi")
    err = info.value
    assert len(err.models_used) == 2
    assert all("[redacted]" in (a.error or "") for a in err.models_used)
    assert_no_key(
        str(err),
        repr(err),
        err.models_used,
        json.dumps([dict(a) for a in err.models_used]),
        [a.summary() for a in err.models_used],
        err.__cause__,
        str(err.__cause__),
    )
    j.close()


def test_key_echoed_in_a_rejected_request_is_redacted() -> None:
    j = juggler(echo(400, "bad value for header Authorization: Bearer {key}"))
    with pytest.raises(RequestRejectedError) as info:
        j.chat("hi")
    assert_no_key(str(info.value), repr(info.value), info.value.models_used)
    j.close()


def test_key_in_a_transport_error_message_is_redacted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].removeprefix("Bearer ")
        raise httpx.ConnectError(f"proxy refused credentials {key}", request=request)

    j = juggler(handler, retries=0)
    with pytest.raises(AllProvidersFailedError) as info:
        j.chat("hi")
    assert [a.error_type for a in info.value.models_used] == ["ProviderConnectionError"] * 2
    assert_no_key(str(info.value), info.value.models_used, str(info.value.__cause__))
    j.close()


def test_key_echoed_in_a_stream_error_is_redacted() -> None:
    j = juggler(echo(401, "Incorrect API key provided: {key}."), retries=0)
    with pytest.raises(AllProvidersFailedError) as info:
        list(j.stream_chat("hi"))
    assert_no_key(str(info.value), info.value.models_used)
    j.close()


def test_openai_masked_key_echo_from_the_real_401_is_dropped(cassette: Any) -> None:
    # The recording's key was "invalid-...2345"; OpenAI echoed "invalid-*****2345".
    with cassette.use_cassette("openai/chat_error_401.yaml"):
        j = Juggler(
            ["openai/gpt-4o"], providers={"openai": {"api_key": "invalid-key-12345"}}, env={}
        )
        with pytest.raises(AllProvidersFailedError) as info:
            j.chat("This should fail with AuthenticationError")
    (attempt,) = info.value.models_used
    assert (attempt.status_code, attempt.error_type) == (401, "AuthenticationError")
    assert attempt.error is not None
    assert attempt.error.startswith("Incorrect API key provided: [redacted].")
    assert "invalid-" not in str(info.value)
    assert "2345" not in str(info.value)
    j.close()


def test_key_is_sent_only_in_the_auth_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"choices": [{"message": {"content": "ok"}}]})

    j = juggler(handler)
    j.chat("hi")
    (request,) = seen
    assert request.headers["authorization"] == f"Bearer {SHAPED_KEY}"
    assert SHAPED_KEY not in str(request.url)
    assert SHAPED_KEY.encode() not in request.content
    j.close()


def test_nothing_is_logged_with_a_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    j = juggler(echo(401, "Incorrect API key provided: {key}."), retries=0)
    with pytest.raises(AllProvidersFailedError):
        j.chat("hi")
    j.close()
    assert_no_key(caplog.text, [r.getMessage() for r in caplog.records])


# ----- reprs of the objects a user prints -----


def test_reprs_of_juggler_providers_and_settings_hold_no_key() -> None:
    j = Juggler(CHAIN, providers=PROVIDERS, env={})
    assert_no_key(repr(j), str(j), j.providers, j.settings, j.chain("chat"), vars(j))
    for provider in j.providers.values():
        assert_no_key(repr(provider), str(provider))
        assert "key=set" in repr(provider)
    j.close()


def test_key_from_the_environment_stays_out_of_reprs() -> None:
    j = Juggler(CHAIN, env={"OPENAI_API_KEY": SHAPED_KEY, "GROQ_API_KEY": PLAIN_KEY})
    assert_no_key(repr(j), j.providers, [repr(p) for p in j.providers.values()])
    j.close()


# ----- cassettes on disk -----


def stored_headers(path: Path) -> list[tuple[str, str, str]]:
    """(where, header name, value) for every header stored in a cassette."""
    data = yaml.safe_load(path.read_text())
    found = []
    for n, interaction in enumerate(data.get("interactions") or []):
        for side in ("request", "response"):
            for name, values in (interaction.get(side, {}).get("headers") or {}).items():
                for value in values if isinstance(values, list) else [values]:
                    found.append((f"#{n} {side}", name.lower(), str(value)))
    return found


def all_cassettes() -> list[Path]:
    return sorted(CASSETTES.rglob("*.yaml")) + sorted(CASSETTES.rglob("*.yml"))


def test_cassettes_exist_to_check() -> None:
    assert len(all_cassettes()) >= 20


@pytest.mark.parametrize("path", all_cassettes(), ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_stores_no_credential_or_cookie_header(path: Path) -> None:
    leaks = [
        f"{where} {name}: {value[:20]}"
        for where, name, value in stored_headers(path)
        if name in CREDENTIAL_HEADERS | COOKIE_HEADERS
        and not FILTERED.match(value.removeprefix("Bearer ").strip())
    ]
    assert leaks == []


KEY_SHAPES = re.compile(
    r"(?<![A-Za-z0-9_\-])(sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}|gsk_[A-Za-z0-9]{20,}"
    r"|AIza[0-9A-Za-z_\-]{35}|nvapi-[A-Za-z0-9_\-]{20,}|pa-[A-Za-z0-9_\-]{20,}"
    r"|jina_[A-Za-z0-9]{20,}|csk-[A-Za-z0-9]{20,})"
)


@pytest.mark.parametrize("path", all_cassettes(), ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_holds_nothing_shaped_like_a_key(path: Path) -> None:
    text = path.read_text()
    assert KEY_SHAPES.findall(text) == []
    assert re.findall(r"[?&]key=(?!<filtered>|REDACTED)[^&\s\"']+", text) == []
