"""The response cache: exact-match, TTL and LRU, for chat, streams, embeddings and rerank."""

from __future__ import annotations

import pytest
from _resilience_fakes import VirtualTime, scripted_juggler

from juggler import AllProvidersFailedError, InvalidRequestError, StreamInterruptedError, Target
from juggler._policy.cache import ResponseCache, cache_key
from juggler.providers.types import ChatRequest
from juggler.testing import FakeHttpError, FakeStream

CHAIN = [Target(provider="a", model="m")]


def key(**fields):
    return cache_key("chat", CHAIN, ChatRequest([{"role": "user", "content": "hi"}], **fields))


def test_the_key_changes_with_everything_that_changes_the_answer():
    keys = {
        key(),
        key(temperature=0.5),
        key(max_tokens=5),
        key(tools=[{"type": "function", "function": {"name": "f"}}]),
        key(response_format={"type": "json_object"}),
        cache_key("chat", [Target(provider="b", model="m")], ChatRequest([])),
        cache_key("embed", CHAIN, ChatRequest([{"role": "user", "content": "hi"}])),
    }
    assert len(keys) == 7


def test_equal_requests_give_equal_keys_whatever_the_dict_order():
    one = ChatRequest([{"role": "user", "content": "hi"}], extra_body={"x": 1, "y": 2})
    two = ChatRequest([{"content": "hi", "role": "user"}], extra_body={"y": 2, "x": 1})
    assert cache_key("chat", CHAIN, one) == cache_key("chat", CHAIN, two)


def test_entries_expire_after_their_ttl():
    now = [0.0]
    cache = ResponseCache(ttl=300, clock=lambda: now[0])
    cache.put("k", "answer", CHAIN[0])
    now[0] = 299.0
    assert cache.get("k") is not None
    now[0] = 301.0
    assert cache.get("k") is None


def test_the_least_recently_used_entry_goes_first():
    cache = ResponseCache(max_entries=2, clock=lambda: 0.0)
    cache.put("a", 1, CHAIN[0])
    cache.put("b", 2, CHAIN[0])
    cache.get("a")
    cache.put("c", 3, CHAIN[0])
    assert cache.get("b") is None and cache.get("a") is not None


def test_a_hit_returns_at_once_with_one_cache_hit_attempt():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, cache_enabled=True)

    async def main():
        first = await juggler.achat("hi")
        return first, await juggler.achat("hi")

    first, second = vt.run(main())
    assert not first.cached and second.cached
    assert second == first and second.provider == "a"
    assert [(a.outcome, a.success) for a in second.models_used] == [("cache_hit", True)]
    assert len(fakes["a"].calls) == 1


def test_a_different_request_misses():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, cache_enabled=True)

    async def main():
        await juggler.achat("hi", temperature=0.1)
        await juggler.achat("hi", temperature=0.2)

    vt.run(main())
    assert len(fakes["a"].calls) == 2


def test_the_cache_can_be_turned_on_per_call_with_its_own_ttl():
    vt = VirtualTime()
    juggler, _ = scripted_juggler(["a/m"], vt)

    async def main():
        await juggler.achat("hi", cache_enabled=True, cache_ttl_seconds=10)
        hit = await juggler.achat("hi", cache_enabled=True)
        vt.now += 11
        miss = await juggler.achat("hi", cache_enabled=True)
        return hit, miss

    hit, miss = vt.run(main())
    assert hit.cached and not miss.cached


def test_errors_are_never_cached():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, cache_enabled=True, retries=0)
    fakes["a"].plan(FakeHttpError(500))

    async def main():
        with pytest.raises(AllProvidersFailedError):
            await juggler.achat("hi")
        return await juggler.achat("hi")

    assert not vt.run(main()).cached
    assert len(fakes["a"].calls) == 2


def test_a_complete_stream_is_cached_and_replayed_as_one_chunk():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, cache_enabled=True)

    async def main():
        first = juggler.astream_chat("hi")
        text = "".join([c async for c in first])
        again = juggler.astream_chat("hi")
        return text, [c async for c in again], again

    text, chunks, again = vt.run(main())
    assert chunks == [text] and again.cached
    assert [a.outcome for a in again.models_used] == ["cache_hit"]
    assert len(fakes["a"].calls) == 1


def test_a_partial_stream_is_never_cached():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt, cache_enabled=True, retries=0)
    fakes["a"].plan(FakeStream(["ok "], error=FakeHttpError(502)))

    async def main():
        with pytest.raises(StreamInterruptedError):
            async for _ in juggler.astream_chat("hi"):
                pass
        return await juggler.achat("hi")

    assert not vt.run(main()).cached


def test_embeddings_and_rerank_are_cacheable():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(
        ["a/m"], vt, embed=["a/e"], rerank=["a/r"], cache_enabled=True
    )

    async def main():
        await juggler.aembed(["x"])
        vectors = await juggler.aembed(["x"])
        await juggler.arerank("q", ["aa", "b"])
        ranked = await juggler.arerank("q", ["aa", "b"])
        return vectors, ranked

    vectors, ranked = vt.run(main())
    assert vectors.cached and ranked.cached and ranked == ["aa", "b"]
    assert len(fakes["a"].calls) == 2


def test_cache_options_are_checked():
    juggler, _ = scripted_juggler(["a/m"])
    with pytest.raises(InvalidRequestError, match="cache_ttl_seconds"):
        VirtualTime().run(juggler.achat("hi", cache_enabled=True, cache_ttl_seconds=-1))


def test_mutating_a_cached_answer_does_not_change_the_cache():
    from juggler._policy.cache import ResponseCache
    from juggler.providers.types import EmbedResult

    cache = ResponseCache(ttl=60, max_entries=4, clock=lambda: 0.0)
    target = Target(provider="p", model="m")
    cache.put("k", EmbedResult(vectors=[[1.0, 2.0]], model="m"), target)
    first, _ = cache.get("k")
    first.vectors[0][0] = 99.0
    second, _ = cache.get("k")
    assert second.vectors == [[1.0, 2.0]]
