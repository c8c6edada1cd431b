"""How one simulated provider behaves: latency, error rates and faults (a ``Scenario``).

A scenario is a frozen value. The simulator draws from it once per request, with the
provider's own seeded ``random.Random``, so a run with a ``seed`` is reproducible. Scenarios
round-trip through JSON (``to_json``/``from_json``) for the CLI's scenario files and for the
simulator's control endpoint when it runs in another process.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

__all__ = ["NO_ANSWER", "Decision", "Scenario"]

# error_rates keys that are not HTTP statuses: the request gets no answer at all.
NO_ANSWER = ("drop", "hang")

Decision = int | str
"""What the simulator does with one request: an HTTP status (200 = answer normally), or
``"drop"`` (close the socket without answering) or ``"hang"`` (never answer)."""

LatencyKind = Literal["fixed", "normal", "heavy_tail"]


@dataclass(frozen=True, slots=True)
class Scenario:
    """The behaviour of one simulated provider. Every field is optional.

    Attributes:
        wire: wire format (``openai``, ``anthropic``, ``google``, ``cohere``, ``voyage``,
            ``jina``); default: the catalogue row's. Names not in the catalogue need it.
        latency_ms: time before the answer (before the status line), in milliseconds.
        latency: ``"fixed"`` (always ``latency_ms``), ``"normal"`` (mean ``latency_ms``,
            standard deviation ``jitter_ms``, cut at 0) or ``"heavy_tail"`` (log-normal with
            median ``latency_ms``: most answers near it, a few many times slower).
        jitter_ms: spread for ``normal``; for ``fixed``, a uniform ±jitter is added.
        error_rates: ``{status: probability}``, e.g. ``{429: 0.3, 500: 0.1}``. Keys may also
            be ``"drop"`` (or ``0``) and ``"hang"``: those requests get no answer at all.
        retry_after: seconds sent in ``Retry-After`` on 429 answers.
        hang: never answer any request (the socket stays open until the client gives up).
        drop_connection: close every connection without answering.
        cut_stream_after: streams are cut (socket closed, no terminating chunk) after this
            many events have been sent.
        malformed_json: 200 answers carry truncated JSON (streams: one garbage event).
        error_in_200: 200 answers carry the vendor's error envelope instead of a result.
        seed: seed of this provider's random draws; None draws from the OS.
        chunk_delay_ms: pause between two stream events.
        first_chunk_delay_ms: pause between the stream's headers and its first event.
        dimensions: embedding size when the request does not ask for one.
        models: extra ``{capability: model}`` for ``providers_config()`` (useful for names
            that are not catalogued, which otherwise only offer chat). These models are
            served too.
        known_models: more model names this provider serves (besides its catalogue models,
            the vendor's well-known ones and ``models``).
        any_model: serve every model name. Otherwise an unknown model gets the vendor's own
            "model not found" answer (404 ``model_not_found``; Voyage: its 400), so a chain
            with a misspelt model falls over as it would in production. A name outside the
            catalogue that lists no ``models``/``known_models`` serves every model.
        quota_requests: answer at most this many requests per window; the next get a 429
            with ``Retry-After``. Every answer then carries rate-limit headers.
        quota_window_s: the quota's fixed window, opened by the first request.
        rate_limit_style: header style (``openai``, ``together``, ``mistral``,
            ``anthropic``); None: ``anthropic`` for that wire, else ``openai``.
    """

    wire: str | None = None
    latency_ms: float = 0.0
    latency: LatencyKind = "fixed"
    jitter_ms: float = 0.0
    error_rates: Mapping[int | str, float] = field(default_factory=dict)
    retry_after: float | None = None
    hang: bool = False
    drop_connection: bool = False
    cut_stream_after: int | None = None
    malformed_json: bool = False
    error_in_200: bool = False
    seed: int | None = None
    chunk_delay_ms: float = 0.0
    first_chunk_delay_ms: float = 0.0
    dimensions: int = 256
    models: Mapping[str, str] | None = None
    known_models: Sequence[str] = ()
    any_model: bool = False
    quota_requests: int | None = None
    quota_window_s: float = 60.0
    rate_limit_style: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.known_models, str):
            raise ValueError("known_models is a list of model names, not one string")
        object.__setattr__(self, "known_models", tuple(str(m) for m in self.known_models))
        if self.quota_requests is not None and self.quota_requests < 0:
            raise ValueError("quota_requests must be >= 0")
        if self.quota_window_s <= 0:
            raise ValueError("quota_window_s must be > 0")
        if self.rate_limit_style not in (None, "openai", "together", "mistral", "anthropic"):
            raise ValueError(
                "rate_limit_style must be openai, together, mistral or anthropic, "
                f"not {self.rate_limit_style!r}"
            )
        if self.latency not in ("fixed", "normal", "heavy_tail"):
            raise ValueError(f"latency must be fixed, normal or heavy_tail, not {self.latency!r}")
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be >= 0")
        if self.cut_stream_after is not None and self.cut_stream_after < 0:
            raise ValueError("cut_stream_after must be >= 0")
        if self.dimensions < 1:
            raise ValueError("dimensions must be >= 1")
        rates: dict[int | str, float] = {}
        for key, p in self.error_rates.items():
            k = _rate_key(key)
            if not 0.0 <= float(p) <= 1.0:
                raise ValueError(f"error rate for {key!r} must be within [0, 1], got {p!r}")
            rates[k] = float(p)
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError(f"error rates add up to more than 1: {rates}")
        object.__setattr__(self, "error_rates", rates)

    # ----- per-request draws -----

    def decide(self, rng: random.Random) -> Decision:
        """Draw what to do with one request: a status, ``"drop"`` or ``"hang"``."""
        if self.hang:
            return "hang"
        if self.drop_connection:
            return "drop"
        if self.error_rates:
            r = rng.random()
            acc = 0.0
            for key, p in self.error_rates.items():
                acc += p
                if r < acc:
                    return key
        return 200

    def sample_latency(self, rng: random.Random) -> float:
        """Seconds to wait before answering one request."""
        base = self.latency_ms
        if base <= 0 and self.jitter_ms <= 0:
            return 0.0
        if self.latency == "normal":
            ms = rng.gauss(base, self.jitter_ms)
        elif self.latency == "heavy_tail":
            # log-normal with median = latency_ms; sigma 1 gives p99 ~ 10x the median.
            sigma = 1.0 if self.jitter_ms <= 0 else max(0.1, self.jitter_ms / max(base, 1.0))
            ms = base * math.exp(rng.gauss(0.0, sigma))
        else:
            ms = base + (rng.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0)
        return max(0.0, ms) / 1000.0

    # ----- serialisation -----

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (status keys become strings)."""
        data = asdict(self)
        data["error_rates"] = {str(k): v for k, v in self.error_rates.items()}
        data["models"] = dict(self.models) if self.models else None
        data["known_models"] = list(self.known_models)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from a dict as written by :meth:`to_json` or a scenario file.

        Unknown keys raise ``ValueError`` so a typo in a scenario file is not silently ignored.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(
                f"unknown scenario field(s): {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(**dict(data))


def _rate_key(key: int | str) -> int | str:
    """Normalise an error_rates key: ints (also "503") stay statuses, 0 means drop."""
    if isinstance(key, str):
        if key in NO_ANSWER:
            return key
        if not key.isdigit():
            raise ValueError(f"error_rates key must be a status, 'drop' or 'hang', not {key!r}")
        key = int(key)
    if key == 0:
        return "drop"
    if not 200 <= key <= 599:
        raise ValueError(f"error_rates status must be within 200..599, got {key}")
    return key
