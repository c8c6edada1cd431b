"""Circuit breakers: open on failures, skip without a request, cool down, probe, close."""

from __future__ import annotations

import pytest
from _resilience_fakes import VirtualTime, outcomes, scripted_juggler

from juggler import AllProvidersFailedError
from juggler._exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    RateLimitError,
    ServerError,
)
from juggler._policy.breaker import BreakerConfig, Breakers, CircuitBreaker
from juggler.testing import FakeHttpError

KEY = ("a", "m")


def trip(breakers: Breakers, n: int, now: float = 0.0, error: Exception | None = None) -> None:
    for _ in range(n):
        permit = breakers.acquire(KEY, now)
        assert permit is not None
        breakers.record(permit, now, error or ServerError("boom"))


# ----- the pure state machine -----


def test_at_low_volume_five_consecutive_failures_open_the_circuit():
    breakers = Breakers()
    trip(breakers, 4)
    assert breakers.state(KEY, 0.0) == "closed"
    trip(breakers, 1)
    assert breakers.state(KEY, 0.0) == "open"


def test_a_failure_rate_of_half_over_a_hundred_calls_opens_it():
    breaker = CircuitBreaker(BreakerConfig())
    for _ in range(49):
        breaker.success(probe=False)
        assert not breaker.failure(0.0, probe=False)  # up to 49 of 98: too few calls
    breaker.success(probe=False)
    assert breaker.failure(0.0, probe=False)  # 50 of 100 failed: 50 %
    assert breaker.state(0.0) == "open"


def test_failures_below_the_minimum_number_of_calls_do_not_open_it():
    breaker = CircuitBreaker(BreakerConfig(min_calls=5, consecutive_failures=100))
    breaker.success(probe=False)
    breaker.failure(0.0, probe=False)
    breaker.failure(0.0, probe=False)
    assert breaker.state(0.0) == "closed"  # 2 of 3 failed, but only 3 calls


def test_at_volume_five_consecutive_failures_do_not_open_it():
    breaker = CircuitBreaker(BreakerConfig())
    for _ in range(95):
        breaker.success(probe=False)
    for _ in range(5):
        assert not breaker.failure(0.0, probe=False)  # 5 of 100: the rate decides
    assert breaker.state(0.0) == "closed"


def test_a_thirty_percent_fault_rate_never_opens_it_over_ten_thousand_calls():
    import random

    rng = random.Random(19)
    breaker = CircuitBreaker(BreakerConfig())
    for i in range(10_000):
        now = i * 0.005  # 200 calls a second
        if rng.random() < 0.3:
            assert not breaker.failure(now, probe=False), f"opened at call {i}"
        else:
            breaker.success(probe=False, now=now)


def test_calls_older_than_the_window_seconds_leave_it_so_a_quiet_target_uses_the_run_rule():
    breaker = CircuitBreaker(BreakerConfig())
    for _ in range(100):
        breaker.success(probe=False, now=0.0)
    for _ in range(4):
        assert not breaker.failure(61.0, probe=False)
    assert breaker.failure(61.0, probe=False)  # only these 5 calls are recent: 5 in a row


def test_a_forced_request_that_fails_keeps_the_cooldown_instead_of_doubling_it():
    breakers = Breakers()
    trip(breakers, 5, now=0.0)
    forced = breakers.acquire(KEY, 1.0, force=True)
    assert forced is not None
    assert not breakers.record(forced, 1.0, ServerError("still down"))
    assert breakers.remaining(KEY, 1.0) == pytest.approx(29.0)


def test_after_the_cooldown_it_is_half_open_and_lets_one_probe_through():
    breakers = Breakers()
    trip(breakers, 5, now=0.0)
    assert breakers.acquire(KEY, 29.9) is None
    assert breakers.state(KEY, 30.0) == "half_open"
    probe = breakers.acquire(KEY, 30.0)
    assert probe is not None and probe.probe
    assert breakers.acquire(KEY, 30.0) is None  # the probe slot is taken


def test_a_successful_probe_closes_the_circuit():
    breakers = Breakers()
    trip(breakers, 5)
    probe = breakers.acquire(KEY, 30.0)
    breakers.record(probe, 30.0, None)
    assert breakers.state(KEY, 30.0) == "closed"


def test_five_failed_probes_in_a_row_reopen_with_a_doubled_cooldown():
    breakers = Breakers()
    trip(breakers, 5)
    for _ in range(4):
        probe = breakers.acquire(KEY, 30.0)
        assert not breakers.record(probe, 30.0, ServerError("still down"))
        assert breakers.state(KEY, 30.0) == "half_open"  # one unlucky probe is not a verdict
    probe = breakers.acquire(KEY, 30.0)
    assert breakers.record(probe, 30.0, ServerError("still down"))
    assert breakers.remaining(KEY, 30.0) == pytest.approx(60.0)


def test_retry_after_lengthens_the_cooldown():
    breakers = Breakers()
    trip(breakers, 5, error=RateLimitError("slow down", retry_after=120.0))
    assert breakers.remaining(KEY, 0.0) == pytest.approx(120.0)


def test_a_bad_key_opens_every_model_of_that_provider_for_an_hour():
    breakers = Breakers()
    trip(breakers, 1, now=0.0)  # ("a", "m") is known
    other = breakers.acquire(("a", "other"), 0.0)
    breakers.record(other, 0.0, AuthenticationError("invalid key", status_code=401))
    assert breakers.remaining(("a", "other"), 0.0) == pytest.approx(3600.0)
    assert breakers.remaining(KEY, 0.0) == pytest.approx(3600.0)


@pytest.mark.parametrize("error", [BadRequestError("bad"), ContextLengthError("too long")])
def test_request_specific_refusals_do_not_count(error):
    breakers = Breakers()
    trip(breakers, 10, error=error)
    assert breakers.state(KEY, 0.0) == "closed"


def test_a_cancelled_probe_frees_its_slot():
    breakers = Breakers()
    trip(breakers, 5)
    probe = breakers.acquire(KEY, 30.0)
    breakers.release(probe)
    assert breakers.acquire(KEY, 30.0) is not None


def test_when_every_target_is_open_the_soonest_to_cool_down_is_chosen():
    breakers = Breakers()
    trip(breakers, 5, now=0.0)
    for _ in range(5):
        permit = breakers.acquire(("b", "m"), 10.0)
        breakers.record(permit, 10.0, ServerError("boom"))
    assert breakers.soonest([("b", "m"), KEY], 11.0) == KEY


# ----- through the engine -----


def test_an_open_target_is_skipped_without_a_request_and_recorded():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(then=FakeHttpError(503))

    async def main():
        for _ in range(5):
            await juggler.achat("hi")
        return await juggler.achat("hi")

    response = vt.run(main())
    assert outcomes(response) == [("a", "skipped"), ("b", "success")]
    skipped = response.models_used[0]
    assert (skipped.success, skipped.error, skipped.status_code) == (False, "circuit open", None)
    assert len(fakes["a"].calls) == 5


def test_after_the_cooldown_a_probe_call_closes_the_circuit():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(*[FakeHttpError(500)] * 5, then="ok from a")

    async def main():
        for _ in range(5):
            await juggler.achat("hi")
        vt.now += 30.0
        return await juggler.achat("hi")

    response = vt.run(main())
    assert outcomes(response) == [("a", "success")]
    assert juggler.get_health_status()["a"]["models"]["m"]["circuit_state"] == "closed"


def test_when_every_circuit_is_open_the_soonest_is_tried_anyway():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(*[FakeHttpError(500)] * 5, then="ok from a")
    fakes["b"].plan(*[FakeHttpError(500)] * 5, then="ok from b")

    async def main():
        for _ in range(5):
            with pytest.raises(AllProvidersFailedError):
                await juggler.achat("hi")
        return await juggler.achat("hi")

    response = vt.run(main())
    assert outcomes(response) == [("a", "success")]


def test_an_opening_circuit_closes_the_providers_idle_connections():
    vt = VirtualTime()
    dropped: list[str] = []
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)

    async def record(provider: str) -> None:
        dropped.append(provider)

    juggler.engine.gate.on_open = record
    fakes["a"].plan(then=FakeHttpError(500))

    async def main():
        for _ in range(6):
            await juggler.achat("hi")

    vt.run(main())
    assert dropped == ["a"]


def test_breakers_can_be_turned_off():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, circuit_breaker=False)
    fakes["a"].plan(then=FakeHttpError(500))

    async def main():
        for _ in range(8):
            await juggler.achat("hi")

    vt.run(main())
    assert len(fakes["a"].calls) == 8


# ----- shared through Redis (a fake client with the same methods; no server needed) -----


class FakeRedis:
    """The slice of ``redis.asyncio.Redis`` the store uses, with expiry on a given clock."""

    def __init__(self, clock):
        self.clock = clock
        self.expires: dict[str, float] = {}

    async def set(self, key, value, px):
        self.expires[key] = self.clock() + px / 1000

    async def delete(self, key):
        self.expires.pop(key, None)

    def pipeline(self):
        redis, keys = self, []

        class Pipe:
            def pttl(self, key):
                keys.append(key)

            async def execute(self):
                now = redis.clock()
                return [int((redis.expires.get(k, now) - now) * 1000) or -2 for k in keys]

        return Pipe()


def test_a_circuit_opened_by_one_replica_is_skipped_by_another():
    from juggler.state.redis import RedisBreakerStore

    vt = VirtualTime()
    store = RedisBreakerStore(FakeRedis(vt.time))
    one, fakes_one = scripted_juggler(["a/m", "b/m"], vt, breaker_store=store)
    two, fakes_two = scripted_juggler(["a/m", "b/m"], vt, breaker_store=store)
    fakes_one["a"].plan(then=FakeHttpError(500))

    async def main():
        for _ in range(5):
            await one.achat("hi")
        return await two.achat("hi")

    response = vt.run(main())
    assert outcomes(response) == [("a", "skipped"), ("b", "success")]
    assert len(fakes_two["a"].calls) == 0
    assert store.client.expires == {"juggler:circuit:a/m": pytest.approx(vt.now + 30.0)}


def test_a_closing_probe_clears_the_shared_opening():
    from juggler.state.redis import RedisBreakerStore

    vt = VirtualTime()
    store = RedisBreakerStore(FakeRedis(vt.time))
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt, breaker_store=store)
    fakes["a"].plan(*[FakeHttpError(500)] * 5, then="ok from a")

    async def main():
        for _ in range(5):
            await juggler.achat("hi")
        vt.now += 30.0
        return await juggler.achat("hi")

    assert outcomes(vt.run(main())) == [("a", "success")]
    assert store.client.expires == {}
