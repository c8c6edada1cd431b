"""Every attempt carries what it consumed and cost; budgets skip a spent target until its
window rolls over; a call is one OpenTelemetry span with a child span per attempt."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from juggler import Juggler, StreamInterruptedError
from juggler._telemetry import Telemetry
from juggler.testing import ProviderSimulator, Scenario

PRICES = {"gpt-4o-mini": {"input_per_mtok": 1_000_000.0, "output_per_mtok": 2_000_000.0}}
CHAIN = ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]


class Wall:
    """A wall clock the test moves by hand (budget windows are calendar windows)."""

    def __init__(self, now: float = 1_767_225_600.0) -> None:  # 2026-01-01 00:00 UTC
        self.now = now

    def __call__(self) -> float:
        return self.now


def providers(sim: ProviderSimulator, **extra: Any) -> dict[str, Any]:
    config = sim.providers_config()
    config["openai"] = {**config["openai"], "prices": PRICES}
    return {**config, **extra}


def test_every_attempt_carries_its_usage_and_cost_and_the_answer_sums_them():
    with ProviderSimulator({"groq": Scenario(error_rates={503: 1.0}), "openai": Scenario()}) as sim:
        juggler = Juggler(chat=CHAIN, providers=providers(sim), env={}, retries=0)
        with juggler:
            response = juggler.chat("What is a fallback?")
    failed, answered = response.models_used
    assert (failed.outcome, failed.usage, failed.cost_usd) == ("error", None, None)
    assert answered.usage is not None and answered.usage.input_tokens
    expected = answered.usage.input_tokens * 1.0 + answered.usage.output_tokens * 2.0
    assert answered.cost_usd == pytest.approx(expected)
    assert response.cost_usd == pytest.approx(expected)


def test_a_skipped_target_costs_nothing_known_exactly():
    with ProviderSimulator({"openai": Scenario()}) as sim:
        juggler = Juggler(
            chat=["openai/gpt-4o-mini"], providers=providers(sim), env={}, cache_enabled=True
        )
        with juggler:
            juggler.chat("hi")
            hit = juggler.chat("hi")
    assert [(a.outcome, a.cost_usd) for a in hit.models_used] == [("cache_hit", 0.0)]


def test_a_stream_cut_after_content_reports_an_estimated_usage_and_its_cost():
    scenario = Scenario(cut_stream_after=2)
    with ProviderSimulator({"openai": scenario}) as sim:
        juggler = Juggler(chat=["openai/gpt-4o-mini"], providers=providers(sim), env={})
        with juggler, pytest.raises(StreamInterruptedError) as caught:
            for _ in juggler.stream_chat("tell me a story about fallbacks"):
                pass
    cut = caught.value.models_used[-1]
    assert cut.usage is not None and cut.usage.estimated and cut.usage.output_tokens
    assert cut.cost_usd is not None and cut.cost_usd > 0
    assert caught.value.cost_usd == cut.cost_usd


def test_a_spent_budget_moves_traffic_on_with_no_request_to_the_spent_target():
    wall = Wall()
    with ProviderSimulator({"openai": Scenario(), "groq": Scenario()}) as sim:
        juggler = Juggler(
            chat=["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"],
            providers=providers(sim),
            budgets={"openai": {"usd": 1.0, "per": "hour"}},
            env={},
            wall=wall,
        )
        with juggler:
            first = juggler.chat("hi")  # costs far more than $1 at the test's prices
            sent = sim.total("openai")
            second = juggler.chat("hi")
            assert sim.total("openai") == sent  # no request to the spent target
            wall.now += 3600  # the window rolls over
            third = juggler.chat("hi")
    assert first.provider == "openai"
    assert [(a.provider, a.outcome) for a in second.models_used] == [
        ("openai", "skipped"),
        ("groq", "success"),
    ]
    assert second.models_used[0].error.startswith("budget: $1.00 per hour for openai spent")
    assert third.provider == "openai"


def test_a_bad_budget_is_refused_at_construction():
    from juggler import InvalidRequestError

    with pytest.raises(InvalidRequestError):
        Juggler(
            chat=["openai/gpt-4o-mini"],
            budgets={"openai": {"usd": -1}},
            env={"OPENAI_API_KEY": "k"},
        )


def test_a_fallback_call_is_one_span_with_a_child_span_per_attempt():
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    with ProviderSimulator({"groq": Scenario(error_rates={503: 1.0}), "openai": Scenario()}) as sim:
        juggler = Juggler(
            chat=CHAIN,
            providers=providers(sim),
            env={},
            retries=0,
            telemetry=Telemetry(tracer_provider=tracer_provider),
        )
        with juggler:
            juggler.chat("hi")
    spans = exporter.get_finished_spans()
    call = [s for s in spans if s.parent is None]
    attempts = [s for s in spans if s.parent is not None]
    assert len(call) == 1 and len(attempts) == 2
    assert {s.parent.span_id for s in attempts} == {call[0].context.span_id}
    by_provider = {s.attributes["juggler.provider"]: s.attributes for s in attempts}
    assert by_provider["groq"]["juggler.outcome"] == "error"
    assert by_provider["groq"]["error.type"] == "ServerError"
    assert by_provider["openai"]["gen_ai.usage.input_tokens"] > 0
    assert call[0].attributes["juggler.attempts"] == 2


def test_a_stream_span_ends_when_the_stream_ends_not_at_its_first_token():
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    with ProviderSimulator({"openai": Scenario()}) as sim:
        juggler = Juggler(
            chat=["openai/gpt-4o-mini"],
            providers=providers(sim),
            env={},
            telemetry=Telemetry(tracer_provider=tracer_provider),
        )

        async def main() -> int:
            stream = juggler.astream_chat("hi")
            await stream.__anext__()
            open_spans = len(exporter.get_finished_spans())
            async for _ in stream:
                pass
            return open_spans

        with juggler:
            before_end = asyncio.run(main())
    assert before_end == 0
    assert len([s for s in exporter.get_finished_spans() if s.parent is None]) == 1
