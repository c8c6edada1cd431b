"""Streams run on the one engine: same retries, breakers and budget as plain calls; the
stream object only continues the winner, and never hands out an empty chunk but the last."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _resilience_fakes import VirtualTime, outcomes, scripted_juggler

from juggler import AllProvidersFailedError, Juggler, StreamInterruptedError, Usage
from juggler.providers.types import ChatDelta, ToolCallDelta
from juggler.testing import FakeDelay, FakeHttpError, FakeProvider, FakeStream


def read(juggler: Juggler, vt: VirtualTime, **kw: Any) -> tuple[Any, list[str]]:
    async def main() -> tuple[Any, list[str]]:
        stream = juggler.astream_chat("hi", **kw)
        return stream, [chunk async for chunk in stream]

    return vt.run(main())


def test_streams_open_a_circuit_that_plain_calls_then_skip():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, circuit_consecutive_failures=2)
    fakes["a"].plan(then=FakeHttpError(503))
    for _ in range(2):
        read(juggler, vt)
    assert juggler.engine.breakers.state(("a", "m"), vt.now) == "open"
    calls_before = len(fakes["a"].calls)
    response = vt.run(juggler.achat("hi"))
    assert outcomes(response) == [("a", "skipped"), ("b", "success")]
    assert len(fakes["a"].calls) == calls_before


def test_plain_calls_open_a_circuit_that_streams_then_skip():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, circuit_consecutive_failures=2)
    fakes["a"].plan(then=FakeHttpError(503))
    for _ in range(2):
        vt.run(juggler.achat("hi"))
    stream, _ = read(juggler, vt)
    assert outcomes(stream) == [("a", "skipped"), ("b", "success")]


def test_a_stream_probe_closes_a_circuit_that_plain_calls_opened():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(
        ["a/m", "b/m"], vt, circuit_consecutive_failures=2, circuit_cooldown=10.0
    )
    fakes["a"].plan(FakeHttpError(503), FakeHttpError(503), then="ok from a")
    for _ in range(2):
        vt.run(juggler.achat("hi"))
    vt.now += 11.0  # the cool-down is over: the next attempt is the half-open probe
    stream, _ = read(juggler, vt)
    assert outcomes(stream) == [("a", "success")]
    assert juggler.engine.breakers.state(("a", "m"), vt.now) == "closed"


def test_a_plain_call_probe_closes_a_circuit_that_streams_opened():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(
        ["a/m", "b/m"], vt, circuit_consecutive_failures=2, circuit_cooldown=10.0
    )
    fakes["a"].plan(FakeHttpError(503), FakeHttpError(503), then="ok from a")
    for _ in range(2):
        read(juggler, vt)
    vt.now += 11.0
    response = vt.run(juggler.achat("hi"))
    assert outcomes(response) == [("a", "success")]
    assert juggler.engine.breakers.state(("a", "m"), vt.now) == "closed"


def test_a_stream_retries_a_transient_error_before_its_first_token_like_a_call():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, retries=1)
    fakes["a"].plan(FakeHttpError(503), "ok from a")
    stream, chunks = read(juggler, vt)
    assert "".join(chunks) == "ok from a"
    assert [(a.outcome, a.retry) for a in stream.models_used] == [
        ("error", False),
        ("success", True),
    ]


def test_a_per_call_retries_option_applies_to_streams_and_calls():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, retries=0)
    fakes["a"].plan(FakeHttpError(503), "ok from a", FakeHttpError(503), "ok from a")
    assert outcomes(vt.run(juggler.achat("hi", retries=1))) == [("a", "error"), ("a", "success")]
    stream, _ = read(juggler, vt, retries=1)
    assert outcomes(stream) == [("a", "error"), ("a", "success")]


def test_a_per_call_timeout_fails_over_a_slow_target():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeDelay(5.0, "ok from a"))
    response = vt.run(juggler.achat("hi", timeout=1.0))
    assert outcomes(response) == [("a", "error"), ("b", "success")]
    assert response.models_used[0].error == "no answer within 1.0s"


# Empty events around the answer, as real wires send them: Anthropic's message_start (usage
# only) first, then text, a finish reason and a usage-only chunk (Groq, OpenAI).
CHATTY = FakeStream(
    [
        ChatDelta(usage=Usage.of(12, None), model="m"),
        ChatDelta(text="", model="m"),
        ChatDelta(text="Hello", model="m"),
        ChatDelta(text=" world", model="m"),
        ChatDelta(finish_reason="stop"),
        ChatDelta(usage=Usage.of(12, 2)),
    ]
)


def test_a_stream_hands_out_no_empty_chunk_but_one_final_chunk_with_finish_and_usage():
    vt = VirtualTime()
    fake = FakeProvider("a", [CHATTY], models={"chat": "m"})
    juggler = Juggler(["a/m"], providers=fake.config(), env={}, clock=vt.time)
    stream, chunks = read(juggler, vt)
    assert [str(c) for c in chunks] == ["Hello", " world", ""]
    assert (chunks[-1].finish_reason, chunks[-1].usage) == ("stop", Usage.of(12, 2))
    assert (stream.finish_reason, stream.usage) == ("stop", Usage.of(12, 2))


# A streamed tool call: fragments with empty text are tool-call data, passed on.
TOOL_STREAM = FakeStream(
    [
        ChatDelta(tool_calls=[ToolCallDelta(0, "call_1", "get_weather", "")]),
        ChatDelta(tool_calls=[ToolCallDelta(0, None, None, '{"city": "Paris"}')]),
        ChatDelta(finish_reason="tool_calls"),
    ]
)


def test_streamed_tool_call_fragments_are_passed_on_and_assembled():
    vt = VirtualTime()
    fake = FakeProvider("a", [TOOL_STREAM], models={"chat": "m"})
    juggler = Juggler(["a/m"], providers=fake.config(), env={}, clock=vt.time)
    stream, chunks = read(juggler, vt)
    assert [len(c.tool_calls) for c in chunks] == [1, 1, 0]
    assert stream.tool_calls[0].arguments == {"city": "Paris"}


def test_a_stream_cut_after_content_raises_with_the_partial_text_and_records_the_error():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeStream(["ok "], error=FakeHttpError(502)))  # cut after one chunk

    async def main() -> Any:
        stream = juggler.astream_chat("hi")
        with pytest.raises(StreamInterruptedError) as caught:
            async for _ in stream:
                pass
        return stream, caught.value

    stream, error = vt.run(main())
    assert error.partial_text == "ok "
    assert outcomes(stream) == [("a", "error")]
    assert len(fakes["b"].calls) == 0


def test_a_stream_with_every_target_failing_raises_with_every_attempt():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    for fake in fakes.values():
        fake.plan(then=FakeHttpError(503))
    with pytest.raises(AllProvidersFailedError) as caught:
        read(juggler, vt)
    assert {a.provider for a in caught.value.models_used} == {"a", "b"}


_ABANDON = """
import asyncio, logging
logging.basicConfig(level=logging.ERROR)
from juggler import Juggler
from juggler.testing import ProviderSimulator, Scenario
with ProviderSimulator({"openai": Scenario()}) as sim:
    juggler = Juggler(chat=["openai/gpt-4o-mini"], providers=sim.providers_config(), env={})
    kept = []

    async def main():
        async with juggler:  # the Juggler is closed; the stream is not
            stream = juggler.astream_chat("tell me a long story about many things")
            await stream.__anext__()
            kept.append(stream)  # read one chunk, then leave the stream unclosed

    asyncio.run(main())
"""


def test_an_abandoned_stream_leaves_no_error_when_its_event_loop_ends():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _ABANDON], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Error" not in done.stderr and "exception" not in done.stderr.lower(), done.stderr


def test_closing_a_provider_stream_whose_close_hangs_gives_up_after_a_bound():
    from juggler._routing.stream import _CLOSE_SECONDS, Opened

    class HangsOnClose:
        def __aiter__(self) -> HangsOnClose:
            return self

        async def __anext__(self) -> ChatDelta:
            raise StopAsyncIteration

        async def aclose(self) -> None:
            await asyncio.sleep(10**6)

    vt = VirtualTime()
    start = vt.now
    vt.run(Opened(HangsOnClose()).aclose())
    assert vt.now - start == pytest.approx(_CLOSE_SECONDS)
