"""What an attempt cost: prices from pydantic's ``genai-prices`` plus the user's own prices.

Where prices come from, in order:

1. the user's ``providers={"openai": {"prices": {"gpt-4o-mini": {...}}}}`` entry (a
   :class:`ModelPrice`), which wins outright for that provider/model;
2. the price table bundled in the installed ``genai-prices`` package (extra ``cost``). Juggler
   calls its ``calc_price`` only, which reads the bundled snapshot; it never starts the
   package's ``UpdatePrices`` background fetch, so no network is used at call time and the
   figures are as fresh as the installed package (``genai_prices.__version__``);
3. otherwise the cost is ``None``: unknown, never a guess. A provider genai-prices does not
   know (a self-hosted server, nvidia, jina) is not priced at another vendor's rates.

Units: chat and embeddings by tokens (cached prompt tokens at the cache-read price, cache
writes at the cache-write price); rerank by searches (and tokens where a price says so);
transcription by audio seconds; speech by input characters. genai-prices has no rerank prices
at all, so rerank is priced only from user prices.

Pure: no clock (the price date is passed in), no I/O, and ``genai_prices`` is imported lazily
so ``import juggler`` does not need it.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from juggler._types import Capability, Usage

__all__ = ["PRICE_PROVIDER_IDS", "ModelPrice", "Pricer", "Units"]

# Our provider names where genai-prices spells them differently.
PRICE_PROVIDER_IDS: dict[str, str] = {"moonshot": "moonshotai", "voyage": "voyageai"}

_MTOK = 1_000_000


class ModelPrice(BaseModel):
    """A user price for one model, in US dollars. Leave out what the model is not billed for.

    Attributes:
        input_per_mtok: per million prompt tokens (uncached).
        output_per_mtok: per million output tokens.
        cache_read_per_mtok: per million cached prompt tokens (default: the input price).
        cache_write_per_mtok: per million prompt tokens written to the cache (default: the
            input price).
        per_1k_searches: rerank, per thousand searches (one rerank call is one search).
        per_audio_minute: transcription, per minute of audio.
        per_mchars: speech, per million input characters.
        per_request: a flat price per request.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: float | None = Field(default=None, ge=0)
    output_per_mtok: float | None = Field(default=None, ge=0)
    cache_read_per_mtok: float | None = Field(default=None, ge=0)
    cache_write_per_mtok: float | None = Field(default=None, ge=0)
    per_1k_searches: float | None = Field(default=None, ge=0)
    per_audio_minute: float | None = Field(default=None, ge=0)
    per_mchars: float | None = Field(default=None, ge=0)
    per_request: float | None = Field(default=None, ge=0)


@dataclass(frozen=True, slots=True)
class Units:
    """Non-token quantities an attempt is billed by.

    Attributes:
        searches: rerank calls (1 per rerank request).
        audio_seconds: transcription, the audio's length.
        characters: speech, the characters of the input text.
        requests: requests, for flat per-request prices.
    """

    searches: int | None = None
    audio_seconds: float | None = None
    characters: int | None = None
    requests: int | None = None


def _rate(quantity: float | None, rate: float | None, per: float) -> Decimal | None:
    """The price of one component; None when it was used but has no rate."""
    if not quantity:
        return Decimal(0)
    if rate is None:
        return None
    return Decimal(str(quantity)) * Decimal(str(rate)) / Decimal(per)


def price_with(price: ModelPrice, usage: Usage | None, units: Units | None) -> float | None:
    """Cost under a user price; None when it cannot be known.

    A price bills the units it has rates for: a per-search rerank price ignores reported
    tokens, a per-token rerank price ignores the search count. Token rates are all-or-nothing:
    output tokens with an input rate but no output rate make the cost unknown. Cache reads and
    writes without their own rate are billed at the input rate. No applicable rate: None.
    """
    u = usage or Usage()
    n = units or Units()
    parts: list[Decimal | None] = []
    for quantity, rate, per in (
        (n.searches, price.per_1k_searches, 1000),
        (n.audio_seconds, price.per_audio_minute, 60),
        (n.characters, price.per_mchars, _MTOK),
    ):
        if rate is not None and quantity:
            parts.append(_rate(quantity, rate, per))
    if price.per_request is not None:
        parts.append(Decimal(str(price.per_request)) * (n.requests or 1))
    tokens = (u.input_tokens or 0) + (u.output_tokens or 0)
    if tokens and (price.input_per_mtok is not None or price.output_per_mtok is not None):
        cached = u.cached_tokens or 0
        written = u.cache_write_tokens or 0
        plain = max((u.input_tokens or 0) - cached - written, 0)
        parts += [
            _rate(plain, price.input_per_mtok, _MTOK),
            _rate(cached, _first(price.cache_read_per_mtok, price.input_per_mtok), _MTOK),
            _rate(written, _first(price.cache_write_per_mtok, price.input_per_mtok), _MTOK),
            _rate(u.output_tokens, price.output_per_mtok, _MTOK),
        ]
    if not parts or any(p is None for p in parts):
        return None
    return float(sum((p for p in parts if p is not None), Decimal(0)))


def _first(*rates: float | None) -> float | None:
    return next((r for r in rates if r is not None), None)


def _genai_usage(usage: Usage | None, units: Units | None) -> dict[str, Any]:
    """genai-prices usage fields. Its ``input_tokens`` includes cache reads and writes, as ours."""
    fields: dict[str, Any] = {}
    if usage is not None:
        for ours, theirs in (
            ("input_tokens", "input_tokens"),
            ("output_tokens", "output_tokens"),
            ("cached_tokens", "cache_read_tokens"),
            ("cache_write_tokens", "cache_write_tokens"),
        ):
            value = getattr(usage, ours)
            if value:
                fields[theirs] = value
    if units is not None:
        if units.searches:
            fields["rerank_searches"] = units.searches
        if units.audio_seconds:
            fields["audio_seconds"] = units.audio_seconds
        if units.characters:
            fields["input_characters"] = units.characters
    return fields


class Pricer:
    """Prices attempts. Build one per Juggler; it holds the user's prices only.

    ``Pricer.from_providers(providers)`` reads the ``prices`` of each ``providers=`` entry.
    """

    def __init__(
        self, prices: Mapping[str, Mapping[str, ModelPrice]] | None = None, memo_size: int = 4096
    ) -> None:
        self._prices = {p: dict(models) for p, models in (prices or {}).items()}
        # genai-prices' calc_price takes a few hundred microseconds; identical usage on the same
        # model and day (a repeated prompt, a fixed-size embedding batch) is priced once.
        self._memo: OrderedDict[tuple[Any, ...], float | None] = OrderedDict()
        self._memo_size = memo_size

    @classmethod
    def from_providers(cls, providers: Mapping[str, Any] | None) -> Pricer:
        """From ``providers=`` config: mappings or ``ProviderConfig`` objects with ``prices``."""
        table: dict[str, dict[str, ModelPrice]] = {}
        for name, entry in (providers or {}).items():
            if isinstance(entry, Mapping):
                raw = entry.get("prices")
            else:
                raw = getattr(entry, "prices", None)
            if raw:
                table[name] = {
                    model: p if isinstance(p, ModelPrice) else ModelPrice.model_validate(p)
                    for model, p in raw.items()
                }
        return cls(table)

    def user_price(self, provider: str, model: str) -> ModelPrice | None:
        """The user's price for this provider/model, if any."""
        return self._prices.get(provider, {}).get(model)

    def price(
        self,
        provider: str,
        model: str,
        capability: Capability | str,
        usage: Usage | None = None,
        *,
        units: Units | None = None,
        served_model: str | None = None,
        at: datetime | None = None,
    ) -> float | None:
        """What one attempt cost in US dollars, or None when unknown.

        Args:
            provider: our provider name (``"moonshot"``, ``"openai"``, …).
            model: the model asked for (the target's model).
            capability: chat, embed, rerank, transcribe or speak (kept for callers and logs;
                the units given decide the price).
            usage: tokens as reported (or estimated) for this attempt.
            units: searches, audio seconds, characters for non-token calls.
            served_model: the model the wire says answered (often a dated id such as
                ``claude-sonnet-4-5-20250929``); looked up first, then ``model``.
            at: the request time, for dated price changes (default: now, in genai-prices).
        """
        del capability  # the units carry the meaning; kept in the signature for the engine
        if usage is None and units is None:
            return None
        models = [m for m in dict.fromkeys((served_model, model)) if m]
        for name in models:
            user = self.user_price(provider, name)
            if user is not None:
                return price_with(user, usage, units)
        fields = _genai_usage(usage, units)
        if not fields:
            return None
        provider_id = PRICE_PROVIDER_IDS.get(provider, provider)
        day = (at or datetime.now(UTC)).date()
        key = (provider_id, tuple(models), tuple(sorted(fields.items())), day)
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        cost = None
        for name in models:
            cost = _bundled_price(provider_id, name, fields, at)
            if cost is not None:
                break
        self._memo[key] = cost
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
        return cost


def _bundled_price(
    provider_id: str, model: str, fields: dict[str, Any], at: datetime | None
) -> float | None:
    try:
        import genai_prices
    except ImportError:  # extra "cost" not installed: prices unknown unless the user gave some
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = genai_prices.calc_price(
                genai_prices.Usage(**fields),
                model,
                provider_id=provider_id,
                genai_request_timestamp=at,
            )
    except (LookupError, ValueError):
        return None  # unknown provider or model, or a unit it cannot price: unknown, not zero
    return float(result.total_price)
