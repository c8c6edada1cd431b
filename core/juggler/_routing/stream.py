"""Streamed chat: the opener the engine runs as an attempt, and the stream callers iterate.

The engine treats a stream like any call whose answer is "the stream, opened up to its first
content" (:func:`opener`): before the first content a failing target is recorded and the
next one is tried, invisibly, with the same retries, breakers, budget, deadline, hedging and
racing as a plain call. :class:`AsyncChatStream` then only continues the winner: it applies
the idle timeout (no gap between chunks may exceed ``stream_idle_timeout``), and it settles
the winner's attempt when the answer ends. After content has reached the caller, a failure
raises ``StreamInterruptedError`` with the partial text: a stream is never silently
truncated. Once content flows the deadline no longer applies: cutting an answer that is
arriving would only waste it.

Chunks: every chunk with text or tool-call data is passed on as it comes; the parts that
carry only a finish reason or usage are merged into one final chunk, so a caller never sees
an empty chunk but that one. A complete stream is cached when caching is on; a hit replays
the whole answer as one chunk. A partial stream never is.

The stream is a plain object with ``__anext__``, not an async generator: a stream dropped
without ``aclose()`` then leaves only the provider's generator for the event loop to finalise,
never two nested ones racing each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from juggler._attempts import ModelAttempt
from juggler._exceptions import InvalidResponseError, ProviderTimeoutError, StreamInterruptedError
from juggler._responses import winner_of
from juggler._routing.plan import estimate_tokens
from juggler._routing.record import AttemptLog, InFlight
from juggler._types import Target, ToolCall, Usage, estimate_usage
from juggler.providers.base import BaseProvider
from juggler.providers.types import ChatDelta, ChatRequest, ChatResult, ToolCallDelta

if TYPE_CHECKING:
    from juggler._routing.engine import Engine, Job
    from juggler._telemetry import CallTrace

__all__ = ["AsyncChatStream", "Opened", "StreamChunk", "opener"]

_CLOSE_SECONDS = 5.0


class StreamChunk(str):
    """One text delta (a ``str``), with the provider and model that produced it.

    ``tool_calls`` holds raw tool-call fragments; ``finish_reason`` and ``usage`` are set on
    the final chunk that carries them.
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


@dataclass(slots=True)
class Opened:
    """A provider stream read up to its first content: ``pending`` holds the deltas read so
    far (the last one has content, unless the stream already ended: ``exhausted``)."""

    iterator: AsyncIterator[ChatDelta]
    pending: deque[ChatDelta] = field(default_factory=deque)
    exhausted: bool = False

    async def aclose(self) -> None:
        """Close the provider stream (and its connection), even from a cancelled task."""
        closer = getattr(self.iterator, "aclose", None)
        if closer is not None:
            # The attempt already failed, lost or ended; closing is best effort, and bounded:
            # a provider whose close hangs must not hold a cancelled task forever.
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                with anyio.move_on_after(_CLOSE_SECONDS):
                    await closer()


def opener(request: ChatRequest) -> Callable[[BaseProvider, Target], Any]:
    """The engine's operation for a stream: open it and read until the first content. The
    engine's attempt timeout (``first_token_timeout``) bounds the whole wait."""

    async def open_stream(provider: BaseProvider, target: Target) -> Opened:
        opened = Opened(provider.stream_chat(target.model, request).__aiter__())
        try:
            while True:
                try:
                    delta = await opened.iterator.__anext__()
                except StopAsyncIteration:
                    opened.exhausted = True
                    return opened
                opened.pending.append(delta)
                if delta.text or delta.tool_calls:
                    return opened
        except BaseException:
            await opened.aclose()
            raise

    return open_stream


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

    def __init__(self, engine: Engine, job: Job[Opened], log: AttemptLog | None = None) -> None:
        self._engine = engine
        self._job = job
        self._log = log if log is not None else AttemptLog()
        self._out: deque[StreamChunk] = deque()
        self._opened: Opened | None = None
        self._flight: InFlight | None = None
        self._target: Target | None = None
        self._cache_key: str | None = None
        self._tail: ChatDelta | None = None  # finish reason / usage, merged into one chunk
        self._tools = _ToolCallAssembler()
        self._trace: CallTrace | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # where the winner runs
        self._started = False
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
        if not self._started:
            self._started = True
            await self._open()
        while not self._out:
            if self.done:
                raise StopAsyncIteration
            await self._pump()
        return self._out.popleft()

    async def aclose(self) -> None:
        """Stop early; the connection is closed and the attempt recorded as cancelled."""
        self._stop("stream closed by the caller")
        if self._opened is not None:
            await self._opened.aclose()

    def __del__(self) -> None:
        # Dropped unfinished without aclose() (a ``break`` out of ``for``): record the attempt
        # and give back its breaker permit, perhaps the half-open probe slot, or it is held for
        # ever. ``cancel`` never awaits; the loop finalises the provider stream. The engine's
        # state belongs to the stream's loop: a sync caller's thread hands the work over.
        if self.done or self._flight is None:
            return
        note, loop = "stream dropped without being closed", self._loop
        if loop is not None and asyncio._get_running_loop() is not loop:
            with contextlib.suppress(RuntimeError):  # a closed loop: stop here instead
                loop.call_soon_threadsafe(self._stop, note)
                return
        self._stop(note)

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ----- the winner, continued -----

    async def _open(self) -> None:
        try:
            routed = await self._engine.run(self._job, self._log)
        except BaseException:
            self.done = True
            raise
        self._cache_key = routed.cache_key
        if routed.cached:  # the cache holds the complete answer, not a stream
            cached: Any = routed.result
            self._replay(cached, routed.target, routed.attempts)
            return
        self._opened, self._flight, self._target = routed.result, routed.attempt, routed.target
        self._loop = asyncio.get_running_loop()
        self._trace = routed.trace
        self.provider = routed.target.provider

    async def _pump(self) -> None:
        """Read one delta of the winner and turn it into what the caller sees."""
        opened, target = self._opened, self._target
        assert opened is not None and target is not None
        try:
            if opened.pending:
                delta: ChatDelta | None = opened.pending.popleft()
            elif opened.exhausted:
                delta = None
            else:
                delta = await _next(opened.iterator, self._engine.settings.stream_idle_timeout,
                                    target)  # fmt: skip
            if delta is None:
                self.tool_calls = self._tools.calls()
        except anyio.get_cancelled_exc_class():
            self._stop("cancelled")
            await opened.aclose()
            raise
        except Exception as exc:
            await opened.aclose()
            self.done = True
            assert self._flight is not None
            await self._engine.settle(self._flight, exc, metered=(self._consumed(), None, None))
            interrupted = StreamInterruptedError(self.text, self._log.attempts)
            self._end_trace(interrupted)
            raise interrupted from exc
        if delta is None:
            await self._finish(target)
            return
        for fragment in delta.tool_calls:
            self._tools.add(fragment)
        if delta.text or delta.tool_calls:
            if self.model is None:
                self.model = delta.model or target.model
            self.text += delta.text
            self.usage = delta.usage or self.usage
            self.finish_reason = delta.finish_reason or self.finish_reason
            self._out.append(StreamChunk(delta, target))
        elif delta.finish_reason or delta.usage:
            tail = self._tail or ChatDelta(model=delta.model)
            tail.finish_reason = delta.finish_reason or tail.finish_reason
            tail.usage = delta.usage or tail.usage
            tail.model = tail.model or delta.model
            self._tail = tail

    async def _finish(self, target: Target) -> None:
        self.done = True
        tail = self._tail
        if tail is not None:
            self.usage = tail.usage or self.usage
            self.finish_reason = tail.finish_reason or self.finish_reason
            self._out.append(StreamChunk(tail, target))
        self.model = self.model or (tail.model if tail else None) or target.model
        assert self._flight is not None
        usage = self.usage or self._estimate()
        await self._engine.settle(self._flight, metered=(usage, None, self.model))
        result = ChatResult(
            self.text, self.model, self.tool_calls, self.usage or Usage(), self.finish_reason
        )
        self._engine.remember(self._cache_key, result, target, self._job.options.cache_ttl)
        self._end_trace()

    def _stop(self, note: str) -> None:
        """The caller stopped reading (or its task was cancelled) before the end."""
        if not self.done and self._flight is not None:
            self._engine.cancel(self._flight, note, self._consumed())
            self._end_trace()
        self.done = True

    def _consumed(self) -> Usage:
        """What a cut or cancelled answer consumed: the usage the wire already reported (in a
        content event or a usage-only one), else the estimate."""
        reported = self.usage or (self._tail.usage if self._tail is not None else None)
        return reported or self._estimate()

    def _estimate(self) -> Usage:
        """Usage of an answer whose wire sent none, or that was cut: the delivered text at
        about 4 characters per token, marked ``estimated`` (the prompt by the same rule)."""
        request = self._job.request
        prompt = estimate_tokens(request.messages) if request is not None else None
        return estimate_usage(self.text, prompt)

    def _end_trace(self, error: BaseException | None = None) -> None:
        """End the call's span (a stream's ends with the stream, not with its first token)."""
        trace, self._trace = self._trace, None
        if trace is not None:
            trace.finish(self._log.attempts, self.model)
            trace.__exit__(type(error) if error else None, error, None)

    @property
    def winner(self) -> ModelAttempt | None:
        """The attempt whose answer this stream delivered (once it has ended), else None."""
        return winner_of(self._log.attempts, self.provider)

    @property
    def answered_by(self) -> ModelAttempt | None:
        """Alias of :attr:`winner`."""
        return self.winner

    def _replay(self, result: ChatResult, target: Target, attempts: list[ModelAttempt]) -> None:
        """A cache hit: the whole answer as one chunk, and one ``cache_hit`` attempt."""
        self._log = AttemptLog(list(attempts))
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
        self._out.append(StreamChunk(delta, target))


async def _next(
    iterator: AsyncIterator[ChatDelta], limit: float, target: Target
) -> ChatDelta | None:
    """The next delta within ``limit`` seconds; None at the end of the stream."""
    try:
        # Once per chunk, so the cheap asyncio timer (~5 µs) rather than an anyio cancel
        # scope (~14 µs): a 1,000-chunk answer saves ~10 ms of CPU.
        async with asyncio.timeout(None if math.isinf(limit) else limit):
            return await iterator.__anext__()
    except StopAsyncIteration:
        return None
    except TimeoutError as exc:
        raise ProviderTimeoutError(
            f"no data between chunks within {limit:.1f}s",
            provider=target.provider,
            model=target.model,
        ) from exc
