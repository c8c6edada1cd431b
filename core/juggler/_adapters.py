"""Helpers the framework adapters (``langchain_juggler``, ``llamaindex_juggler``) share.

They hold no framework import, so both packages follow the same rules: one way to build
their Juggler from constructor arguments (:func:`build_adapter_juggler`, with the same
did-you-mean for a typo), ``models_used`` as plain dicts, and the embedding-space rule for an
object that embeds many times.
"""

from __future__ import annotations

import difflib
import inspect
import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from juggler._attempts import ModelAttempt
from juggler._config import Settings
from juggler._exceptions import EmbeddingSpaceError, InvalidRequestError
from juggler._juggler import Juggler
from juggler._params import unknown_keyword_error
from juggler._responses import EmbeddingResponse
from juggler._types import Capability, Target
from juggler.providers.catalog import CATALOG

__all__ = [
    "ADAPTER_SETTINGS",
    "COMPATIBLE_PROVIDER",
    "JUGGLER_OPTIONS",
    "AdapterSettings",
    "SpaceGuard",
    "build_adapter_juggler",
    "models_used_dicts",
    "resolve_model",
    "split_adapter_kwargs",
]

_CHAINS = {c.value for c in Capability}
#: Keyword arguments of ``Juggler()`` besides the chains and ``providers``, plus every
#: Settings field: an adapter constructor accepts each of them and passes it on.
JUGGLER_OPTIONS: frozenset[str] = frozenset(
    {
        name
        for name in inspect.signature(Juggler.__init__).parameters
        if name not in {"self", "settings", "providers", *_CHAINS}
    }
    | set(Settings.model_fields)
)
#: The constructor arguments every adapter takes, with the same meaning everywhere.
ADAPTER_SETTINGS: tuple[str, ...] = (
    "targets",
    "model",
    "juggler",
    "providers",
    "api_key",
    "base_url",
    "timeout",
    "max_retries",
)
#: The provider name given to ``base_url=`` (a single OpenAI-compatible endpoint).
COMPATIBLE_PROVIDER = "openai_compatible"


def models_used_dicts(attempts: Sequence[ModelAttempt]) -> list[dict[str, Any]]:
    """``models_used`` as plain, JSON-ready dicts (safe in framework metadata and payloads)."""
    return [dict(a) for a in attempts]


def split_adapter_kwargs(
    owner: str, kwargs: Mapping[str, Any], own_fields: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split constructor kwargs into the adapter's own fields and Juggler options.

    Anything else is a typo: ``InvalidRequestError`` with the closest valid name.
    """
    own: dict[str, Any] = {}
    options: dict[str, Any] = {}
    known = set(own_fields)
    for key, value in kwargs.items():
        if key in known:
            own[key] = value
        elif key in JUGGLER_OPTIONS:
            options[key] = value
        else:
            raise unknown_keyword_error(key, known | JUGGLER_OPTIONS, where=owner)
    return own, options


def resolve_model(
    model: str,
    capability: Capability,
    *,
    usable: Mapping[str, bool] | None = None,
    native_only: bool = False,
) -> list[str]:
    """A model id without a ``provider/`` prefix, as the targets of the providers serving it.

    The catalogue says which providers serve which model (``openrouter`` names OpenAI's
    ``gpt-4o-mini`` as ``openai/gpt-4o-mini``: both match, the vendor's own name first).
    ``usable`` (provider -> has a key) keeps the usable ones when there are some;
    ``native_only`` keeps the providers serving it under its own name (one ``api_key=``
    belongs to one vendor, not to an aggregator too). Unknown: a did-you-mean listing them.
    """
    served: dict[str, list[str]] = {}
    for spec in CATALOG.values():
        name = spec.models.get(capability)
        # A provider with no default endpoint (Azure) names deployments, not models.
        if name is not None and spec.base_url:
            served.setdefault(name.rsplit("/", 1)[-1], []).append(f"{spec.name}/{name}")
    found = served.get(model)
    if found is None:
        close = difflib.get_close_matches(model, list(served), n=3, cutoff=0.5)
        hint = (
            "; did you mean "
            + " or ".join(f"{c!r} (served by {', '.join(served[c])})" for c in close)
            + "?"
            if close
            else ""
        )
        raise InvalidRequestError(
            f"model={model!r} is not in the catalogue{hint} Pass a target string such as "
            "'openai/gpt-4o-mini', or targets=[...] (any provider/model a provider serves)"
        )
    found = sorted(found, key=lambda t: t.count("/"))  # the vendor's own name first
    if native_only:
        found = [t for t in found if t.count("/") == 1] or found
    if usable:
        keyed = [t for t in found if usable.get(Target.parse(t).provider)]
        return keyed or found
    return found


@dataclass
class AdapterSettings:
    """What an adapter constructor was given (see :data:`ADAPTER_SETTINGS`)."""

    capability: Capability
    owner: str
    targets: str | Target | Sequence[Any] | None = None
    model: str | None = None
    juggler: Juggler | None = None
    providers: Mapping[str, Any] | None = None
    api_key: str | None = None
    base_url: str | None = None
    timeout: float | None = None
    max_retries: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def given(self) -> list[str]:
        """The Juggler-building settings that were passed (for the ``juggler=`` conflict)."""
        names = ("providers", "api_key", "base_url", "timeout", "max_retries")
        return [n for n in names if getattr(self, n) is not None] + sorted(self.options)

    def chain(self) -> list[Any] | None:
        """The chain the built Juggler gets for this capability."""
        if self.base_url is not None:
            if self.targets is not None or not self.model:
                raise InvalidRequestError(
                    f"{self.owner}(base_url=...) is one OpenAI-compatible target: give it "
                    "model= (the model id that server serves), and no targets="
                )
            return [f"{COMPATIBLE_PROVIDER}/{self.model}"]
        if self.targets is not None:
            targets = self.targets
            return [targets] if isinstance(targets, str | Target) else list(targets)
        if self.model is None:
            return None
        if "/" in self.model:
            return [self.model]
        return resolve_model(
            self.model,
            self.capability,
            usable=self._usable(),
            native_only=self.api_key is not None,
        )

    def _usable(self) -> dict[str, bool]:
        env = self.options.get("env")
        environ: Mapping[str, str] = os.environ if env is None else env
        providers = self.providers or {}
        return {
            name: bool(
                self.api_key
                or environ.get(spec.api_key_env)
                or (isinstance(providers.get(name), Mapping) and providers[name].get("api_key"))
            )
            for name, spec in CATALOG.items()
        }

    def providers_for(self, chain: list[Any] | None) -> dict[str, Any] | None:
        """``providers``, plus the ``base_url`` target and ``api_key`` filled in for chain
        providers that have no key of their own."""
        providers: dict[str, Any] = dict(self.providers or {})
        if self.base_url is not None:
            entry = {"base_url": self.base_url, "wire": "openai"}
            if self.api_key:
                entry["api_key"] = self.api_key
            providers[COMPATIBLE_PROVIDER] = entry
        if self.api_key and chain:
            for spec in chain:
                name = Target.parse(spec).provider
                entry = dict(providers.get(name) or {})
                if not entry.get("api_key"):
                    entry["api_key"] = self.api_key
                providers[name] = entry
        return providers or None


def build_adapter_juggler(settings: AdapterSettings) -> tuple[Juggler, bool]:
    """The Juggler an adapter routes through, and whether the adapter built (owns) it.

    ``juggler=`` is used as is (any other building setting next to it is refused, it would be
    ignored otherwise); else a Juggler is built for the adapter's capability. Its chain is
    checked here, so a missing provider fails at construction, not at the first call.
    """
    cap = settings.capability.value
    if settings.juggler is not None:
        if not isinstance(settings.juggler, Juggler):
            raise InvalidRequestError(
                f"juggler= must be a juggler.Juggler, got {type(settings.juggler).__name__}"
            )
        if settings.given():
            raise InvalidRequestError(
                f"{settings.owner}(juggler=...) takes its settings from that Juggler; also got "
                f"{', '.join(settings.given())}: configure them on the Juggler instead"
            )
        settings.juggler.chain(settings.capability)
        return settings.juggler, False
    if cap in settings.options:
        raise InvalidRequestError(f"use targets= for the {cap} chain, not {cap}=")
    options = dict(settings.options)
    if settings.timeout is not None:
        options.setdefault("timeout", settings.timeout)
    if settings.max_retries is not None:
        options.setdefault("retries", settings.max_retries)
    chain = settings.chain()
    built = Juggler(
        **{cap: chain},  # type: ignore[arg-type]
        providers=settings.providers_for(chain),
        **options,
    )
    try:
        built.chain(settings.capability)  # CapabilityNotConfiguredError, with a hint
    except BaseException:
        built.close()
        raise
    return built, True


class SpaceGuard:
    """Keeps every answer of one adapter object in one embedding space.

    The first answer fixes the space. A later answer from another space raises
    :class:`EmbeddingSpaceError` (its vectors would silently corrupt the index), unless
    ``allow_cross_space`` is set: then it is accepted with a warning, never silently. The
    check and the update happen under one lock, so two threads making the first calls at
    once cannot each fix a different space.
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.first: str | None = None
        self.current: str | None = None
        self._lock = threading.Lock()

    def admit(self, response: EmbeddingResponse, *, allow_cross_space: bool) -> bool:
        """Accept ``response`` or raise; True when it switched spaces (allowed, and warned)."""
        with self._lock:
            if self.current is None:
                self.first = self.current = response.space
                return False
            if response.space == self.current:
                return False
            if not allow_cross_space:
                raise EmbeddingSpaceError(
                    self.current,
                    response.space,
                    response.provider,
                    response.model,
                    response.models_used,
                    owner=self.owner,
                )
            warnings.warn(
                f"{self.owner} switched embedding space from {self.current!r} to "
                f"{response.space!r} ({response.provider}/{response.model}); "
                "allow_cross_space=True",
                stacklevel=4,
            )
            self.current = response.space
            return True
