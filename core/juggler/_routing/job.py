"""A call as the engine sees it: what to run on each target, and how."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from juggler._routing.accounting import Metered, meter_of
from juggler._routing.options import CallOptions
from juggler._routing.plan import Choices
from juggler._types import Capability, Target
from juggler.providers.base import BaseProvider

if TYPE_CHECKING:
    from juggler.providers.types import ChatRequest

__all__ = ["Job", "Op"]

R = TypeVar("R")
Op = Callable[[BaseProvider, Target], Awaitable[R]]


@dataclass(frozen=True, slots=True)
class Job(Generic[R]):
    """One call as the engine sees it: what to run on each target, and how.

    ``cache_fields`` is everything that changes the answer (None: never cached); ``request``
    lets the planner check context windows; ``stream`` makes ``op`` a stream opener;
    ``meter`` reads an answer's usage (tokens, or units such as audio seconds) for pricing;
    ``check`` sees the planned targets before any request (and may refuse the call).
    """

    capability: Capability
    op: Op[R]
    options: CallOptions
    cache_fields: Any = None
    request: ChatRequest | None = None
    choices: Choices = field(default_factory=Choices)
    stream: bool = False
    meter: Callable[[Any], Metered] = meter_of
    check: Callable[[Sequence[Target]], None] | None = None
