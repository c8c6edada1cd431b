"""State shared through Redis (``pip install 'juggler[redis]'``), on redis-py's asyncio client.

Keys (all under ``prefix``, default ``juggler:``, and all with a time-to-live, so two apps can
share one Redis and a crashed replica leaves nothing behind for long):

==============================  ==========================================================
``{p}open:{provider}/{model}``  a circuit opening; PX = the cool-down + ``probe_grace``
``{p}probe:{…}``                the half-open probe lock (SET NX PX): one replica probes
``{p}closed:{…}``               a probe elsewhere closed the circuit (PX ``closed_ttl``)
``{p}rl:{…}``                   rate-limited ("0 requests left"); PX = until the reset
``{p}h:{…}`` / ``{p}hl:{…}``    health: ok/fail counters (hash) and last latencies (list)
``{p}rb:{window}``              retry budget: requests/retries in a fixed window
``{p}cache:{key}``              a cached answer as JSON (see ``_codec``)
``{p}budget:{key}:{start}``     budget spend (``RedisBudgetStore``, INCRBYFLOAT)
==============================  ==========================================================

The hot path costs one round trip per call: :meth:`RedisState.read` is one MULTI/EXEC that
flushes the queued health and retry counters and reads the chain's openings, rate-limit blocks
and the retry window. Changes of state are atomic (MULTI/EXEC or a Lua script). Every operation
is bounded by ``timeout`` (50 ms) and guarded by :class:`~juggler.state._guard.Guard`.

``RedisBreakerStore`` is the older circuits-only store, kept for ``breaker_store=``.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from juggler._policy.budget import BudgetStore, MemoryBudgetStore
from juggler._policy.health import percentile
from juggler.state._guard import Guard
from juggler.state.base import Key, ProbeClaim, SharedView
from juggler.state.budget import RedisBudgetStore

if TYPE_CHECKING:
    from juggler._attempts import ModelAttempt
    from juggler._types import Target

__all__ = ["RedisBreakerStore", "RedisBudgetStore", "RedisState"]

# An opening lives ``probe_grace`` past its cool-down: in that time it is "half-open" for every
# replica, including one that never saw it open, so only the lock holder sends a request.
# Atomically: still cooling down → the time left; closed by a probe elsewhere → "closed";
# else take the probe lock (or already hold it) → "mine"; else another replica probes.
_CLAIM = """
local left = redis.call('PTTL', KEYS[1])
if left > tonumber(ARGV[3]) then return {'open', left - tonumber(ARGV[3])} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'closed', 0} end
if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[1]) then return {'mine', 0} end
if redis.call('GET', KEYS[3]) == ARGV[2] then return {'mine', 0} end
return {'probing', redis.call('PTTL', KEYS[3])}
"""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisState:
    """A :class:`~juggler.state.SharedState` over ``redis.asyncio.Redis``.

    ``timeout``: bound of every operation (seconds); ``retry_after``: how long a failed store
    is skipped before the next try; ``health_samples``: latencies kept per target;
    ``retry_window``: the fleet-wide retry-budget window; ``closed_ttl``: how long a "closed by
    a probe" fact is kept; ``probe_grace``: how long after its cool-down an opening stays
    half-open for every replica (until a probe closes or re-opens it); ``url``: for the sync
    budget client (else budgets stay local).
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "juggler:",
        timeout: float = 0.05,
        retry_after: float = 1.0,
        health_samples: int = 100,
        health_ttl: float = 3600.0,
        retry_window: float = 10.0,
        closed_ttl: float = 10.0,
        probe_grace: float = 60.0,
        url: str | None = None,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.timeout = timeout
        self.health_samples = health_samples
        self.health_ttl = health_ttl
        self.retry_window = retry_window
        self.closed_ttl = closed_ttl
        self.probe_grace = probe_grace
        self.url = url
        self.guard = Guard("redis", timeout=timeout, retry_after=retry_after)
        self.guard.on_recover = self._republish
        self._token = f"{os.getpid()}-{id(self)}"
        self._local_open: dict[Key, float] = {}  # key -> monotonic end, to republish
        self._health: dict[Key, list[Any]] = {}  # key -> [ok, fail, [latencies]] queued
        self._retry = [0, 0]  # queued (requests, retries)
        self._claim: Any = None
        self._budgets: BudgetStore | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisState:
        """A RedisState with its own client: no retries inside redis-py (the guard decides
        when to try again, and bounds each operation by ``timeout``)."""
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # The guard bounds every operation; these only stop a socket from waiting forever.
        timeout = max(0.25, float(options.get("timeout", 0.05)))
        client = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0), retry_on_timeout=False,
        )  # fmt: skip
        return cls(client, url=url, **options)

    def _k(self, kind: str, key: Key) -> str:
        return f"{self.prefix}{kind}:{key[0]}/{key[1]}"

    # ----- the hot path: one round trip -----

    async def read(self, keys: Sequence[Key]) -> SharedView:
        """Flush queued counters and read openings, blocks and the retry window (MULTI)."""
        health, self._health = self._health, {}
        retry, self._retry = self._retry, [0, 0]
        window = f"{self.prefix}rb:{int(time.time() // self.retry_window)}"
        keys = list(keys)

        async def go() -> SharedView:
            pipe = self.client.pipeline(transaction=True)
            for key, (ok, fail, samples) in health.items():
                h, hl = self._k("h", key), self._k("hl", key)
                pipe.hincrby(h, "ok", ok).hincrby(h, "fail", fail).pexpire(h, _ms(self.health_ttl))
                pipe.lpush(hl, *samples).ltrim(hl, 0, self.health_samples - 1)
                pipe.pexpire(hl, _ms(self.health_ttl))
            written = len(pipe)
            if retry != [0, 0]:
                pipe.hincrby(window, "requests", retry[0]).hincrby(window, "retries", retry[1])
                pipe.pexpire(window, _ms(self.retry_window * 2))
                written = len(pipe)
            for key in keys:
                pipe.pttl(self._k("open", key))
            for key in keys:
                pipe.pttl(self._k("rl", key))
            pipe.hmget(window, "requests", "retries")
            answers = (await pipe.execute())[written:]
            n = len(keys)
            opens, blocks, counts = answers[:n], answers[n : 2 * n], answers[2 * n]
            return SharedView(
                circuits={
                    k: max(0.0, ms / 1000 - self.probe_grace)
                    for k, ms in zip(keys, opens, strict=True)
                    if ms > 0
                },
                blocked={k: ms / 1000 for k, ms in zip(keys, blocks, strict=True) if ms > 0},
                retries=(int(counts[0] or 0), int(counts[1] or 0)),
            )

        return await self.guard.run("read shared state", go, SharedView())

    def observe(self, target: Target, attempt: ModelAttempt) -> None:
        """Queue an answered or failed attempt for the shared health figures."""
        if attempt.outcome not in ("success", "error"):
            return
        entry = self._health.setdefault((target.provider, target.model), [0, 0, []])
        entry[0 if attempt.outcome == "success" else 1] += 1
        if len(entry[2]) < self.health_samples:
            entry[2].append(round(float(attempt.elapsed_ms), 1))
        if len(self._health) > 256:  # store down for long: keep memory bounded
            self._health.pop(next(iter(self._health)))

    def count_retry_budget(self, requests: int, retries: int) -> None:
        """Queue retry-budget counts."""
        self._retry[0] += requests
        self._retry[1] += retries

    # ----- state changes (atomic) -----

    async def open_circuit(self, key: Key, seconds: float) -> None:
        """Open for every replica; a pending probe lock and an old "closed" fact go."""
        self._local_open[key] = time.monotonic() + seconds

        async def go() -> None:
            pipe = self.client.pipeline(transaction=True)
            pipe.set(self._k("open", key), "1", px=_ms(seconds + self.probe_grace))
            pipe.delete(self._k("probe", key), self._k("closed", key))
            await pipe.execute()

        await self.guard.run("share an open circuit", go, None)

    async def close_circuit(self, key: Key) -> None:
        """Closed by a probe: drop the opening and the lock, tell the others it is closed."""
        self._local_open.pop(key, None)

        async def go() -> None:
            pipe = self.client.pipeline(transaction=True)
            pipe.delete(self._k("open", key), self._k("probe", key))
            pipe.set(self._k("closed", key), "1", px=_ms(self.closed_ttl))
            await pipe.execute()

        await self.guard.run("share a closed circuit", go, None)

    async def claim_probe(self, key: Key, seconds: float) -> ProbeClaim:
        """The probe lock (Lua: one round trip, atomic). Store down: probe locally."""
        if self._claim is None:
            self._claim = self.client.register_script(_CLAIM)
        keys = [self._k("open", key), self._k("closed", key), self._k("probe", key)]

        async def go() -> ProbeClaim:
            args = [_ms(seconds), self._token, _ms(self.probe_grace)]
            kind, ms = await self._claim(keys=keys, args=args)
            kind = _text(kind)
            if kind in ("mine", "closed"):
                return kind  # type: ignore[return-value]
            return max(0.001, int(ms) / 1000)

        return await self.guard.run("claim the half-open probe", go, "mine")

    async def block(self, key: Key, seconds: float) -> None:
        """Rate-limited until the reset, for every replica."""
        await self.guard.run(
            "share a rate limit",
            lambda: self.client.set(self._k("rl", key), "1", px=_ms(seconds)),
            None,
        )

    async def _republish(self) -> None:
        """Back up: publish the openings made while the store was down."""
        now = time.monotonic()
        live = {k: end - now for k, end in self._local_open.items() if end > now}
        self._local_open = {k: now + s for k, s in live.items()}
        if live:
            pipe = self.client.pipeline(transaction=True)
            for key, seconds in live.items():
                pipe.set(self._k("open", key), "1", px=_ms(seconds + self.probe_grace))
            await pipe.execute()

    # ----- reads off the hot path -----

    async def health(self, keys: Sequence[Key]) -> dict[Key, dict[str, Any]]:
        """Success rate and p50/p95 over every replica's recent attempts."""
        keys = list(keys)

        async def go() -> dict[Key, dict[str, Any]]:
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.hmget(self._k("h", key), "ok", "fail").lrange(self._k("hl", key), 0, -1)
            answers = await pipe.execute()
            out: dict[Key, dict[str, Any]] = {}
            for i, key in enumerate(keys):
                (ok, fail), samples = answers[2 * i], answers[2 * i + 1]
                ok, fail = int(ok or 0), int(fail or 0)
                latencies = sorted(float(s) for s in samples)
                out[key] = {
                    "successes": ok, "failures": fail,
                    "success_rate": ok / (ok + fail) if ok + fail else None,
                    "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
                }  # fmt: skip
            return out

        return await self.guard.run("read shared health", go, {})

    async def cache_get(self, key: str) -> str | None:
        """A cached answer's JSON, or None."""
        value = await self.guard.run(
            "read the shared cache", lambda: self.client.get(f"{self.prefix}cache:{key}"), None
        )
        return None if value is None else _text(value)

    async def cache_put(self, key: str, value: str, ttl: float) -> None:
        """Store an answer's JSON for ``ttl`` seconds."""
        await self.guard.run(
            "write the shared cache",
            lambda: self.client.set(f"{self.prefix}cache:{key}", value, px=_ms(ttl)),
            None,
        )

    def budget_store(self) -> BudgetStore:
        """Shared spend (a sync client with the same timeout), or local without a URL."""
        if self._budgets is None:
            if self.url is None:
                self._budgets = MemoryBudgetStore()
            else:
                self._budgets = RedisBudgetStore.from_url(
                    self.url, prefix=self.prefix, timeout=self.timeout
                )
        return self._budgets

    def state_status(self) -> dict[str, Any]:
        """Backend, up/down, the last error (redacted) and the timeout."""
        return {"backend": "redis", "prefix": self.prefix, **self.guard.status()}

    async def aclose(self) -> None:
        """Close the connection pool."""
        with contextlib.suppress(Exception):  # closing a client of a dead server must not raise
            await self.client.aclose()


class RedisBreakerStore:
    """The older circuits-only store (``Juggler(breaker_store=RedisBreakerStore(client))``,
    deprecated: use ``Juggler(state="redis://...")``)."""

    def __init__(self, client: Any, prefix: str = "juggler:circuit:") -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, provider: str, model: str) -> str:
        return f"{self.prefix}{provider}/{model}"

    async def publish_open(self, provider: str, model: str, seconds: float) -> None:
        """Open (provider, model) for every replica for ``seconds``."""
        await _done(self.client.set(self._key(provider, model), "open", px=_ms(seconds)))

    async def clear(self, provider: str, model: str) -> None:
        """A probe closed the circuit: forget the shared opening."""
        await _done(self.client.delete(self._key(provider, model)))

    async def open_remaining(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """Seconds left for each key that is open somewhere (PTTL > 0), in one round trip."""
        keys = list(keys)
        if not keys:
            return {}
        pipe = self.client.pipeline()
        for provider, model in keys:
            pipe.pttl(self._key(provider, model))
        answers = await _done(pipe.execute())
        return {
            key: ms / 1000.0
            for key, ms in zip(keys, answers, strict=True)
            if isinstance(ms, int) and ms > 0
        }


async def _done(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value
