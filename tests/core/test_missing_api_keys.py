"""A catalogued provider without its API key is never called: its targets are recorded as
skipped ("no API key: set OPENAI_API_KEY"), a warning is logged once per provider and
Juggler, and a chain with no key at all fails before any request, naming what to set."""

from __future__ import annotations

import logging

import httpx
import pytest

from juggler import AllProvidersFailedError, InvalidRequestError, Juggler

OK = {"model": "m", "choices": [{"message": {"role": "assistant", "content": "hi"}}]}


class Wire:
    """A MockTransport that answers every request and remembers where each went."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        return httpx.Response(200, json=OK)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))


def keyless_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "has no API key" in r.getMessage()]


def test_a_chain_without_any_key_fails_before_any_request() -> None:
    wire = Wire()
    j = Juggler(chat=["openai/gpt-4o-mini"], env={}, http_client=wire.client())
    with pytest.raises(AllProvidersFailedError) as info:
        j.chat("hi")
    assert wire.hosts == []
    assert "No providers available: check API keys" in str(info.value)
    assert "OPENAI_API_KEY" in str(info.value)
    [attempt] = info.value.models_used
    assert (attempt.provider, attempt.outcome, attempt.error) == (
        "openai",
        "skipped",
        "no API key: set OPENAI_API_KEY",
    )
    j.close()


def test_the_error_names_every_variable_to_set() -> None:
    wire = Wire()
    j = Juggler(
        chat=["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"], env={}, http_client=wire.client()
    )
    with pytest.raises(AllProvidersFailedError) as info:
        j.chat("hi")
    assert "GROQ_API_KEY" in str(info.value) and "OPENAI_API_KEY" in str(info.value)
    assert [a.outcome for a in info.value.models_used] == ["skipped", "skipped"]
    assert wire.hosts == []
    j.close()


def test_a_misspelt_key_variable_sends_nothing_and_the_warning_points_at_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire = Wire()
    with caplog.at_level(logging.WARNING, logger="juggler"):
        j = Juggler(
            chat=["openai/gpt-4o-mini"],
            env={"OPENAI_APIKEY": "sk-misplaced"},
            http_client=wire.client(),
        )
    with pytest.raises(AllProvidersFailedError):
        j.chat("hi")
    assert wire.hosts == []
    [warning] = keyless_warnings(caplog)
    assert "OPENAI_API_KEY" in warning and "OPENAI_APIKEY" in warning
    assert "sk-misplaced" not in caplog.text
    j.close()


def test_a_target_without_a_key_is_skipped_and_the_next_one_answers() -> None:
    wire = Wire()
    j = Juggler(
        chat=["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"],
        env={"GROQ_API_KEY": "g"},
        http_client=wire.client(),
    )
    r = j.chat("hi")
    assert [(a.provider, a.outcome, a.error) for a in r.models_used] == [
        ("openai", "skipped", "no API key: set OPENAI_API_KEY"),
        ("groq", "success", None),
    ]
    assert wire.hosts == ["api.groq.com"]
    j.close()


def test_the_missing_key_warning_is_logged_once_per_provider_and_juggler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire = Wire()
    env = {"GROQ_API_KEY": "g"}
    chain = ["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"]
    with caplog.at_level(logging.WARNING, logger="juggler"):
        first = Juggler(chat=chain, env=env, http_client=wire.client())
        first.chat("one")
        first.chat("two")
        assert len(keyless_warnings(caplog)) == 1
        second = Juggler(chat=chain, env=env, http_client=wire.client())
        second.chat("three")
    assert len(keyless_warnings(caplog)) == 2
    first.close()
    second.close()


def test_a_stream_without_any_key_fails_before_any_request() -> None:
    wire = Wire()
    j = Juggler(chat=["anthropic/claude-sonnet-4-5"], env={}, http_client=wire.client())
    with pytest.raises(AllProvidersFailedError) as info:
        list(j.stream_chat("hi"))
    assert "ANTHROPIC_API_KEY" in str(info.value)
    assert wire.hosts == []
    j.close()


def test_a_custom_server_with_its_own_base_url_may_stay_keyless() -> None:
    wire = Wire()
    j = Juggler(
        chat=["local/my-model"],
        providers={"local": {"base_url": "http://10.9.8.7:8080/v1"}},
        env={},
        http_client=wire.client(),
    )
    assert j.chat("hi") == "hi"
    assert wire.hosts == ["10.9.8.7"]
    j.close()


def test_a_catalogued_vendor_behind_another_base_url_may_stay_keyless() -> None:
    wire = Wire()
    j = Juggler(
        chat=["openai/gpt-4o-mini"],
        env={"OPENAI_BASE_URL": "http://10.9.8.7:4000/v1"},  # a local proxy holds the key
        http_client=wire.client(),
    )
    assert j.chat("hi") == "hi"
    assert wire.hosts == ["10.9.8.7"]
    j.close()


def test_with_no_key_at_all_the_discovered_chain_says_no_providers_are_available() -> None:
    j = Juggler(env={})
    with pytest.raises(InvalidRequestError) as info:
        j.chat("hi")
    assert str(info.value).startswith("No providers available: check API keys.")
    assert "GROQ_API_KEY" in str(info.value) and "OPENAI_API_KEY" in str(info.value)
    j.close()
