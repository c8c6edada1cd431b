"""Bad input raises InvalidRequestError before any request: the simulator sees nothing. Call
arguments are refused at the call, settings and base URLs at construction, each with a plain
message rather than a raw Python one."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from juggler import InvalidRequestError, Juggler
from juggler.testing import ProviderSimulator, Scenario

PROVIDERS = ("groq", "voyage", "jina", "openai")


@pytest.fixture(scope="module")
def sim() -> Iterator[ProviderSimulator]:
    with ProviderSimulator({name: Scenario() for name in PROVIDERS}) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def j(sim: ProviderSimulator) -> Iterator[Juggler]:
    juggler = _juggler(sim)
    yield juggler
    juggler.close()


def _juggler(sim: ProviderSimulator, **settings: Any) -> Juggler:
    return Juggler(
        chat=["groq/llama-3.1-8b-instant"],
        embed=["voyage/voyage-3"],
        rerank=["jina/jina-reranker-v2-base-multilingual"],
        transcribe=["groq/whisper-large-v3"],
        speak=["openai/tts-1"],
        providers=sim.providers_config(),
        env={},
        **settings,
    )


def _requests(sim: ProviderSimulator) -> int:
    return sum(sum(sim.counts(name).values()) for name in PROVIDERS)


CALLS: dict[str, Callable[[Juggler], Any]] = {
    "rerank documents as a str": lambda j: j.rerank("q", "abc"),
    "rerank an empty document": lambda j: j.rerank("q", ["a", ""]),
    "rerank a blank document": lambda j: j.rerank("q", ["a", "   "]),
    "rerank documents as a dict": lambda j: j.rerank("q", {"a": 1}),
    "embed a dict": lambda j: j.embed({"a": 1}),
    "embed a set": lambda j: j.embed({"a", "b"}),
    "embed a blank text": lambda j: j.embed(["ok", "  \n"]),
    "chat stop as a dict": lambda j: j.chat("hi", stop={"a": 1}),
    "chat temperature NaN": lambda j: j.chat("hi", temperature=math.nan),
    "deadline NaN": lambda j: j.chat("hi", deadline=math.nan),
    "deadline True": lambda j: j.chat("hi", deadline=True),
    "deadline infinite": lambda j: j.chat("hi", deadline=math.inf),
    "hedge_after_ms NaN": lambda j: j.chat("hi", hedge_after_ms=math.nan),
    "hedge_after_ms True": lambda j: j.chat("hi", hedge_after_ms=True),
    "cache_ttl_seconds NaN": lambda j: j.chat("hi", cache_ttl_seconds=math.nan),
    "cache_ttl_seconds True": lambda j: j.chat("hi", cache_ttl_seconds=True),
    "tier NaN": lambda j: j.chat("hi", tier=math.nan),
    "tier True": lambda j: j.chat("hi", tier=True),
    "tier 1.0": lambda j: j.chat("hi", tier=1.0),
    "targets empty": lambda j: j.chat("hi", targets=[]),
    "targets a str": lambda j: j.chat("hi", targets="groq/llama-3.1-8b-instant"),
    "voice 123": lambda j: j.speak("hi", voice=123),
    "speed True": lambda j: j.speak("hi", speed=True),
    "speed NaN": lambda j: j.speak("hi", speed=math.nan),
    "speech format a list": lambda j: j.speak("hi", format=["mp3"]),
    "language 123": lambda j: j.transcribe(b"ID3abc", filename="a.mp3", language=123),
    "prompt 123": lambda j: j.transcribe(b"ID3abc", filename="a.mp3", prompt=123),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_bad_call_input_is_refused_before_any_request(
    sim: ProviderSimulator, j: Juggler, call: Callable[[Juggler], Any]
) -> None:
    before = _requests(sim)
    with pytest.raises(InvalidRequestError) as info:
        call(j)
    assert _requests(sim) == before
    assert "not supported between" not in str(info.value)  # a plain message, not Python's


SETTINGS: dict[str, dict[str, Any]] = {
    "deadline NaN": {"deadline": math.nan},
    "deadline True": {"deadline": True},
    "hedge_after_ms True": {"hedge_after_ms": True},
    "cache_ttl_seconds NaN": {"cache_ttl_seconds": math.nan},
    "timeout a string": {"timeout": "fast"},
    "retries True": {"retries": True},
}


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
def test_bad_settings_are_refused_at_construction(
    sim: ProviderSimulator, settings: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequestError, match=next(iter(settings))):
        _juggler(sim, **settings)


@pytest.mark.parametrize(
    "url",
    ["ftp://files.example/v1", "not a url", "http://127.0.0.1:99999/v1", "https:///v1", ""],
)
def test_a_base_url_that_is_not_http_is_refused_at_construction(url: str) -> None:
    with pytest.raises(InvalidRequestError, match="base_url"):
        Juggler(
            chat=["local/m"],
            providers={"local": {"base_url": url or "http://", "api_key": "k"}},
            env={},
        )


def test_a_catalogued_provider_with_a_bad_base_url_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="base_url of 'groq'"):
        Juggler(chat=["groq/m"], providers={"groq": {"base_url": "ftp://x/v1", "api_key": "k"}})


def test_texts_may_still_come_from_a_generator(j: Juggler) -> None:
    assert len(j.embed(t for t in ["a", "b"])) == 2


def test_rerank_documents_from_a_one_shot_generator_are_refused(
    sim: ProviderSimulator, j: Juggler
) -> None:
    before = _requests(sim)
    with pytest.raises(InvalidRequestError, match="list of documents"):
        j.rerank("q", (d for d in ["x", "y"]))
    assert _requests(sim) == before
