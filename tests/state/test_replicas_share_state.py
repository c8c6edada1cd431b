"""Several processes, each its own Juggler, share state through one real redis-server and one
provider simulator (its request counts are the proof: a skipped target got no request)."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
import replica_worker as worker

from juggler.testing import ProviderSimulator, Scenario

CHAIN = ["groq/llama-3.1-8b-instant", "nvidia/meta/llama-3.1-8b-instruct"]
GROQ = "juggler:open:groq/llama-3.1-8b-instant"
FAST = {"retries": 0}
ONE_PROBE_REOPENS = {"circuit_cooldown": 30.0, "circuit_consecutive_failures": 1}


@pytest.fixture
def sim():
    with ProviderSimulator({"groq": Scenario(error_rates={503: 1.0}), "nvidia": Scenario()}) as s:
        yield s


def dead_provider_requests(replicas, sim, state):
    """One replica meets the dead provider first (5 calls), then three more make 10 calls each:
    how many requests the dead provider gets in all."""
    providers = sim.providers_config()
    replicas.apply(worker.calls, (state, providers, CHAIN, 5, FAST))
    others = replicas.starmap(
        worker.calls, [(state, providers, CHAIN, 10, FAST, 3)] * 3, chunksize=1
    )
    return sim.total("groq"), others


def test_replicas_skip_a_provider_another_replica_tripped_without_sending_it_a_request(
    replicas, sim, redis_url
):
    total, others = dead_provider_requests(replicas, sim, redis_url)

    assert total == 5  # only the five failures that opened the circuit, in the first replica
    for calls in others:
        assert all(call[0][:2] == ("groq", "skipped") for call in calls)
        assert all(call[-1][:2] == ("nvidia", "success") for call in calls)


def test_without_shared_state_every_replica_pays_for_the_dead_provider_itself(replicas, sim):
    total, _ = dead_provider_requests(replicas, sim, None)

    assert total == 5 * 4  # each of the 4 replicas needs its own 5 failures


def test_exactly_one_replica_of_four_probes_when_the_cool_down_ends(replicas, sim, redis_url):
    providers = sim.providers_config()
    # The first replica opens groq for 0.3 s; the four others re-open it for 60 s (their own
    # cool-down doubled) when the one probe fails.
    replicas.apply(
        worker.calls, (redis_url, providers, CHAIN, 5, {**FAST, "circuit_cooldown": 0.3})
    )
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 10
    while client.pttl(GROQ) > 60_000 and time.monotonic() < deadline:  # cool-down running
        time.sleep(0.02)
    sim.reset_counts()

    results = replicas.starmap(
        worker.calls,
        # One failed probe re-opens (the default waits for five in a row at low volume).
        [(redis_url, providers, CHAIN, 8, {**FAST, **ONE_PROBE_REOPENS}, 4, 0.05)] * 4,
        chunksize=1,
    )

    assert sim.total("groq") == 1
    probes = [a for calls in results for call in calls for a in call if a[:2] == ("groq", "error")]
    assert len(probes) == 1
    assert client.pttl(GROQ) > 60_000  # the failed probe re-opened it for everyone
    client.close()


def test_a_probe_that_succeeds_closes_the_circuit_for_every_replica(replicas, sim, redis_url):
    providers = sim.providers_config()
    replicas.apply(
        worker.calls, (redis_url, providers, CHAIN, 5, {**FAST, "circuit_cooldown": 0.3})
    )
    sim.set_scenario("groq", Scenario())  # groq recovers
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 10
    while client.pttl(GROQ) > 60_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    client.close()

    results = replicas.starmap(
        worker.calls, [(redis_url, providers, CHAIN, 8, FAST, 4, 0.05)] * 4, chunksize=1
    )

    assert all(calls[-1] == [("groq", "success", None)] for calls in results)


def test_four_replicas_stop_at_a_shared_budget(replicas, redis_url):
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    budget, cost = 1.0, 0.07

    spent = replicas.starmap(worker.spend, [(redis_url, prefix, budget, cost, 4)] * 4, chunksize=1)

    # Alone, each replica would spend the whole budget (4 x 1.05); shared, the four stop
    # together, over by at most the calls in flight when it ran out (one per replica).
    assert budget <= sum(spent) < budget + 4 * cost


def test_a_rate_limit_seen_by_one_replica_is_skipped_by_the_others(replicas, sim, redis_url):
    sim.set_scenario("groq", Scenario())
    client = redis.Redis.from_url(redis_url)
    client.set("juggler:rl:groq/llama-3.1-8b-instant", "1", px=30_000)  # "0 requests left"
    client.close()

    results = replicas.starmap(
        worker.calls, [(redis_url, sim.providers_config(), CHAIN, 2, FAST, 3)] * 3, chunksize=1
    )

    assert sim.total("groq") == 0
    for calls in results:
        assert all(call[0][:2] == ("groq", "skipped") and "rate limit" in call[0][2]
                   for call in calls)  # fmt: skip


def test_an_answer_cached_by_one_replica_is_served_to_another(replicas, redis_url):
    key = uuid.uuid4().hex

    replicas.apply(worker.cache, (redis_url, key, True))
    hit = replicas.apply(worker.cache, (redis_url, key, False))

    assert hit is not None
    result, target = hit
    assert (result.content, result.usage.total_tokens, str(target)) == (
        "four",
        5,
        "groq/llama-3.1-8b-instant",
    )
