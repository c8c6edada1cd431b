"""A stream its caller drops unfinished and never closes (``break`` out of ``async for``,
no ``async with``): its attempt is recorded cancelled and its breaker permit given back
when the stream is garbage-collected, so a half-open probe slot is not held for ever."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from typing import Any

from _resilience_fakes import VirtualTime, scripted_juggler

from juggler._routing.record import AttemptLog
from juggler.testing import FakeStream


def test_a_stream_dropped_unclosed_records_its_attempt_and_frees_its_probe_slot():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeStream(["one ", "two ", "three"]))
    key = ("a", "m")
    juggler.engine.breakers.get(key).open_for(vt.now - 100.0, 1.0)  # half-open

    async def main() -> AttemptLog:
        stream = juggler.astream_chat("hi")
        async for _ in stream:
            break  # the caller stops reading and forgets the stream
        log = stream._log
        del stream
        gc.collect()
        await asyncio.sleep(0)  # the provider stream's own finaliser runs
        return log

    log = vt.run(main())
    assert [(a.provider, a.outcome) for a in log.attempts] == [("a", "cancelled")]
    assert juggler.engine.breakers.get(key).probes == 0
    assert juggler.engine.breakers.state(key, vt.now) == "half_open"


def test_a_sync_stream_dropped_unclosed_frees_its_probe_slot_on_the_loop_thread():
    juggler, fakes = scripted_juggler(["a/m", "b/m"])
    fakes["a"].plan(FakeStream(["one ", "two ", "three"]))
    key = ("a", "m")
    breaker = juggler.engine.breakers.get(key)
    breaker.open_for(time.monotonic() - 100.0, 1.0)  # half-open
    threads: list[threading.Thread] = []
    release = juggler.engine.gate.release

    def spy(permit: Any) -> None:
        threads.append(threading.current_thread())
        release(permit)

    juggler.engine.gate.release = spy  # type: ignore[method-assign]
    try:
        stream = juggler.stream_chat("hi")
        for _ in stream:
            break  # the caller stops reading and forgets the stream
        del stream
        gc.collect()
        juggler._loop.run(asyncio.sleep(0))  # let the loop thread run what was handed to it
        assert breaker.probes == 0
        assert threads and threading.current_thread() not in threads
    finally:
        juggler.close()
