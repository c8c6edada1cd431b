"""Per-call routing options: how a call is attempted (sequential, hedged, raced), its
deadline and its caching. Each option defaults to the Juggler's setting of the same name and
is checked here, before any request, so a bad value is a clear error, never a silent no-op.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from juggler._config import Settings
from juggler._exceptions import InvalidRequestError
from juggler._params import CHAT_PARAMS, ChatParams

__all__ = [
    "CHAT_KEYWORDS",
    "ROUTING_OPTIONS",
    "CallOptions",
    "ChatKwargs",
    "RoutingOptions",
    "call_options",
    "retries_for",
    "split_options",
]

ROUTING_OPTIONS = frozenset(
    {
        "deadline",
        "parallel_attempts",
        "hedge",
        "hedge_after_ms",
        "cache_enabled",
        "cache_ttl_seconds",
        "timeout",
        "retries",
    }
)


class RoutingOptions(TypedDict, total=False):
    """The per-call routing keywords every call takes (``deadline`` is a named parameter).

    Attributes:
        parallel_attempts: race the top N targets at once (1: sequential).
        hedge_after_ms: start the next target after this many milliseconds without an answer.
        hedge: ``"p95"``: hedge after the current target's own observed p95 latency.
        cache_enabled: look this call up in (and store it into) the response cache.
        cache_ttl_seconds: how long this call's answer stays cached.
        timeout: seconds per attempt for this call (for streams, see ``first_token_timeout``).
        retries: same-target retries on the last target left, for this call.
    """

    parallel_attempts: int
    hedge_after_ms: float | None
    hedge: Literal["p95"] | None
    cache_enabled: bool
    cache_ttl_seconds: float
    timeout: float
    retries: int


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
        timeout: this call's limit per attempt (None: the Juggler's ``timeout``).
        retries: this call's same-target retries on the last target (None: the Juggler's).
    """

    deadline: float | None = None
    parallel: int = 1
    hedge_after: float | None = None
    hedge_p95: bool = False
    cache: bool = False
    cache_ttl: float = 300.0
    timeout: float | None = None
    retries: int | None = None

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


def retries_for(options: CallOptions, settings: Settings, index: int, chain_length: int) -> int:
    """Same-target retries at position ``index``: the last target left gets ``retries`` (the
    call's, else the Juggler's), the others ``retries_per_target`` (0 by default: hand over
    at once, as a 429 should)."""
    if index == chain_length - 1:
        return options.retries if options.retries is not None else settings.retries
    return settings.retries_per_target


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
    timeout = given.get("timeout")
    if timeout is not None and not _positive_number(timeout):
        raise InvalidRequestError(f"timeout must be a positive number of seconds, got {timeout!r}")
    retries = given.get("retries")
    if retries is not None and (
        isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10
    ):
        raise InvalidRequestError(f"retries must be an int from 0 to 10, got {retries!r}")
    return CallOptions(
        timeout=float(timeout) if timeout is not None else None,
        retries=retries,
        deadline=float(deadline) if deadline is not None else None,
        parallel=parallel,
        hedge_after=after_ms / 1000.0 if after_ms is not None else None,
        hedge_p95=hedge == "p95",
        cache=cache,
        cache_ttl=float(ttl),
    )


class ChatKwargs(ChatParams, RoutingOptions, total=False):
    """The keyword arguments of :meth:`Juggler.chat` and its twins: the chat parameters
    (declared once, in ``juggler._params``) and the routing options."""


CHOICES = frozenset({"targets", "model", "tier", "preferred_provider", "preferred_model"})
CHAT_KEYWORDS = frozenset(CHAT_PARAMS) | ROUTING_OPTIONS | CHOICES
