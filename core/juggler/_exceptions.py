"""The exception tree, and the one place where HTTP answers become exceptions.

Every failure of one attempt is classified exactly once, here, from the status code, the
headers and the body. The engine only reads the two flags each class carries:
``fallback`` (hand over to the next target) and ``transient`` (worth retrying the same
target).

::

    JugglerError
    ├── InvalidRequestError (ValueError)        bad input, raised before any request
    │   └── CapabilityNotConfiguredError        no configured provider offers the capability
    ├── ProviderError                           one attempt failed (recorded in models_used)
    │   ├── RateLimitError            429              fallback, transient
    │   ├── AuthenticationError       401 / 403        fallback (that key, that provider)
    │   ├── ModelNotFoundError        404              fallback
    │   ├── ContextLengthError        400 "too long"   fallback (another model may fit)
    │   ├── UnsupportedRequestError   400 this model refuses a parameter or a tool call
    │   │                                              fallback (another model may take it)
    │   ├── BadRequestError           other 4xx        stops the chain: every provider would refuse
    │   ├── ServerError               5xx              fallback, transient
    │   │   └── OverloadedError       529 / overloaded fallback, transient
    │   ├── ProviderTimeoutError      connect / read / first-token / idle timeout
    │   ├── ProviderConnectionError   refused, reset, dropped
    │   └── InvalidResponseError      HTML page, truncated body or stream, wrong shape
    ├── AllProvidersFailedError                 the call's end when nothing answered; .models_used
    │   └── RequestRejectedError                a provider refused the request itself (400)
    ├── StreamInterruptedError                  a stream broke after tokens were delivered;
    │                                           .partial_text and .models_used
    └── EmbeddingSpaceError                     an embedder's answer came from another
                                                embedding space than its earlier ones

A ``ProviderError`` never carries the API key: messages are taken from the provider's body
and passed through :func:`juggler._secrets.redact` with the key before they are stored
(``redact`` is re-exported here for older imports).

An ``error`` object inside a 2xx answer follows one rule on every wire: when it carries an
HTTP status code (``"code": 429``) it is classified exactly like that HTTP answer, and
``status_code`` is that code; without one it is an ``InvalidResponseError`` with the real
status (200).
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from juggler._secrets import redact

if TYPE_CHECKING:
    from juggler._attempts import ModelAttempt

__all__ = [
    "AllProvidersFailedError",
    "AuthenticationError",
    "BadRequestError",
    "CapabilityNotConfiguredError",
    "ContextLengthError",
    "EmbeddingSpaceError",
    "InvalidRequestError",
    "InvalidResponseError",
    "JugglerError",
    "ModelNotFoundError",
    "OverloadedError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "RequestRejectedError",
    "ServerError",
    "StreamInterruptedError",
    "UnsupportedRequestError",
    "classify",
    "parse_retry_after",
    "redact",
]

_MAX_MESSAGE = 300
# 400s that another model may well accept: they describe this model's limits.
_MODEL_SPECIFIC_WORDS = (
    "unsupported_parameter",
    "unsupported_value",
    "tool_use_failed",
    "model_not_supported",
    "does not support",
    "not supported with this model",
)
# 4xx that say this provider does not serve the model, whatever the status: Mistral answers an
# unknown model with 400 ``invalid_model`` ("Invalid model: x"), Voyage with 400 "Model x is not
# supported" (shared/wire/voyage/embeddings/pydantic-ai/TestVoyageAI.test_embed_error.yaml).
# Another provider may serve it, so these fall back like a 404 instead of stopping the chain.
_MODEL_MISSING = re.compile(
    r"invalid_model|model_not_found|\binvalid model\b"
    r"|\bmodel [^\s.,;:]+ is not (?:supported|found|available)\b"
)
_CONTEXT_WORDS = (
    "context_length",
    "context length",
    "context window",
    "too long",
    "maximum context",
    "too many tokens",
    "reduce the length",
    "prompt is too long",
    "exceeds the maximum",
)


class JugglerError(Exception):
    """Base class of every exception Juggler raises."""


class InvalidRequestError(JugglerError, ValueError):
    """The call's arguments are wrong; raised before any request is sent."""


class CapabilityNotConfiguredError(InvalidRequestError):
    """No configured target offers the capability; the message names providers that would."""


class ProviderError(JugglerError):
    """One attempt against one provider failed.

    Attributes:
        provider: the provider's name.
        model: the model asked for.
        status_code: the HTTP status, or None when no answer came back.
        retry_after: seconds the provider asked us to wait, when it said so.
    """

    fallback: ClassVar[bool] = True
    transient: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        model: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"{self.provider}/{self.model}: " if self.provider else ""
        code = f"HTTP {self.status_code}: " if self.status_code else ""
        return f"{where}{code}{self.message}"


class RateLimitError(ProviderError):
    """429: the provider is rate limiting this key."""

    transient = True


class AuthenticationError(ProviderError):
    """401/403: the key is missing, wrong or not allowed this model."""


class ModelNotFoundError(ProviderError):
    """404: the provider does not serve this model (or this path)."""


class ContextLengthError(ProviderError):
    """400 saying the input is too long; a model with a larger window may take it."""


class UnsupportedRequestError(ProviderError):
    """A 400 that is about this model, not the request: an unsupported parameter or value,
    or a tool call the model failed to produce (Groq's ``tool_use_failed``)."""


class BadRequestError(ProviderError):
    """A 4xx that any provider would give: the request itself is malformed."""

    fallback = False


class ServerError(ProviderError):
    """5xx from the provider."""

    transient = True


class OverloadedError(ServerError):
    """529 or an `overloaded_error`: the provider has no capacity right now."""


class ProviderTimeoutError(ProviderError):
    """No answer in time: connect, read, time to first token, or idle between chunks."""

    transient = True


class ProviderConnectionError(ProviderError):
    """The connection was refused, reset or dropped."""

    transient = True


class InvalidResponseError(ProviderError):
    """The answer could not be used: not JSON, truncated, or an error object inside a 200."""

    transient = True


class AllProvidersFailedError(JugglerError):
    """Every target failed (or was skipped). ``models_used`` holds every attempt, in order."""

    def __init__(self, models_used: Sequence[ModelAttempt], message: str | None = None) -> None:
        self.models_used: list[ModelAttempt] = list(models_used)
        lines = [message or f"all {len(self.models_used)} attempt(s) failed:"]
        lines += [f"  {a.summary()}" for a in self.models_used]
        super().__init__("\n".join(lines))

    @property
    def response(self) -> _ErrorResponseShim:
        """A response-like view, so frameworks that inspect ``exc.response`` see models_used."""
        return _ErrorResponseShim(self.models_used)


class RequestRejectedError(AllProvidersFailedError):
    """A provider rejected the request itself (a 400), so no other target was tried."""


class StreamInterruptedError(JugglerError):
    """A stream failed after text had reached the caller; nothing is silently truncated."""

    def __init__(self, partial_text: str, models_used: Sequence[ModelAttempt]) -> None:
        self.partial_text = partial_text
        self.models_used: list[ModelAttempt] = list(models_used)
        last = self.models_used[-1].summary() if self.models_used else "unknown"
        super().__init__(
            f"stream interrupted after {len(partial_text)} characters were delivered: {last}"
        )

    @property
    def response(self) -> _ErrorResponseShim:
        """A response-like view, so frameworks that inspect ``exc.response`` see models_used."""
        return _ErrorResponseShim(self.models_used)


class EmbeddingSpaceError(JugglerError):
    """An embedding call was answered from another embedding space than earlier calls on the
    same object: vectors of different models cannot share an index.

    Attributes:
        expected: the space of the earlier calls.
        got: the space of this answer.
        models_used: this call's attempts.
    """

    def __init__(
        self,
        expected: str,
        got: str,
        provider: str,
        model: str,
        models_used: Sequence[ModelAttempt],
        owner: str = "this object",
    ) -> None:
        self.expected = expected
        self.got = got
        self.models_used: list[ModelAttempt] = list(models_used)
        super().__init__(
            f"this call was answered by {provider}/{model} (space {got!r}), but earlier calls "
            f"on {owner} used space {expected!r}: vectors of different models cannot share an "
            "index. Re-embed everything with one model, or pass allow_cross_space=True if you "
            "really mean to mix spaces."
        )


class _ErrorResponseShim:
    """Mimics the part of ``httpx.Response`` that LangChain reads from a failed call."""

    status_code = 502
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, models_used: Sequence[ModelAttempt]) -> None:
        self._models_used = models_used

    def json(self) -> dict[str, Any]:
        return {"models_used": [dict(a) for a in self._models_used]}


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP-date) or ``retry-after-ms``."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _error_message(body: Any, text: str) -> tuple[str, str]:
    """Pull (message, type/code) out of the error envelopes vendors use."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail") or err.get("msg") or ""
            # OpenAI-style bodies put the generic class in "type" (invalid_request_error) and
            # the specific reason in "code" (tool_use_failed, unsupported_parameter): keep both.
            kind = " ".join(
                str(err[key]) for key in ("type", "code", "status") if err.get(key) is not None
            )
            upstream = (err.get("metadata") or {}) if isinstance(err.get("metadata"), dict) else {}
            if msg and isinstance(upstream.get("raw"), str):
                # OpenRouter's message is only "Provider returned error"; the cause is here.
                msg = f"{msg}: {upstream['raw']}"
            if msg:
                return str(msg), kind
        elif isinstance(err, str):
            return err, str(body.get("type", ""))
        for key in ("message", "detail"):
            if isinstance(body.get(key), str):
                return body[key], str(body.get("type", ""))
        if isinstance(body.get("detail"), list):
            return json.dumps(body["detail"])[:_MAX_MESSAGE], "validation"
    snippet = " ".join(text.split())
    if snippet.lstrip().startswith("<"):
        return "non-JSON error page: " + snippet[:120], "html"
    return snippet or "(empty body)", ""


def classify(
    status: int,
    headers: Mapping[str, str],
    body_text: str,
    *,
    provider: str,
    model: str,
    secrets: Iterable[str | None] = (),
) -> ProviderError:
    """Turn one non-2xx HTTP answer into the right :class:`ProviderError`."""
    try:
        body: Any = json.loads(body_text) if body_text else None
    except ValueError:
        body = None
    message, kind = _error_message(body, body_text)
    message = redact(message, secrets)[:_MAX_MESSAGE]
    lowered = f"{kind} {message}".lower()
    retry_after = parse_retry_after(headers)
    cls: type[ProviderError]
    if status == 429:
        cls = RateLimitError
    elif status in (401, 403):
        cls = AuthenticationError
    elif status == 404:
        cls = ModelNotFoundError
    elif status == 413 or (400 <= status < 500 and any(w in lowered for w in _CONTEXT_WORDS)):
        cls = ContextLengthError
    elif status == 408:
        cls = ProviderTimeoutError
    elif 400 <= status < 500 and _MODEL_MISSING.search(lowered):
        cls = ModelNotFoundError
    elif 400 <= status < 500 and any(w in lowered for w in _MODEL_SPECIFIC_WORDS):
        cls = UnsupportedRequestError
    elif 400 <= status < 500:
        cls = BadRequestError
    elif status == 529 or "overloaded" in lowered:
        cls = OverloadedError
    else:
        cls = ServerError
    return cls(message, provider=provider, model=model, status_code=status, retry_after=retry_after)


def _http_code(code: Any) -> int | None:
    """The HTTP status an error object carries (``429`` or ``"429"``), if it is one."""
    if isinstance(code, str) and code.isdigit() and len(code) == 3:
        code = int(code)
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code < 600:
        return code
    return None


def error_in_body(
    body: Any,
    *,
    provider: str,
    model: str,
    secrets: Iterable[str | None] = (),
    status: int = 200,
) -> ProviderError | None:
    """An ``error`` object inside a 2xx answer (some gateways do this) becomes an error: the
    class of the HTTP code it carries, else InvalidResponseError with the answer's status."""
    if isinstance(body, dict) and body.get("error") and not body.get("choices"):
        message, _ = _error_message(body, "")
        code = body["error"].get("code") if isinstance(body["error"], dict) else None
        carried = _http_code(code)
        if carried is not None:
            return classify(
                carried, {}, json.dumps(body), provider=provider, model=model, secrets=secrets
            )
        return InvalidResponseError(
            "error inside a 200 answer: " + redact(message, secrets)[:_MAX_MESSAGE],
            provider=provider,
            model=model,
            status_code=status,
        )
    return None
