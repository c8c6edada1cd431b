"""OpenTelemetry spans and metrics for calls and attempts (extra ``otel``: the API only).

One span per call (``chat gpt-4o-mini``), with one child span per attempt, following the
OpenTelemetry GenAI semantic conventions (``gen_ai.operation.name``, ``gen_ai.provider.name``,
``gen_ai.request.model``, ``gen_ai.response.model``, ``gen_ai.usage.input_tokens`` /
``output_tokens``, ``error.type``) plus ``juggler.*`` attributes (attempt number, outcome,
hedged, retry, cost). Metrics: ``juggler.attempts`` (counter by provider, model, outcome),
``juggler.attempt.duration`` (histogram, seconds) and ``juggler.cost`` (counter, USD).

Attempt spans are written when the attempt has ended (a ``ModelAttempt`` is a finished
record), back-dated by its ``elapsed_ms``, so overlapping hedged attempts show as overlapping.

Privacy: attributes hold names, numbers and exception class names only. No API key, no prompt
or answer text, and not even the provider's error message (it can quote the prompt).

Without ``opentelemetry-api`` installed, or with ``Telemetry(enabled=False)``, every method is
a constant-time no-op. The user brings the SDK (``tracer_provider=`` / ``meter_provider=``,
else the global providers).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from juggler._attempts import ModelAttempt, total_cost

__all__ = ["CallTrace", "Telemetry"]

# GenAI semconv well-known provider names where ours differ.
_SEMCONV_PROVIDER = {"google": "gcp.gemini", "mistral": "mistral_ai", "moonshot": "moonshot_ai"}
# GenAI semconv operation names where ours differ.
_SEMCONV_OPERATION = {"chat": "chat", "embed": "embeddings"}

_INSTRUMENTATION = "juggler"


def operation_name(operation: str) -> str:
    """Our capability as a ``gen_ai.operation.name`` (rerank/transcribe/speak have no
    semconv value yet and keep our name)."""
    return _SEMCONV_OPERATION.get(operation, operation)


def attempt_attributes(
    attempt: ModelAttempt, operation: str, response_model: str | None = None
) -> dict[str, Any]:
    """The span attributes of one attempt (names and numbers only)."""
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": operation_name(operation),
        "gen_ai.provider.name": _SEMCONV_PROVIDER.get(attempt.provider, attempt.provider),
        "gen_ai.request.model": attempt.model,
        "juggler.provider": attempt.provider,
        "juggler.attempt": attempt.attempt,
        "juggler.outcome": attempt.outcome,
        "juggler.hedged": attempt.hedged,
        "juggler.retry": attempt.retry,
    }
    if response_model:
        attrs["gen_ai.response.model"] = response_model
    usage = attempt.usage
    if usage is not None:
        if usage.input_tokens is not None:
            attrs["gen_ai.usage.input_tokens"] = usage.input_tokens
        if usage.output_tokens is not None:
            attrs["gen_ai.usage.output_tokens"] = usage.output_tokens
        if usage.cached_tokens:
            attrs["juggler.usage.cached_tokens"] = usage.cached_tokens
        attrs["juggler.usage.estimated"] = usage.estimated
    if attempt.cost_usd is not None:
        attrs["juggler.cost_usd"] = attempt.cost_usd
    if attempt.status_code is not None:
        attrs["http.response.status_code"] = attempt.status_code
    if attempt.outcome == "error":
        attrs["error.type"] = attempt.error_type or "error"
    return attrs


class _Instruments:
    """The tracer and metric instruments, made once per Telemetry."""

    def __init__(self, tracer_provider: Any, meter_provider: Any) -> None:
        from opentelemetry import metrics, trace

        self.trace = trace
        self.tracer = trace.get_tracer(_INSTRUMENTATION, tracer_provider=tracer_provider)
        meter = metrics.get_meter(_INSTRUMENTATION, meter_provider=meter_provider)
        self.attempts = meter.create_counter(
            "juggler.attempts", unit="{attempt}", description="Attempts by provider, model, outcome"
        )
        self.duration = meter.create_histogram(
            "juggler.attempt.duration", unit="s", description="Wall time of one attempt"
        )
        self.cost = meter.create_counter(
            "juggler.cost", unit="USD", description="What attempts cost, losers included"
        )


class CallTrace:
    """The span of one call; record each finished attempt with :meth:`attempt`.

    A context manager: ``with telemetry.call_span("chat", "gpt-4o-mini") as call: ...``.
    When the block raises, the call span records the exception class (never its message).
    """

    __slots__ = ("_attempts", "_context", "_inst", "_operation", "_request_model", "_span")

    def __init__(self, inst: _Instruments | None, operation: str, request_model: str | None):
        self._inst = inst
        self._operation = operation
        self._request_model = request_model
        self._span: Any = None
        self._context: Any = None
        self._attempts: list[ModelAttempt] = []

    def __enter__(self) -> CallTrace:
        inst = self._inst
        if inst is None:
            return self
        attrs: dict[str, Any] = {"gen_ai.operation.name": operation_name(self._operation)}
        if self._request_model:
            attrs["gen_ai.request.model"] = self._request_model
        name = f"{operation_name(self._operation)} {self._request_model or ''}".strip()
        self._span = inst.tracer.start_span(name, kind=inst.trace.SpanKind.CLIENT, attributes=attrs)
        self._context = inst.trace.set_span_in_context(self._span)
        return self

    def attempt(
        self,
        attempt: ModelAttempt,
        *,
        response_model: str | None = None,
        end_time_ns: int | None = None,
    ) -> None:
        """Record one finished attempt: a child span, back-dated by ``elapsed_ms``, and metrics."""
        inst = self._inst
        if inst is None:
            return
        self._attempts.append(attempt)
        if self._span is not None and self._span.is_recording():
            # Without an SDK the call span does not record: skip building attempt spans.
            attrs = attempt_attributes(attempt, self._operation, response_model)
            end = end_time_ns if end_time_ns is not None else time.time_ns()
            span = inst.tracer.start_span(
                f"{operation_name(self._operation)} {attempt.model}",
                context=self._context,
                kind=inst.trace.SpanKind.CLIENT,
                attributes=attrs,
                start_time=end - int(attempt.elapsed_ms * 1_000_000),
            )
            if attempt.outcome == "error":
                span.set_status(inst.trace.Status(inst.trace.StatusCode.ERROR))
            span.end(end_time=end)
        labels = {
            "gen_ai.provider.name": _SEMCONV_PROVIDER.get(attempt.provider, attempt.provider),
            "gen_ai.request.model": attempt.model,
            "juggler.outcome": attempt.outcome,
        }
        inst.attempts.add(1, labels)
        if attempt.outcome not in ("skipped", "cache_hit"):
            inst.duration.record(attempt.elapsed_ms / 1000.0, labels)
        if attempt.cost_usd:
            inst.cost.add(attempt.cost_usd, labels)

    def finish(
        self, models_used: Sequence[ModelAttempt] | None = None, response_model: str | None = None
    ) -> None:
        """Set the call's totals: attempts, cost, the model that answered."""
        if self._span is None or not self._span.is_recording():
            return
        used = self._attempts if models_used is None else list(models_used)
        self._span.set_attribute("juggler.attempts", len(used))
        cost = total_cost(used)
        if cost is not None:
            self._span.set_attribute("juggler.cost_usd", cost)
        winner = next((a for a in used if a.success), None)
        if winner is not None:
            self._span.set_attribute("juggler.provider", winner.provider)
            self._span.set_attribute("gen_ai.response.model", response_model or winner.model)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span = self._span
        if span is None:
            return
        inst = self._inst
        assert inst is not None
        if exc_type is not None:
            # The class name only: messages can carry provider text that quotes the prompt.
            span.set_attribute("error.type", exc_type.__name__)
            span.set_status(inst.trace.Status(inst.trace.StatusCode.ERROR))
        span.end()


class Telemetry:
    """Tracing and metrics for one Juggler.

    Args:
        tracer_provider: an OpenTelemetry ``TracerProvider`` (default: the global one).
        meter_provider: an OpenTelemetry ``MeterProvider`` (default: the global one).
        enabled: False turns everything into no-ops.

    ``Telemetry().enabled`` is False when ``opentelemetry-api`` is not installed.
    """

    def __init__(
        self, tracer_provider: Any = None, meter_provider: Any = None, *, enabled: bool = True
    ) -> None:
        self._inst: _Instruments | None = None
        if enabled:
            try:
                self._inst = _Instruments(tracer_provider, meter_provider)
            except ImportError:  # extra "otel" not installed: stay a no-op
                self._inst = None

    @property
    def enabled(self) -> bool:
        """True when spans and metrics are recorded."""
        return self._inst is not None

    def call_span(self, operation: str, request_model: str | None = None) -> CallTrace:
        """The span of one call (a context manager yielding a :class:`CallTrace`).

        ``operation`` is our capability (``chat``, ``embed``, ``rerank``, ``transcribe``,
        ``speak``); ``request_model`` the first target's model, or None.
        """
        return CallTrace(self._inst, operation, request_model)
