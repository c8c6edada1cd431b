"""The provider base class: HTTP plumbing and error classification shared by every wire format.

A wire-format module subclasses :class:`BaseProvider`, declares ``wire = "name"`` and
implements the capabilities it speaks (build payload → ``post_*`` → parse). Nothing in a
provider retries, falls back or caches: that is the engine's job. This is the HTTP boundary,
so every httpx exception and every non-2xx answer is turned into a ``ProviderError`` here,
once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import anyio
import httpx
from httpx_sse import EventSource, ServerSentEvent

from juggler._exceptions import (
    CapabilityNotConfiguredError,
    InvalidResponseError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    classify,
    error_in_body,
    redact,
)
from juggler._types import Capability
from juggler.providers.catalog import ProviderSpec
from juggler.providers.transport import HttpClients
from juggler.providers.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    EmbedRequest,
    EmbedResult,
    RerankRequest,
    RerankResult,
    SpeakRequest,
    SpeechResult,
    TranscribeRequest,
    TranscriptionResult,
)

__all__ = ["BaseProvider"]

_DRAIN_SECONDS = 0.5


def _not_a_timeout(exc: httpx.TimeoutException) -> bool:
    """True when an httpx timeout really wraps a lost connection.

    httpx-aiohttp maps every ``aiohttp.ClientConnectionError`` (a server that closed the
    socket, too) to ``httpx.ConnectTimeout``; aiohttp's real timeouts are ``TimeoutError``s.
    """
    cause = exc.__cause__
    return (
        cause is not None
        and type(cause).__module__.startswith("aiohttp")
        and not isinstance(cause, TimeoutError)
    )


class BaseProvider:
    """One configured provider: its catalogue row, key, base URL and HTTP clients."""

    wire: ClassVar[str] = ""

    def __init__(
        self,
        spec: ProviderSpec,
        *,
        api_key: str | None,
        base_url: str,
        clients: HttpClients | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._clients = clients

    def attach(self, clients: HttpClients) -> None:
        """Use ``clients`` for HTTP unless the provider was built with its own. A Juggler
        attaches its pools to provider instances passed in ``providers=``."""
        if self._clients is None:
            self._clients = clients

    def _client(self) -> Any:
        if self._clients is None:
            raise RuntimeError(f"{self.name}: no HTTP clients attached; pass it to a Juggler")
        return self._clients.get(self.name)

    def __repr__(self) -> str:
        key = "set" if self._api_key else "unset"
        return f"{type(self).__name__}(name={self.name!r}, base_url={self.base_url!r}, key={key})"

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this provider can do (from its catalogue row)."""
        return self.spec.capabilities

    @property
    def has_key(self) -> bool:
        """True when an API key is configured."""
        return bool(self._api_key)

    # ----- capabilities: a wire format overrides the ones it speaks -----

    async def chat(self, model: str, request: ChatRequest) -> ChatResult:
        """One complete chat answer."""
        raise self._unsupported(Capability.CHAT)

    def stream_chat(self, model: str, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """Stream a chat answer as deltas."""
        raise self._unsupported(Capability.CHAT)

    async def embed(self, model: str, request: EmbedRequest) -> EmbedResult:
        """Embed one batch (already split to the provider's limit)."""
        raise self._unsupported(Capability.EMBED)

    async def rerank(self, model: str, request: RerankRequest) -> RerankResult:
        """Order documents by relevance to the query."""
        raise self._unsupported(Capability.RERANK)

    async def transcribe(self, model: str, request: TranscribeRequest) -> TranscriptionResult:
        """Speech to text."""
        raise self._unsupported(Capability.TRANSCRIBE)

    async def speak(self, model: str, request: SpeakRequest) -> SpeechResult:
        """Text to speech."""
        raise self._unsupported(Capability.SPEAK)

    def _unsupported(self, capability: Capability) -> CapabilityNotConfiguredError:
        return CapabilityNotConfiguredError(
            f"{self.name} ({self.wire} wire format) does not offer {capability.value}"
        )

    # ----- HTTP helpers: the one boundary where failures are classified -----

    def auth_headers(self) -> dict[str, str]:
        """Headers that carry the key; the default is a bearer token."""
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def url(self, path: str, base: str | None = None) -> str:
        """``base`` (default: the provider's base URL) joined with ``path``."""
        return (base or self.base_url).rstrip("/") + path

    def _error(self, cls: type[ProviderError], message: str, model: str, **kw: Any) -> Any:
        return cls(redact(message, [self._api_key]), provider=self.name, model=model, **kw)

    def _check(self, response: httpx.Response, body_text: str, model: str) -> None:
        if response.status_code >= 300:
            raise classify(
                response.status_code,
                response.headers,
                body_text,
                provider=self.name,
                model=model,
                secrets=[self._api_key],
            )

    def _decode(self, text: str | bytes, model: str, status: int = 200) -> Any:
        try:
            body = json.loads(text)
        except ValueError as exc:
            shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
            snippet = " ".join(shown.split())[:80]
            raise self._error(
                InvalidResponseError,
                f"answer is not valid JSON: {snippet!r}",
                model,
                status_code=status,
            ) from exc
        err = error_in_body(body, provider=self.name, model=model, secrets=[self._api_key])
        if err is not None:
            raise err
        return body

    def _transport_error(self, exc: Exception, model: str) -> ProviderError | None:
        """The ProviderError for one of httpx's transport exceptions (None: not one)."""
        if isinstance(exc, httpx.TimeoutException):
            if _not_a_timeout(exc):
                return self._error(
                    ProviderConnectionError, f"connection lost: {exc.__cause__!r}", model
                )
            return self._error(
                ProviderTimeoutError, f"{type(exc).__name__}: no answer in time", model
            )
        if isinstance(exc, (httpx.TransportError, httpx.StreamError)):
            return self._error(ProviderConnectionError, f"{type(exc).__name__}: {exc}", model)
        return None

    @asynccontextmanager
    async def _guard(self, model: str) -> AsyncIterator[None]:
        """Translate httpx's transport exceptions into ProviderErrors."""
        try:
            yield
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise self._transport_error(exc, model) from exc  # type: ignore[misc]

    async def _send(
        self,
        model: str,
        url: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        client = self._client()
        all_headers = {**self.auth_headers(), **(headers or {})}
        # A plain try (not _guard): an async context manager per request is measurable CPU
        # at high concurrency (bench/profile_achat.py).
        try:
            return await client.post(
                url, json=json_body, headers=all_headers, data=data, files=files
            )
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise self._transport_error(exc, model) from exc  # type: ignore[misc]

    def _body(self, response: httpx.Response) -> str | bytes:
        """The answer as json.loads wants it: the raw bytes when no charset is declared
        (JSON is UTF-8, and json.loads detects it), skipping httpx's charset parsing."""
        if "charset" in response.headers.get("content-type", ""):
            return response.text
        return response.content

    async def post_json(
        self,
        path_or_url: str,
        payload: Any,
        *,
        model: str,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """POST JSON and return the decoded JSON answer, or raise a classified error."""
        url = path_or_url if path_or_url.startswith("http") else self.url(path_or_url)
        response = await self._send(model, url, json_body=payload, headers=headers)
        if response.status_code >= 300:
            self._check(response, response.text, model)
        return self._decode(self._body(response), model, response.status_code)

    async def post_multipart(
        self,
        path: str,
        data: Mapping[str, Any],
        files: Mapping[str, Any],
        *,
        model: str,
    ) -> Any:
        """POST multipart/form-data (audio uploads) and return the decoded JSON answer."""
        response = await self._send(model, self.url(path), data=data, files=files)
        self._check(response, response.text, model)
        return self._decode(response.text, model, response.status_code)

    async def post_for_bytes(self, path: str, payload: Any, *, model: str) -> tuple[bytes, str]:
        """POST JSON and return the binary answer and its content type (speech)."""
        response = await self._send(model, self.url(path), json_body=payload)
        self._check(response, response.text if response.status_code >= 300 else "", model)
        content_type = response.headers.get("content-type", "application/octet-stream")
        if content_type.startswith("application/json"):
            self._decode(response.text, model)  # an error object inside a 200 raises here
            raise self._error(InvalidResponseError, "expected audio, got JSON", model)
        if not response.content:
            raise self._error(InvalidResponseError, "empty audio answer", model, status_code=200)
        return response.content, content_type

    async def post_sse(
        self,
        path_or_url: str,
        payload: Any,
        *,
        model: str,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncGenerator[ServerSentEvent, None]:
        """POST and yield server-sent events; errors before or during the stream are classified."""
        url = path_or_url if path_or_url.startswith("http") else self.url(path_or_url)
        client = self._client()
        all_headers = {"Accept": "text/event-stream", **self.auth_headers(), **(headers or {})}
        async with (
            self._guard(model),
            client.stream("POST", url, json=payload, headers=all_headers) as response,
        ):
            if response.status_code >= 300:
                await response.aread()
                self._check(response, response.text, model)
            content_type = response.headers.get("content-type", "")
            if "text/event-stream" not in content_type:
                # Some servers answer a stream request with one JSON body (often an error).
                await response.aread()
                self._decode(response.text, model)
                raise self._error(
                    InvalidResponseError,
                    f"expected an event stream, got {content_type!r}",
                    model,
                    status_code=response.status_code,
                )
            async for event in EventSource(response).aiter_sse():
                yield event

    async def finish_sse(self, events: AsyncIterator[ServerSentEvent]) -> None:
        """Read what is left of a stream whose last event has arrived, so its connection goes
        back to the pool instead of being torn down (a new TLS handshake per stream). A server
        that keeps the body open gets at most ``_DRAIN_SECONDS``; then the connection is
        dropped, and the answer is complete either way."""
        with anyio.move_on_after(_DRAIN_SECONDS):
            async for _ in events:
                pass

    def parse_ranking(
        self, rows: Any, score_key: str, n_documents: int, model: str
    ) -> list[tuple[int, float]]:
        """Rerank rows ``[{index, <score_key>}]`` as (index, score) pairs, best first; a
        malformed row or an index outside the input is an InvalidResponseError."""
        try:
            if not isinstance(rows, list):
                raise TypeError(f"expected a list of results, got {type(rows).__name__}")
            pairs = [(int(row["index"]), float(row[score_key])) for row in rows]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._error(
                InvalidResponseError, f"unexpected rerank answer shape: {exc!r}", model
            ) from exc
        if any(not 0 <= i < n_documents for i, _ in pairs):
            raise self._error(InvalidResponseError, "rerank index out of range", model)
        return sorted(pairs, key=lambda pair: -pair[1])

    def sse_json(self, event: ServerSentEvent, model: str) -> Any:
        """Decode one event's JSON data (raising InvalidResponseError on garbage)."""
        return self._decode(event.data, model)
