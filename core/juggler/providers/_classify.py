"""HTTP answers become exceptions here, once: the status code, the headers and the body
decide the class from the tree in ``juggler._exceptions`` (and with it ``fallback`` and
``transient``, the only two things the engine reads)."""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from juggler._exceptions import (
    MAX_MESSAGE,
    AuthenticationError,
    BadRequestError,
    ContentPolicyError,
    ContextLengthError,
    InvalidResponseError,
    ModelNotFoundError,
    OverloadedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    UnsupportedRequestError,
)
from juggler._secrets import redact, scrub_exception
from juggler.providers._headers import without_query

__all__ = ["classify", "error_in_body", "parse_retry_after", "transport_error"]

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
# A vendor's safety system refused the request. OpenAI: 400 ``content_policy_violation``
# ("Your request was rejected as a result of our safety system"), reasoning models' 400
# ``invalid_prompt`` ("flagged as potentially violating our usage policy"); Azure OpenAI:
# 400 ``content_filter`` with ``innererror.code`` ``ResponsibleAIPolicyViolation``. Another
# vendor's policy may well allow it, so these fall back (LiteLLM's content_policy_fallbacks).
_POLICY_WORDS = (
    "content_policy_violation",
    "content_filter",
    "responsibleaipolicyviolation",
    "content management policy",
    "rejected as a result of our safety system",
    "potentially violating our usage policy",
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
            return json.dumps(body["detail"])[:MAX_MESSAGE], "validation"
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
    message = redact(message, secrets)[:MAX_MESSAGE]
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
    elif 400 <= status < 500 and any(w in lowered for w in _POLICY_WORDS):
        cls = ContentPolicyError
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
            "error inside a 200 answer: " + redact(message, secrets)[:MAX_MESSAGE],
            provider=provider,
            model=model,
            status_code=status,
        )
    return None


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


def transport_error(
    exc: Exception, *, provider: str, model: str, url: str, secrets: Iterable[str | None] = ()
) -> ProviderError | None:
    """The ProviderError for one of httpx's transport exceptions (None: not one), naming the
    URL tried without its query string (which can hold a key). httpx keeps the Request
    (Authorization header included) on the exception chained below it: its credentials are
    stripped before anyone can print the chain."""
    where = without_query(url)
    scrub_exception(exc)
    cls: type[ProviderError]
    if isinstance(exc, httpx.TimeoutException) and not _not_a_timeout(exc):
        cls, message = ProviderTimeoutError, f"{type(exc).__name__}: no answer in time from {where}"
    elif isinstance(exc, httpx.TimeoutException):
        cls, message = ProviderConnectionError, f"connection lost on {where}: {exc.__cause__!r}"
    elif isinstance(exc, (httpx.TransportError, httpx.StreamError)):
        detail = f": {exc}" if str(exc) else ""
        cls, message = ProviderConnectionError, f"{type(exc).__name__} on {where}{detail}"
    else:
        return None
    return cls(redact(message, secrets)[:MAX_MESSAGE], provider=provider, model=model)
