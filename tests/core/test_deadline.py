"""Timeouts and the per-call deadline: a call never runs past its deadline."""

from __future__ import annotations

import pytest
from _resilience_fakes import VirtualTime, outcomes, scripted_juggler

from juggler import AllProvidersFailedError, InvalidRequestError
from juggler.testing import FakeDelay, FakeHang, FakeHttpError


def test_an_attempt_that_exceeds_the_timeout_falls_over():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, timeout=5.0)
    fakes["a"].plan(FakeHang())
    response = vt.run(juggler.achat("hi"))
    first = response.models_used[0]
    assert (first.error_type, first.error) == ("ProviderTimeoutError", "no answer within 5.0s")
    assert outcomes(response)[1] == ("b", "success")


def test_the_deadline_cuts_a_hanging_attempt_at_the_deadline_exactly():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeHang())
    start = vt.now

    async def main():
        with pytest.raises(AllProvidersFailedError) as info:
            await juggler.achat("hi", deadline=2.0)
        return info.value.models_used

    attempts = vt.run(main())
    assert vt.now - start == pytest.approx(2.0)
    assert [(a.outcome, a.error) for a in attempts] == [
        ("error", "call deadline exceeded"),
        ("skipped", "call deadline exceeded"),
    ]


def test_the_deadline_covers_retry_waits():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt)
    fakes["a"].plan(FakeHttpError(429, retry_after=5.0), "ok from a")
    start = vt.now

    async def main():
        with pytest.raises(AllProvidersFailedError) as info:
            await juggler.achat("hi", deadline=3.0)
        return info.value.models_used

    attempts = vt.run(main())
    assert vt.now - start < 3.0  # the 5 s wait would pass the deadline: not waited
    assert attempts[-1].error == "call deadline exceeded" and attempts[-1].retry
    assert len(fakes["a"].calls) == 1


def test_the_deadline_is_shared_by_every_target_of_the_chain():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m", "c/m"], vt)
    fakes["a"].plan(FakeDelay(1.5, FakeHttpError(500)))
    fakes["b"].plan(FakeDelay(1.0, "ok from b"))
    start = vt.now

    async def main():
        with pytest.raises(AllProvidersFailedError) as info:
            await juggler.achat("hi", deadline=2.0)
        return info.value.models_used

    attempts = vt.run(main())
    assert vt.now - start == pytest.approx(2.0)
    assert [a.outcome for a in attempts] == ["error", "error", "skipped"]
    assert len(fakes["c"].calls) == 0


def test_the_deadline_applies_to_a_streams_first_token():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeHang())

    async def main():
        stream = juggler.astream_chat("hi", deadline=1.0)
        with pytest.raises(AllProvidersFailedError):
            async for _ in stream:
                pass
        return stream.models_used

    attempts = vt.run(main())
    assert attempts[0].error == "call deadline exceeded"


def test_the_time_to_first_token_timeout_moves_a_stream_on():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, first_token_timeout=2.0)
    fakes["a"].plan(FakeHang())

    async def main():
        stream = juggler.astream_chat("hi")
        text = "".join([chunk async for chunk in stream])
        return text, stream.models_used

    text, attempts = vt.run(main())
    assert text == "ok from b"
    assert attempts[0].error == "no data before the first token within 2.0s"


def test_a_deadline_must_be_positive():
    juggler, _ = scripted_juggler(["a/m"])
    with pytest.raises(InvalidRequestError):
        VirtualTime().run(juggler.achat("hi", deadline=0))
