"""OpenTelemetry: a call span with one child span per attempt, GenAI attributes, metrics.

ModelAttempts are fed into Telemetry directly, as the engine will, and the spans are read back
with the SDK's in-memory exporter.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from juggler._attempts import ModelAttempt
from juggler._telemetry import Telemetry
from juggler._types import Usage

SECRET = "sk-test-SECRETSECRETSECRET"
PROMPT = "my private prompt text"


@pytest.fixture
def otel() -> tuple[Telemetry, InMemorySpanExporter, InMemoryMetricReader]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    return Telemetry(tracer_provider, MeterProvider(metric_readers=[reader])), exporter, reader


def fallback_attempts() -> list[ModelAttempt]:
    return [
        ModelAttempt(
            provider="groq",
            model="llama-3.1-8b-instant",
            success=False,
            outcome="error",
            attempt=1,
            status_code=429,
            error=f"rate limited for {PROMPT} key {SECRET}",
            error_type="RateLimitError",
            elapsed_ms=120.0,
        ),
        ModelAttempt(
            provider="openai",
            model="gpt-4o-mini",
            success=False,
            outcome="cancelled",
            attempt=2,
            hedged=True,
            elapsed_ms=300.0,
            usage=Usage.of(100, 25, estimated=True),
            cost_usd=0.00003,
        ),
        ModelAttempt(
            provider="google",
            model="gemini-2.5-flash",
            success=True,
            outcome="success",
            attempt=3,
            status_code=200,
            elapsed_ms=250.0,
            retry=True,
            usage=Usage.of(100, 40, cached=60),
            cost_usd=0.0001,
        ),
    ]


def run_call(telemetry: Telemetry) -> None:
    with telemetry.call_span("chat", "llama-3.1-8b-instant") as call:
        for attempt in fallback_attempts():
            served = "gemini-2.5-flash-001" if attempt.success else None
            call.attempt(attempt, response_model=served)
        call.finish(response_model="gemini-2.5-flash-001")


def spans_by_name(exporter: InMemorySpanExporter) -> dict[str, Any]:
    return {s.name: s for s in exporter.get_finished_spans()}


def test_a_fallback_call_gives_one_call_span_and_a_child_per_attempt(otel: Any) -> None:
    telemetry, exporter, _ = otel
    run_call(telemetry)
    spans = exporter.get_finished_spans()
    call = [s for s in spans if s.parent is None]
    children = [s for s in spans if s.parent is not None]
    assert len(call) == 1 and len(children) == 3
    assert {s.parent.span_id for s in children} == {call[0].context.span_id}
    assert call[0].name == "chat llama-3.1-8b-instant"
    assert call[0].attributes["juggler.attempts"] == 3
    assert call[0].attributes["juggler.cost_usd"] == pytest.approx(0.00013)
    assert call[0].attributes["gen_ai.response.model"] == "gemini-2.5-flash-001"


def test_attempt_spans_carry_genai_semconv_attributes(otel: Any) -> None:
    telemetry, exporter, _ = otel
    run_call(telemetry)
    won = spans_by_name(exporter)["chat gemini-2.5-flash"].attributes
    assert won["gen_ai.operation.name"] == "chat"
    assert won["gen_ai.provider.name"] == "gcp.gemini"
    assert won["gen_ai.request.model"] == "gemini-2.5-flash"
    assert won["gen_ai.response.model"] == "gemini-2.5-flash-001"
    assert (won["gen_ai.usage.input_tokens"], won["gen_ai.usage.output_tokens"]) == (100, 40)
    assert won["juggler.usage.cached_tokens"] == 60
    assert (won["juggler.attempt"], won["juggler.outcome"], won["juggler.retry"]) == (
        3,
        "success",
        True,
    )
    assert won["juggler.cost_usd"] == 0.0001
    assert "error.type" not in won


def test_a_failed_attempt_span_has_error_type_and_error_status(otel: Any) -> None:
    telemetry, exporter, _ = otel
    run_call(telemetry)
    failed = spans_by_name(exporter)["chat llama-3.1-8b-instant"]
    failed = next(s for s in exporter.get_finished_spans() if s.parent and s.name == failed.name)
    assert failed.attributes["error.type"] == "RateLimitError"
    assert failed.attributes["http.response.status_code"] == 429
    assert failed.status.status_code.name == "ERROR"


def test_a_cancelled_hedge_span_is_marked_hedged_and_estimated(otel: Any) -> None:
    telemetry, exporter, _ = otel
    run_call(telemetry)
    lost = spans_by_name(exporter)["chat gpt-4o-mini"].attributes
    assert (lost["juggler.outcome"], lost["juggler.hedged"]) == ("cancelled", True)
    assert lost["juggler.usage.estimated"] is True
    assert lost["juggler.cost_usd"] == 0.00003


def test_attempt_spans_are_back_dated_by_their_elapsed_time(otel: Any) -> None:
    telemetry, exporter, _ = otel
    with telemetry.call_span("chat") as call:
        call.attempt(fallback_attempts()[0], end_time_ns=10_000_000_000)
    span = next(s for s in exporter.get_finished_spans() if s.parent is not None)
    assert (span.start_time, span.end_time) == (10_000_000_000 - 120_000_000, 10_000_000_000)


def test_no_key_or_prompt_text_in_any_span_attribute(otel: Any) -> None:
    telemetry, exporter, _ = otel
    run_call(telemetry)
    with pytest.raises(RuntimeError), telemetry.call_span("chat", "m"):
        raise RuntimeError(f"{PROMPT} {SECRET}")
    values = [str(v) for s in exporter.get_finished_spans() for v in s.attributes.values()]
    values += [str(s.status.description) for s in exporter.get_finished_spans()]
    assert values and not [v for v in values if SECRET in v or PROMPT in v]


def test_a_call_that_raises_records_the_exception_class_only(otel: Any) -> None:
    telemetry, exporter, _ = otel
    with pytest.raises(ValueError), telemetry.call_span("embed", "m"):
        raise ValueError("boom")
    (span,) = exporter.get_finished_spans()
    assert span.name == "embeddings m"
    assert span.attributes["error.type"] == "ValueError"


def test_metrics_count_attempts_by_outcome_time_them_and_sum_cost(otel: Any) -> None:
    telemetry, _, reader = otel
    run_call(telemetry)
    data = reader.get_metrics_data()
    metrics = {
        m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    counts = {
        (p.attributes["gen_ai.provider.name"], p.attributes["juggler.outcome"]): p.value
        for p in metrics["juggler.attempts"].data.data_points
    }
    assert counts == {
        ("groq", "error"): 1,
        ("openai", "cancelled"): 1,
        ("gcp.gemini", "success"): 1,
    }
    durations = metrics["juggler.attempt.duration"].data.data_points
    assert sum(p.count for p in durations) == 3
    assert sum(p.sum for p in durations) == pytest.approx(0.67)
    cost = sum(p.value for p in metrics["juggler.cost"].data.data_points)
    assert cost == pytest.approx(0.00013)


def test_disabled_telemetry_records_nothing(otel: Any) -> None:
    _, exporter, _ = otel
    telemetry = Telemetry(enabled=False)
    run_call(telemetry)
    assert not telemetry.enabled and exporter.get_finished_spans() == ()


def test_without_opentelemetry_installed_telemetry_is_a_no_op(monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    telemetry = Telemetry()
    assert not telemetry.enabled
    run_call(telemetry)  # nothing raised, nothing recorded
