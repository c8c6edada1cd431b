"""The provider simulator's fault kinds, seen through a real Juggler, plus run-time scenario
changes and request counts. Each test proves one fault: the first target misbehaves, the
second (healthy) one answers, and models_used records what went wrong."""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator

import httpx
import pytest

from juggler import Juggler, StreamInterruptedError
from juggler.testing import ProviderSimulator, Scenario


async def _no_sleep(_: float) -> None:
    """Retry waits are skipped: tests never sleep for real."""


@pytest.fixture
def sim() -> Iterator[ProviderSimulator]:
    with ProviderSimulator({"groq": Scenario(), "cerebras": Scenario()}) as simulator:
        yield simulator


def _juggler(sim: ProviderSimulator, **settings: object) -> Juggler:
    return Juggler(
        chat=["cerebras/qwen-3-32b", "groq/llama-3.1-8b-instant"],
        providers=sim.providers_config(),
        env={},
        sleep=_no_sleep,
        retries=0,
        **settings,
    )


def _fails_over(sim: ProviderSimulator, scenario: Scenario, **settings: object) -> list[dict]:
    sim.set_scenario("cerebras", scenario)
    j = _juggler(sim, **settings)
    try:
        r = j.chat("hello")
    finally:
        j.close()
    assert r.provider == "groq"
    return [dict(a) for a in r.models_used]


def test_429_sends_retry_after_and_falls_back(sim: ProviderSimulator) -> None:
    used = _fails_over(sim, Scenario(error_rates={429: 1.0}, retry_after=2))
    assert used[0]["status_code"] == 429 and used[0]["error_type"] == "RateLimitError"
    raw = httpx.post(sim.base_url("cerebras") + "/chat/completions", json={"messages": []})
    assert raw.status_code == 429 and raw.headers["retry-after"] == "2"
    assert raw.json()["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("status", "error_type"), [(500, "ServerError"), (503, "ServerError"), (529, "OverloadedError")]
)
def test_server_errors_fall_back(sim: ProviderSimulator, status: int, error_type: str) -> None:
    used = _fails_over(sim, Scenario(error_rates={status: 1.0}))
    assert used[0]["status_code"] == status and used[0]["error_type"] == error_type


def test_529_uses_anthropics_overloaded_envelope() -> None:
    with ProviderSimulator({"anthropic": Scenario(error_rates={529: 1.0})}) as sim:
        raw = httpx.post(sim.base_url("anthropic") + "/v1/messages", json={})
    assert raw.status_code == 529
    assert raw.json()["error"] == {"type": "overloaded_error", "message": "Overloaded"}


def test_hang_times_out_and_falls_back(sim: ProviderSimulator) -> None:
    used = _fails_over(sim, Scenario(hang=True), timeout=0.3)
    assert used[0]["error_type"] == "ProviderTimeoutError"
    assert sim.counts("cerebras") == {"hang": 1}


def test_dropped_connection_falls_back(sim: ProviderSimulator) -> None:
    used = _fails_over(sim, Scenario(drop_connection=True))
    assert used[0]["error_type"] == "ProviderConnectionError"
    assert sim.counts("cerebras") == {"drop": 1}


def test_stream_cut_after_tokens_raises_stream_interrupted(sim: ProviderSimulator) -> None:
    sim.set_scenario("cerebras", Scenario(cut_stream_after=3))
    j = Juggler(chat=["cerebras/qwen-3-32b"], providers=sim.providers_config(), env={}, retries=0)
    stream = j.stream_chat("hello there")
    with pytest.raises(StreamInterruptedError) as info:
        for _ in stream:
            pass
    j.close()
    assert info.value.partial_text == "Simulated answer"  # 3 events: role, 2 words


def test_stream_cut_before_any_token_falls_back(sim: ProviderSimulator) -> None:
    sim.set_scenario("cerebras", Scenario(cut_stream_after=1))
    j = _juggler(sim)
    stream = j.stream_chat("hello there")
    text = "".join(stream)
    j.close()
    assert text.startswith("Simulated answer") and stream.models_used[-1].provider == "groq"


def test_malformed_json_falls_back(sim: ProviderSimulator) -> None:
    used = _fails_over(sim, Scenario(malformed_json=True))
    assert used[0]["error_type"] == "InvalidResponseError"


def test_error_object_inside_a_200_falls_back(sim: ProviderSimulator) -> None:
    used = _fails_over(sim, Scenario(error_in_200=True))
    assert not used[0]["success"] and used[0]["error_type"] in (
        "ServerError",
        "InvalidResponseError",
    )
    assert sim.counts("cerebras") == {200: 1}


def test_scenario_changes_at_run_time_outage_then_recovery(sim: ProviderSimulator) -> None:
    j = Juggler(chat=["cerebras/qwen-3-32b"], providers=sim.providers_config(), env={}, retries=0)
    assert j.chat("a").provider == "cerebras"
    sim.set_scenario("cerebras", Scenario(error_rates={503: 1.0}))
    with pytest.raises(Exception, match="503"):
        j.chat("b")
    sim.set_scenario("cerebras", Scenario())
    assert j.chat("c").provider == "cerebras"
    j.close()
    assert sim.counts("cerebras") == {200: 2, 503: 1}


def test_counts_per_provider_and_status_and_reset(sim: ProviderSimulator) -> None:
    sim.set_scenario("cerebras", Scenario(error_rates={500: 1.0}))
    j = _juggler(sim)
    for _ in range(3):
        j.chat("hi")
    j.close()
    assert sim.counts("cerebras") == {500: 3}
    assert sim.counts("groq") == {200: 3}
    assert sim.total("groq") == 3
    sim.reset_counts()
    assert sim.total("groq") == 0


def test_error_rates_draw_each_status_at_its_probability() -> None:
    rng = random.Random(7)
    scenario = Scenario(error_rates={429: 0.3, "drop": 0.1})
    outcomes = [scenario.decide(rng) for _ in range(2000)]
    assert 0.25 < outcomes.count(429) / 2000 < 0.35
    assert 0.07 < outcomes.count("drop") / 2000 < 0.13


def test_fixed_latency_is_exact_and_jitter_bounded() -> None:
    rng = random.Random(1)
    assert Scenario(latency_ms=40).sample_latency(rng) == pytest.approx(0.040)
    samples = [Scenario(latency_ms=40, jitter_ms=5).sample_latency(rng) for _ in range(500)]
    assert min(samples) >= 0.035 and max(samples) <= 0.045


def test_normal_latency_has_the_given_mean_and_spread() -> None:
    rng = random.Random(2)
    s = Scenario(latency_ms=100, latency="normal", jitter_ms=10)
    samples = [s.sample_latency(rng) * 1000 for _ in range(4000)]
    assert statistics.mean(samples) == pytest.approx(100, abs=1.5)
    assert statistics.stdev(samples) == pytest.approx(10, abs=1.0)


def test_heavy_tail_latency_has_median_near_base_and_a_long_tail() -> None:
    rng = random.Random(3)
    s = Scenario(latency_ms=50, latency="heavy_tail")
    samples = sorted(s.sample_latency(rng) * 1000 for _ in range(4000))
    median, p99 = samples[len(samples) // 2], samples[int(len(samples) * 0.99)]
    assert median == pytest.approx(50, rel=0.1)
    assert p99 > 5 * median


def test_latency_delays_the_answer_on_the_wire() -> None:
    with ProviderSimulator({"groq": Scenario(latency_ms=120)}) as sim:
        r = httpx.post(sim.base_url("groq") + "/chat/completions", json={"messages": []})
    assert r.status_code == 200 and r.elapsed.total_seconds() >= 0.1


def test_same_seed_same_fault_sequence() -> None:
    def run() -> list[object]:
        with ProviderSimulator({"groq": Scenario(error_rates={500: 0.5}, seed=42)}) as sim:
            url = sim.base_url("groq") + "/chat/completions"
            return [httpx.post(url, json={"messages": []}).status_code for _ in range(20)]

    first = run()
    assert first == run() and 500 in first and 200 in first
