"""The traffic policy's own rules: in-flight requests lower an announced budget, token caps
use the request's estimate, and limiter settings are checked when the Juggler is built."""

from __future__ import annotations

import pytest

from juggler import InvalidRequestError, Juggler
from juggler._policy.limits import RateLimitBook
from juggler.testing import FakeProvider

HEADERS = {"x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "10s"}


def test_requests_still_in_flight_are_taken_from_the_announced_remaining() -> None:
    book = RateLimitBook()
    book.observe("k", HEADERS, 1000.0, in_flight=3)  # 3 left, but 3 more already on the way
    assert book.blocked("k", 1000.0) is not None
    book.observe("k", HEADERS, 1000.0, in_flight=2)
    assert book.blocked("k", 1000.0) is None


def test_a_tpm_cap_skips_a_target_when_the_request_estimate_exceeds_it() -> None:
    fakes = {"capped": FakeProvider("capped"), "other": FakeProvider("other")}
    j = Juggler(chat=[{"target": "capped/m", "tpm": 50}, "other/m"], providers=fakes)
    small = j.chat("hi")
    large = j.chat("word " * 200)  # about 250 tokens by the estimate
    j.close()
    assert small.provider == "capped"
    assert large.provider == "other"
    assert large.models_used[0].error == "rate limit: tpm cap 50 reached (client side)"


def test_an_unknown_limiter_key_is_refused_when_the_juggler_is_built() -> None:
    with pytest.raises(InvalidRequestError, match="limiter: unknown key 'store'"):
        Juggler(chat=["f/m"], providers={"f": FakeProvider("f")}, limiter={"store": "x"})


def test_when_every_client_side_cap_is_spent_the_cap_that_frees_first_is_still_tried() -> None:
    fakes = {"a": FakeProvider("a"), "b": FakeProvider("b")}
    j = Juggler(chat=[{"target": "a/m", "rpm": 1}, {"target": "b/m", "rpm": 1}], providers=fakes)
    first, second, third = (j.chat("hi") for _ in range(3))
    j.close()
    assert [first.provider, second.provider] == ["a", "b"]
    # Both caps are spent; a's window started first, so a frees first and is asked.
    assert third.provider == "a"
    assert [(m.provider, m.outcome) for m in third.models_used] == [("a", "success")]
