"""The exact-match response cache: key = canonical JSON of everything that changes the answer.

Values are the provider's result and the target that produced it; a hit is served at once,
with ``cached=True`` and one ``cache_hit`` attempt in models_used. Only successful, complete
answers are stored (the engine never stores an error or a partial stream).

Defaults: ``ttl=300`` s (the seed's ``cache_ttl_seconds``: long enough to absorb retries and
duplicate requests from a burst of users, short enough that a changed prompt template or
model update shows within minutes) and ``max_entries=1024`` (least recently used go first;
a chat answer is a few KB, so the cache stays within a few MB).

Shared between replicas: with ``shared`` set (a :class:`~juggler.state.SharedState`, e.g.
Redis), :meth:`ResponseCache.aget` falls back to the shared cache on a local miss and
:meth:`ResponseCache.aput` writes through. Answers travel as tagged JSON
(:mod:`juggler.state._codec`), never pickle. A store that is down only costs the misses.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from juggler._types import Target

if TYPE_CHECKING:
    from juggler.state.base import SharedState

__all__ = ["ResponseCache", "cache_key", "canonical_json"]

logger = logging.getLogger("juggler")


def _fresh(result: Any) -> Any:
    """A copy a caller may mutate without changing the cached answer. Vectors are copied
    list by list (deepcopy of thousands of floats would cost milliseconds); the rest is small.
    """
    vectors = getattr(result, "vectors", None)
    if isinstance(vectors, list):
        return dataclasses.replace(result, vectors=[list(v) for v in vectors])
    return copy.deepcopy(result)


def _plain(value: Any) -> Any:
    """JSON-able form: dataclasses and pydantic models as dicts, bytes as a digest."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes | bytearray):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return base64.b64encode(repr(value).encode()).decode()


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace: equal requests give equal text."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cache_key(capability: str, chain: Sequence[Target], request: Any) -> str:
    """The key of one call: capability, the planned target chain, and the whole request."""
    text = canonical_json(
        {"capability": capability, "chain": [str(t) for t in chain], "request": request}
    )
    return hashlib.sha256(text.encode()).hexdigest()


class ResponseCache:
    """In-memory TTL + LRU store. ``clock`` is injectable; each entry may have its own TTL."""

    def __init__(
        self,
        ttl: float = 300.0,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedState | None = None,
    ) -> None:
        self.ttl = ttl
        self.shared = shared
        self.max_entries = max_entries
        # Each value carries its own expiry time, so a per-call TTL can differ from the
        # default. An OrderedDict is the LRU: a hit moves to the end, the front goes first.
        self._store: OrderedDict[str, tuple[float, Any, Target]] = OrderedDict()
        self._clock = clock
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> tuple[Any, Target] | None:
        """The stored (result, target), or None."""
        entry = self._store.get(key)
        if entry is not None and entry[0] <= self._clock():
            del self._store[key]
            entry = None
        if entry is None:
            self.misses += 1
            return None
        self._store.move_to_end(key)
        self.hits += 1
        return _fresh(entry[1]), entry[2]

    def put(self, key: str, result: Any, target: Target, ttl: float | None = None) -> None:
        """Store a successful answer for ``ttl`` seconds (default: the cache's TTL)."""
        seconds = self.ttl if ttl is None else ttl
        if seconds <= 0:
            return
        self._store[key] = (self._clock() + seconds, result, target)
        self._store.move_to_end(key)
        now = self._clock()
        # Expired entries go first, then the least recently used, down to the bound.
        for stale in [k for k, v in self._store.items() if v[0] <= now][:8]:
            del self._store[stale]
        while len(self._store) > self.max_entries:
            self._store.popitem(last=False)

    async def aget(self, key: str) -> tuple[Any, Target] | None:
        """:meth:`get`, then the shared cache on a local miss (kept locally once found)."""
        hit = self.get(key)
        if hit is not None or self.shared is None:
            return hit
        text = await self.shared.cache_get(key)
        if text is None:
            return None
        from juggler.state._codec import loads

        try:
            entry = loads(text)
            result, target = entry["result"], entry["target"]
            if not isinstance(target, Target):
                raise TypeError("not a target")
        except Exception as exc:  # a malformed or foreign entry is a miss, never a crash
            logger.debug("juggler: ignoring a shared cache entry: %s", type(exc).__name__)
            return None
        self.misses -= 1
        self.hits += 1
        self.put(key, result, target)
        return _fresh(result), target

    async def aput(self, key: str, result: Any, target: Target, ttl: float | None = None) -> None:
        """:meth:`put`, and write through to the shared cache."""
        self.put(key, result, target, ttl)
        seconds = self.ttl if ttl is None else ttl
        if self.shared is None or seconds <= 0:
            return
        from juggler.state._codec import dumps

        try:
            text = dumps({"result": result, "target": target})
        except TypeError:  # an answer type the codec does not carry stays local
            return
        await self.shared.cache_put(key, text, seconds)

    def clear(self) -> None:
        """Forget everything."""
        self._store.clear()

    def __len__(self) -> int:
        return len(self._store)
