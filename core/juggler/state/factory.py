"""Pick a backend: a URL, a backend object, or an old ``BreakerStore``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from juggler.state.base import SharedState

__all__ = ["as_shared_state", "open_state"]


def open_state(url: str | None, **options: Any) -> SharedState:
    """The backend for ``url``: ``redis://`` / ``rediss://`` / ``unix://`` → RedisState,
    ``memory://`` or None → MemoryState. ``options`` go to the backend (``timeout``,
    ``prefix``, ...)."""
    from juggler._exceptions import InvalidRequestError

    if url is None or url in ("", "memory", "memory://"):
        from juggler.state.memory import MemoryState

        return MemoryState()
    if url.split("://", 1)[0] in ("redis", "rediss", "unix"):
        from juggler.state.redis import RedisState

        return RedisState.from_url(url, **options)
    raise InvalidRequestError(
        "state must be a URL like 'redis://127.0.0.1:6379/0' (or 'memory://'), got a"
        f" {url.split('://', 1)[0]!r} URL"
    )


def as_shared_state(value: Any) -> SharedState | None:
    """``state=`` / ``breaker_store=`` as a :class:`SharedState`: a URL, a backend, or an old
    ``BreakerStore`` (wrapped, with the same timeouts and fallback)."""
    if value is None:
        return None
    if isinstance(value, str):
        return open_state(value)
    if isinstance(value, SharedState):
        return value
    from juggler.state.legacy import BreakerStoreState

    return BreakerStoreState(value)


def resolve_state(
    state: Any, breaker_store: Any, env: Mapping[str, str] | None
) -> SharedState | None:
    """The Juggler's shared state: ``state=``, else the deprecated ``breaker_store=``, else
    ``JUGGLER_STATE_URL`` from ``env`` (default ``os.environ``); None: in process only."""
    environ = os.environ if env is None else env
    return as_shared_state(state or breaker_store or environ.get("JUGGLER_STATE_URL"))
