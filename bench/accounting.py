"""What cost accounting and tracing add to one call, as ratios to one raw httpx request.

Per call the engine will: price each attempt (``Pricer.price``), check and charge budgets
(``Budgets.allows`` / ``spend``), and open a call span with one attempt span
(``Telemetry.call_span`` / ``CallTrace.attempt``). Each is timed in process on the same
attempt, against a baseline taken in the same run: one request through a raw
``httpx.Client`` with an in-process ``MockTransport`` (the client's own cost of a request
with no network; a real provider call is hundreds of times longer).

    .venv/bin/python bench/accounting.py
"""

from __future__ import annotations

import itertools
import timeit
from collections.abc import Callable

import httpx
from _common import Row

from juggler._attempts import ModelAttempt
from juggler._policy.budget import Budgets
from juggler._policy.cost import Pricer
from juggler._telemetry import Telemetry
from juggler._types import Usage


def _per_call_us(fn: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def run(quick: bool = False) -> list[Row]:
    """Time each piece; ratios are against one raw httpx request in the same run."""
    number = 200 if quick else 2000
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})))
    attempt = ModelAttempt(
        provider="openai",
        model="gpt-4o-mini",
        success=True,
        outcome="success",
        attempt=1,
        elapsed_ms=5.0,
        usage=Usage.of(100, 20),
        cost_usd=1e-5,
    )
    usage = Usage.of(100, 20)
    memo = Pricer()
    fresh = Pricer(memo_size=1)
    counter = itertools.count(1)
    budgets = Budgets.parse({"openai": {"usd": 5, "per": "day"}})
    off, api_only = Telemetry(enabled=False), Telemetry()

    def traced(telemetry: Telemetry) -> None:
        with telemetry.call_span("chat", "gpt-4o-mini") as call:
            call.attempt(attempt)
            call.finish()

    def budget() -> None:
        budgets.allows("openai", "gpt-4o-mini", 1e9)
        budgets.spend("openai", "gpt-4o-mini", 1e-5, 1e9)

    cases: dict[str, Callable[[], object]] = {
        "raw httpx request (MockTransport)": lambda: client.get("http://bench/"),
        "Pricer.price, new usage (genai-prices)": lambda: fresh.price(
            "openai", "gpt-4o-mini", "chat", Usage.of(next(counter), 20)
        ),
        "Pricer.price, repeated usage (memo)": lambda: memo.price(
            "openai", "gpt-4o-mini", "chat", usage
        ),
        "Budgets.allows + spend": budget,
        "Telemetry disabled: call + 1 attempt": lambda: traced(off),
        "Telemetry, otel API without SDK": lambda: traced(api_only),
    }
    try:
        from opentelemetry.sdk.trace import TracerProvider

        sdk = Telemetry(TracerProvider())  # spans made, exported nowhere
        cases["Telemetry, otel SDK, no exporter"] = lambda: traced(sdk)
    except ImportError:
        pass
    timings = {name: _per_call_us(fn, number) for name, fn in cases.items()}
    base = timings["raw httpx request (MockTransport)"]
    return [
        Row("accounting", name, {"us per call": us}, {"vs one request": us / base})
        for name, us in timings.items()
    ]


if __name__ == "__main__":
    for row in run():
        ratio = row.ratios["vs one request"]
        print(f"{row.case:42} {row.figures['us per call']:8.1f} us  {ratio:6.3f}x")
