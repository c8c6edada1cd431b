"""The sync façade's engine room: one long-lived event loop on a daemon thread per Juggler.

httpx pools belong to the loop that opened them, so a new loop per call would throw away
every connection. Running on our own thread also makes the sync API work when the caller is
itself inside a running event loop (a notebook, an async web handler).

Stopping never leaves a caller waiting: the thread cancels whatever still runs on its loop
(a call another thread is blocked on raises instead of hanging), runs ``on_stop`` (closing
the loop's connection pools), and closes the loop. The thread does this itself, so ``stop``
is safe from any thread, the loop's own included (a garbage-collection finalizer may run
there).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

if TYPE_CHECKING:
    from juggler._routing.stream import AsyncChatStream, StreamChunk

__all__ = ["ChatStream", "LoopThread", "stream_twin", "sync_twin"]

T = TypeVar("T")
P = ParamSpec("P")


class _OnLoop(Protocol):
    _loop: LoopThread


J = TypeVar("J", bound=_OnLoop)
logger = logging.getLogger("juggler")


class LoopThread:
    """Starts lazily on first use; ``run(coro)`` blocks until the coroutine is done."""

    def __init__(
        self,
        name: str = "juggler-loop",
        on_stop: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._name = name
        self._on_stop = on_stop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                # Started with the loop only (never ``self``), so a Juggler nobody holds can
                # be collected and its finalizer can stop this thread.
                self._thread = threading.Thread(
                    target=_serve, args=(loop, ready, self._on_stop), name=self._name, daemon=True
                )
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop thread and return its result (or raise its error)."""
        loop = self._ensure()
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("the sync API cannot be called from the Juggler's own loop")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result()
        except concurrent.futures.CancelledError as exc:
            raise RuntimeError("the Juggler was closed while this call was running") from exc
        except BaseException:
            # KeyboardInterrupt in the calling thread: the call must not go on without it.
            future.cancel()
            raise

    @property
    def running(self) -> bool:
        """True once the thread has started and not been stopped."""
        return self._loop is not None and not self._loop.is_closed()

    def stop(self) -> None:
        """Stop the loop (cancelling what still runs on it) and join the thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)


def _serve(
    loop: asyncio.AbstractEventLoop,
    ready: threading.Event,
    on_stop: Callable[[], Awaitable[None]] | None,
) -> None:
    """The thread's body: run the loop until stopped, then wind it down and close it."""
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    try:
        loop.run_forever()
        loop.run_until_complete(_wind_down(on_stop))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


async def _wind_down(on_stop: Callable[[], Awaitable[None]] | None) -> None:
    """Cancel every task still on the loop (their callers get an error, not a hang), wait for
    them to record their cancelled attempts, then run ``on_stop``."""
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if on_stop is not None:
        try:
            await on_stop()
        except Exception:  # the loop closes anyway; say why its pools may not have
            logger.warning("juggler: closing the loop thread's pools failed", exc_info=True)


def sync_twin(
    method: Callable[Concatenate[J, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[J, P], T]:
    """The sync twin of an async method: the same parameters (editors and type checkers see
    them through ``ParamSpec``), run on the instance's loop thread."""

    @functools.wraps(method)
    def twin(self: J, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._loop.run(method(self, *args, **kwargs))

    twin.__name__ = twin.__qualname__ = method.__name__.removeprefix("a")
    twin.__doc__ = f"Sync :meth:`{method.__name__}` (same parameters), on the loop thread."
    return twin


def stream_twin(
    method: Callable[Concatenate[J, P], AsyncChatStream],
) -> Callable[Concatenate[J, P], ChatStream]:
    """The sync twin of an async stream method: the same parameters, a :class:`ChatStream`
    driven on the instance's loop thread (``for chunk in ...``)."""

    @functools.wraps(method)
    def twin(self: J, /, *args: P.args, **kwargs: P.kwargs) -> ChatStream:
        return ChatStream(method(self, *args, **kwargs), self._loop.run)

    twin.__name__ = twin.__qualname__ = method.__name__.removeprefix("a")
    twin.__doc__ = f"Sync :meth:`{method.__name__}` (same parameters): ``for chunk in ...``."
    # What it returns is a ChatStream, not the async stream __wrapped__ would show.
    twin.__signature__ = inspect.signature(method).replace(  # type: ignore[attr-defined]
        return_annotation="ChatStream"
    )
    return twin


class ChatStream:
    """The sync twin of :class:`~juggler.AsyncChatStream`, driven on the Juggler's loop thread.

    It forwards every attribute (``text``, ``models_used``, ``usage``, …) to the async stream.
    """

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
        return getattr(self._inner, name)
