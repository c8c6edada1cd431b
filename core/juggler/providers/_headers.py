"""Rate-limit headers, collected per attempt, and URLs safe to show.

``capture_rate_headers()`` collects the rate-limit headers of the answers received inside
the block (in the calling task only, so concurrent attempts never mix them up); the
rate-limit book reads them. ``without_query`` drops a URL's query string, which can hold a key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

import httpx

__all__ = ["capture_rate_headers", "note_headers", "rate_limit_headers", "without_query"]

_RATE_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-", "retry-after")
# Where the current attempt's rate-limit headers go: set by ``capture_rate_headers`` in the
# task that calls the provider, so concurrent attempts (races, hedges) never mix them up.
_HEADER_SINK: ContextVar[dict[str, str] | None] = ContextVar("juggler_rate_headers", default=None)


def rate_limit_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The rate-limit headers of an answer (names lower-cased), for the rate-limit book."""
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith(_RATE_PREFIXES)}


@contextmanager
def capture_rate_headers() -> Iterator[dict[str, str]]:
    """Collect the rate-limit headers of the answers received inside the block::

        with capture_rate_headers() as headers:
            result = await provider.chat(model, request)
        book.observe(target.key, headers, now)

    Works for every wire and for streams (headers arrive before the first event). Failed
    attempts carry the same headers on ``ProviderError.headers``.
    """
    sink: dict[str, str] = {}
    token = _HEADER_SINK.set(sink)
    try:
        yield sink
    finally:
        _HEADER_SINK.reset(token)


def note_headers(response: httpx.Response) -> None:
    sink = _HEADER_SINK.get()
    if sink is not None:
        sink.update(rate_limit_headers(response.headers))


def without_query(url: str) -> str:
    """``url`` without its query string and fragment (a query can carry a key)."""
    try:
        return str(httpx.URL(url).copy_with(query=None, fragment=None))
    except (httpx.InvalidURL, TypeError, ValueError):
        return url.split("?", 1)[0].split("#", 1)[0]
