"""The provider base class: HTTP plumbing and error classification shared by every wire format.

A wire-format module subclasses :class:`BaseProvider`, declares ``wire = "name"`` and
implements the capabilities it speaks (build payload → ``post_*`` → parse). Nothing in a
provider retries, falls back or caches: that is the engine's job. This is the HTTP boundary,
so every httpx exception and every non-2xx answer is turned into a ``ProviderError`` here,
once.
"""

from __future__ import annotations

import inspect
import json
import logging
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, ClassVar

import anyio
import httpx
from httpx_sse import EventSource, ServerSentEvent

from juggler._exceptions import (
    CapabilityNotConfiguredError,
    InvalidResponseError,
    ProviderError,
)
from juggler._secrets import LogRedactor, mask_url, redact, secrets_in_url
from juggler._types import Capability
from juggler.providers._answers import (
    ANSWER_STATUS,
    CAPABILITY_METHODS,
    checked_call,
    checked_stream,
)
from juggler.providers._checks import ranking_pairs
from juggler.providers._classify import classify, error_in_body, transport_error
from juggler.providers._headers import (
    capture_rate_headers,
    note_headers,
    rate_limit_headers,
)
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

__all__ = ["BaseProvider", "capture_rate_headers", "rate_limit_headers"]  # the last two re-exported

_DRAIN_SECONDS = 0.5


class BaseProvider:
    """One configured provider: its catalogue row, key, base URL and HTTP clients."""

    wire: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every capability a wire defines is wrapped at the boundary: a parser's bare
        ``KeyError``/``TypeError``/... and an unusable answer both become an
        ``InvalidResponseError`` with the HTTP status, and nothing else escapes."""
        super().__init_subclass__(**kwargs)
        for name in (*CAPABILITY_METHODS, "stream_chat"):
            fn = cls.__dict__.get(name)
            if fn is None or getattr(fn, "__juggler_checked__", False):
                continue
            if name == "stream_chat" and inspect.isasyncgenfunction(fn):
                setattr(cls, name, checked_stream(fn))
            elif name != "stream_chat" and inspect.iscoroutinefunction(fn):
                setattr(cls, name, checked_call(fn))

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
        # The variable to set when this provider needs a key it was not given (a catalogued
        # vendor at its own URL); the planner skips its targets rather than send a request
        # that can only fail. None: it has a key, or needs none (a custom or local server).
        self.missing_key: str | None = None
        in_url = secrets_in_url(self.base_url)
        # Everything redacted from text this provider produces: its key, and any key written
        # into its base_url.
        self.secret_values: list[str | None] = [api_key, *in_url]
        if in_url:
            # httpx logs each request's URL at INFO; a key written into base_url stays out
            # of it for as long as this provider lives.
            log = logging.getLogger("httpx")
            redactor = LogRedactor([*in_url, api_key or ""])
            log.addFilter(redactor)
            weakref.finalize(self, log.removeFilter, redactor)

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
        url = mask_url(self.base_url, self.secret_values)
        return f"{type(self).__name__}(name={self.name!r}, base_url={url!r}, key={key})"

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
        """``base`` (default: the provider's base URL) joined with ``path`` (an absolute URL
        is returned as it is: Azure's per-deployment URLs are built by the wire)."""
        if path.startswith(("http://", "https://")):
            return path
        return (base or self.base_url).rstrip("/") + path

    def _error(self, cls: type[ProviderError], message: str, model: str, **kw: Any) -> Any:
        return cls(redact(message, self.secret_values), provider=self.name, model=model, **kw)

    def _check(self, response: httpx.Response, body_text: str, model: str) -> None:
        if response.status_code >= 300:
            error = classify(
                response.status_code,
                response.headers,
                body_text,
                provider=self.name,
                model=model,
                secrets=self.secret_values,
            )
            error.headers = rate_limit_headers(response.headers)
            raise error

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
        err = error_in_body(
            body, provider=self.name, model=model, secrets=self.secret_values, status=status
        )
        if err is not None:
            raise err
        return body

    def _transport_error(self, exc: Exception, model: str, url: str) -> ProviderError | None:
        """The ProviderError for one of httpx's transport exceptions (None: not one)."""
        return transport_error(exc, provider=self.name, model=model, url=url,
                               secrets=self.secret_values)  # fmt: skip

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
        all_headers = {**self.spec.headers, **self.auth_headers(), **(headers or {})}
        # A plain try, not an async context manager: one per request is measurable CPU
        # at high concurrency (bench/profile_achat.py).
        try:
            response = await client.post(
                url, json=json_body, headers=all_headers, data=data, files=files
            )
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise self._transport_error(exc, model, url) from exc  # type: ignore[misc]
        note_headers(response)
        ANSWER_STATUS.set(response.status_code)
        return response

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
            # An error object inside a 200 raises here, by the one rule for those.
            self._decode(response.text, model, response.status_code)
            raise self._error(
                InvalidResponseError,
                "expected audio, got JSON",
                model,
                status_code=response.status_code,
            )
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
        all_headers = {
            "Accept": "text/event-stream",
            **self.spec.headers,
            **self.auth_headers(),
            **(headers or {}),
        }
        # Plain awaits and a try, not async context managers: those are generators too, and
        # a stream abandoned unclosed would have the event loop close them concurrently with
        # this one when it shuts down ("athrow(): asynchronous generator is already running").
        request = client.build_request("POST", url, json=payload, headers=all_headers)
        try:
            response = await client.send(request, stream=True)
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise self._transport_error(exc, model, url) from exc  # type: ignore[misc]
        try:
            note_headers(response)
            ANSWER_STATUS.set(response.status_code)
            if response.status_code >= 300:
                await response.aread()
                self._check(response, response.text, model)
            content_type = response.headers.get("content-type", "")
            if "text/event-stream" not in content_type:
                # Some servers answer a stream request with one JSON body (often an error).
                await response.aread()
                self._decode(response.text, model, response.status_code)
                raise self._error(
                    InvalidResponseError,
                    f"expected an event stream, got {content_type!r}",
                    model,
                    status_code=response.status_code,
                )
            async for event in EventSource(response).aiter_sse():
                yield event
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise self._transport_error(exc, model, url) from exc  # type: ignore[misc]
        finally:
            with anyio.CancelScope(shield=True):
                await response.aclose()

    def truncated(self, model: str, final: str) -> InvalidResponseError:
        """The error for a stream whose body ended cleanly before the wire's final event
        (``final``): the answer is cut short, never a success."""
        error: InvalidResponseError = self._error(
            InvalidResponseError,
            f"truncated stream: the body ended before {final}",
            model,
            status_code=ANSWER_STATUS.get() or 200,
        )
        return error

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
        """Rerank rows ``[{index, <score_key>}]`` as (index, score) pairs, best first; a bad
        row is an InvalidResponseError (raised by the capability's answer check)."""
        return ranking_pairs(rows, score_key, n_documents)

    def sse_json(self, event: ServerSentEvent, model: str) -> dict[str, Any]:
        """Decode one event's JSON object (raising InvalidResponseError on garbage)."""
        data = self._decode(event.data, model, ANSWER_STATUS.get() or 200)
        if not isinstance(data, dict):
            raise self._error(
                InvalidResponseError,
                f"stream event is a JSON {type(data).__name__}, not an object",
                model,
                status_code=ANSWER_STATUS.get() or 200,
            )
        return data
