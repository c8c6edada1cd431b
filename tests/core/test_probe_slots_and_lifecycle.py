"""Regression tests from the review of the routing engine: every call ends in an answer or a
typed error carrying models_used, cancelled attempts free what they held, the breaker only
hears about failures that are the provider's, and the sync façade never hangs or leaks."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

import anyio
import pytest
from _resilience_fakes import VirtualTime, outcomes, scripted_juggler

from juggler import AllProvidersFailedError, Juggler
from juggler._exceptions import AuthenticationError, ServerError
from juggler._policy.breaker import Breakers
from juggler._routing.engine import Job
from juggler._routing.options import CallOptions
from juggler._routing.stream import AsyncChatStream
from juggler._types import Capability, Usage
from juggler.providers.types import ChatDelta
from juggler.testing import FakeHang, FakeHttpError, FakeProvider, FakeStream


def half_open(juggler: Juggler, key: tuple[str, str], now: float) -> None:
    """Put ``key``'s circuit in half-open: opened, cool-down already over."""
    juggler.engine.breakers.get(key).open_for(now - 100.0, 1.0)
    assert juggler.engine.breakers.state(key, now) == "half_open"


# ----- cancelled attempts free their probe slot and are recorded -----


def test_a_stream_cancelled_by_its_caller_frees_the_probe_and_is_recorded():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt)
    fakes["a"].plan(FakeHang())
    half_open(juggler, ("a", "m"), vt.now)

    async def main() -> AsyncChatStream:
        stream = juggler.astream_chat("hi")
        with anyio.move_on_after(1.0):
            async for _ in stream:
                pass
        return stream

    stream = vt.run(main())
    assert outcomes(stream) == [("a", "cancelled")]
    assert fakes["a"].cancelled == 1  # the provider stream was closed
    assert juggler.engine.breakers.get(("a", "m")).probes == 0


def chat_job(op: Any) -> Job[Any]:
    """A chat job over the configured chain that runs ``op`` on each target."""
    return Job(Capability.CHAT, op, CallOptions())


def test_a_retry_wait_cancelled_by_the_caller_frees_its_probe_slot():
    vt = VirtualTime()
    juggler, _ = scripted_juggler(["a/m"], vt, retry_base_wait=10.0)
    engine, key = juggler.engine, ("a", "m")

    async def op(provider: Any, target: Any) -> Any:
        # Other calls open the circuit while this attempt runs; its cool-down is over by the
        # time the retry asks for a permit, so the retry holds the half-open probe slot.
        half_open(juggler, key, vt.now)
        raise ServerError("boom", provider="a", model="m", status_code=500)

    async def main() -> None:
        with anyio.move_on_after(1.0):  # the retry wait is 5 s (rng 0.5 x 10 s)
            await engine.run(chat_job(op))

    vt.run(main())
    assert engine.breakers.get(key).probes == 0


def test_a_stream_retry_wait_cancelled_by_the_caller_frees_its_probe_slot():
    vt = VirtualTime()
    juggler, _ = scripted_juggler(["a/m"], vt, retry_base_wait=10.0)
    engine, key = juggler.engine, ("a", "m")

    async def op(provider: Any, target: Any) -> Any:  # a stream opener that fails
        half_open(juggler, key, vt.now)
        raise ServerError("boom", provider="a", model="m", status_code=500)

    async def main() -> None:
        with anyio.move_on_after(1.0):
            job = Job(Capability.CHAT, op, CallOptions(), stream=True)
            async for _ in AsyncChatStream(engine, job):
                pass

    vt.run(main())
    assert engine.breakers.get(key).probes == 0


# ----- the deadline is the caller's, not the provider's fault -----


def test_a_stream_cut_by_the_deadline_before_its_first_token_does_not_open_the_circuit():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, circuit_consecutive_failures=1)
    fakes["a"].plan(FakeHang())

    async def main() -> None:
        async for _ in juggler.astream_chat("hi", deadline=1.0):
            pass

    with pytest.raises(AllProvidersFailedError) as caught:
        vt.run(main())
    assert caught.value.models_used[0].error == "call deadline exceeded"
    assert juggler.engine.breakers.state(("a", "m"), vt.now) == "closed"


def test_a_hedged_stream_cut_by_the_deadline_does_not_open_the_circuits():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, circuit_consecutive_failures=1)
    fakes["a"].plan(FakeHang())
    fakes["b"].plan(FakeHang())

    async def main() -> None:
        async for _ in juggler.astream_chat("hi", deadline=1.0, hedge_after_ms=100):
            pass

    with pytest.raises(AllProvidersFailedError):
        vt.run(main())
    for key in (("a", "m"), ("b", "m")):
        assert juggler.engine.breakers.state(key, vt.now) == "closed"


def test_a_health_probe_that_never_answers_counts_against_the_circuit():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, circuit_consecutive_failures=1)
    fakes["a"].plan(FakeHang())
    assert vt.run(juggler.ahealth_check()) == {"a": False}
    assert juggler.engine.breakers.state(("a", "m"), vt.now) == "open"


# ----- a bad key opens the whole provider -----


def test_a_bad_key_also_opens_models_of_that_provider_not_tried_yet():
    breakers = Breakers()
    permit = breakers.acquire(("p", "first"), 0.0)
    assert permit is not None
    breakers.record(permit, 0.0, AuthenticationError("bad key", provider="p", status_code=401))
    assert breakers.acquire(("p", "second"), 1.0) is None
    assert breakers.state(("p", "second"), 1.0) == "open"
    assert breakers.acquire(("other", "second"), 1.0) is not None


# ----- shared breaker state is best effort -----


class BrokenStore:
    """A shared breaker store whose backend is down."""

    def open_remaining(self, keys: Any) -> Any:
        raise ConnectionError("redis is down")

    def publish_open(self, provider: str, model: str, seconds: float) -> None:
        raise ConnectionError("redis is down")

    def clear(self, provider: str, model: str) -> None:
        raise ConnectionError("redis is down")


def test_a_shared_store_that_is_down_does_not_fail_the_call(caplog):
    vt = VirtualTime()
    juggler, _ = scripted_juggler(["a/m", "b/m"], vt, breaker_store=BrokenStore())
    half_open(juggler, ("a", "m"), vt.now)  # a's success will try to clear the shared state
    response = vt.run(juggler.achat("hi"))
    assert response == "ok from a"
    assert outcomes(response) == [("a", "success")]
    assert "redis is down" in caplog.text


def test_a_shared_store_that_is_down_does_not_hide_the_opened_circuit():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(
        ["a/m", "b/m"], vt, breaker_store=BrokenStore(), circuit_consecutive_failures=1
    )
    fakes["a"].plan(FakeHttpError(529))
    response = vt.run(juggler.achat("hi"))
    assert outcomes(response) == [("a", "error"), ("b", "success")]
    assert juggler.engine.breakers.state(("a", "m"), vt.now) == "open"


# ----- a failed attempt leaves nothing in the stream -----


# Anthropic-like: prompt usage in the first event, then an overloaded error.
USAGE_THEN_OVERLOADED = FakeStream(
    [ChatDelta(usage=Usage.of(12, None), model="m")], error=FakeHttpError(529)
)


def test_chunks_of_an_attempt_that_failed_before_content_never_reach_the_caller():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(USAGE_THEN_OVERLOADED)

    async def main() -> tuple[AsyncChatStream, list[Any]]:
        stream = juggler.astream_chat("hi")
        return stream, [chunk async for chunk in stream]

    stream, chunks = vt.run(main())
    assert {chunk.provider for chunk in chunks} == {"b"}
    assert "".join(chunks) == "ok from b"
    assert stream.usage == Usage.of(1, 3)  # b's ("ok from b"), not a's prompt count (12)
    assert outcomes(stream) == [("a", "error"), ("b", "success")]


# ----- the sync façade -----


def test_closing_a_juggler_while_another_thread_waits_on_a_call_does_not_hang_it():
    started, outcome = threading.Event(), []

    def script(capability: str, request: Any) -> FakeHang:
        started.set()  # the call reached the provider
        return FakeHang()

    fake = FakeProvider("a", script, models={"chat": "m"})
    juggler = Juggler(["a/m"], providers=fake.config(), env={})

    def caller() -> None:
        try:
            juggler.chat("hi")
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=caller, daemon=True)
    thread.start()
    assert started.wait(10)
    juggler.close()
    thread.join(10)
    assert not thread.is_alive(), "the caller still waits on a loop that was stopped"
    assert [type(e) for e in outcome] == [RuntimeError]
    assert "closed" in str(outcome[0])
    assert fake.cancelled == 1


def _loop_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "juggler-loop")


def test_a_juggler_dropped_without_close_stops_its_loop_thread():
    before = _loop_threads()
    for _ in range(5):
        juggler, _ = scripted_juggler(["a/m"])
        assert juggler.chat("hi") == "ok from a"
        del juggler
    gc.collect()
    for _ in range(100):
        if _loop_threads() == before:
            break
        threading.Event().wait(0.05)  # the finalizer stops the threads asynchronously
    assert _loop_threads() == before


def test_many_jugglers_created_and_closed_leave_no_thread():
    before = _loop_threads()
    for _ in range(20):
        juggler, _ = scripted_juggler(["a/m"])
        juggler.chat("hi")
        juggler.close()
    assert _loop_threads() == before


async def test_sync_calls_after_an_async_close_still_work():
    juggler, _ = scripted_juggler(["a/m"])
    await juggler.aclose()
    assert await asyncio.to_thread(juggler.chat, "hi") == "ok from a"
    juggler.close()


def test_a_sync_call_after_close_works_and_close_stops_it_again():
    before = _loop_threads()
    juggler, _ = scripted_juggler(["a/m"])
    juggler.chat("hi")
    juggler.close()
    assert juggler.chat("again") == "ok from a"
    juggler.close()
    assert _loop_threads() == before


def test_a_timeout_raised_by_the_provider_code_itself_is_not_taken_for_the_attempt_timeout():
    vt = VirtualTime()
    juggler, _ = scripted_juggler(["a/m"], vt, retries=0)

    async def op(provider: Any, target: Any) -> Any:
        raise TimeoutError("an inner wait gave up")

    with pytest.raises(AllProvidersFailedError) as caught:
        vt.run(juggler.engine.run(chat_job(op)))
    (attempt,) = caught.value.models_used
    assert (attempt.error_type, attempt.error) == ("TimeoutError", "an inner wait gave up")
