"""parallel_attempts=N: race the top N targets, keep the first success, cancel the rest."""

from __future__ import annotations

import pytest
from _resilience_fakes import VirtualTime, scripted_juggler

from juggler import AllProvidersFailedError, InvalidRequestError
from juggler.testing import FakeDelay, FakeHang, FakeHttpError


def rows(attempts):
    return [(a.provider, a.outcome, a.hedged) for a in attempts]


def test_the_fastest_of_the_top_n_wins_and_the_others_are_cancelled():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m", "c/m"], vt)
    fakes["a"].plan(FakeDelay(3.0, "ok from a"))
    fakes["b"].plan(FakeDelay(1.0, "ok from b"))
    start = vt.now
    response = vt.run(juggler.achat("hi", parallel_attempts=2))
    assert response.provider == "b"
    assert vt.now - start == pytest.approx(1.0)
    assert rows(response.models_used) == [("a", "cancelled", True), ("b", "success", True)]
    assert response.models_used[0].error == "cancelled: another attempt answered first"
    assert fakes["a"].cancelled == 1 and len(fakes["c"].calls) == 0


def test_a_failed_racer_is_replaced_by_the_next_target():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m", "c/m"], vt)
    fakes["a"].plan(FakeDelay(0.1, FakeHttpError(500)))
    fakes["b"].plan(FakeHang())
    fakes["c"].plan(FakeDelay(0.5, "ok from c"))
    response = vt.run(juggler.achat("hi", parallel_attempts=2))
    assert response.provider == "c"
    assert sorted(rows(response.models_used)) == [
        ("a", "error", True),
        ("b", "cancelled", True),
        ("c", "success", True),
    ]


def test_attempt_numbers_follow_the_order_the_attempts_started():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeDelay(2.0, "ok from a"))
    response = vt.run(juggler.achat("hi", parallel_attempts=2))
    assert [(a.attempt, a.provider) for a in response.models_used] == [(1, "a"), (2, "b")]


def test_when_every_racer_fails_the_error_carries_every_attempt():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    for fake in fakes.values():
        fake.plan(then=FakeHttpError(503))
    with pytest.raises(AllProvidersFailedError) as info:
        vt.run(juggler.achat("hi", parallel_attempts=2))
    assert {a.provider for a in info.value.models_used} == {"a", "b"}


def test_parallel_attempts_works_for_embeddings():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, embed=["a/e", "b/e"])
    fakes["a"].plan(FakeDelay(2.0, [[1.0, 0.0]]))
    fakes["b"].plan([[5.0, 1.0]])
    response = vt.run(juggler.aembed(["hello"], parallel_attempts=2))
    assert response.provider == "b" and response == [[5.0, 1.0]]


def test_a_parallel_stream_keeps_the_first_to_deliver_a_token():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeDelay(1.0, "ok from a"))

    async def main():
        stream = juggler.astream_chat("hi", parallel_attempts=2)
        return "".join([c async for c in stream]), stream.models_used

    text, attempts = vt.run(main())
    assert text == "ok from b"
    assert rows(attempts) == [("a", "cancelled", True), ("b", "success", True)]


def test_parallel_attempts_must_be_a_small_positive_int():
    juggler, _ = scripted_juggler(["a/m"])
    with pytest.raises(InvalidRequestError, match="parallel_attempts"):
        VirtualTime().run(juggler.achat("hi", parallel_attempts=0))


def test_two_racers_answering_in_the_same_instant_give_exactly_one_success():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeDelay(1.0, "ok from a"))
    fakes["b"].plan(FakeDelay(1.0, "ok from b"))
    response = vt.run(juggler.achat("hi", parallel_attempts=2))
    assert [a.success for a in response.models_used].count(True) == 1
    loser = next(a for a in response.models_used if not a.success)
    assert (loser.outcome, loser.status_code) == ("discarded", 200)
    assert response.provider == next(a.provider for a in response.models_used if a.success)


def test_two_streams_opening_in_the_same_instant_give_exactly_one_success():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeDelay(1.0, "ok from a"))
    fakes["b"].plan(FakeDelay(1.0, "ok from b"))

    async def main():
        stream = juggler.astream_chat("hi", parallel_attempts=2)
        text = "".join([chunk async for chunk in stream])
        return stream, text

    stream, text = vt.run(main())
    assert [a.success for a in stream.models_used].count(True) == 1
    assert {a.outcome for a in stream.models_used} == {"success", "discarded"}
    assert text == f"ok from {stream.provider}"
