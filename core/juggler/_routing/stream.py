"""Streamed chat with fallback, and the stream objects callers iterate.

Before the first content arrives, a failing target is recorded and the next one is tried,
invisibly to the caller. After content has reached the caller, a failure raises
``StreamInterruptedError`` with the partial text: a stream is never silently truncated.
The first content must arrive within ``first_token_timeout`` (and before the call's
``deadline``) and no gap between chunks may exceed ``stream_idle_timeout``; both count as
failures. Once content flows the deadline no longer applies: cutting an answer that is
arriving would only waste it. Circuit breakers, the retry budget and same-target retries
work as for other calls. ``parallel_attempts`` and hedging race streams only until the
first content: the first stream to deliver wins, the others are closed and recorded
``cancelled`` (no same-target retries inside a race). A complete stream is cached when
caching is on; a hit replays the whole answer as one chunk. A partial stream never is.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import anyio

from juggler._attempts import ModelAttempt
from juggler._exceptions import InvalidResponseError, ProviderError, StreamInterruptedError
from juggler._policy.breaker import Permit
from juggler._policy.retry import is_transient
from juggler._routing.engine import Engine
from juggler._routing.options import CallOptions, call_options
from juggler._routing.overlap import (
    Opened,
    close_quietly,
    first_token_limit,
    next_delta,
    race_first_token,
)
from juggler._routing.record import DEADLINE, AttemptLog, Call, Skipped
from juggler._types import Target, ToolCall, Usage
from juggler.providers.base import BaseProvider
from juggler.providers.types import ChatDelta, ChatResult, ToolCallDelta

__all__ = ["AsyncChatStream", "ChatStream", "StreamChunk"]

StreamOp = Callable[[BaseProvider, Target], AsyncIterator[ChatDelta]]


class StreamChunk(str):
    """One text delta (a ``str``), with the provider and model that produced it.

    ``tool_calls`` holds raw tool-call fragments; ``finish_reason`` and ``usage`` are set on
    the chunk that carried them.
    """

    provider: str
    model: str
    tool_calls: list[ToolCallDelta]
    finish_reason: str | None
    usage: Usage | None

    def __new__(cls, delta: ChatDelta, target: Target) -> StreamChunk:
        self = super().__new__(cls, delta.text)
        self.provider = target.provider
        self.model = delta.model or target.model
        self.tool_calls = delta.tool_calls
        self.finish_reason = delta.finish_reason
        self.usage = delta.usage
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_chunk, (str(self), dict(self.__dict__)))


def _rebuild_chunk(text: str, state: dict[str, Any]) -> StreamChunk:
    chunk = str.__new__(StreamChunk, text)
    chunk.__dict__.update(state)
    return chunk


class _ToolCallAssembler:
    """Joins streamed tool-call fragments by index into complete ToolCalls."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, Any]] = {}

    def add(self, fragment: ToolCallDelta) -> None:
        part = self._parts.setdefault(fragment.index, {"id": None, "name": "", "args": ""})
        part["id"] = part["id"] or fragment.id
        part["name"] = part["name"] or (fragment.name or "")
        part["args"] += fragment.arguments

    def calls(self) -> list[ToolCall]:
        out = []
        for index, part in sorted(self._parts.items()):
            text = part["args"].strip()
            try:
                args = json.loads(text) if text else {}
            except ValueError as exc:
                raise InvalidResponseError(f"streamed tool arguments are not JSON: {exc}") from exc
            out.append(
                ToolCall(id=part["id"] or f"call_{index}", name=part["name"], arguments=args)
            )
        return out


class AsyncChatStream:
    """``async for chunk in stream`` yields :class:`StreamChunk`; afterwards it exposes
    ``models_used``, ``usage``, ``finish_reason``, ``text``, ``tool_calls``, ``provider``,
    ``model`` and ``cached``."""

    def __init__(
        self,
        engine: Engine,
        chain: Sequence[Target],
        op: StreamOp,
        log: AttemptLog | None = None,
        *,
        options: CallOptions | None = None,
        cache_key: str | None = None,
    ) -> None:
        self._engine = engine
        self._chain = list(chain)
        self._op = op
        self._log = log or AttemptLog()
        self._options = options or call_options(engine.settings)
        self._cache_key = cache_key
        self._iterator: AsyncIterator[StreamChunk] | None = None
        self.text = ""
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.tool_calls: list[ToolCall] = []
        self.provider: str | None = None
        self.model: str | None = None
        self.cached = False
        self.done = False

    @property
    def models_used(self) -> list[ModelAttempt]:
        """Every attempt so far, in order."""
        return list(self._log.attempts)

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def __anext__(self) -> StreamChunk:
        if self._iterator is None:
            self._iterator = self._run()
        return await self._iterator.__anext__()

    async def aclose(self) -> None:
        """Stop early; the connection is closed and the attempt recorded as cancelled."""
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _run(self) -> AsyncIterator[StreamChunk]:
        engine = self._engine
        if self._cache_key is not None:
            hit = engine.cache.get(self._cache_key)
            if hit is not None:
                yield self._replay(*hit)
                return
        call = engine.start(self._options, self._log)
        await engine.sync_shared(self._chain)
        lanes = engine.admit(call, self._chain)
        if self._options.concurrent and len(lanes) > 1:
            opened, last_error = await race_first_token(engine, call, lanes, self._op)
            if opened is not None:
                attempt = self._attempt(call, opened.target, opened.permit, opened=opened)
                try:
                    async for chunk in attempt:
                        yield chunk
                    return
                except _Failed as failed:
                    last_error = failed.error
                finally:
                    await attempt.aclose()  # type: ignore[attr-defined]
        else:
            # aclosing: an early stop must reach the attempt (and its connection) now.
            async with contextlib.aclosing(self._sequential(call, lanes)) as chunks:
                async for chunk in chunks:
                    yield chunk
            if self.done:
                return
            last_error = self._last_error
        self.done = True
        raise engine.give_up(self._log, last_error) from last_error

    async def _sequential(
        self, call: Call, lanes: Sequence[tuple[Target, bool]]
    ) -> AsyncGenerator[StreamChunk, None]:
        engine = self._engine
        self._last_error: BaseException | None = None
        for index, (target, force) in enumerate(lanes):
            retries = engine.retries_for(index, len(lanes))
            try:
                permit: Permit | None = engine.permit(call, target, force=force)
            except Skipped:
                continue
            engine.budget.request(engine.clock())
            for number in range(retries + 1):
                if number > 0:
                    wait = engine.backoff(self._last_error, number)
                    permit = engine.may_retry(call, target, wait)
                    if permit is None:
                        break
                    await engine.pause(wait, permit)
                assert permit is not None
                attempt = self._attempt(call, target, permit, retry=number > 0)
                try:
                    async for chunk in attempt:
                        yield chunk
                    return
                except _Failed as failed:
                    self._last_error = failed.error
                    if not is_transient(failed.error):
                        break
                finally:
                    # Closing the attempt closes its connection when the caller stops early.
                    await attempt.aclose()  # type: ignore[attr-defined]
            error = self._last_error
            if isinstance(error, ProviderError) and not error.fallback:
                break

    def _replay(self, result: ChatResult, target: Target) -> StreamChunk:
        """A cache hit: the whole answer as one chunk, and one ``cache_hit`` attempt."""
        self._log = AttemptLog()
        self._engine.note(self._log, target, "cache_hit", 0.0)
        self.text, self.usage, self.finish_reason = (
            result.content,
            result.usage,
            result.finish_reason,
        )
        self.tool_calls = list(result.tool_calls)
        self.provider, self.model = target.provider, result.model or target.model
        self.cached = self.done = True
        fragments = [
            ToolCallDelta(i, c.id, c.name, json.dumps(c.arguments))
            for i, c in enumerate(result.tool_calls)
        ]
        delta = ChatDelta(result.content, fragments, result.usage, result.finish_reason, self.model)
        return StreamChunk(delta, target)

    async def _attempt(
        self,
        call: Call,
        target: Target,
        permit: Permit,
        *,
        retry: bool = False,
        opened: Opened | None = None,
    ) -> AsyncIterator[StreamChunk]:
        engine, settings = self._engine, self._engine.settings
        if opened is not None:
            iterator, pending = opened.iterator, list(opened.pending)
            t0, number, hedged = opened.started, opened.number, opened.hedged
        else:
            provider = engine.providers[target.provider]
            iterator, pending = self._op(provider, target).__aiter__(), []
            t0, number, hedged = engine.clock(), call.log.reserve(), False
        kw: dict[str, Any] = {"retry": retry, "hedged": hedged, "number": number}
        delivered = False
        # Chunks with no content (usage, a finish reason) wait for the first content: if the
        # attempt fails before any, the caller never sees a chunk from a target that failed.
        held: list[ChatDelta] = []
        tools = _ToolCallAssembler()
        try:
            while True:
                if pending:
                    delta: ChatDelta | None = pending.pop(0)
                elif delivered:
                    limit = settings.stream_idle_timeout
                    delta = await next_delta(iterator, limit, "between chunks", target)
                else:
                    limit, cut = first_token_limit(engine, call)
                    what = DEADLINE if cut else "before the first token"
                    delta = await next_delta(iterator, limit, what, target)
                if delta is None:
                    break
                for fragment in delta.tool_calls:
                    tools.add(fragment)
                if delta.text or delta.tool_calls:
                    if not delivered:
                        self.provider, self.model = target.provider, delta.model or target.model
                    delivered = True
                    for early in held:
                        yield self._chunk(early, target)
                    held.clear()
                    yield self._chunk(delta, target)
                elif delta.finish_reason or delta.usage:
                    if delivered:
                        yield self._chunk(delta, target)
                    else:
                        held.append(delta)
            self.tool_calls = tools.calls()
        except (GeneratorExit, anyio.get_cancelled_exc_class()) as stop:
            # The caller stopped reading, or its task was cancelled: close the connection,
            # give back the permit (perhaps the half-open probe slot) and record the attempt.
            await close_quietly(iterator)
            engine.breakers.release(permit)
            note = "stream closed by the caller" if isinstance(stop, GeneratorExit) else "cancelled"
            engine.note(self._log, target, "cancelled", engine.clock() - t0, note=note, **kw)
            raise
        except Exception as exc:
            await close_quietly(iterator)
            engine.note(self._log, target, "error", engine.clock() - t0, exc, **kw)
            await engine.verdict(permit, exc)
            if delivered:
                self.done = True
                raise StreamInterruptedError(self.text, self._log.attempts) from exc
            raise _Failed(exc) from exc
        if held:  # a successful stream without content (say, an empty answer)
            self.provider, self.model = target.provider, held[0].model or target.model
            for early in held:
                yield self._chunk(early, target)
        self.done = True
        engine.note(self._log, target, "success", engine.clock() - t0, **kw)
        await engine.verdict(permit, None)
        if self._cache_key is not None:
            result = ChatResult(
                self.text, self.model or target.model, self.tool_calls,
                self.usage or Usage(), self.finish_reason,
            )  # fmt: skip
            engine.cache.put(self._cache_key, result, target, self._options.cache_ttl)

    def _chunk(self, delta: ChatDelta, target: Target) -> StreamChunk:
        """A delta that reaches the caller: it counts in ``text``, ``usage``, ``finish_reason``."""
        if delta.usage is not None:
            self.usage = delta.usage
        if delta.finish_reason:
            self.finish_reason = delta.finish_reason
        self.text += delta.text
        return StreamChunk(delta, target)


class _Failed(Exception):
    """Internal: an attempt failed before delivering anything; try the next target."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class ChatStream:
    """The sync twin of :class:`AsyncChatStream`, driven on the Juggler's loop thread."""

    def __init__(self, inner: AsyncChatStream, run: Callable[[Any], Any]) -> None:
        self._inner = inner
        self._run = run

    def __iter__(self) -> Iterator[StreamChunk]:
        return self

    def __next__(self) -> StreamChunk:
        try:
            chunk: StreamChunk = self._run(self._inner.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None
        return chunk

    def close(self) -> None:
        """Stop early and close the connection."""
        self._run(self._inner.aclose())

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        # models_used, usage, finish_reason, text, tool_calls, provider, model
        return getattr(self._inner, name)
