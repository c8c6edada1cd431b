"""``FakeProvider`` scripts HTTP failures (classified like the real boundary), late answers,
hangs, cut streams and raw stream events; it counts the calls that were cancelled."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from _resilience_fakes import VirtualTime

from juggler import OverloadedError, RateLimitError, ServerError, Usage
from juggler.providers._classify import classify
from juggler.providers.types import ChatDelta, ChatRequest, EmbedRequest
from juggler.testing import FakeDelay, FakeHang, FakeHttpError, FakeProvider, FakeStream

HI = ChatRequest([{"role": "user", "content": "hi"}])


async def read(fake: FakeProvider) -> list[ChatDelta]:
    return [delta async for delta in fake.stream_chat("m", HI)]


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 503, 529])
def test_an_http_error_step_raises_what_the_http_boundary_raises_for_that_status(status):
    fake = FakeProvider("fake-a", [FakeHttpError(status)])
    with pytest.raises(Exception) as caught:
        anyio.run(fake.chat, "m", HI)
    body = '{"error": {"message": "scripted error"}}'
    expected = classify(status, {}, body, provider="fake-a", model="m")
    assert type(caught.value) is type(expected)
    assert (caught.value.status_code, caught.value.provider, caught.value.model) == (
        status,
        "fake-a",
        "m",
    )


def test_an_http_error_step_carries_its_retry_after_and_headers():
    step = FakeHttpError(429, retry_after=4.0, headers={"x-ratelimit-reset-requests": "9s"})
    fake = FakeProvider("fake-a", [step])
    with pytest.raises(RateLimitError) as caught:
        anyio.run(fake.chat, "m", HI)
    assert caught.value.retry_after == 4.0


def test_a_delay_step_answers_after_its_seconds_on_the_loop_clock():
    vt = VirtualTime()
    fake = FakeProvider("fake-a", [FakeDelay(1.5, "late"), FakeDelay(2.0, FakeHttpError(500))])
    start = vt.now
    assert vt.run(fake.chat("m", HI)).content == "late"
    assert vt.now - start == 1.5
    with pytest.raises(ServerError):
        vt.run(fake.chat("m", HI))
    assert vt.now - start == 3.5


def test_a_hang_step_never_answers_and_its_cancellation_is_counted():
    vt = VirtualTime()
    fake = FakeProvider("fake-a", [FakeHang(), FakeDelay(5.0, "slow")], then="quick")

    async def main() -> list[Any]:
        answers = []
        for _ in range(3):
            with anyio.move_on_after(60.0):
                answers.append((await fake.chat("m", HI)).content)
        return answers

    assert vt.run(main()) == ["slow", "quick"]
    assert fake.cancelled == 1 and len(fake.calls) == 3


def test_a_stream_waiting_in_a_delay_step_counts_as_cancelled_when_closed():
    vt = VirtualTime()
    fake = FakeProvider("fake-a", [FakeDelay(10.0, "late")])

    async def main() -> None:
        with anyio.move_on_after(1.0):
            await read(fake)

    vt.run(main())
    assert fake.cancelled == 1


def test_then_is_the_step_after_the_script_and_plan_replaces_the_rest():
    fake = FakeProvider("fake-a", ["one"], then=FakeHttpError(503))

    async def answer() -> str:
        try:
            return (await fake.chat("m", HI)).content
        except ServerError:
            return "503"

    async def main() -> list[str]:
        first = [await answer() for _ in range(3)]
        fake.plan("two")  # `then` is kept
        second = [await answer() for _ in range(2)]
        fake.plan(then="three")
        return first + second + [await answer()]

    assert anyio.run(main) == ["one", "503", "503", "two", "503", "three"]


def test_a_stream_cut_by_an_http_error_yields_its_deltas_then_raises_the_classified_error():
    fake = FakeProvider("fake-a", [FakeStream(["ok "], error=FakeHttpError(529))])
    seen: list[str] = []

    async def main() -> None:
        async for delta in fake.stream_chat("m", HI):
            seen.append(delta.text)

    with pytest.raises(OverloadedError) as caught:
        anyio.run(main)
    assert seen == ["ok "] and caught.value.provider == "fake-a"


def test_raw_stream_deltas_are_passed_as_is_and_a_scripted_finish_adds_no_closing_chunk():
    raw = [ChatDelta(usage=Usage.of(12, None)), ChatDelta(text="hi"), ChatDelta(finish_reason="x")]
    fake = FakeProvider("fake-a", [FakeStream(raw), FakeStream(["a", "b"])])
    assert anyio.run(read, fake) == raw
    second = anyio.run(read, fake)
    assert [d.text for d in second] == ["a", "b", ""] and second[-1].finish_reason == "stop"


def test_a_string_step_is_ignored_by_embeddings_which_stay_deterministic():
    fake = FakeProvider("fake-a", then="ok")
    request = EmbedRequest(["hello"])
    first, second = (anyio.run(fake.embed, "e", request) for _ in range(2))
    assert first.vectors == second.vectors and len(first.vectors[0]) == 256
