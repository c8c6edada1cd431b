"""``response.winner`` (alias ``answered_by``) is the attempt whose answer was returned, not
``models_used[0]``, which is the first attempt and often a failure."""

from __future__ import annotations

from juggler import Juggler, RateLimitError
from juggler.testing import FakeProvider


def fleet(**settings: object) -> Juggler:
    a = FakeProvider("fake-a", script=[RateLimitError("slow down"), RateLimitError("again")])
    b = FakeProvider("fake-b", script=lambda capability, request: "from b")
    return Juggler(
        chat=["fake-a/m", "fake-b/m"],
        embed=["fake-b/e"],
        providers={**a.config(), **b.config()},
        env={},
        **settings,
    )


def test_the_winner_is_the_attempt_that_answered_not_the_first() -> None:
    j = fleet()
    r = j.chat("hello")
    assert r.models_used[0].provider == "fake-a"
    assert r.winner is not None
    assert (r.winner.provider, r.winner.model, r.winner.outcome) == ("fake-b", "m", "success")
    assert r.answered_by == r.winner
    j.close()


def test_a_cached_answer_names_the_cache_hit_as_its_winner() -> None:
    j = fleet(cache_enabled=True)
    j.chat("hello")
    again = j.chat("hello")
    assert again.winner is not None and again.winner.outcome == "cache_hit"
    j.close()


def test_every_answer_type_has_a_winner() -> None:
    j = fleet()
    vectors = j.embed(["x"])
    assert vectors.winner is not None and vectors.winner.provider == "fake-b"
    j.close()
