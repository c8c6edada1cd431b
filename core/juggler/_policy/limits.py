"""Rate-limit awareness: read the vendors' remaining/reset headers and step aside before a 429.

Header formats, as recorded in ``shared/wire/``:

* OpenAI, Groq (and Cerebras, DeepSeek-style OpenAI clones): ``x-ratelimit-remaining-requests``
  / ``-tokens`` with ``x-ratelimit-reset-requests`` / ``-tokens`` as Go durations (``6m0s``,
  ``10.332999999s``, ``26ms``, ``0s``).
* Cerebras: the same names with a window suffix (``x-ratelimit-remaining-tokens-minute``,
  ``x-ratelimit-reset-requests-day``), resets in seconds.
* Together: ``x-ratelimit-remaining`` (requests) and ``x-ratelimit-remaining-tokens`` with
  ``x-ratelimit-reset`` in plain seconds (``2``).
* Mistral: ``x-ratelimit-remaining-req-10-second``, ``x-ratelimit-remaining-tokens-minute``
  (no reset header: the window named in the header bounds the wait).
* Anthropic: ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-remaining``
  with ``...-reset`` as an RFC 3339 instant (``2024-10-16T05:02:55Z``).

:class:`RateLimitBook` keeps, per target key, what the last answer said and counts the
requests sent since, so a target that said ``remaining: 0`` gets no request until its reset.
Pure: every method takes ``now`` (wall-clock seconds since the epoch, because Anthropic's
resets are absolute instants).
"""

from __future__ import annotations

import re
import time
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from juggler.providers._classify import parse_retry_after

__all__ = ["Limit", "RateLimitBook", "parse_duration", "parse_rate_headers"]

_OPENAI_STYLE = re.compile(
    r"^x-ratelimit-(remaining|reset)(?:-(requests|req|tokens))?(?:-([a-z0-9-]+))?$"
)
_ANTHROPIC = re.compile(
    r"^anthropic-ratelimit-(requests|tokens|input-tokens|output-tokens)-(remaining|reset)$"
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_WINDOWS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0, "month": 2592000.0}
_DEFAULT_WINDOW = 60.0


@dataclass(slots=True)
class Limit:
    """One budget a vendor announced: ``remaining`` requests or tokens until ``reset_at``."""

    kind: str  # "requests" or "tokens"
    remaining: int
    reset_at: float


def parse_duration(text: str) -> float | None:
    """Seconds of ``6m0s``, ``1.5s``, ``20ms``, ``1h2m`` or a plain number; None if neither."""
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT[u] for n, u in parts)


def _window_of(suffix: str | None) -> float:
    """``10-second`` → 10, ``minute`` → 60, ``day`` → 86400; unknown → one minute."""
    if not suffix:
        return _DEFAULT_WINDOW
    match = re.fullmatch(r"(?:(\d+)-)?(second|minute|hour|day|month)s?", suffix)
    if not match:
        return _DEFAULT_WINDOW
    return float(match.group(1) or 1) * _WINDOWS[match.group(2)]


def _reset_seconds(value: str, now: float) -> float | None:
    seconds = parse_duration(value)
    if seconds is not None:
        return seconds
    try:  # RFC 3339 instant (Anthropic)
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, when.timestamp() - now)


def parse_rate_headers(headers: Mapping[str, str], now: float) -> list[Limit]:
    """Every request/token budget announced in ``headers``, with absolute reset instants.

    A remaining count without a reset header (Mistral) resets at most one named window later.
    """
    remaining: dict[tuple[str, str], int] = {}
    resets: dict[tuple[str, str], float] = {}
    for raw_name, value in headers.items():
        name = raw_name.lower()
        kind = part = suffix = None
        if m := _OPENAI_STYLE.match(name):
            if m.group(2) is None and m.group(3):
                continue  # x-ratelimit-remaining-input-images: neither requests nor tokens
            part, kind, suffix = m.group(1), m.group(2) or "requests", m.group(3) or ""
            kind = "requests" if kind == "req" else kind
        elif m := _ANTHROPIC.match(name):
            kind, part, suffix = m.group(1), m.group(2), ""
            kind = "requests" if kind == "requests" else "tokens"
            suffix = m.group(1)  # input/output tokens are separate budgets
        else:
            continue
        key = (kind, suffix)
        if part == "remaining":
            try:
                remaining[key] = int(float(value))
            except ValueError:
                continue
        else:
            seconds = _reset_seconds(value, now)
            if seconds is not None:
                resets[key] = seconds
    return [
        Limit(kind=kind, remaining=count, reset_at=now + resets.get((kind, sfx), _window_of(sfx)))
        for (kind, sfx), count in remaining.items()
    ]


@dataclass(slots=True)
class _Estimate:
    limits: list[Limit] = field(default_factory=list)


class RateLimitBook:
    """Per-target estimate of what is left before the vendor answers 429.

    ``observe`` after every answer (success or error) with its headers; ``sent`` when a request
    goes out (so concurrent calls do not all pick the target that has one request left);
    ``blocked`` before sending; ``soonest`` when every target is blocked.
    """

    def __init__(self) -> None:
        self._book: dict[Hashable, _Estimate] = {}

    def observe(
        self,
        key: Hashable,
        headers: Mapping[str, str],
        now: float,
        *,
        status: int | None = None,
        in_flight: int = 0,
    ) -> None:
        """Record what an answer's headers say. A 429 without budget headers but with
        ``Retry-After`` counts as ``0 requests left`` until then.

        ``in_flight``: other requests to ``key`` still unanswered. The vendor counted this
        answer before some of them reached it, so its figure is lowered by one request each
        (an underestimate corrects itself with the next answer; an overestimate is a 429)."""
        limits = parse_rate_headers(headers, now)
        for lim in limits:
            if lim.kind == "requests":
                lim.remaining -= max(0, in_flight)
        if status == 429 and not any(lim.remaining <= 0 for lim in limits):
            wait = parse_retry_after(headers, now)
            if wait is not None:
                limits.append(Limit(kind="requests", remaining=0, reset_at=now + wait))
        if limits:
            self._book[key] = _Estimate(limits)

    def sent(self, key: Hashable, tokens: int = 0) -> None:
        """A request with about ``tokens`` tokens went to ``key``: lower its estimate."""
        estimate = self._book.get(key)
        if estimate is None:
            return
        for lim in estimate.limits:
            lim.remaining -= 1 if lim.kind == "requests" else max(0, tokens)

    def blocked(self, key: Hashable, now: float, tokens: int = 0) -> str | None:
        """Why ``key`` would answer 429 now (the skip reason), or None when it should not."""
        lim = self._blocking(key, now, tokens)
        if lim is None:
            return None
        until = time.strftime("%H:%M:%S", time.gmtime(lim.reset_at))
        left = max(0, lim.remaining)
        if lim.kind == "requests":
            return f"rate limit: {left} requests left until {until}"
        return f"rate limit: {left} tokens left (about {tokens} needed) until {until}"

    def reset_at(self, key: Hashable, now: float, tokens: int = 0) -> float | None:
        """When ``key`` stops being blocked (None: it is not blocked)."""
        lim = self._blocking(key, now, tokens)
        return None if lim is None else lim.reset_at

    def soonest(self, keys: Iterable[Hashable], now: float, tokens: int = 0) -> Hashable | None:
        """Of ``keys``, the one to try when all are blocked: the first that is not blocked,
        else the one whose reset comes first (never fail a call without one request)."""
        best: tuple[float, int] | None = None
        chosen: Hashable | None = None
        for i, key in enumerate(keys):
            when = self.reset_at(key, now, tokens)
            if when is None:
                return key
            if best is None or (when, i) < best:
                best, chosen = (when, i), key
        return chosen

    def _blocking(self, key: Hashable, now: float, tokens: int) -> Limit | None:
        estimate = self._book.get(key)
        if estimate is None:
            return None
        estimate.limits = [lim for lim in estimate.limits if lim.reset_at > now]
        worst: Limit | None = None
        for lim in estimate.limits:
            need = 1 if lim.kind == "requests" else max(1, tokens)
            if lim.remaining < need and (worst is None or lim.reset_at > worst.reset_at):
                worst = lim  # blocked until the latest of the exhausted budgets resets
        if not estimate.limits:
            del self._book[key]
        return worst
