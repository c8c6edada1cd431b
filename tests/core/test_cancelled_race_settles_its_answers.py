"""A raced or hedged call cancelled by its caller after one lane had answered: the answer
that will never be used is still recorded and its breaker permit given back."""

from __future__ import annotations

from typing import Any

import anyio
from _resilience_fakes import VirtualTime, scripted_juggler

from juggler._routing.engine import Job
from juggler._routing.options import CallOptions
from juggler._routing.record import AttemptLog
from juggler._types import Capability


def test_a_race_cancelled_while_its_losers_close_records_the_answer_and_frees_its_probe():
    vt = VirtualTime()
    juggler, _ = scripted_juggler(["a/m", "b/m"], vt)
    engine, key = juggler.engine, ("a", "m")
    engine.breakers.get(key).open_for(vt.now - 100.0, 1.0)  # half-open: a's attempt probes

    async def op(provider: Any, target: Any) -> Any:
        if target.provider == "a":
            await anyio.sleep(0.1)
            return "answer from a"
        try:
            await anyio.sleep(100.0)
        finally:  # the loser takes a while to close its connection
            with anyio.CancelScope(shield=True):
                await anyio.sleep(1.0)

    log = AttemptLog()

    async def main() -> None:
        with anyio.move_on_after(0.5):  # the caller gives up while the loser is closing
            await engine.run(Job(Capability.CHAT, op, CallOptions(parallel=2)), log)

    vt.run(main())
    assert sorted((a.provider, a.outcome) for a in log.attempts) == [
        ("a", "discarded"),
        ("b", "cancelled"),
    ]
    assert engine.breakers.get(key).probes == 0
