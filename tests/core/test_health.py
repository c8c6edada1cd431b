"""Health: per-target figures, active probes, and background probing of open circuits."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from _resilience_fakes import VirtualTime, scripted_juggler

from juggler import BackupModelRouter, Juggler, Target
from juggler._policy.health import HealthBoard, percentile
from juggler._routing.engine import AttemptLog
from juggler.testing import FakeDelay, FakeHttpError


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95)) == (50.0, 95.0)
    assert percentile([], 95) is None


def test_the_latency_window_is_bounded():
    board = HealthBoard(window=3)
    log = AttemptLog()
    for ms in (1000, 1, 2, 3):
        board.observe(log.record(Target(provider="a", model="m"), "success", ms / 1000))
    assert board.get("a", "m").p(95) == 3.0 and board.get("a", "m").requests == 4


def test_status_reports_every_figure_per_provider_and_model():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    juggler.engine.health.wall = lambda: 1_700_000_000.0
    fakes["a"].plan(FakeDelay(0.1, "ok from a"), FakeDelay(0.3, "ok from a"), FakeHttpError(500))

    async def main():
        for _ in range(3):
            await juggler.achat("hi")

    vt.run(main())
    status = juggler.get_health_status()
    assert status["a"]["models"]["m"] == {
        "circuit_state": "closed",
        "success_rate": pytest.approx(2 / 3, abs=1e-3),
        "p50_ms": pytest.approx(100.0),
        "p95_ms": pytest.approx(300.0),
        "requests": 3,
        "failures": 1,
        "last_error": "ServerError: scripted error",
        "last_success_at": 1_700_000_000.0,
    }
    assert status["b"]["models"]["m"]["requests"] == 1


def test_a_target_never_called_is_listed_with_empty_figures():
    juggler, _ = scripted_juggler(["a/m", "b/m"])
    figures = juggler.get_health_status()["b"]["models"]["m"]
    assert figures["circuit_state"] == "closed" and figures["requests"] == 0
    assert figures["success_rate"] is None and figures["p95_ms"] is None


def test_health_check_probes_every_provider_and_says_which_answered():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["b"].plan(FakeHttpError(401))
    assert vt.run(juggler.ahealth_check()) == {"a": True, "b": False}
    assert len(fakes["a"].calls) == 1 and len(fakes["b"].calls) == 1


def test_a_successful_probe_closes_an_open_circuit():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(*[FakeHttpError(500)] * 5, then="ok from a")

    async def main():
        for _ in range(5):
            await juggler.achat("hi")
        assert juggler.get_health_status()["a"]["models"]["m"]["circuit_state"] == "open"
        return await juggler.ahealth_check()

    assert vt.run(main())["a"] is True
    assert juggler.get_health_status()["a"]["models"]["m"]["circuit_state"] == "closed"


def test_an_embed_only_provider_is_probed_with_an_embedding():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, embed=["e/e"])
    assert vt.run(juggler.ahealth_check()) == {"a": True, "e": True}
    assert len(fakes["e"].calls) == 1


def test_background_probing_closes_a_recovered_circuit():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, background_probe_interval=60.0)
    fakes["a"].plan(*[FakeHttpError(500)] * 5, then="ok from a")

    async def main():
        for _ in range(5):
            await juggler.achat("hi")
        calls = len(fakes["a"].calls)
        await asyncio.sleep(61)  # virtual time: the probe runs meanwhile
        state = juggler.get_health_status()["a"]["models"]["m"]["circuit_state"]
        await juggler.aclose()
        return calls, state

    calls, state = vt.run(main())
    assert state == "closed" and len(fakes["a"].calls) == calls + 1


def handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"model": "m", "choices": [{"message": {"content": "pong"}}]})


def mock_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_the_seed_routers_health_check_is_awaitable():
    router = BackupModelRouter(env={"GROQ_API_KEY": "k"}, http_client=mock_client())
    assert await router.health_check() == {"groq": True}
    await router.close()


def test_the_sync_health_check_runs_on_the_jugglers_loop():
    chain = ["groq/llama-3.1-8b-instant"]
    with Juggler(chain, env={"GROQ_API_KEY": "k"}, http_client=mock_client()) as juggler:
        assert juggler.health_check() == {"groq": True}


def test_a_cancelled_attempt_counts_as_a_latency_sample_for_the_p95():
    from juggler import ModelAttempt
    from juggler._policy.health import HealthBoard

    board = HealthBoard(window=100, wall=lambda: 0.0)
    for _ in range(18):
        board.observe(
            ModelAttempt(
                provider="p", model="m", success=True, outcome="success", attempt=1, elapsed_ms=10.0
            )
        )
    for _ in range(2):  # the slowest 10 % were hedged away
        board.observe(
            ModelAttempt(
                provider="p",
                model="m",
                success=False,
                outcome="cancelled",
                attempt=1,
                elapsed_ms=500.0,
            )
        )
    assert board.p95_ms("p", "m", min_samples=20) == 500.0
