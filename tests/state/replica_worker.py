"""What one replica does in the multi-process tests (runs in a spawned worker process)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

_barriers: dict[int, Any] = {}


def init(barriers: dict[int, Any]) -> None:
    """Pool initializer: keep the barriers."""
    _barriers.update(barriers)


def line_up(parties: int | None) -> None:
    if parties:
        _barriers[parties].wait(timeout=30)


def calls(
    state: str | None,
    providers: dict[str, Any],
    chain: list[str],
    n: int,
    settings: dict[str, Any],
    parties: int | None = None,
    pause: float = 0.0,
) -> list[list[tuple[str, str, str | None]]]:
    """Make ``n`` chat calls as a fresh replica; each call's (provider, outcome, note)."""
    from juggler import Juggler

    async def main() -> list[list[tuple[str, str, str | None]]]:
        juggler = Juggler(chat=chain, providers=providers, env={}, state=state, **settings)
        out = []
        line_up(parties)
        for _ in range(n):
            answer = await juggler.achat("hello")
            out.append([(a.provider, a.outcome, a.error) for a in answer.models_used])
            if pause:
                await asyncio.sleep(pause)  # spread the calls of one replica over the window
        if juggler.engine.gate.shared is not None:
            await juggler.engine.gate.shared.aclose()
        await juggler.aclose()
        juggler.close()
        return out

    return asyncio.run(main())


def spend(url: str, prefix: str, usd: float, cost: float, parties: int) -> float:
    """Charge ``cost`` per call to a shared budget until it refuses; what this replica spent."""
    from juggler._policy.budget import Budgets
    from juggler.state.budget import RedisBudgetStore

    budgets = Budgets.parse(
        {"sim": {"usd": usd, "per": "day"}},
        store=RedisBudgetStore.from_url(url, prefix=prefix, timeout=1.0),
    )
    spent = 0.0
    line_up(parties)
    while budgets.allows("sim", "m", time.time()) is None:
        budgets.spend("sim", "m", cost, time.time())
        spent += cost
    return spent


def cache(url: str, key: str, put: bool) -> Any:
    """Store an answer in the shared cache, or read it back (as another replica)."""
    from juggler._policy.cache import ResponseCache
    from juggler._types import Target, Usage
    from juggler.providers.types import ChatResult
    from juggler.state.redis import RedisState

    async def main() -> Any:
        state = RedisState.from_url(url, timeout=1.0)
        cache = ResponseCache(shared=state)
        target = Target(provider="groq", model="llama-3.1-8b-instant")
        try:
            if put:
                usage = Usage(input_tokens=3, output_tokens=2, total_tokens=5)
                result = ChatResult(content="four", model="m", usage=usage)
                await cache.aput(key, result, target)
                return None
            return await cache.aget(key)
        finally:
            await state.aclose()

    return asyncio.run(main())
