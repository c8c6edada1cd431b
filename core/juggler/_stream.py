"""Streamed chat with fallback, and the stream objects callers iterate.

Before the first content arrives, a failing target is recorded and the next one is tried,
invisibly to the caller. After content has reached the caller, a failure raises
``StreamInterruptedError`` with the partial text: a stream is never silently truncated.
The first content must arrive within ``first_token_timeout`` and no gap between chunks may
exceed ``stream_idle_timeout``; both count as failures.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import anyio

from ._attempts import ModelAttempt
from ._engine import AttemptLog, Engine
from ._errors import (
    InvalidResponseError,
    ProviderError,
    ProviderTimeoutError,
    StreamInterruptedError,
)
from ._requests import ChatDelta, ToolCallDelta
from ._types import Target, ToolCall, Usage
from .providers.base import BaseProvider

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
    ``models_used``, ``usage``, ``finish_reason``, ``text``, ``tool_calls``, ``provider``
    and ``model``."""

    def __init__(
        self,
        engine: Engine,
        chain: Sequence[Target],
        op: StreamOp,
        log: AttemptLog | None = None,
    ) -> None:
        self._engine = engine
        self._chain = list(chain)
        self._op = op
        self._log = log or AttemptLog()
        self._iterator: AsyncIterator[StreamChunk] | None = None
        self.text = ""
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.tool_calls: list[ToolCall] = []
        self.provider: str | None = None
        self.model: str | None = None
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

    async def _run(self) -> AsyncIterator[StreamChunk]:
        engine = self._engine
        last_error: BaseException | None = None
        for index, target in enumerate(self._chain):
            provider = engine.providers[target.provider]
            retries = engine.retries_for(index, len(self._chain))
            for number in range(retries + 1):
                outcome = self._attempt(provider, target, retry=number > 0)
                try:
                    async for chunk in outcome:
                        yield chunk
                    return
                except _Failed as failed:
                    last_error = failed.error
                    transient = isinstance(last_error, ProviderError) and last_error.transient
                    if not transient or number == retries:
                        break
                    await engine.sleep(engine.backoff(last_error, number + 1))
                finally:
                    # Closing the attempt closes its connection when the caller stops early.
                    await outcome.aclose()  # type: ignore[attr-defined]
            if isinstance(last_error, ProviderError) and not last_error.fallback:
                break
        self.done = True
        raise engine.give_up(self._log, last_error) from last_error

    async def _attempt(
        self, provider: BaseProvider, target: Target, *, retry: bool
    ) -> AsyncIterator[StreamChunk]:
        engine, settings = self._engine, self._engine.settings
        t0 = engine.clock()
        delivered = False
        tools = _ToolCallAssembler()
        iterator = self._op(provider, target).__aiter__()
        try:
            while True:
                limit = settings.stream_idle_timeout if delivered else settings.first_token_timeout
                try:
                    with anyio.fail_after(limit):
                        delta = await iterator.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutError as exc:
                    what = "between chunks" if delivered else "before the first token"
                    raise ProviderTimeoutError(
                        f"no data {what} within {limit:.1f}s",
                        provider=target.provider,
                        model=target.model,
                    ) from exc
                for fragment in delta.tool_calls:
                    tools.add(fragment)
                if delta.usage is not None:
                    self.usage = delta.usage
                if delta.finish_reason:
                    self.finish_reason = delta.finish_reason
                if delta.text or delta.tool_calls or delta.finish_reason or delta.usage:
                    if not delivered:
                        self.provider, self.model = target.provider, delta.model or target.model
                    delivered = delivered or bool(delta.text or delta.tool_calls)
                    self.text += delta.text
                    yield StreamChunk(delta, target)
            self.tool_calls = tools.calls()
        except GeneratorExit:
            await _close(iterator)
            engine.note(
                self._log,
                target,
                "cancelled",
                engine.clock() - t0,
                retry=retry,
                note="stream closed by the caller",
            )
            raise
        except Exception as exc:
            await _close(iterator)
            engine.note(self._log, target, "error", engine.clock() - t0, exc, retry=retry)
            if delivered:
                self.done = True
                raise StreamInterruptedError(self.text, self._log.attempts) from exc
            raise _Failed(exc) from exc
        self.done = True
        engine.note(self._log, target, "success", engine.clock() - t0, retry=retry)


class _Failed(Exception):
    """Internal: an attempt failed before delivering anything; try the next target."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


async def _close(iterator: AsyncIterator[Any]) -> None:
    closer = getattr(iterator, "aclose", None)
    if closer is not None:
        # The attempt already failed or was cancelled; closing is best effort.
        with contextlib.suppress(Exception):
            await closer()


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

    def __getattr__(self, name: str) -> Any:
        # models_used, usage, finish_reason, text, tool_calls, provider, model
        return getattr(self._inner, name)
