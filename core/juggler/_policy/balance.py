"""Which member of a group of equivalent deployments goes first: the balancing strategies.

A group is one chain position served by several targets (other keys, regions or vendors of
the same model). A strategy only *orders* the members: the first is tried, the others are its
first fallbacks, before the chain moves on. Pure: randomness, the in-flight counts and the
latency figures are all injected, so every strategy is tested without a clock or a network.

Strategies:
    ``order``: as configured (today's behaviour, the default).
    ``weighted``: the first member is drawn at random by weight; the rest follow, drawn the
        same way among those left (so the fallback order is weighted too).
    ``least-busy``: fewest calls in flight first; ties keep the configured order.
    ``fastest``: lowest recent latency first; members without figures count as fastest (they
        must be measured); with probability ``explore`` a random other member goes first, so a
        deployment that was slow and has recovered is tried again and its figure refreshed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

__all__ = [
    "STRATEGIES",
    "Balanced",
    "InFlight",
    "Strategy",
    "order_group",
]

Strategy = Literal["order", "weighted", "least-busy", "fastest"]
STRATEGIES: tuple[str, ...] = ("order", "weighted", "least-busy", "fastest")

DEFAULT_EXPLORE = 0.05
"""Share of ``fastest`` calls that put a random other member first (5%: a recovered member
is re-measured within ~20 calls, while 95% of the traffic still goes to the fastest)."""


class Balanced(Hashable, Protocol):
    """What a strategy needs of a member: a weight and a hashable identity."""

    @property
    def weight(self) -> float | None:
        """Share of the group's traffic under ``weighted`` (None: 1)."""


M = TypeVar("M", bound=Balanced)


@dataclass(slots=True)
class InFlight:
    """Calls in flight per member. The engine acquires when it sends and releases when the
    attempt ends (success, failure or cancellation), in a ``finally``."""

    counts: dict[Hashable, int] = field(default_factory=dict)

    def acquire(self, member: Hashable) -> None:
        """One more call to ``member`` is in flight."""
        self.counts[member] = self.counts.get(member, 0) + 1

    def release(self, member: Hashable) -> None:
        """A call to ``member`` ended."""
        left = self.counts.get(member, 0) - 1
        if left > 0:
            self.counts[member] = left
        else:
            self.counts.pop(member, None)

    def __call__(self, member: Hashable) -> int:
        """Calls to ``member`` in flight now."""
        return self.counts.get(member, 0)


def order_group(
    members: Sequence[M],
    strategy: str = "order",
    *,
    rng: random.Random | None = None,
    in_flight: Callable[[M], int] | None = None,
    latency_ms: Callable[[M], float | None] | None = None,
    explore: float = DEFAULT_EXPLORE,
) -> list[M]:
    """The members of one group in the order they should be tried.

    Args:
        members: the group's targets, in configured order.
        strategy: one of :data:`STRATEGIES`.
        rng: random source of ``weighted`` and ``fastest``'s exploration (seed it in tests).
        in_flight: calls in flight per member (an :class:`InFlight`), for ``least-busy``.
        latency_ms: a recent latency figure per member (e.g. the health board's p50), or
            None when unknown, for ``fastest``.
        explore: share of ``fastest`` calls that try a random other member first.
    """
    members = list(members)
    if len(members) < 2 or strategy == "order":
        return members
    draw = rng or random.Random()
    if strategy == "weighted":
        return _weighted(members, draw)
    if strategy == "least-busy":
        busy = in_flight or (lambda _m: 0)
        return sorted(members, key=busy)  # sorted() is stable: ties keep the configured order
    if strategy == "fastest":
        return _fastest(members, draw, latency_ms or (lambda _m: None), explore)
    raise ValueError(f"unknown group strategy {strategy!r}; known: {', '.join(STRATEGIES)}")


def _weight(member: Balanced) -> float:
    return 1.0 if member.weight is None else float(member.weight)


def _weighted(members: list[M], rng: random.Random) -> list[M]:
    left = list(members)
    out: list[M] = []
    while left:
        pick = rng.choices(range(len(left)), weights=[_weight(m) for m in left])[0]
        out.append(left.pop(pick))
    return out


def _fastest(
    members: list[M],
    rng: random.Random,
    latency_ms: Callable[[M], float | None],
    explore: float,
) -> list[M]:
    figures = [latency_ms(m) for m in members]
    # Unmeasured members sort first (-1): the only way to learn their latency is to try them.
    slots = sorted(
        range(len(members)), key=lambda i: (-1.0 if figures[i] is None else figures[i], i)
    )
    ranked = [members[i] for i in slots]
    if explore > 0 and rng.random() < explore:
        chosen = ranked.pop(rng.randrange(1, len(ranked)) if len(ranked) > 1 else 0)
        ranked.insert(0, chosen)
    return ranked
