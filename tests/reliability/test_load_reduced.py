"""A reduced load test (under a minute): 1,500 calls at concurrency 100 against the simulator
on 127.0.0.1, each of three providers failing 15–30 % of attempts at random and the first
one down for a while. Every call ends (0 lost, 0 hung) and at least 95 % are answered; the
moderate faults open no circuit of the healthy-enough targets. ``make soak`` runs the full
one (10,000 calls at concurrency 200)."""

from __future__ import annotations

from juggler import Juggler
from juggler.testing import ProviderSimulator, Scenario
from juggler.testing._load import load_run

CHAIN = ["groq/llama-3.1-8b-instant", "cerebras/qwen-3-32b", "mistral/mistral-small-latest"]


def faulty(rate: float, seed: int) -> Scenario:
    share = rate / 5
    return Scenario(
        latency_ms=5.0,
        error_rates={500: 2 * share, 503: share, 429: share, "drop": share},
        seed=seed,
    )


async def test_a_reduced_load_run_answers_95_percent_and_loses_no_call():
    scenarios = {"groq": faulty(0.3, 1), "cerebras": faulty(0.2, 2), "mistral": faulty(0.15, 3)}
    with ProviderSimulator(scenarios, any_model=True) as sim:
        assert sim.url.startswith("http://127.0.0.1:")
        async with Juggler(CHAIN, providers=sim.providers_config(*scenarios), env={},
                           timeout=5.0) as juggler:  # fmt: skip
            done = [0]

            async def call():
                done[0] += 1
                if done[0] == 300:  # an outage of the first target ...
                    sim.set_scenario("groq", Scenario(error_rates={503: 1.0}))
                if done[0] == 700:  # ... then it recovers
                    sim.set_scenario("groq", scenarios["groq"])
                return await juggler.achat("hi")

            figures = await load_run(call, calls=1500, concurrency=100, hung_after=30.0)
            health = juggler.get_health_status()
    assert (figures.lost, figures.hung) == (0, 0), figures.line()
    assert figures.answered_share >= 0.95, figures.line()
    assert figures.failed_all_circuits_open == 0, figures.line()
    for provider in ("cerebras", "mistral"):  # 15-20 % faults: their circuits never opened
        model = next(iter(health[provider]["models"].values()))
        assert model["circuit_state"] == "closed", (provider, figures.line())
