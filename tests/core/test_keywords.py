"""Public signatures show their parameters, and an unknown keyword is a clear error with the
closest valid name, raised before any request."""

from __future__ import annotations

import inspect
import typing

import pytest

from juggler import InvalidRequestError, Juggler, Settings
from juggler._config import SettingsKwargs
from juggler.testing import FakeProvider


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider("fake-a")


@pytest.fixture
def juggler(fake: FakeProvider) -> Juggler:
    return Juggler(
        ["fake-a/m"], embed=["fake-a/e"], rerank=["fake-a/r"], providers=fake.config(), env={}
    )


def test_a_misspelt_setting_names_the_right_one():
    with pytest.raises(InvalidRequestError, match="did you mean 'retries'"):
        Juggler(["fake-a/m"], providers=FakeProvider("fake-a").config(), env={}, retires=3)  # type: ignore[call-arg]


def test_a_bad_setting_value_is_a_clear_error_naming_the_setting():
    with pytest.raises(InvalidRequestError, match=r"timeout: .*'soon'"):
        Juggler(["fake-a/m"], providers=FakeProvider("fake-a").config(), env={}, timeout="soon")  # type: ignore[arg-type]


def test_a_misspelt_chat_parameter_names_the_right_one_and_sends_nothing(juggler, fake):
    with pytest.raises(InvalidRequestError, match="did you mean 'max_tokens'"):
        juggler.chat("hi", max_token=5)  # type: ignore[call-arg]
    assert fake.calls == []


def test_a_misspelt_stream_parameter_is_refused_before_the_stream_starts(juggler, fake):
    with pytest.raises(InvalidRequestError, match="did you mean 'temperature'"):
        juggler.stream_chat("hi", temprature=0.2)  # type: ignore[call-arg]
    assert fake.calls == []


def test_a_misspelt_embed_parameter_names_the_right_one(juggler, fake):
    with pytest.raises(InvalidRequestError, match="did you mean 'dimensions'"):
        juggler.embed(["a"], dimension=3)  # type: ignore[call-arg]
    assert fake.calls == []


def test_a_misspelt_routing_option_names_the_right_one(juggler):
    with pytest.raises(InvalidRequestError, match="did you mean 'parallel_attempts'"):
        juggler.rerank("q", ["a", "b"], parallel_attempt=2)  # type: ignore[call-arg]


def test_the_settings_keywords_are_exactly_the_settings_fields():
    assert set(typing.get_type_hints(SettingsKwargs)) == set(Settings.model_fields)


def test_sync_methods_show_the_same_parameters_as_their_async_twins():
    for name in ("chat", "embed", "rerank", "transcribe", "speak", "health_check"):
        sync, coro = getattr(Juggler, name), getattr(Juggler, f"a{name}")
        assert inspect.signature(sync) == inspect.signature(coro), name


def test_the_sync_stream_shows_the_async_streams_parameters_and_returns_a_chat_stream():
    sync, coro = inspect.signature(Juggler.stream_chat), inspect.signature(Juggler.astream_chat)
    assert sync.parameters == coro.parameters
    assert sync.return_annotation == "ChatStream"


def test_chat_shows_its_routing_choices_as_named_parameters():
    parameters = inspect.signature(Juggler.chat).parameters
    assert {"targets", "model", "tier", "deadline"} <= set(parameters)


def test_per_call_timeout_and_retries_are_checked_before_any_request(juggler, fake):
    with pytest.raises(InvalidRequestError, match="timeout must be a positive number"):
        juggler.chat("hi", timeout=-1)
    with pytest.raises(InvalidRequestError, match="retries must be an int"):
        juggler.chat("hi", retries=True)
    assert fake.calls == []


def test_a_parameter_a_planned_target_cannot_honour_is_refused_before_any_request():
    import httpx

    sent: list[httpx.Request] = []
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: sent.append(r)))  # type: ignore[arg-type,return-value]
    juggler = Juggler(
        ["anthropic/claude-sonnet-4-5"], env={"ANTHROPIC_API_KEY": "k"}, http_client=client
    )
    with juggler, pytest.raises(InvalidRequestError, match="presence_penalty"):
        juggler.chat("hi", presence_penalty=0.5)
    assert sent == []
