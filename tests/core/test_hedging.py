"""Hedged requests: when the current target is slow, the next one starts beside it."""

from __future__ import annotations

import pytest
from _resilience_fakes import VirtualTime, scripted_juggler

from juggler import InvalidRequestError
from juggler.testing import FakeDelay, FakeHttpError


def rows(attempts):
    return [(a.provider, a.outcome, a.hedged) for a in attempts]


def test_a_hedge_starts_after_the_delay_and_the_faster_answer_wins():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeDelay(5.0, "ok from a"))
    fakes["b"].plan(FakeDelay(0.2, "ok from b"))
    start = vt.now
    response = vt.run(juggler.achat("hi", hedge_after_ms=300))
    assert response.provider == "b"
    assert vt.now - start == pytest.approx(0.5)  # 0.3 s hedge delay + 0.2 s answer
    assert rows(response.models_used) == [("a", "cancelled", False), ("b", "success", True)]
    assert fakes["a"].cancelled == 1


def test_no_hedge_is_sent_when_the_first_target_answers_in_time():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeDelay(0.1, "ok from a"))
    response = vt.run(juggler.achat("hi", hedge_after_ms=300))
    assert rows(response.models_used) == [("a", "success", False)]
    assert len(fakes["b"].calls) == 0


def test_the_first_target_can_still_win_after_the_hedge_started():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeDelay(0.4, "ok from a"))
    fakes["b"].plan(FakeDelay(5.0, "ok from b"))
    response = vt.run(juggler.achat("hi", hedge_after_ms=300))
    assert rows(response.models_used) == [("a", "success", False), ("b", "cancelled", True)]


def test_a_failure_while_nothing_else_runs_hands_over_at_once():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeDelay(0.1, FakeHttpError(500)))
    response = vt.run(juggler.achat("hi", hedge_after_ms=300))
    assert rows(response.models_used) == [("a", "error", False), ("b", "success", False)]


def test_hedge_p95_waits_for_the_targets_own_p95_latency():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, hedge_min_samples=20)
    fakes["a"].plan(*[FakeDelay(0.1 * (i % 10 + 1), "ok from a") for i in range(20)])

    async def main():
        for _ in range(20):
            await juggler.achat("hi")  # a's latencies: 0.1 … 1.0 s, p95 = 1.0 s
        fakes["a"].plan(FakeDelay(30.0, "ok from a"))
        started = vt.now
        response = await juggler.achat("hi", hedge="p95")
        return response, vt.now - started

    response, took = vt.run(main())
    assert juggler.get_health_status()["a"]["models"]["m"]["p95_ms"] == pytest.approx(1000.0)
    assert response.provider == "b"
    assert took == pytest.approx(1.0)


def test_hedge_p95_uses_the_default_delay_before_enough_samples():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, hedge_default_ms=2000)
    fakes["a"].plan(FakeDelay(30.0, "ok from a"))
    start = vt.now
    response = vt.run(juggler.achat("hi", hedge="p95"))
    assert response.provider == "b"
    assert vt.now - start == pytest.approx(2.0)


def test_hedging_can_be_the_jugglers_default():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, hedge_after_ms=100)
    fakes["a"].plan(FakeDelay(5.0, "ok from a"))
    assert vt.run(juggler.achat("hi")).provider == "b"


def test_a_stream_is_hedged_before_its_first_token():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeDelay(5.0, "ok from a"))

    async def main():
        stream = juggler.astream_chat("hi", hedge_after_ms=300)
        return "".join([c async for c in stream]), stream.models_used

    text, attempts = vt.run(main())
    assert text == "ok from b"
    assert rows(attempts) == [("a", "cancelled", False), ("b", "success", True)]


def test_hedge_and_parallel_attempts_cannot_be_combined():
    juggler, _ = scripted_juggler(["a/m", "b/m"])
    with pytest.raises(InvalidRequestError, match="not both"):
        VirtualTime().run(juggler.achat("hi", hedge="p95", parallel_attempts=2))


def test_an_unknown_hedge_mode_is_refused():
    juggler, _ = scripted_juggler(["a/m", "b/m"])
    with pytest.raises(InvalidRequestError, match="hedge"):
        VirtualTime().run(juggler.achat("hi", hedge="p99"))
