"""Per-call routing options: how a call is attempted (sequential, hedged, raced), its
deadline and its caching. Each option defaults to the Juggler's setting of the same name and
is checked here, before any request, so a bad value is a clear error, never a silent no-op.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from juggler._config import Settings
from juggler._exceptions import InvalidRequestError

__all__ = ["ROUTING_OPTIONS", "CallOptions", "call_options", "split_options"]

ROUTING_OPTIONS = frozenset(
    {
        "deadline",
        "parallel_attempts",
        "hedge",
        "hedge_after_ms",
        "cache_enabled",
        "cache_ttl_seconds",
    }
)


@dataclass(frozen=True, slots=True)
class CallOptions:
    """The resolved options of one call. Times in seconds.

    Attributes:
        deadline: the whole call, every attempt, wait and hedge included (None: no limit).
        parallel: how many targets race at once (1: sequential).
        hedge_after: fixed hedge delay, or None.
        hedge_p95: hedge after the current target's observed p95 latency.
        cache: look up and store this call in the response cache.
        cache_ttl: lifetime of the stored answer.
    """

    deadline: float | None = None
    parallel: int = 1
    hedge_after: float | None = None
    hedge_p95: bool = False
    cache: bool = False
    cache_ttl: float = 300.0

    @property
    def concurrent(self) -> bool:
        """True when attempts may overlap (hedged or raced)."""
        return self.parallel > 1 or self.hedge_after is not None or self.hedge_p95


def _positive_number(value: Any) -> bool:
    """A real, finite, positive number: not a bool (True == 1), not NaN (NaN <= 0 is False)."""
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value > 0
    )


def split_options(params: dict[str, Any]) -> dict[str, Any]:
    """Remove the routing options from ``params`` (in place) and return them."""
    return {k: params.pop(k) for k in list(params) if k in ROUTING_OPTIONS}


def call_options(settings: Settings, given: Mapping[str, Any] | None = None) -> CallOptions:
    """Merge per-call options over the Juggler's settings, validating each."""
    given = dict(given or {})
    unknown = set(given) - ROUTING_OPTIONS
    if unknown:
        raise InvalidRequestError(f"unknown option(s) {sorted(unknown)}")

    def pick(name: str) -> Any:
        value = given.get(name)
        return getattr(settings, name) if value is None else value

    deadline = pick("deadline")
    if deadline is not None and not _positive_number(deadline):
        raise InvalidRequestError(
            f"deadline must be a positive number of seconds, got {deadline!r}"
        )
    parallel = pick("parallel_attempts")
    if isinstance(parallel, bool) or not isinstance(parallel, int) or not 1 <= parallel <= 8:
        raise InvalidRequestError(f"parallel_attempts must be an int from 1 to 8, got {parallel!r}")
    hedge = pick("hedge")
    if hedge not in (None, "p95"):
        raise InvalidRequestError(f"hedge must be 'p95' (or use hedge_after_ms=), got {hedge!r}")
    after_ms = pick("hedge_after_ms")
    if after_ms is not None and not _positive_number(after_ms):
        raise InvalidRequestError(f"hedge_after_ms must be a positive number, got {after_ms!r}")
    if parallel > 1 and (hedge or after_ms is not None):
        raise InvalidRequestError("choose parallel_attempts or hedging, not both")
    if hedge and after_ms is not None:
        raise InvalidRequestError("choose hedge='p95' or hedge_after_ms=, not both")
    cache = pick("cache_enabled")
    if not isinstance(cache, bool):
        raise InvalidRequestError(f"cache_enabled must be True or False, got {cache!r}")
    ttl = pick("cache_ttl_seconds")
    if not _positive_number(ttl):
        raise InvalidRequestError(f"cache_ttl_seconds must be a positive number, got {ttl!r}")
    return CallOptions(
        deadline=float(deadline) if deadline is not None else None,
        parallel=parallel,
        hedge_after=after_ms / 1000.0 if after_ms is not None else None,
        hedge_p95=hedge == "p95",
        cache=cache,
        cache_ttl=float(ttl),
    )
