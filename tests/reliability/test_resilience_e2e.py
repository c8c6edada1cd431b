"""End to end over the loopback simulator: an outage opens a circuit, later calls skip the
provider without a request, the provider recovers and a half-open probe closes the circuit;
and a hedge beats a slow provider. Real HTTP on 127.0.0.1; the breaker's clock is a manual
one, so the 30 s cool-down passes without waiting."""

from __future__ import annotations

import time

import pytest

from juggler import Juggler
from juggler.testing import ProviderSimulator, Scenario


class ManualClock:
    """Real monotonic time plus a jump we control."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
def sim():
    with ProviderSimulator(
        {"groq": Scenario(), "cerebras": Scenario(), "mistral": Scenario()}
    ) as simulator:
        yield simulator


def test_an_outage_opens_the_circuit_and_a_probe_closes_it_after_recovery(sim):
    clock = ManualClock()
    chain = ["groq/llama-3.1-8b-instant", "cerebras/qwen-3-32b"]
    with Juggler(
        chain, providers=sim.providers_config("groq", "cerebras"), env={}, clock=clock
    ) as j:
        sim.set_scenario("groq", Scenario(error_rates={503: 1.0}))
        for _ in range(5):
            assert j.chat("hi").provider == "cerebras"
        assert (
            j.get_health_status()["groq"]["models"]["llama-3.1-8b-instant"]["circuit_state"]
            == "open"
        )

        sim.reset_counts()
        first = j.chat("hi").models_used[0]
        assert (first.provider, first.outcome, first.error) == ("groq", "skipped", "circuit open")
        assert sim.total("groq") == 0  # no request reached the open provider

        sim.set_scenario("groq", Scenario())  # recovery
        clock.offset += 30.0  # the cool-down passes
        probe = j.chat("hi")
        assert [(a.provider, a.outcome) for a in probe.models_used] == [("groq", "success")]
        assert (
            j.get_health_status()["groq"]["models"]["llama-3.1-8b-instant"]["circuit_state"]
            == "closed"
        )


def test_a_hedge_beats_a_slow_provider(sim):
    sim.set_scenario("groq", Scenario(latency_ms=3000, latency="fixed"))
    chain = ["groq/llama-3.1-8b-instant", "mistral/mistral-small-latest"]
    with Juggler(chain, providers=sim.providers_config("groq", "mistral"), env={}) as j:
        started = time.monotonic()
        response = j.chat("hi", hedge_after_ms=100)
        took = time.monotonic() - started
    assert response.provider == "mistral"
    assert took < 1.5  # not the 3 s of the slow provider
    rows = [(a.provider, a.outcome, a.hedged) for a in response.models_used]
    assert rows == [("groq", "cancelled", False), ("mistral", "success", True)]
