"""The retry budget is the fleet's: retries one replica spent count against the others."""

from __future__ import annotations

import pytest

from juggler import AllProvidersFailedError, Juggler
from juggler.state.redis import RedisState
from juggler.testing import ProviderSimulator, Scenario

# At most 3 retries per window for the whole fleet (ratio 0: the floor decides).
SETTINGS = {"retries": 2, "retry_base_wait": 0.0, "retry_budget_ratio": 0.0,
            "retry_budget_min": 3, "circuit_breaker": False}  # fmt: skip


async def test_a_replica_does_not_retry_once_the_fleet_spent_the_retry_budget(redis_url):
    with ProviderSimulator({"groq": Scenario(error_rates={503: 1.0})}) as sim:
        made = []
        for _ in range(2):
            state = RedisState.from_url(redis_url, retry_window=3600.0)
            juggler = Juggler(chat=["groq/llama-3.1-8b-instant"], providers=sim.providers_config(),
                              env={}, state=state, **SETTINGS)  # fmt: skip
            made.append((juggler, state))
        (one, _), (two, _) = made
        for _ in range(3):  # 2 retries, then 1 (the budget is spent), then the counts travel
            with pytest.raises(AllProvidersFailedError):
                await one.achat("hi")
        before = sim.total("groq")

        with pytest.raises(AllProvidersFailedError) as caught:
            await two.achat("hi")

        assert sim.total("groq") == before + 1  # its first request only; alone it would retry
        assert "retry budget exhausted" in [a.error for a in caught.value.models_used]
        for juggler, state in made:
            await state.aclose()
            await juggler.aclose()
            juggler.close()
