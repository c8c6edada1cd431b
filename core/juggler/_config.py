"""Per-instance configuration: provider credentials and the router's timeouts and retries.

Everything lives on the ``Juggler`` instance; there are no module-level settings. Defaults
and their reasons are listed in the README.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from juggler._exceptions import InvalidRequestError
from juggler._params import unknown_keyword_error
from juggler._policy.cost import ModelPrice
from juggler._secrets import mask_url
from juggler._types import Capability
from juggler.providers.catalog import CATALOG, ProviderSpec

__all__ = [
    "ProviderConfig",
    "Settings",
    "SettingsKwargs",
    "check_keywords",
    "resolve_provider",
    "settings_from",
]


class ProviderConfig(BaseModel):
    """Credentials and endpoint of one provider. The key is a SecretStr: it never prints.

    Attributes:
        api_key: the key (default: ``<NAME>_API_KEY`` from the environment).
        base_url: the endpoint (default: ``<NAME>_BASE_URL``, then the catalogue's).
        wire: wire format of a provider that is not catalogued.
        models: default model per capability.
        headers: extra headers sent on every request (e.g. OpenRouter's ``HTTP-Referer``).
        like: the catalogued vendor this entry is another deployment of: ``{"openai-eu":
            {"like": "openai", "api_key": ...}}`` is a second OpenAI key with its own name, so
            its own breaker, health and rate-limit book.
        api_version: Azure's ``api-version`` query parameter.
        prices: per-model prices in US dollars that add to or override the bundled ones
            (see ``juggler._policy.cost.ModelPrice``), e.g.
            ``{"gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6}}``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr | None = None
    base_url: str | None = None
    wire: str | None = None
    models: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    like: str | None = None
    api_version: str | None = None
    prices: dict[str, ModelPrice] | None = None

    def __repr__(self) -> str:
        key = "set" if self.api_key else "unset"
        url = mask_url(self.base_url) if self.base_url else None
        return f"ProviderConfig(api_key={key}, base_url={url!r})"


class Settings(BaseModel):
    """The router's knobs. Times are in seconds.

    Attributes:
        timeout: one attempt, from request to complete answer (non-streamed).
        connect_timeout: TCP+TLS connect; a dead host should fail over fast.
        first_token_timeout: streamed calls: request to first content.
        stream_idle_timeout: streamed calls: longest silence between two chunks.
        deadline: the whole call, all attempts included; None means no overall limit.
        retries: same-target retries spent on the last target left in the chain.
        retries_per_target: same-target retries on every other target (0: fall over at once).
        retry_max_wait: cap on a single wait, whatever Retry-After says.
        retry_base_wait: base of the full-jitter exponential backoff.
        max_connections: connection pool size per provider client.
        parallel_attempts: race the top N targets at once (1: sequential).
        hedge_after_ms: start the next target when the current one has not answered after
            this many milliseconds.
        hedge: ``"p95"``: hedge after the current target's own observed p95 latency.
        hedge_default_ms: the hedge delay of ``hedge="p95"`` before ``hedge_min_samples``
            successes have been seen.
        hedge_min_samples: successes needed before a target's p95 is trusted.
        cache_enabled: serve repeated identical calls from the response cache.
        cache_ttl_seconds: how long a cached answer lives.
        cache_max_entries: LRU bound of the cache.
        circuit_breaker: turn the circuit breakers on (default) or off.
        circuit_window, circuit_window_seconds, circuit_min_calls, circuit_failure_rate,
        circuit_consecutive_failures, circuit_cooldown, circuit_max_cooldown,
        circuit_half_open_probes, circuit_auth_cooldown, circuit_retry_after_cap: the breaker
            thresholds (see ``_policy/breaker.py``).
        max_in_flight: calls routed at once by this Juggler (None: no limit); more wait.
        max_queued: calls that may wait for a slot; beyond, ``JugglerBusyError`` at once.
        timeout_lag_share: a timeout does not count against the provider when this client's
            own event-loop lag during the attempt reached this share of its duration
            (None: every timeout counts; see ``_policy/lag.py``).
        retry_budget_ratio: retries may be at most this share of recent requests.
        retry_budget_min: ... but this many per window are always allowed.
        retry_budget_window: seconds of history the budget looks at.
        health_window: successes kept per target for the latency percentiles.
        background_probe_interval: seconds between background probes of open circuits
            (None: no background probing).
    """

    # NaN passes neither gt=0 nor le=...: refused here with the rest.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InvalidRequestError(_explain(exc)) from None

    @model_validator(mode="before")
    @classmethod
    def _no_bools_for_numbers(cls, data: Any) -> Any:
        # pydantic reads True as 1 for int and float fields; deadline=True is a mistake.
        if isinstance(data, dict):
            for name, value in data.items():
                field = cls.model_fields.get(name)
                if isinstance(value, bool) and field is not None and field.annotation is not bool:
                    raise ValueError(f"{name} must be a number, got {value!r}")
        return data

    timeout: float = Field(default=60.0, gt=0)
    connect_timeout: float = Field(default=5.0, gt=0)
    first_token_timeout: float = Field(default=20.0, gt=0)
    stream_idle_timeout: float = Field(default=30.0, gt=0)
    deadline: float | None = Field(default=None, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    retries_per_target: int = Field(default=0, ge=0, le=10)
    retry_max_wait: float = Field(default=10.0, ge=0)
    retry_base_wait: float = Field(default=0.5, ge=0)
    max_connections: int = Field(default=256, ge=1)
    parallel_attempts: int = Field(default=1, ge=1, le=8)
    hedge_after_ms: float | None = Field(default=None, gt=0)
    hedge: Literal["p95"] | None = None
    hedge_default_ms: float = Field(default=2000.0, gt=0)
    hedge_min_samples: int = Field(default=20, ge=1)
    cache_enabled: bool = False
    cache_ttl_seconds: float = Field(default=300.0, gt=0)
    cache_max_entries: int = Field(default=1024, ge=1)
    circuit_breaker: bool = True
    circuit_window: int = Field(default=100, ge=1)
    circuit_window_seconds: float = Field(default=60.0, gt=0)
    circuit_min_calls: int = Field(default=100, ge=1)
    circuit_failure_rate: float = Field(default=0.5, gt=0, le=1)
    circuit_consecutive_failures: int = Field(default=5, ge=1)
    circuit_cooldown: float = Field(default=30.0, ge=0)
    circuit_max_cooldown: float = Field(default=300.0, ge=0)
    circuit_half_open_probes: int = Field(default=1, ge=1)
    circuit_auth_cooldown: float = Field(default=3600.0, ge=0)
    circuit_retry_after_cap: float = Field(default=600.0, ge=0)
    max_in_flight: int | None = Field(default=None, ge=1)
    max_queued: int = Field(default=1000, ge=0)
    timeout_lag_share: float | None = Field(default=0.25, gt=0)
    retry_budget_ratio: float = Field(default=0.2, ge=0, le=1)
    retry_budget_min: int = Field(default=3, ge=0)
    retry_budget_window: float = Field(default=10.0, gt=0)
    health_window: int = Field(default=100, ge=1)
    background_probe_interval: float | None = Field(default=None, gt=0)


class SettingsKwargs(TypedDict, total=False):
    """The keyword arguments of :class:`Settings`, for ``Juggler(**settings)``: editors complete
    them and type checkers check them. A test keeps this list equal to ``Settings``' fields;
    the documentation of each is on :class:`Settings`."""

    timeout: float
    connect_timeout: float
    first_token_timeout: float
    stream_idle_timeout: float
    deadline: float | None
    retries: int
    retries_per_target: int
    retry_max_wait: float
    retry_base_wait: float
    max_connections: int
    parallel_attempts: int
    hedge_after_ms: float | None
    hedge: Literal["p95"] | None
    hedge_default_ms: float
    hedge_min_samples: int
    cache_enabled: bool
    cache_ttl_seconds: float
    cache_max_entries: int
    circuit_breaker: bool
    circuit_window: int
    circuit_window_seconds: float
    circuit_min_calls: int
    circuit_failure_rate: float
    circuit_consecutive_failures: int
    circuit_cooldown: float
    circuit_max_cooldown: float
    circuit_half_open_probes: int
    circuit_auth_cooldown: float
    circuit_retry_after_cap: float
    max_in_flight: int | None
    max_queued: int
    timeout_lag_share: float | None
    retry_budget_ratio: float
    retry_budget_min: int
    retry_budget_window: float
    health_window: int
    background_probe_interval: float | None


def check_keywords(given: Mapping[str, Any], valid: Iterable[str], where: str) -> None:
    """Refuse an unknown keyword with the closest valid one: ``Juggler(retires=3)`` says
    "did you mean 'retries'?" instead of a raw TypeError or pydantic error."""
    names = set(valid)
    for key in given:
        if key not in names:
            raise unknown_keyword_error(key, names, where=where)


def settings_from(given: Mapping[str, Any]) -> Settings:
    """``Settings`` from keyword arguments, with a clear error for a bad name or value."""
    check_keywords(given, Settings.model_fields, "Juggler()")
    return Settings(**given)  # a bad value is an InvalidRequestError (see Settings.__init__)


def _explain(exc: ValidationError) -> str:
    """pydantic's report as one plain sentence per bad setting."""
    lines = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["loc"]:
            where = ".".join(str(p) for p in error["loc"])
            lines.append(f"{where}: {message} (got {error.get('input')!r})")
        else:
            lines.append(message)
    return "invalid settings: " + "; ".join(lines)


def check_base_url(name: str, url: str) -> str:
    """``url`` if it is an http(s) URL with a host and a valid port; InvalidRequestError if
    not, so a typo fails at construction instead of being retried as a connection error."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when out of range
    except ValueError:
        parts, port = None, -1
    if parts is None or port == -1 or parts.scheme not in ("http", "https") or not parts.hostname:
        # The URL is not echoed: it may carry a key.
        raise InvalidRequestError(
            f"base_url of {name!r} must be an http:// or https:// URL with a host "
            "(and a port from 1 to 65535)"
        )
    if port == 0:
        raise InvalidRequestError(f"base_url of {name!r} has port 0")
    return url


def resolve_provider(
    name: str,
    given: Mapping[str, Any] | ProviderConfig | None,
    env: Mapping[str, str] | None = None,
) -> tuple[ProviderSpec, ProviderConfig]:
    """Merge a catalogue row, the caller's ``providers=`` entry and the environment.

    The caller's values win over ``<NAME>_API_KEY`` / ``<NAME>_BASE_URL``. A provider that is
    not catalogued needs ``wire`` and ``base_url`` (e.g. any OpenAI-compatible server).
    """
    environ = os.environ if env is None else env
    config = (
        given
        if isinstance(given, ProviderConfig)
        else ProviderConfig.model_validate(dict(given or {}))
    )
    spec = CATALOG.get(name)
    if spec is None and config.like:
        like = CATALOG.get(config.like)
        if like is None:
            known = ", ".join(sorted(CATALOG))
            raise InvalidRequestError(
                f"providers[{name!r}].like: unknown provider {config.like!r}; known: {known}"
            )
        # A second deployment of a catalogued vendor: its row under its own name and
        # environment variables (OPENAI_EU_API_KEY), so keys and breakers stay apart.
        spec = like.model_copy(update={"name": name, "env_prefix": name.upper().replace("-", "_")})
    if spec is None:
        if not config.base_url:
            known = ", ".join(sorted(CATALOG))
            raise InvalidRequestError(
                f"unknown provider {name!r}: known providers are {known}; "
                "a custom one needs providers={name: {'base_url': ..., 'wire': 'openai'}}"
            )
        spec = ProviderSpec(
            name=name,
            wire=config.wire or "openai",
            base_url=config.base_url or "",
            env_prefix=name.upper().replace("-", "_"),
            models=dict.fromkeys(_caps_of(config), ""),
        )
    if config.headers or config.api_version:
        update: dict[str, Any] = {"headers": {**spec.headers, **(config.headers or {})}}
        if config.api_version:
            update["api_version"] = config.api_version
        spec = spec.model_copy(update=update)
    if config.models:
        models = dict(spec.models)
        models.update({_cap(k): v for k, v in config.models.items()})
        spec = spec.model_copy(update={"models": models})
    key = config.api_key.get_secret_value() if config.api_key else environ.get(spec.api_key_env)
    if key is not None:
        key = key.strip() or None
    if key is not None and (not key.isascii() or not key.isprintable()):
        # It would fail as a header on every request; say so now, without echoing it.
        raise InvalidRequestError(
            f"the API key for {name!r} contains non-ASCII or control characters "
            "(a copy-paste artefact?); HTTP headers cannot carry it"
        )
    base = config.base_url or environ.get(spec.base_url_env) or spec.base_url
    if key and not base:
        raise InvalidRequestError(
            f"{name!r} has a key but no endpoint: set {spec.base_url_env} or "
            f"providers={{{name!r}: {{'base_url': ...}}}} (e.g. https://<resource>.openai.azure.com)"
        )
    if base:
        base = check_base_url(name, base)
    return spec, ProviderConfig(
        api_key=SecretStr(key) if key else None, base_url=base, prices=config.prices
    )


def _cap(name: str) -> Capability:
    try:
        return Capability(name)
    except ValueError as exc:
        raise InvalidRequestError(f"unknown capability {name!r}") from exc


def _caps_of(config: ProviderConfig) -> list[Capability]:
    if config.models:
        return [_cap(k) for k in config.models]
    return [Capability.CHAT]
