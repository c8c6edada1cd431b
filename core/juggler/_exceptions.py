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
    │   ├── ContentPolicyError        a safety filter refused the prompt or withheld the
    │   │                             answer (OpenAI content_policy_violation, Azure
    │   │                             content_filter, Anthropic stop_reason refusal, Gemini
    │   │                             blockReason / finishReason SAFETY)
    │   │                                              fallback (another vendor's policy differs)
    │   ├── BadRequestError           other 4xx        stops the chain: every provider would refuse
    │   ├── ServerError               5xx              fallback, transient
    │   │   └── OverloadedError       529 / overloaded fallback, transient
    │   ├── ProviderTimeoutError      connect / read / first-token / idle timeout
    │   ├── ProviderConnectionError   refused, reset, dropped
    │   └── InvalidResponseError      HTML page, truncated body or stream, wrong shape
    ├── AllProvidersFailedError                 the call's end when nothing answered; .models_used
    │   ├── RequestRejectedError                a provider refused the request itself (400)
    │   └── JugglerBusyError                    refused before any request: max_in_flight calls
    │                                           running and max_queued waiting (this client
    │                                           is overloaded, not the providers)
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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from juggler._money import total_cost
from juggler._root_errors import InvalidRequestError, JugglerError
from juggler._secrets import redact

if TYPE_CHECKING:
    from juggler._attempts import ModelAttempt

__all__ = [
    "AllProvidersFailedError",
    "AuthenticationError",
    "BadRequestError",
    "CapabilityNotConfiguredError",
    "ContentPolicyError",
    "ContextLengthError",
    "EmbeddingSpaceError",
    "InvalidRequestError",
    "InvalidResponseError",
    "JugglerBusyError",
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
    "redact",
]

MAX_MESSAGE = 300


class CapabilityNotConfiguredError(InvalidRequestError):
    """No configured target offers the capability; the message names providers that would."""


class ProviderError(JugglerError):
    """One attempt against one provider failed.

    Attributes:
        provider: the provider's name.
        model: the model asked for.
        status_code: the HTTP status, or None when no answer came back.
        retry_after: seconds the provider asked us to wait, when it said so.
        headers: the answer's rate-limit headers (``x-ratelimit-*``, ``anthropic-ratelimit-*``,
            ``retry-after``), for the engine's rate-limit book; empty when there was none.
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
        self.headers: dict[str, str] = {}

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


class ContentPolicyError(ProviderError):
    """A vendor's safety system refused the prompt or withheld the answer.

    Falls back (another vendor's policy may allow the request), and is not retried on the
    same target, which would refuse again. Nor does it count against the target's circuit:
    it says something about this request, not about the provider's health.
    """


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

    @property
    def cost_usd(self) -> float | None:
        """What the failed call cost: the sum over ``models_used`` (None if no price known)."""

        return total_cost(self.models_used)


class RequestRejectedError(AllProvidersFailedError):
    """A provider rejected the request itself (a 400), so no other target was tried."""


class JugglerBusyError(AllProvidersFailedError):
    """Admission control refused the call: ``max_in_flight`` calls were running and
    ``max_queued`` more were waiting. No request was sent; ``models_used`` records every
    target as skipped. Retry later, slow down, or raise the limits."""


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

    @property
    def cost_usd(self) -> float | None:
        """What the failed call cost: the sum over ``models_used`` (None if no price known)."""

        return total_cost(self.models_used)


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
