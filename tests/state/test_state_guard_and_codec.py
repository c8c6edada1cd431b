"""The store's own circuit (timeouts, fallback, logged once, recovery) and the cache's JSON
codec, without a server."""

from __future__ import annotations

import logging

import anyio
import pytest

from juggler._types import Target, Usage
from juggler.providers.types import ChatResult, EmbedResult, SpeechResult
from juggler.state._codec import dumps, loads
from juggler.state._guard import Guard


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def boom() -> int:
    raise ConnectionError("refused")


async def one() -> int:
    return 1


async def test_a_failing_store_answers_the_fallback_and_is_skipped_until_retry_after():
    clock = Clock()
    guard = Guard("redis", retry_after=1.0, clock=clock)
    calls = []

    async def counted() -> int:
        calls.append(1)
        return 1

    assert await guard.run("read", boom, 0) == 0
    assert await guard.run("read", counted, 0) == 0  # skipped while down
    clock.now = 1.0
    assert await guard.run("read", counted, 0) == 1  # retried, and it is back
    assert calls == [1] and guard.status()["status"] == "up"


async def test_a_store_slower_than_the_timeout_answers_the_fallback():
    guard = Guard("redis", timeout=0.01)

    async def frozen() -> int:
        await anyio.sleep(10)
        return 1

    with anyio.fail_after(1):
        assert await guard.run("read", frozen, 0) == 0
    assert "timed out" in guard.status()["last_error"]


async def test_coming_back_resynchronises_once(caplog):
    clock = Clock()
    guard = Guard("redis", retry_after=0.0, clock=clock)
    resyncs = []

    async def recover() -> None:
        resyncs.append(1)

    guard.on_recover = recover
    with caplog.at_level(logging.WARNING, logger="juggler"):
        await guard.run("read", boom, 0)
        await guard.run("read", boom, 0)
        await guard.run("read", one, 0)
        await guard.run("read", one, 0)

    assert resyncs == [1]
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unavailable" in m for m in messages) == 1
    assert sum(m.endswith("is back") for m in messages) == 1


@pytest.mark.parametrize(
    "value",
    [
        ChatResult(content="hi", model="m", usage=Usage(input_tokens=1, output_tokens=2),
                   finish_reason="stop", raw={"id": "x", "choices": [{"a": 1}]}),
        EmbedResult(vectors=[[0.5, -1.0], [2.0, 3.25]], model="e"),
        SpeechResult(audio=b"\x00\xffRIFF", content_type="audio/wav", model="s"),
        Target(provider="groq", model="llama-3.1-8b-instant"),
    ],
    ids=["chat", "embed", "speech", "target"],
)  # fmt: skip
def test_answers_survive_the_shared_cache_codec(value):
    assert loads(dumps(value)) == value


def test_the_codec_never_rebuilds_a_class_from_outside_juggler():
    poisoned = '{"$dc": "subprocess:Popen", "f": {"args": ["id"]}}'

    with pytest.raises(ValueError, match="not a juggler class"):
        loads(poisoned)


def test_a_value_the_codec_cannot_carry_is_refused_not_pickled():
    with pytest.raises(TypeError):
        dumps(ChatResult(content="hi", model="m", raw=object()))


async def test_reading_shared_state_never_outlasts_the_call_deadline():
    import time

    from juggler._config import settings_from
    from juggler._routing.admission import Gate
    from juggler.state.memory import MemoryState

    class Frozen(MemoryState):
        async def read(self, keys):  # a backend with no timeout of its own
            await anyio.sleep(30)
            raise AssertionError("never reached")

    def note(*args, **kwargs):
        return None

    gate = Gate(settings_from({}), clock=time.monotonic, sleep=anyio.sleep, note=note,
                shared=Frozen())  # fmt: skip
    target = Target(provider="groq", model="llama-3.1-8b-instant")

    with anyio.fail_after(2):
        await gate.sync_shared([target], left=0.05)
