"""Budgets: fixed UTC-aligned windows, skip reasons, roll-over, validation (injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from juggler._exceptions import InvalidRequestError
from juggler._policy.budget import Budgets, MemoryBudgetStore, window_of

# 2026-12-07 (a Monday) 14:30:15 UTC
NOW = datetime(2026, 12, 7, 14, 30, 15, tzinfo=UTC).timestamp()
DAY = 86400.0


def budgets() -> Budgets:
    return Budgets.parse(
        {
            "openai": {"usd": 5, "per": "day"},
            "anthropic/claude-sonnet-4-5": {"usd": 1, "per": "hour"},
        }
    )


def test_a_fresh_budget_allows_the_target() -> None:
    assert budgets().allows("openai", "gpt-4o-mini", NOW) is None


def test_spend_below_the_limit_still_allows() -> None:
    b = budgets()
    b.spend("openai", "gpt-4o-mini", 4.99, NOW)
    assert b.allows("openai", "gpt-4o-mini", NOW) is None


def test_a_spent_provider_budget_skips_every_model_of_it_with_the_reset_time() -> None:
    b = budgets()
    b.spend("openai", "gpt-4o-mini", 3.0, NOW)
    b.spend("openai", "gpt-4o", 2.0, NOW + 60)
    reason = b.allows("openai", "text-embedding-3-small", NOW + 120)
    assert reason == "budget: $5.00 per day for openai spent, resets at 00:00:00 UTC"


def test_a_model_budget_does_not_cover_other_models_of_the_provider() -> None:
    b = budgets()
    b.spend("anthropic", "claude-sonnet-4-5", 1.0, NOW)
    assert b.allows("anthropic", "claude-sonnet-4-5", NOW) == (
        "budget: $1.00 per hour for anthropic/claude-sonnet-4-5 spent, resets at 15:00:00 UTC"
    )
    assert b.allows("anthropic", "claude-haiku-4-5", NOW) is None


def test_the_budget_comes_back_when_the_window_rolls_over() -> None:
    b = budgets()
    b.spend("openai", "gpt-4o-mini", 5.0, NOW)
    midnight = datetime(2026, 12, 8, tzinfo=UTC).timestamp()
    assert b.allows("openai", "gpt-4o-mini", midnight - 1) is not None
    assert b.allows("openai", "gpt-4o-mini", midnight) is None


def test_unknown_cost_is_not_counted() -> None:
    b = budgets()
    b.spend("openai", "gpt-4o-mini", None, NOW)
    assert b.snapshot(NOW)["openai"]["spent_usd"] == 0.0


def test_an_unbudgeted_provider_is_always_allowed() -> None:
    b = budgets()
    b.spend("groq", "llama", 1000.0, NOW)
    assert b.allows("groq", "llama", NOW) is None


def test_snapshot_shows_spend_remaining_and_reset() -> None:
    b = budgets()
    b.spend("openai", "gpt-4o-mini", 1.25, NOW)
    snap = b.snapshot(NOW)
    assert snap["openai"] == {
        "usd": 5.0,
        "per": "day",
        "spent_usd": 1.25,
        "remaining_usd": 3.75,
        "exhausted": False,
        "resets_at": "2026-12-08T00:00:00+00:00",
    }
    assert snap["anthropic/claude-sonnet-4-5"]["spent_usd"] == 0.0


def test_windows_are_aligned_to_the_period_in_utc() -> None:
    assert window_of("minute", NOW) == (NOW - 15, NOW + 45)
    assert window_of("day", NOW)[0] == datetime(2026, 12, 7, tzinfo=UTC).timestamp()
    monday = datetime(2026, 12, 7, tzinfo=UTC).timestamp()
    assert window_of("week", NOW + 3 * DAY) == (monday, monday + 7 * DAY)
    assert window_of("month", NOW) == (
        datetime(2026, 12, 1, tzinfo=UTC).timestamp(),
        datetime(2027, 1, 1, tzinfo=UTC).timestamp(),
    )


def test_a_reset_more_than_a_day_away_names_the_date() -> None:
    b = Budgets.parse({"openai": {"usd": 1, "per": "month"}})
    b.spend("openai", "m", 2.0, NOW)
    assert b.allows("openai", "m", NOW) == (
        "budget: $1.00 per month for openai spent, resets at 2027-01-01 00:00:00 UTC"
    )


def test_the_store_keeps_state_so_two_budgets_objects_can_share_it() -> None:
    store = MemoryBudgetStore()
    Budgets.parse({"openai": {"usd": 1}}, store=store).spend("openai", "m", 1.0, NOW)
    assert Budgets.parse({"openai": {"usd": 1}}, store=store).allows("openai", "m", NOW)


def test_per_defaults_to_day() -> None:
    assert Budgets.parse({"openai": {"usd": 1}}).snapshot(NOW)["openai"]["per"] == "day"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"openai": {"usd": 5, "per": "dya"}}, "did you mean 'day'"),
        ({"openai": {"usd": 5, "pre": "day"}}, "did you mean 'per'"),
        ({"openai": {"usd": -1}}, "positive"),
        ({"openai": {"usd": "five"}}, "positive"),
        ({"openai": {"per": "day"}}, "needs usd"),
        ({"openai": 5}, "must be a dict"),
        ({"/gpt-4o": {"usd": 5}}, "provider/model"),
        ([("openai", 5)], "must be a dict"),
    ],
)
def test_a_malformed_budget_is_an_invalid_request(raw: object, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        Budgets.parse(raw)  # type: ignore[arg-type]


def test_an_unknown_provider_is_caught_with_a_suggestion() -> None:
    with pytest.raises(InvalidRequestError, match="did you mean 'openai'"):
        Budgets.parse({"opnai": {"usd": 5}}, providers={"openai": {}, "groq": {}})
