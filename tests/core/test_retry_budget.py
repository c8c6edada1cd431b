"""Retries: transient errors only, Retry-After or full jitter, under a retry budget."""

from __future__ import annotations

import pytest
from _resilience_fakes import VirtualTime, outcomes, scripted_juggler

from juggler import AllProvidersFailedError
from juggler._exceptions import RateLimitError, ServerError
from juggler._policy.retry import RetryBudget, wait_retry_after_or_jitter
from juggler.testing import FakeHttpError


def test_the_budget_allows_a_floor_of_retries_in_a_quiet_window():
    budget = RetryBudget(ratio=0.2, minimum=3, window=10.0)
    assert [budget.try_spend(0.0) for _ in range(4)] == [True, True, True, False]


def test_the_budget_grows_to_a_fifth_of_recent_requests():
    budget = RetryBudget(ratio=0.2, minimum=3, window=10.0)
    for _ in range(50):
        budget.request(0.0)
    assert budget.allowed(0.0) == 10
    assert sum(budget.try_spend(0.0) for _ in range(20)) == 10


def test_the_budget_forgets_requests_older_than_its_window():
    budget = RetryBudget(ratio=0.2, minimum=3, window=10.0)
    for _ in range(3):
        budget.try_spend(0.0)
    assert not budget.try_spend(5.0)
    assert budget.try_spend(10.5)


def test_retry_after_is_honoured_and_capped():
    wait = wait_retry_after_or_jitter(base=0.5, cap=10.0, rng=lambda: 1.0)
    assert wait.for_error(RateLimitError("slow", retry_after=2.0), 1) == 2.0
    assert wait.for_error(RateLimitError("slow", retry_after=99.0), 1) == 10.0


def test_without_retry_after_the_wait_is_full_jitter_exponential():
    wait = wait_retry_after_or_jitter(base=0.5, cap=10.0, rng=lambda: 0.5)
    assert [wait.for_error(ServerError("x"), n) for n in (1, 2, 3, 6)] == [0.25, 0.5, 1.0, 5.0]


def test_the_last_target_is_retried_on_transient_errors():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt)
    fakes["a"].plan(FakeHttpError(503), FakeHttpError(503), "ok from a")
    response = vt.run(juggler.achat("hi"))
    assert [a.retry for a in response.models_used] == [False, True, True]
    assert response.models_used[-1].success


def test_a_non_transient_error_is_not_retried():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt)
    fakes["a"].plan(FakeHttpError(404), "ok from a")
    with pytest.raises(AllProvidersFailedError):
        vt.run(juggler.achat("hi"))
    assert len(fakes["a"].calls) == 1


def test_retries_wait_what_retry_after_says():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt)
    fakes["a"].plan(FakeHttpError(429, retry_after=4.0), "ok from a")
    start = vt.now
    vt.run(juggler.achat("hi"))
    assert vt.now - start == pytest.approx(4.0)


def test_a_retry_the_budget_denies_is_not_sent_and_is_recorded():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, retry_budget_min=1, circuit_breaker=False)
    fakes["a"].plan(then=FakeHttpError(500))

    async def main():
        with pytest.raises(AllProvidersFailedError) as info:
            await juggler.achat("hi")
        return info.value.models_used

    attempts = vt.run(main())
    assert [(a.outcome, a.retry) for a in attempts] == [
        ("error", False),
        ("error", True),
        ("skipped", True),
    ]
    assert attempts[-1].error == "retry budget exhausted"
    assert len(fakes["a"].calls) == 2


def test_an_outage_cannot_multiply_the_traffic():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, retries=3, circuit_breaker=False)
    fakes["a"].plan(then=FakeHttpError(503))

    async def main():
        for _ in range(100):
            with pytest.raises(AllProvidersFailedError):
                await juggler.achat("hi")

    vt.run(main())
    # 100 calls with 3 retries each would be 400 requests; the budget keeps it near 120.
    assert len(fakes["a"].calls) <= 100 * 1.2 + 3


def test_a_target_before_the_last_hands_over_at_once():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    fakes["a"].plan(FakeHttpError(429))
    response = vt.run(juggler.achat("hi"))
    assert outcomes(response) == [("a", "error"), ("b", "success")]
