"""What a call cost: the sum over its attempts. A leaf module (it imports nothing of
juggler), so the answers, the attempt records and the exceptions can all use it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["total_cost"]


def total_cost(attempts: Iterable[Any]) -> float | None:
    """The cost of a call: the sum of ``cost_usd`` over every attempt that sent a request,
    losers included.

    Attempts whose price is unknown add nothing, so the total is a floor when some are
    unknown; it is None when no attempt that sent a request had a known cost (the call's cost
    is unknown, not zero: a skipped target's known $0 says nothing about the one that
    answered). A call that sent no request (a cache hit, every target skipped) costs ``0.0``.
    """
    attempts = list(attempts)
    sent = [a for a in attempts if getattr(a, "outcome", None) not in ("skipped", "cache_hit")]
    if not sent:
        return 0.0 if attempts else None
    known = [a.cost_usd for a in sent if a.cost_usd is not None]
    return sum(known) if known else None
