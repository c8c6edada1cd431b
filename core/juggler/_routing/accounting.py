"""Accounting: what each attempt consumed and cost, and the budgets it draws on.

The engine hands every finished attempt's usage (as the wire reported it, or estimated from
a cut stream's text) to :meth:`Accounting.cost`, which prices it with the ``Pricer``
(user prices first, then genai-prices' bundled data; None when unknown, never a guess) and
charges the spend to the matching budgets. :meth:`Accounting.check` is one of the gate's
admission checks: a target whose budget is spent is skipped until its window rolls over.
Budget windows are calendar windows (UTC), so they read the wall clock, not the monotonic one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from juggler._policy.budget import Budgets
from juggler._policy.cost import Pricer, Units
from juggler._routing.record import Call
from juggler._types import Capability, Target, Usage
from juggler.providers.base import BaseProvider

__all__ = ["Accounting", "Metered", "meter_of"]

# What an answer says it consumed: tokens, non-token units, and the model that served it.
Metered = tuple[Usage | None, Units | None, str | None]


def meter_of(result: Any) -> Metered:
    """The default reading of an answer: its ``usage`` and ``model`` (chat, embeddings)."""
    return getattr(result, "usage", None), None, getattr(result, "model", None)


class Accounting:
    """Prices attempts and keeps the budgets; one per Juggler."""

    def __init__(
        self,
        pricer: Pricer | None = None,
        budgets: Budgets | None = None,
        *,
        wall: Callable[[], float],
    ) -> None:
        self.pricer = pricer or Pricer()
        self.budgets = budgets or Budgets({})
        self.wall = wall

    @classmethod
    def build(
        cls,
        providers: Mapping[str, Any] | None,
        budgets: Mapping[str, Any] | None,
        known: Mapping[str, Any],
        wall: Callable[[], float] = time.time,
        shared: Any = None,
    ) -> Accounting:
        """From the Juggler's ``providers=`` (user prices) and ``budgets=``, checked now:
        ``known`` (the configured providers) lets a misspelt budget key be caught. With
        ``shared`` state (Redis) the spend is counted across replicas."""
        configs = {k: v for k, v in (providers or {}).items() if not isinstance(v, BaseProvider)}
        pricer = Pricer.from_providers(configs)
        store = shared.budget_store() if shared is not None and budgets else None
        return cls(pricer, Budgets.parse(budgets, providers=known, store=store), wall=wall)

    def check(self, call: Call, target: Target) -> str | None:
        """The gate's budget check: the skip reason when ``target``'s budget is spent."""
        if not self.budgets:
            return None
        return self.budgets.allows(target.provider, target.model, self.wall())

    def cost(
        self,
        capability: Capability,
        target: Target,
        usage: Usage | None,
        units: Units | None = None,
        served_model: str | None = None,
    ) -> float | None:
        """Price one attempt and charge it to its budgets; None when the price is unknown."""
        if usage is None and units is None:
            return None
        usd = self.pricer.price(
            target.provider, target.model, capability, usage, units=units,
            served_model=served_model,
        )  # fmt: skip
        if usd and self.budgets:
            self.budgets.spend(target.provider, target.model, usd, self.wall())
        return usd
