"""A hedged call its caller cancels before any answer records its attempts ``cancelled``
without claiming that another attempt answered first."""

from __future__ import annotations

import anyio
from _resilience_fakes import VirtualTime, scripted_juggler

from juggler._routing.plan import Choices
from juggler._routing.record import AttemptLog
from juggler.testing import FakeHang


def test_a_hedged_call_cancelled_by_its_caller_does_not_say_another_attempt_answered():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeHang())
    fakes["b"].plan(FakeHang())
    log = AttemptLog()

    async def main() -> None:
        with anyio.move_on_after(5.0):  # both targets started (hedged after 1 s), none answers
            job = juggler._chat_job("hi", Choices(), None, {"hedge_after_ms": 1000}, stream=False)
            await juggler.engine.run(job, log)

    vt.run(main())
    assert [(a.provider, a.outcome, a.error) for a in log.attempts] == [
        ("a", "cancelled", "cancelled"),
        ("b", "cancelled", "cancelled"),
    ]
