"""Overload must not open every circuit (issue 19, item 9): a timeout the client's own
event-loop lag explains does not count against the provider, and a bounded in-flight limit
queues calls, then refuses them at once with ``JugglerBusyError`` (no request sent)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from _resilience_fakes import VirtualTime, scripted_juggler

from juggler import AllProvidersFailedError, JugglerBusyError
from juggler._policy.lag import LagMeter
from juggler._routing.load import Load
from juggler.testing import FakeDelay, FakeHang, FakeProvider


def circuit(juggler, provider: str = "a") -> str:
    return juggler.get_health_status()[provider]["models"]["m"]["circuit_state"]


# ----- the lag rule (pure) -----


def test_lag_for_a_quarter_of_the_attempt_explains_its_timeout():
    meter = LagMeter()
    for i in range(10):  # a 2 s attempt during which every 50 ms tick woke 50 ms late
        meter.record(100.0 + 0.1 * i, 0.06)
    assert meter.explains(100.0, 102.0)  # 0.6 s of lag in 2 s


def test_the_lag_of_an_idle_loop_does_not_explain_a_timeout():
    meter = LagMeter()
    for i in range(40):  # an idle loop wakes about a millisecond late
        meter.record(100.0 + 0.05 * i, 0.001)
    assert not meter.explains(100.0, 102.0)


def test_lag_outside_the_attempt_does_not_excuse_it():
    meter = LagMeter()
    meter.record(50.0, 5.0)  # a stall long before the attempt
    assert not meter.explains(100.0, 102.0)


def test_the_monitor_measures_how_late_the_loop_wakes():
    vt = VirtualTime()
    load = Load(None, 0, LagMeter(), vt.time)

    async def busy_call() -> None:
        async with load.slot(lambda: AssertionError("no limit")):
            await asyncio.sleep(0)  # let the monitor start its first 50 ms sleep
            vt.now += 0.5  # the loop is busy for 0.5 s without yielding
            await asyncio.sleep(0.2)

    vt.run(busy_call())
    assert load.meter is not None
    assert load.meter.lag_between(0.0, 10**9) == pytest.approx(0.5, abs=0.06)


def test_the_monitor_stops_ticking_when_no_call_is_in_flight():
    vt = VirtualTime()
    load = Load(None, 0, LagMeter(), vt.time)

    async def main() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        async with load.slot(lambda: AssertionError("no limit")):
            await asyncio.sleep(0.1)
            during = loop in load._ticking
        await asyncio.sleep(0.2)
        return during, loop in load._ticking

    assert vt.run(main()) == (True, False)


# ----- through the engine -----


class LaggingHang(FakeProvider):
    """Never answers, while the client's loop is (as the monitor would measure) 1.5 s late."""

    meter: LagMeter | None = None
    clock = None

    async def chat(self, model, request):  # type: ignore[no-untyped-def]
        assert self.meter is not None and self.clock is not None
        self.meter.record(self.clock(), 1.5)
        return await super().chat(model, request)


def _hanging_juggler(vt: VirtualTime, lagging: bool):
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, timeout=2.0,
                                      circuit_consecutive_failures=1)  # fmt: skip
    fakes["a"].plan(then=FakeHang())
    fakes["b"].plan(then="ok from b")
    if lagging:
        fakes["a"].__class__ = LaggingHang
        fakes["a"].meter = juggler.engine.gate.lag  # type: ignore[attr-defined]
        fakes["a"].clock = vt.time  # type: ignore[attr-defined]
    return juggler


def test_a_timeout_the_clients_lag_explains_does_not_open_the_circuit():
    vt = VirtualTime()
    juggler = _hanging_juggler(vt, lagging=True)
    response = vt.run(juggler.achat("hi"))
    assert [(a.provider, a.error_type) for a in response.models_used] == [
        ("a", "ProviderTimeoutError"), ("b", None)
    ]  # fmt: skip
    assert circuit(juggler) == "closed"


def test_a_timeout_without_lag_still_counts_against_the_provider():
    vt = VirtualTime()
    juggler = _hanging_juggler(vt, lagging=False)
    vt.run(juggler.achat("hi"))
    assert circuit(juggler) == "open"


# ----- the in-flight limit -----


def _slow_juggler(vt: VirtualTime, **settings):
    juggler, fakes = scripted_juggler(["a/m"], vt, **settings)
    fakes["a"].plan(then=FakeDelay(1.0, "ok from a"))
    return juggler, fakes["a"]


def test_calls_beyond_the_in_flight_limit_wait_for_a_slot_and_then_answer():
    vt = VirtualTime()
    juggler, provider = _slow_juggler(vt, max_in_flight=2, max_queued=10)

    async def main():
        return await asyncio.gather(*(juggler.achat("hi") for _ in range(5)))

    started = vt.now
    answers = vt.run(main())
    assert len(answers) == 5 and len(provider.calls) == 5
    assert vt.now - started == pytest.approx(3.0)  # 2 + 2 + 1, one second each


def test_a_call_beyond_the_queue_is_refused_at_once_without_a_request():
    vt = VirtualTime()
    juggler, provider = _slow_juggler(vt, max_in_flight=2, max_queued=1)

    async def main():
        return await asyncio.gather(*(juggler.achat("hi") for _ in range(4)),
                                    return_exceptions=True)  # fmt: skip

    results = vt.run(main())
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and len(provider.calls) == 3
    error = refused[0]
    assert isinstance(error, JugglerBusyError) and isinstance(error, AllProvidersFailedError)
    assert [(a.provider, a.outcome) for a in error.models_used] == [("a", "skipped")]
    assert "max_in_flight" in str(error)


def test_a_cancelled_waiting_call_gives_its_place_back():
    vt = VirtualTime()
    juggler, provider = _slow_juggler(vt, max_in_flight=1, max_queued=1)

    async def main():
        first = asyncio.ensure_future(juggler.achat("hi"))
        waiting = asyncio.ensure_future(juggler.achat("hi"))
        await asyncio.sleep(0.5)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        third = await juggler.achat("hi")  # the line is free again: waits, then answers
        return await first, third

    first, third = vt.run(main())
    assert first.provider == third.provider == "a" and len(provider.calls) == 2
    assert juggler.engine.load.in_flight == 0  # type: ignore[attr-defined]


def test_without_a_limit_every_call_starts_at_once():
    vt = VirtualTime()
    juggler, provider = _slow_juggler(vt)

    async def main():
        return await asyncio.gather(*(juggler.achat("hi") for _ in range(50)))

    started = vt.now
    vt.run(main())
    assert len(provider.calls) == 50 and vt.now - started == pytest.approx(1.0)
