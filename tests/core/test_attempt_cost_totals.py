"""Usage and cost on each attempt; answers and errors sum cost over every attempt."""

from __future__ import annotations

import json

import pytest

from juggler import AllProvidersFailedError, ChatResponse, StreamInterruptedError
from juggler._attempts import ModelAttempt, total_cost
from juggler._types import Usage, estimate_usage


def attempt(
    n: int, outcome: str = "error", cost: float | None = None, **kw: object
) -> ModelAttempt:
    return ModelAttempt(
        provider="p",
        model="m",
        success=outcome == "success",
        outcome=outcome,  # type: ignore[arg-type]
        attempt=n,
        cost_usd=cost,
        **kw,  # type: ignore[arg-type]
    )


def test_total_cost_sums_every_attempt_losers_included() -> None:
    used = [attempt(1, cost=0.01), attempt(2, "cancelled", cost=0.02), attempt(3, "success", 0.03)]
    assert total_cost(used) == pytest.approx(0.06)


def test_attempts_with_unknown_price_add_nothing_to_a_known_total() -> None:
    assert total_cost([attempt(1, cost=None), attempt(2, "success", 0.5)]) == 0.5


def test_total_cost_is_none_when_no_attempt_had_a_known_price() -> None:
    assert total_cost([attempt(1), attempt(2, "success")]) is None
    assert total_cost([]) is None


def test_response_cost_usd_is_the_sum_over_models_used() -> None:
    used = [attempt(1, cost=0.25), attempt(2, "success", 0.5)]
    r = ChatResponse("hi", provider="p", model="m", models_used=used)
    assert r.cost_usd == 0.75


def test_all_providers_failed_error_carries_the_cost_of_its_attempts() -> None:
    err = AllProvidersFailedError([attempt(1, cost=0.1), attempt(2, cost=0.2)])
    assert err.cost_usd == pytest.approx(0.3)


def test_stream_interrupted_error_carries_the_cost_of_the_cut_stream() -> None:
    cut = attempt(1, cost=0.004, usage=estimate_usage("x" * 40, 100))
    assert StreamInterruptedError("x" * 40, [cut]).cost_usd == 0.004


def test_an_attempt_carries_usage_and_its_dict_view_stays_plain_json() -> None:
    a = attempt(1, "success", 0.001, usage=Usage.of(10, 5, cached=4))
    assert a.usage is not None and a.usage.cached_tokens == 4
    row = json.loads(json.dumps([dict(a)]))[0]
    assert row["usage"]["input_tokens"] == 10 and row["cost_usd"] == 0.001


def test_an_attempt_without_usage_or_price_says_none() -> None:
    a = attempt(1)
    assert (a.usage, a.cost_usd, a["usage"]) == (None, None, None)


def test_the_summary_line_shows_a_known_cost() -> None:
    assert "$0.001000" in attempt(1, "success", 0.001).summary()
    assert "$" not in attempt(1, "success").summary()


def test_a_cut_stream_is_estimated_at_four_characters_per_token() -> None:
    usage = estimate_usage("a" * 10, input_tokens=30)
    assert (usage.input_tokens, usage.output_tokens, usage.estimated) == (30, 3, True)


def test_an_estimate_without_prompt_size_leaves_input_unknown() -> None:
    usage = estimate_usage("")
    assert (usage.input_tokens, usage.output_tokens, usage.estimated) == (None, 0, True)


def test_reported_usage_is_not_estimated() -> None:
    assert Usage.of(1, 2).estimated is False


def test_a_call_answered_at_an_unknown_price_costs_none_even_beside_a_free_skip():
    from juggler import ModelAttempt
    from juggler._money import total_cost

    skip = ModelAttempt(
        provider="a", model="m", success=False, outcome="skipped", attempt=1, cost_usd=0.0
    )
    answer = ModelAttempt(provider="b", model="m", success=True, outcome="success", attempt=2)
    assert total_cost([skip, answer]) is None
    assert total_cost([skip]) == 0.0
