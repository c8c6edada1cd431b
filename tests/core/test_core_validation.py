"""Bad input gets a clear ValueError before any request is sent."""

from __future__ import annotations

import httpx
import pytest

from juggler import InvalidRequestError, Juggler, Target

CHAIN = ["groq/llama-3.1-8b-instant"]


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
def juggler(make_juggler, sent):
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    return make_juggler(handler, CHAIN)


@pytest.mark.parametrize(
    ("messages", "kwargs", "says"),
    [
        ([], {}, "non-empty"),
        ([{"role": "wizard", "content": "hi"}], {}, "unknown role"),
        ([{"role": "user"}], {}, "no content"),
        ([{"role": "user", "content": "   "}], {}, "empty content"),
        ("hi", {"max_tokens": -5}, "max_tokens"),
        ("hi", {"max_tokens": 0}, "max_tokens"),
        ("hi", {"temperature": 3.5}, "temperature"),
        ("hi", {"temperature": -0.1}, "temperature"),
        ("hi", {"tool_choice": "required"}, "without tools"),
        ("hi", {"tools": [{"name": "x"}]}, r"tools\[0\]"),
        ("hi", {"response_format": {"type": "yaml"}}, "response_format"),
        ([{"role": "tool", "content": "42"}], {}, "tool_call_id"),
    ],
)
def test_bad_chat_input_is_refused_before_any_request(juggler, sent, messages, kwargs, says):
    with pytest.raises(InvalidRequestError, match=says):
        juggler.chat(messages, **kwargs)
    assert sent == []


def test_invalid_request_error_is_a_value_error():
    assert issubclass(InvalidRequestError, ValueError)


def test_an_unknown_provider_is_refused_at_construction():
    with pytest.raises(InvalidRequestError, match="unknown provider 'nope'"):
        Juggler(chat=["nope/model-x"], env={})


@pytest.mark.parametrize("bad", ["no-slash", "/model", "groq/", ""])
def test_an_unparseable_target_is_refused(bad):
    with pytest.raises(InvalidRequestError, match="cannot parse target"):
        Juggler(chat=[bad], env={})


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="timeoutt"):
        Juggler(chat=CHAIN, env={}, timeoutt=3)


def test_a_target_splits_on_the_first_slash_only():
    target = Target.parse("nvidia/meta-llama/llama-3.1-8b-instruct")
    assert (target.provider, target.model) == ("nvidia", "meta-llama/llama-3.1-8b-instruct")


def test_a_target_outside_tiers_one_to_three_is_refused():
    with pytest.raises(ValueError):
        Target(provider="groq", model="m", tier=4)


def test_a_target_without_the_capability_is_refused_with_who_offers_it():
    with pytest.raises(InvalidRequestError, match="cannot serve embed"):
        Juggler(embed=["groq/llama-3.1-8b-instant"], env={})


def test_asking_for_an_unconfigured_capability_names_the_providers_that_offer_it():
    juggler = Juggler(chat=CHAIN, env={"GROQ_API_KEY": "k"})
    with pytest.raises(InvalidRequestError, match=r"providers that do: .*voyage"):
        juggler.embed(["hello"])
    juggler.close()


def test_an_api_key_that_cannot_travel_in_a_header_is_refused_without_echoing_it():
    with pytest.raises(InvalidRequestError, match="non-ASCII") as caught:
        Juggler(chat=CHAIN, providers={"groq": {"api_key": "sk-ключ"}}, env={})
    assert "ключ" not in str(caught.value)


def test_whitespace_around_an_api_key_is_ignored():
    juggler = Juggler(chat=CHAIN, env={"GROQ_API_KEY": "  gsk_abc\n"})
    assert juggler.providers["groq"].auth_headers() == {"Authorization": "Bearer gsk_abc"}
