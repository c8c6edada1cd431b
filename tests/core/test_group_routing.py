"""Groups of equivalent deployments through a Juggler: which member each call goes to."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import anyio
import pytest

from juggler import Capability, Juggler, RateLimitError
from juggler._routing.groups import Group
from juggler.testing import FakeProvider

HI = [{"role": "user", "content": "hi"}]


def _fakes(*names: str) -> dict[str, FakeProvider]:
    return {n: FakeProvider(n) for n in names}


def _group(strategy: str, *members: Any) -> dict[str, Any]:
    return {"group": list(members), "strategy": strategy, "name": "mini"}


async def _answered_by(j: Juggler, calls: int) -> Counter[str]:
    seen: Counter[str] = Counter()
    for _ in range(calls):
        seen[(await j.achat(HI)).provider] += 1
    return seen


async def test_a_weighted_group_splits_2000_calls_by_weight_within_five_points() -> None:
    fakes = _fakes("dep-a", "dep-b")
    j = Juggler(
        chat=[_group("weighted", "dep-a/m", {"target": "dep-b/m", "weight": 3})],
        providers=fakes,
        rng=random.Random(17).random,
    )
    seen = await _answered_by(j, 2000)
    j.close()
    assert abs(seen["dep-a"] / 2000 - 0.25) <= 0.05
    assert abs(seen["dep-b"] / 2000 - 0.75) <= 0.05


async def test_an_order_group_sends_every_call_to_its_first_member() -> None:
    fakes = _fakes("dep-a", "dep-b")
    j = Juggler(chat=[_group("order", "dep-a/m", "dep-b/m")], providers=fakes)
    assert await _answered_by(j, 20) == Counter({"dep-a": 20})
    j.close()


async def test_the_other_members_are_the_first_fallbacks_before_the_chain_moves_on() -> None:
    fakes = _fakes("dep-a", "dep-b", "other")
    fakes["dep-a"] = FakeProvider("dep-a", [RateLimitError("slow down")])
    j = Juggler(chat=[_group("order", "dep-a/m", "dep-b/m"), "other/m"], providers=fakes, retries=0)
    answer = await j.achat(HI)
    j.close()
    assert answer.provider == "dep-b"
    assert [(a.provider, a.outcome) for a in answer.models_used] == [
        ("dep-a", "error"),
        ("dep-b", "success"),
    ]


async def test_least_busy_sends_calls_away_from_a_member_with_a_call_in_flight() -> None:
    release = anyio.Event()

    class Slow(FakeProvider):
        async def chat(self, model: str, request: Any) -> Any:
            await release.wait()
            return await super().chat(model, request)

    fakes: dict[str, FakeProvider] = {"slow": Slow("slow"), "quick": FakeProvider("quick")}
    j = Juggler(chat=[_group("least-busy", "slow/m", "quick/m")], providers=fakes, env={})
    with anyio.fail_after(10):  # without in-flight counts the calls would wait on "slow"
        async with anyio.create_task_group() as tg:
            tg.start_soon(j.achat, HI)  # ties keep the configured order: this one waits on "slow"
            await anyio.wait_all_tasks_blocked()
            seen = await _answered_by(j, 10)
            release.set()
    j.close()
    assert seen == Counter({"quick": 10})
    assert len(fakes["slow"].calls) == 1


async def test_fastest_moves_traffic_away_from_a_member_with_a_slow_recent_latency() -> None:
    now = [0.0]

    class Slow(FakeProvider):
        async def chat(self, model: str, request: Any) -> Any:
            now[0] += 2.0  # two seconds on the engine's clock: a p50 of 2000 ms
            return await super().chat(model, request)

    fakes: dict[str, FakeProvider] = {"slow": Slow("slow"), "quick": FakeProvider("quick")}
    j = Juggler(
        chat=[_group("fastest", "slow/m", "quick/m")],
        providers=fakes,
        clock=lambda: now[0],
        rng=random.Random(3).random,
    )
    seen = await _answered_by(j, 200)
    j.close()
    # The slow member is measured once, then tried only by the 5% exploration share.
    assert seen["slow"] <= 0.1 * 200
    assert seen["quick"] >= 0.9 * 200


def test_the_flat_chain_keeps_every_member_in_configured_order_with_its_group() -> None:
    j = Juggler(chat=[_group("weighted", "dep-a/m", "dep-b/m"), "other/m"],
                providers=_fakes("dep-a", "dep-b", "other"))  # fmt: skip
    assert [(str(t), t.group) for t in j.chain("chat")] == [
        ("dep-a/m", "mini"),
        ("dep-b/m", "mini"),
        ("other/m", None),
    ]
    [group, plain] = j.engine.fleet.positions[Capability.CHAT]
    assert isinstance(group, Group) and group.strategy == "weighted" and plain.provider == "other"
    j.close()


def test_a_bad_group_is_refused_when_the_juggler_is_built() -> None:
    from juggler import InvalidRequestError

    with pytest.raises(InvalidRequestError, match=r"chat\[0\]\.strategy: unknown strategy"):
        Juggler(chat=[{"group": ["dep-a/m"], "strategy": "fastes"}], providers=_fakes("dep-a"))
