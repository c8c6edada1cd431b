"""Redis must never become a single point of failure (issue 18 item 3, issue 19 item 2):
killed, frozen (SIGSTOP) or refusing connections, every call still answers within its
deadline from local state, and sharing resumes when Redis is back."""

from __future__ import annotations

import logging
import signal
import time

import pytest
from conftest import free_port

from juggler import Juggler
from juggler.state.redis import RedisState
from juggler.testing import ProviderSimulator, Scenario

CHAIN = ["groq/llama-3.1-8b-instant", "nvidia/meta/llama-3.1-8b-instruct"]
GROQ = "juggler:open:groq/llama-3.1-8b-instant"


@pytest.fixture
def sim():
    with ProviderSimulator({"groq": Scenario(), "nvidia": Scenario()}) as s:
        yield s


def replica(sim, url, **settings):
    state = RedisState.from_url(url, retry_after=0.05)
    juggler = Juggler(
        chat=CHAIN, providers=sim.providers_config(), env={}, state=state, retries=0, **settings
    )
    return juggler, state


async def close(*pairs):
    for juggler, state in pairs:
        await state.aclose()
        await juggler.aclose()
        juggler.close()


async def test_every_call_answers_while_redis_is_killed_and_restarted(sim, own_redis):
    one = replica(sim, own_redis.url)
    answers = []
    for i in range(30):
        if i == 10:
            own_redis.kill()
        if i == 20:
            own_redis.start()
        answers.append(await one[0].achat("hello"))
        one[1].guard.down_until = 0.0  # retry the store on every call (no waiting in tests)

    assert all(a.models_used[-1].outcome == "success" for a in answers)
    assert one[1].state_status()["status"] == "up"
    await close(one)


async def test_openings_made_while_redis_was_down_are_published_when_it_is_back(sim, own_redis):
    sim.set_scenario("groq", Scenario(error_rates={503: 1.0}))
    one = replica(sim, own_redis.url)
    own_redis.kill()
    for _ in range(5):  # groq's circuit opens here while Redis is down
        await one[0].achat("hello")
    own_redis.start()
    one[1].guard.down_until = 0.0
    await one[0].achat("hello")  # the store answers again: the opening is republished

    two = replica(sim, own_redis.url)
    before = sim.total("groq")
    answer = await two[0].achat("hello")

    assert [(a.provider, a.outcome) for a in answer.models_used] == [
        ("groq", "skipped"), ("nvidia", "success")
    ]  # fmt: skip
    assert sim.total("groq") == before
    await close(one, two)


async def test_calls_stay_within_their_deadline_while_redis_is_frozen(sim, own_redis):
    one = replica(sim, own_redis.url, deadline=1.0)
    await one[0].achat("hello")  # connected
    own_redis.signal(signal.SIGSTOP)
    try:
        took = []
        for _ in range(10):
            start = time.perf_counter()
            answer = await one[0].achat("hello")
            took.append(time.perf_counter() - start)
            assert answer.models_used[-1].outcome == "success"
            one[1].guard.down_until = 0.0  # make every call meet the frozen store
    finally:
        own_redis.signal(signal.SIGCONT)

    assert max(took) < 1.0
    assert one[1].state_status()["status"] == "down"
    await close(one)


async def test_calls_stay_within_their_deadline_when_redis_refuses_connections(sim):
    one = replica(sim, f"redis://127.0.0.1:{free_port()}/0", deadline=1.0)
    took = []
    for _ in range(10):
        start = time.perf_counter()
        answer = await one[0].achat("hello")
        took.append(time.perf_counter() - start)
        assert [(a.provider, a.outcome) for a in answer.models_used] == [("groq", "success")]
        one[1].guard.down_until = 0.0

    assert max(took) < 1.0
    assert sim.total("groq") == 10  # healthy providers still get every request
    await close(one)


async def test_a_store_outage_is_logged_once_not_per_call(sim, caplog):
    one = replica(sim, f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.WARNING, logger="juggler"):
        for _ in range(5):
            await one[0].achat("hello")
            one[1].guard.down_until = 0.0

    assert sum("shared state (redis) unavailable" in r.getMessage() for r in caplog.records) == 1
    await close(one)


async def test_a_healthy_call_costs_one_round_trip_to_redis(sim, redis_url):
    one = replica(sim, redis_url)
    await one[0].achat("warm up")
    trips = []
    client = one[1].client
    original_pipeline, original_execute = client.pipeline, client.execute_command

    def pipeline(*args, **kwargs):
        pipe = original_pipeline(*args, **kwargs)
        run = pipe.execute

        async def execute(*a, **k):
            trips.append("pipeline")
            return await run(*a, **k)

        pipe.execute = execute
        return pipe

    async def execute_command(*args, **kwargs):
        trips.append(args[0])
        return await original_execute(*args, **kwargs)

    client.pipeline, client.execute_command = pipeline, execute_command
    await one[0].achat("hello")

    assert trips == ["pipeline"]
    await close(one)


def test_state_url_from_the_environment_selects_redis(sim, redis_url):
    juggler = Juggler(chat=CHAIN, providers=sim.providers_config(),
                      env={"JUGGLER_STATE_URL": redis_url})  # fmt: skip

    assert isinstance(juggler.engine.gate.shared, RedisState)
    juggler.close()


def test_a_state_url_of_an_unknown_kind_is_refused():
    from juggler import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="redis://"):
        Juggler(chat=CHAIN, providers={"groq": {"api_key": "k"}, "nvidia": {"api_key": "k"}},
                env={}, state="mysql://x")  # fmt: skip


async def test_health_figures_are_merged_across_replicas(sim, redis_url):
    one, two = replica(sim, redis_url), replica(sim, redis_url)
    for juggler, _ in (one, two, one, two):
        await juggler.achat("hello")
    await one[0].achat("flush")  # queued figures travel with the next call's read
    await two[0].achat("flush")

    merged = (await one[1].health([("groq", "llama-3.1-8b-instant")]))[
        ("groq", "llama-3.1-8b-instant")
    ]

    assert (merged["successes"], merged["failures"], merged["success_rate"]) == (4, 0, 1.0)
    assert merged["p50_ms"] is not None and merged["p95_ms"] >= merged["p50_ms"]
    await close(one, two)
