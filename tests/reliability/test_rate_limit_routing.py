"""Stepping aside before the 429, through a Juggler against simulated quotas.

The simulator enforces each provider's quota and announces what is left in the vendor's
headers; the Juggler reads them and skips a provider that said ``remaining: 0`` until its
reset. The wall clock is injected, so "after the reset" needs no sleep.
"""

from __future__ import annotations

import time

import pytest

from juggler import AllProvidersFailedError, Juggler
from juggler.testing import ProviderSimulator, Scenario

HI = [{"role": "user", "content": "hi"}]


class Wall:
    """The real wall clock (the simulator's headers use it), shifted on demand."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift


@pytest.mark.parametrize("style", ["openai", "together", "anthropic"])
def test_a_provider_that_said_zero_requests_left_gets_none_until_its_reset(style: str) -> None:
    name = "anthropic" if style == "anthropic" else "groq"
    model = "claude-sonnet-4-5" if style == "anthropic" else "m"
    scenarios = {name: Scenario(quota_requests=2, rate_limit_style=style), "openai": Scenario()}
    wall = Wall()
    with ProviderSimulator(scenarios, any_model=True) as sim:
        j = Juggler(
            chat=[f"{name}/{model}", "openai/gpt-4o-mini"],
            providers=sim.providers_config(),
            env={},
            wall=wall,
        )
        answers = [j.chat(HI) for _ in range(8)]
        assert sim.total(name) == 2  # the two its quota allows; then no request
        assert sim.counts(name).get(429, 0) == 0
        assert [a.provider for a in answers] == [name] * 2 + ["openai"] * 6
        skip = answers[2].models_used[0]
        assert skip.outcome == "skipped" and skip.provider == name
        assert skip.error is not None and skip.error.startswith("rate limit: 0 requests left until")
        wall.shift = 61.0  # past the announced reset: the provider is tried again
        j.chat(HI)
        assert sim.total(name) == 3
        j.close()


def test_when_every_target_is_predicted_limited_the_soonest_reset_is_still_tried() -> None:
    scenarios = {
        "groq": Scenario(quota_requests=1, quota_window_s=60),
        "together": Scenario(quota_requests=1, quota_window_s=10, rate_limit_style="together"),
    }
    with ProviderSimulator(scenarios, any_model=True) as sim:
        j = Juggler(chat=["groq/m", "together/m"], providers=sim.providers_config(), env={},
                    retries=0)  # fmt: skip
        j.chat(HI)  # groq: 0 left for 60 s
        j.chat(HI)  # groq skipped; together: 0 left for 10 s
        with pytest.raises(AllProvidersFailedError) as info:
            j.chat(HI)
        j.close()
        # One request went out, to the target whose reset comes first (together), not none.
        assert (sim.total("groq"), sim.total("together")) == (1, 2)
    attempts = [(a.provider, a.outcome) for a in info.value.models_used]
    assert attempts == [("groq", "skipped"), ("together", "error")]


def test_a_client_side_rpm_cap_sends_the_overflow_to_the_next_target() -> None:
    with ProviderSimulator({"groq": Scenario(), "openai": Scenario()}, any_model=True) as sim:
        j = Juggler(
            chat=[{"target": "groq/m", "rpm": 2}, "openai/m"],
            providers=sim.providers_config(),
            env={},
        )
        answers = [j.chat(HI) for _ in range(5)]
        j.close()
        assert (sim.total("groq"), sim.total("openai")) == (2, 3)
    skip = answers[4].models_used[0]
    assert skip.outcome == "skipped" and skip.error == "rate limit: rpm cap 2 reached (client side)"


def test_a_group_member_out_of_requests_leaves_the_traffic_to_the_other_member() -> None:
    scenarios = {"groq": Scenario(quota_requests=3), "cerebras": Scenario()}
    with ProviderSimulator(scenarios, any_model=True) as sim:
        j = Juggler(
            chat=[{"group": ["groq/m", "cerebras/m"], "strategy": "order"}],
            providers=sim.providers_config(),
            env={},
        )
        for _ in range(10):
            j.chat(HI)
        j.close()
        assert (sim.total("groq"), sim.total("cerebras")) == (3, 7)
        assert sim.counts("groq").get(429, 0) == 0
