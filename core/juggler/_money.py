"""What a call cost: the sum over its attempts. A leaf module (it imports nothing of
juggler), so the answers, the attempt records and the exceptions can all use it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["total_cost"]


def total_cost(attempts: Iterable[Any]) -> float | None:
    """The cost of a call: the sum of ``cost_usd`` over every attempt, losers included.

    Attempts whose price is unknown add nothing; the total is None only when no attempt had a
    known cost (then the call's cost is unknown, not zero). A call answered from the cache or
    with every target skipped costs ``0.0`` because those attempts carry ``cost_usd=0.0``.
    """
    known = [a.cost_usd for a in attempts if a.cost_usd is not None]
    return sum(known) if known else None
