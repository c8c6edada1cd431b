"""The simulator's quotas and rate-limit headers, and stepping aside before the 429.

The last tests drive the wires directly with the routing rule the engine will use (skip a
target the rate-limit book says is exhausted, else take the one whose reset comes first), so
they prove the building blocks end to end against a provider that enforces a quota.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from juggler import RateLimitError
from juggler._config import Settings, resolve_provider
from juggler._policy.limits import RateLimitBook, parse_rate_headers
from juggler.providers import WIRE_FORMATS
from juggler.providers.base import BaseProvider, capture_rate_headers
from juggler.providers.transport import HttpClients
from juggler.providers.types import ChatRequest
from juggler.testing import ProviderSimulator, Scenario

HI = ChatRequest(messages=[{"role": "user", "content": "hi"}])


def _post(sim: ProviderSimulator, name: str) -> httpx.Response:
    model = "claude-sonnet-4-5" if name == "anthropic" else "m"
    path = "/v1/messages" if name == "anthropic" else "/chat/completions"
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if name == "anthropic":
        body["max_tokens"] = 16
    return httpx.post(sim.base_url(name) + path, json=body, headers={"x-api-key": "k"})


@pytest.mark.parametrize(
    ("name", "style"),
    [("groq", None), ("together", "together"), ("mistral", "mistral"), ("anthropic", None)],
)
def test_each_vendor_style_announces_the_requests_left(name: str, style: str | None) -> None:
    with ProviderSimulator(
        {name: Scenario(quota_requests=3, rate_limit_style=style)}, any_model=True
    ) as sim:
        answers = [_post(sim, name) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    left = []
    for answer in answers:
        (requests,) = [
            lim for lim in parse_rate_headers(answer.headers, time.time()) if lim.kind == "requests"
        ]
        left.append(requests.remaining)
    assert left == [2, 1, 0, 0]


def test_the_429_past_the_quota_says_when_to_come_back() -> None:
    with ProviderSimulator(
        {"groq": Scenario(quota_requests=1, quota_window_s=30)}, any_model=True
    ) as sim:
        _post(sim, "groq")
        refused = _post(sim, "groq")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 30


def _wire(sim: ProviderSimulator, name: str) -> BaseProvider:
    spec, config = resolve_provider(name, sim.providers_config(name)[name], env={})
    key = config.api_key.get_secret_value() if config.api_key else None
    return WIRE_FORMATS[spec.wire](
        spec, api_key=key, base_url=config.base_url or "", clients=HttpClients(Settings())
    )


async def _run(calls: int, *, aware: bool) -> tuple[int, int]:
    """``calls`` calls over [groq (quota 5), cerebras]; returns (429s met, calls answered)."""
    scenarios = {"groq": Scenario(quota_requests=5), "cerebras": Scenario()}
    book, limited, answered = RateLimitBook(), 0, 0
    with ProviderSimulator(scenarios, any_model=True) as sim:
        chain = [_wire(sim, "groq"), _wire(sim, "cerebras")]
        for _ in range(calls):
            now = time.time()
            order = [p for p in chain if not (aware and book.blocked((p.name, "m"), now))]
            if not order:  # every target predicted limited: the one that resets first
                soonest = book.soonest([(p.name, "m") for p in chain], now)
                order = [p for p in chain if (p.name, "m") == soonest]
            for provider in order:
                try:
                    with capture_rate_headers() as headers:
                        await provider.chat("m", HI)
                except RateLimitError as exc:
                    limited += 1
                    book.observe((provider.name, "m"), exc.headers, time.time(), status=429)
                    continue
                book.observe((provider.name, "m"), headers, time.time())
                answered += 1
                break
    return limited, answered


async def test_a_provider_with_no_requests_left_gets_none_until_its_reset() -> None:
    limited, answered = await _run(40, aware=True)
    assert (limited, answered) == (0, 40)


async def test_without_the_headers_read_the_quota_wall_is_hit_on_every_call() -> None:
    limited, answered = await _run(40, aware=False)
    assert (limited, answered) == (35, 40)


def test_when_every_target_is_limited_the_soonest_reset_is_still_tried() -> None:
    book, now = RateLimitBook(), time.time()
    book.observe(
        ("a", "m"),
        {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "50s"},
        now,
    )
    book.observe(
        ("b", "m"), {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "2s"}, now
    )
    assert book.soonest([("a", "m"), ("b", "m")], now) == ("b", "m")
