"""The seed API: BackupModelRouter.complete, module-level complete and quick_chat."""

from __future__ import annotations

import json

import httpx
import pytest

import juggler._seed as router_module
from juggler import BackupModelRouter, InvalidRequestError, Juggler, Provider, complete, quick_chat

seen: list[dict] = []


def handler(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    seen.append({"host": request.url.host, **body})
    return httpx.Response(
        200,
        json={"model": body["model"], "choices": [{"message": {"content": "42"}}]},
    )


def router(**kwargs) -> BackupModelRouter:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    env = {"GROQ_API_KEY": "g", "OPENAI_API_KEY": "o", "MISTRAL_API_KEY": "m"}
    return BackupModelRouter(env=env, http_client=client, **kwargs)


@pytest.fixture(autouse=True)
def _clear():
    seen.clear()


async def test_complete_takes_a_prompt():
    r = router()
    result = await r.complete("What is the meaning of life?")
    assert result.content == "42"
    assert result.provider == "groq"
    assert result.latency_ms >= 0
    assert result.models_used[0].success
    await r.close()


async def test_complete_takes_messages_and_the_seed_options():
    r = router()
    result = await r.complete(
        messages=[{"role": "user", "content": "Hi"}],
        preferred_provider=Provider.GROQ,
        preferred_model="llama-3.3-70b-versatile",
        temperature=0.7,
        max_tokens=1000,
    )
    assert result.model == "llama-3.3-70b-versatile"
    assert seen[-1]["temperature"] == 0.7 and seen[-1]["max_tokens"] == 1000
    await r.close()


async def test_tier_keeps_only_that_tier():
    r = router()
    result = await r.complete("Hi", tier=2)
    assert result.provider == "mistral"  # groq is tier 1; mistral comes first among tier 2
    await r.close()


async def test_complete_needs_exactly_one_of_prompt_or_messages():
    r = router()
    with pytest.raises(InvalidRequestError):
        await r.complete()
    await r.close()


async def test_module_level_complete_and_quick_chat_share_one_router(monkeypatch):
    monkeypatch.setattr(router_module._Shared, "router", router())
    assert (await complete("Hi")).content == "42"
    assert await quick_chat("Say hello") == "42"
    await router_module._Shared.router.close()


async def test_the_readme_seed_call_with_tier_and_a_preferred_model_works_as_written():
    r = router()
    result = await r.complete(
        messages=[{"role": "user", "content": "Hi"}],
        preferred_provider=Provider.GROQ,
        preferred_model="llama-3.3-70b-versatile",
        temperature=0.7,
        max_tokens=1000,
        tier=2,
    )
    assert (result.provider, result.model) == ("groq", "llama-3.3-70b-versatile")
    await r.close()


def test_the_sync_façade_of_the_seed_router_works_too():
    r = router()
    assert r.chat("Hi") == "42"
    Juggler.close(r)
