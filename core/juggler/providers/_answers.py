"""Only Juggler's errors leave a wire, and only usable answers: every capability a wire
defines is wrapped (when its class is defined) so that a parser's surprise becomes an
``InvalidResponseError`` with the answer's HTTP status, and each answer (or streamed delta)
is checked before it is returned."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Callable
from contextvars import ContextVar
from typing import Any, Protocol

from juggler._exceptions import InvalidResponseError, JugglerError, ProviderError
from juggler.providers._checks import check_answer, check_delta
from juggler.providers.types import ChatDelta


class _Wire(Protocol):
    """What the checks need of a provider (``_Wire`` has it): its error factory."""

    def _error(self, cls: type[ProviderError], message: str, model: str, **kw: Any) -> Any: ...


__all__ = ["ANSWER_STATUS", "CAPABILITY_METHODS", "checked_call", "checked_stream"]

# The HTTP status of the answer being parsed, so a parse failure reports it. A context
# variable, not an attribute: one provider serves many concurrent calls.
ANSWER_STATUS: ContextVar[int | None] = ContextVar("juggler_answer_status", default=None)
# What a parser hit by a surprising body raises (pydantic's ValidationError is a ValueError).
_PARSE_ERRORS = (
    AttributeError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    OverflowError,
    RecursionError,
    UnicodeError,
)
CAPABILITY_METHODS = ("chat", "embed", "rerank", "transcribe", "speak")


def _answer_error(provider: _Wire, model: str, exc: BaseException) -> ProviderError:
    """A parser's surprise as the InvalidResponseError the engine can fall over on."""
    errors = getattr(exc, "errors", None)
    if isinstance(exc, ValueError) and callable(errors):
        # pydantic's ValidationError: the first problem, where it is and what was there.
        first = errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        what = f"{where}: {first['msg']} (got {str(first.get('input'))[:40]!r})"
    elif isinstance(exc, ValueError):
        what = str(exc)
    else:
        what = f"{type(exc).__name__}: {exc}"
    return provider._error(
        InvalidResponseError,
        f"unusable answer: {what}"[:300],
        model,
        status_code=ANSWER_STATUS.get() or 200,
    )


def _with_status(exc: JugglerError) -> JugglerError:
    """An InvalidResponseError raised without a status gets the answer's status."""
    if isinstance(exc, InvalidResponseError) and exc.status_code is None:
        exc.status_code = ANSWER_STATUS.get()
    return exc


def checked_call(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a capability so only Juggler's errors leave it and its answer is usable."""

    @functools.wraps(fn)
    async def call(self: _Wire, model: str, request: Any, *args: Any, **kw: Any) -> Any:
        ANSWER_STATUS.set(None)
        try:
            result = await fn(self, model, request, *args, **kw)
            check_answer(result, request)
        except JugglerError as exc:
            raise _with_status(exc) from exc.__cause__
        except _PARSE_ERRORS as exc:
            raise _answer_error(self, model, exc) from exc
        return result

    call.__juggler_checked__ = True  # type: ignore[attr-defined]
    return call


class _CheckedStream:
    """A provider's delta stream, checked delta by delta like ``checked_call``.

    A plain async iterator rather than another async generator: an extra generator layer
    would add its own finalizer to a stream the caller abandons (and its own noise).
    """

    def __init__(self, provider: _Wire, model: str, inner: Any) -> None:
        self._provider = provider
        self._model = model
        self._inner = inner

    def __aiter__(self) -> _CheckedStream:
        return self

    async def __anext__(self) -> ChatDelta:
        try:
            delta = await self._inner.__anext__()
        except StopAsyncIteration:
            raise
        except JugglerError as exc:
            raise _with_status(exc) from exc.__cause__
        except _PARSE_ERRORS as exc:
            raise _answer_error(self._provider, self._model, exc) from exc
        try:
            check_delta(delta)
        except _PARSE_ERRORS as exc:
            # The wire's generator is still open at its yield: close it (and its
            # connection) now rather than leave it to the event loop's shutdown.
            await self._inner.aclose()
            raise _answer_error(self._provider, self._model, exc) from exc
        return delta  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        """Close the underlying stream (and its connection)."""
        await self._inner.aclose()


def checked_stream(fn: Callable[..., AsyncGenerator[ChatDelta, None]]) -> Callable[..., Any]:
    """Wrap a streaming capability the same way, delta by delta."""

    @functools.wraps(fn)
    def stream(self: _Wire, model: str, request: Any, *args: Any, **kw: Any) -> _CheckedStream:
        ANSWER_STATUS.set(None)
        return _CheckedStream(self, model, fn(self, model, request, *args, **kw))

    stream.__juggler_checked__ = True  # type: ignore[attr-defined]
    return stream
