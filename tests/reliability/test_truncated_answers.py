"""No silent truncation, end to end: a body that ends cleanly before the wire's final event
(OpenAI ``[DONE]``, Anthropic ``message_stop``, a Gemini chunk with ``finishReason``, Cohere
``message-end``) is never a success. Before any content the call falls over to the next
target; after content it raises StreamInterruptedError with the partial text. A non-stream
body cut short falls over too. (The simulator's socket-level cuts are in
test_simulator_faults.py.)"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from _wire_bodies import BY_ID, OPENAI_STREAM, Case, sse

from juggler import Juggler, StreamInterruptedError

STREAMS = [BY_ID[f"{p}-stream"] for p in ("openai", "anthropic", "google", "cohere")]
KEYS = {
    name: {"api_key": f"key-{name}"} for name in ("openai", "anthropic", "google", "cohere", "groq")
}


async def _no_sleep(_: float) -> None:
    """Retry waits are skipped: tests never sleep for real."""


def _juggler(first: Case, first_body: bytes, content_type: str = "text/event-stream") -> Juggler:
    """``first``'s provider answers ``first_body``; groq (the second target) answers fully."""

    def handler(request: httpx.Request) -> httpx.Response:
        if "groq" in request.url.host:
            return httpx.Response(
                200,
                content=sse(OPENAI_STREAM, "openai"),
                headers={"content-type": "text/event-stream"},
            )
        return httpx.Response(200, content=first_body, headers={"content-type": content_type})

    return Juggler(
        chat=[f"{first.provider}/{first.model}", "groq/llama-3.1-8b-instant"],
        providers=KEYS,
        env={},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        sleep=_no_sleep,
        retries=0,
    )


def _first_content_event(case: Case) -> int:
    """Index of the first event that carries answer text."""
    for i, event in enumerate(case.body):
        if "Hi" in json.dumps(event):
            return i
    raise AssertionError(case.id)


@pytest.mark.parametrize("case", STREAMS, ids=lambda c: c.id)
def test_a_stream_ending_cleanly_before_content_falls_over(case: Case) -> None:
    j = _juggler(case, sse(case.body[: _first_content_event(case)], case.provider))
    stream = j.stream_chat("hello")
    text = "".join(stream)
    j.close()
    first = stream.models_used[0]
    assert text == "Hi" and stream.models_used[-1].provider == "groq"
    assert first.error_type == "InvalidResponseError" and first.status_code == 200
    assert "truncated stream" in (first.error or "")


@pytest.mark.parametrize("case", STREAMS, ids=lambda c: c.id)
def test_an_empty_stream_falls_over(case: Case) -> None:
    j = _juggler(case, b"")
    stream = j.stream_chat("hello")
    assert "".join(stream) == "Hi"
    j.close()
    assert stream.models_used[0].error_type == "InvalidResponseError"


@pytest.mark.parametrize("case", STREAMS, ids=lambda c: c.id)
def test_a_stream_ending_cleanly_after_content_is_interrupted(case: Case) -> None:
    cut = _first_content_event(case) + 1
    j = _juggler(case, sse(case.body[:cut], case.provider))
    stream = j.stream_chat("hello")
    with pytest.raises(StreamInterruptedError) as info:
        for _ in stream:
            pass
    j.close()
    assert info.value.partial_text == "Hi"
    assert info.value.models_used[-1].error_type == "InvalidResponseError"


def test_a_non_stream_body_cut_short_falls_over() -> None:
    case = BY_ID["openai-chat"]

    def handler(request: httpx.Request) -> httpx.Response:
        body: Any = case.body
        text = json.dumps(body)
        if "groq" not in request.url.host:
            text = text[: len(text) // 2]
        return httpx.Response(200, text=text, headers={"content-type": "application/json"})

    j = Juggler(
        chat=["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"],
        providers=KEYS,
        env={},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        sleep=_no_sleep,
        retries=0,
    )
    r = j.chat("hello")
    j.close()
    assert r.provider == "groq"
    assert r.models_used[0].error_type == "InvalidResponseError"
    assert r.models_used[0].status_code == 200


# ----- the same through the simulator, whose cut closes the socket mid-stream -----

SIM_WIRES = {
    "cerebras": "qwen-3-32b",
    "anthropic": "claude-3-5-haiku-latest",
    "google": "gemini-2.0-flash",
    "cohere": "command-r",
}


@pytest.mark.parametrize("name", SIM_WIRES)
def test_a_simulated_stream_cut_before_any_event_falls_over(name: str) -> None:
    from juggler.testing import ProviderSimulator, Scenario

    with ProviderSimulator({name: Scenario(cut_stream_after=0), "groq": Scenario()}) as sim:
        j = Juggler(
            chat=[f"{name}/{SIM_WIRES[name]}", "groq/llama-3.1-8b-instant"],
            providers=sim.providers_config(),
            env={},
            sleep=_no_sleep,
            retries=0,
        )
        stream = j.stream_chat("hello there")
        text = "".join(stream)
        j.close()
    assert text and stream.models_used[-1].provider == "groq"
    assert not stream.models_used[0].success


@pytest.mark.parametrize("name", SIM_WIRES)
def test_a_simulated_stream_cut_after_content_is_interrupted(name: str) -> None:
    from juggler.testing import ProviderSimulator, Scenario

    with ProviderSimulator({name: Scenario(cut_stream_after=5), "groq": Scenario()}) as sim:
        j = Juggler(
            chat=[f"{name}/{SIM_WIRES[name]}", "groq/llama-3.1-8b-instant"],
            providers=sim.providers_config(),
            env={},
            sleep=_no_sleep,
            retries=0,
        )
        stream = j.stream_chat("hello there")
        with pytest.raises(StreamInterruptedError) as info:
            for _ in stream:
                pass
        j.close()
    assert info.value.partial_text
