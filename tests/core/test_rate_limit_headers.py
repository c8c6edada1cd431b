"""Reading vendors' rate-limit headers (from real recordings) and stepping aside until reset."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from juggler._policy.limits import RateLimitBook, parse_duration, parse_rate_headers

RECORDED = json.loads((Path(__file__).parent / "data" / "ratelimit_headers.json").read_text())
NOW = 1_700_000_000.0
KEY = ("groq", "llama-3.1-8b-instant")


def _by_kind(limits: list) -> dict[str, list]:
    out: dict[str, list] = {}
    for lim in limits:
        out.setdefault(lim.kind, []).append(lim)
    return out


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("6m0s", 360.0),
        ("1s", 1.0),
        ("20ms", 0.02),
        ("10.332999999s", 10.332999999),
        ("2", 2.0),
        ("1h2m3s", 3723.0),
        ("soon", None),
    ],
)
def test_durations_parse_as_the_vendors_write_them(text: str, seconds: float | None) -> None:
    got = parse_duration(text)
    assert got == pytest.approx(seconds) if seconds is not None else got is None


def test_openai_headers_give_requests_and_tokens() -> None:
    kinds = _by_kind(parse_rate_headers(RECORDED["openai"]["headers"], NOW))
    assert kinds["requests"][0].remaining == 29999
    assert kinds["requests"][0].reset_at == pytest.approx(NOW + 0.002)
    assert kinds["tokens"][0].remaining == 149999990


def test_groq_headers_give_fractional_resets() -> None:
    kinds = _by_kind(parse_rate_headers(RECORDED["groq"]["headers"], NOW))
    assert kinds["requests"][0].remaining == 14398
    assert kinds["requests"][0].reset_at == pytest.approx(NOW + 10.332999999)
    assert kinds["tokens"][0].reset_at == pytest.approx(NOW + 0.026)


def test_together_headers_without_a_kind_are_requests() -> None:
    kinds = _by_kind(parse_rate_headers(RECORDED["together"]["headers"], NOW))
    assert kinds["requests"][0].remaining == 19
    assert kinds["requests"][0].reset_at == pytest.approx(NOW + 2)
    assert kinds["tokens"][0].remaining == 3000


def test_mistral_headers_reset_within_their_named_window() -> None:
    kinds = _by_kind(parse_rate_headers(RECORDED["mistral"]["headers"], NOW))
    assert [(r.remaining, r.reset_at - NOW) for r in kinds["requests"]] == [(59, 10.0)]
    windows = sorted(round(t.reset_at - NOW) for t in kinds["tokens"])
    assert windows == [60, 2592000]


def test_anthropic_headers_reset_at_their_rfc3339_instant() -> None:
    date = datetime(2024, 10, 16, 5, 2, 23, tzinfo=UTC).timestamp()
    kinds = _by_kind(parse_rate_headers(RECORDED["anthropic"]["headers"], date))
    assert kinds["requests"][0].remaining == 49
    assert kinds["requests"][0].reset_at == pytest.approx(date + 32)


def test_headers_without_budgets_give_nothing() -> None:
    assert parse_rate_headers({"content-type": "application/json"}, NOW) == []


def test_zero_requests_left_blocks_until_the_reset() -> None:
    book = RateLimitBook()
    book.observe(
        KEY, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s"}, NOW
    )
    reason = book.blocked(KEY, NOW + 1)
    assert reason is not None and reason.startswith("rate limit: 0 requests left until ")
    assert book.blocked(KEY, NOW + 359) is not None
    assert book.blocked(KEY, NOW + 361) is None


def test_the_skip_reason_gives_the_reset_time() -> None:
    book = RateLimitBook()
    book.observe(
        KEY, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "5s"}, NOW
    )
    when = datetime.fromtimestamp(NOW + 5, UTC).strftime("%H:%M:%S")
    assert book.blocked(KEY, NOW) == f"rate limit: 0 requests left until {when}"


def test_too_few_tokens_for_the_request_blocks() -> None:
    book = RateLimitBook()
    book.observe(
        KEY, {"x-ratelimit-remaining-tokens": "100", "x-ratelimit-reset-tokens": "10s"}, NOW
    )
    assert book.blocked(KEY, NOW, tokens=50) is None
    assert "100 tokens left" in (book.blocked(KEY, NOW, tokens=500) or "")


def test_requests_sent_since_the_last_answer_count_down() -> None:
    book = RateLimitBook()
    book.observe(
        KEY, {"x-ratelimit-remaining-requests": "1", "x-ratelimit-reset-requests": "30s"}, NOW
    )
    assert book.blocked(KEY, NOW) is None
    book.sent(KEY)
    assert book.blocked(KEY, NOW) is not None


def test_a_429_with_retry_after_blocks_for_that_long() -> None:
    book = RateLimitBook()
    book.observe(KEY, {"retry-after": "7"}, NOW, status=429)
    assert book.blocked(KEY, NOW + 6) is not None
    assert book.blocked(KEY, NOW + 8) is None


def test_soonest_prefers_an_unblocked_target_then_the_earliest_reset() -> None:
    book = RateLimitBook()
    other = ("openai", "gpt-4o-mini")
    book.observe(
        KEY, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "60s"}, NOW
    )
    book.observe(
        other, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "5s"}, NOW
    )
    assert book.soonest([KEY, other], NOW) == other
    assert book.soonest([KEY, other, ("free", "m")], NOW) == ("free", "m")
