"""Balancing strategies inside a group of equivalent deployments (pure: rng, counts and
latencies injected)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from juggler._policy.balance import InFlight, order_group
from juggler._types import Target

A = Target(provider="openai", model="gpt-4o-mini")
B = Target(provider="azure", model="gpt-4o-mini", weight=2)
C = Target(provider="openai-eu", model="gpt-4o-mini")


def test_order_keeps_the_configured_order() -> None:
    assert order_group([A, B, C], "order") == [A, B, C]


def test_weighted_split_is_within_five_percent_over_2000_draws() -> None:
    rng = random.Random(7)
    firsts = Counter(order_group([A, B], "weighted", rng=rng)[0] for _ in range(2000))
    assert abs(firsts[B] / 2000 - 2 / 3) < 0.05
    assert abs(firsts[A] / 2000 - 1 / 3) < 0.05


def test_weighted_keeps_every_member_as_a_fallback() -> None:
    ordered = order_group([A, B, C], "weighted", rng=random.Random(1))
    assert sorted(map(str, ordered)) == sorted(map(str, [A, B, C]))


def test_least_busy_moves_traffic_away_from_a_slow_member() -> None:
    # A slow member keeps its calls in flight longer; new calls go elsewhere.
    busy = InFlight()
    firsts = Counter()
    for step in range(100):
        first = order_group([A, C], "least-busy", in_flight=busy)[0]
        firsts[first] += 1
        busy.acquire(first)
        if first == C:
            busy.release(C)  # the fast member answers at once
        elif step % 10 == 9:
            busy.release(A)  # the slow one answers one call in ten steps
    assert firsts[C] > 80


def test_in_flight_release_never_goes_negative() -> None:
    busy = InFlight()
    busy.release(A)
    busy.acquire(A)
    assert busy(A) == 1
    busy.release(A)
    busy.release(A)
    assert busy(A) == 0


def test_fastest_puts_the_lowest_latency_first() -> None:
    latency = {A: 900.0, C: 120.0}
    ordered = order_group(
        [A, C], "fastest", rng=random.Random(3), latency_ms=latency.get, explore=0
    )
    assert ordered == [C, A]


def test_fastest_moves_traffic_away_from_a_slow_member_but_keeps_exploring() -> None:
    rng = random.Random(11)
    latency = {A: 900.0, C: 120.0}
    firsts = Counter(
        order_group([A, C], "fastest", rng=rng, latency_ms=latency.get, explore=0.05)[0]
        for _ in range(2000)
    )
    assert firsts[C] / 2000 > 0.9
    assert firsts[A] > 0  # the slow one is still tried now and then: it may have recovered


def test_fastest_tries_an_unmeasured_member_first() -> None:
    latency = {A: 100.0}
    ordered = order_group(
        [A, C], "fastest", rng=random.Random(0), latency_ms=latency.get, explore=0
    )
    assert ordered[0] == C


def test_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown group strategy"):
        order_group([A, C], "round-robin")
