"""`ModelAttempt`: the typed record of one try at one target, the unit of ``models_used``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from juggler._money import total_cost
from juggler._types import Usage

__all__ = ["ModelAttempt", "Outcome", "total_cost"]

Outcome = Literal["success", "error", "skipped", "cancelled", "discarded", "cache_hit"]


class ModelAttempt(BaseModel):
    """One attempt, in call order. Frozen, and also a read-only Mapping of its fields.

    ``dict(attempt)`` and ``json.dumps([dict(a) for a in response.models_used])`` work: the
    Mapping view is plain data (``attempt["usage"]`` is a dict, ``attempt.usage`` a ``Usage``).

    Attributes:
        provider: provider name, e.g. ``"groq"``.
        model: the model id asked for.
        success: True when this attempt produced the answer.
        outcome: ``success``, ``error``, ``skipped`` (no request sent, e.g. circuit open),
            ``cancelled`` (a raced or hedged attempt that lost), ``discarded`` (it answered,
            but another attempt's answer had already been returned) or ``cache_hit``. Exactly
            one attempt of an answered call has ``success=True``.
        attempt: 1, 2, 3, … across the whole call.
        status_code: the HTTP status, or None when no answer came back.
        error: a short message (never an API key); None on success.
        error_type: the exception class name, e.g. ``RateLimitError``.
        elapsed_ms: wall time of this attempt.
        retry: True when this attempt retried the same target after a transient error.
        hedged: True when this attempt was started as a hedge or a parallel race entry.
        usage: tokens this attempt consumed as the wire reported them (``usage.estimated`` when
            counted from delivered text, e.g. a cut or cancelled stream); None when nothing
            was reported and nothing was delivered (a skip, a refused request).
        cost_usd: what this attempt cost in US dollars; None when the price is unknown (no
            price for the model, or no usage), never a guess. 0.0 for skips and cache hits.
    """

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    success: bool
    outcome: Outcome
    attempt: int
    status_code: int | None = None
    error: str | None = None
    error_type: str | None = None
    elapsed_ms: float = 0.0
    retry: bool = False
    hedged: bool = False
    usage: Usage | None = None
    cost_usd: float | None = None

    # --- Mapping protocol (pydantic's own __iter__ yields pairs; a Mapping yields keys) ---
    def keys(self) -> list[str]:  # type: ignore[override]
        """Field names, in declaration order."""
        return list(type(self).model_fields)

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return _plain(getattr(self, key))

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(type(self).model_fields)

    def __len__(self) -> int:
        return len(type(self).model_fields)

    def __contains__(self, key: object) -> bool:
        return key in type(self).model_fields

    def get(self, key: str, default: Any = None) -> Any:
        """Mapping.get."""
        return _plain(getattr(self, key)) if key in type(self).model_fields else default

    def items(self) -> list[tuple[str, Any]]:
        """Mapping.items."""
        return [(k, _plain(getattr(self, k))) for k in type(self).model_fields]

    def values(self) -> list[Any]:
        """Mapping.values."""
        return [_plain(getattr(self, k)) for k in type(self).model_fields]

    def summary(self) -> str:
        """One human line: ``#2 groq/llama-3.1-8b-instant error HTTP 500 ServerError: …``."""
        code = f" HTTP {self.status_code}" if self.status_code else ""
        kind = f" {self.error_type}" if self.error_type else ""
        err = f": {self.error}" if self.error else ""
        cost = f", ${self.cost_usd:.6f}" if self.cost_usd else ""
        return (
            f"#{self.attempt} {self.provider}/{self.model} {self.outcome}{code}{kind}{err}"
            f" ({self.elapsed_ms:.0f} ms{cost})"
        )


Mapping.register(ModelAttempt)


def _plain(value: Any) -> Any:
    """The Mapping view holds JSON-ready data: a nested model becomes a dict."""
    return value.model_dump() if isinstance(value, BaseModel) else value
