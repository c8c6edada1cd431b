"""The constructor logic every adapter shares.

An adapter is built either from ``targets=[...]`` plus any :class:`juggler.Juggler` option
(``providers=``, ``first_token_timeout=``, ``env=``, ...), or from ``juggler=`` an existing
Juggler, whose pools, breakers and settings it then shares. The LangChain standard
parameters ``api_key``, ``timeout`` and ``max_retries`` map onto Juggler's own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, ClassVar

from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.configurable import RunnableConfigurableFields
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr

from juggler import Capability, Juggler
from juggler._adapters import (
    JUGGLER_OPTIONS,
    AdapterSettings,
    build_adapter_juggler,
    split_adapter_kwargs,
)

__all__ = ["JUGGLER_OPTIONS", "JugglerBacked", "cloning"]

# The adapter being re-instantiated by LangChain (``configurable_fields`` builds a new object
# from the old one's fields on every configured call); see :func:`cloning`.
_TEMPLATE: ContextVar[JugglerBacked | None] = ContextVar("juggler_adapter_template", default=None)


@contextlib.contextmanager
def cloning(template: JugglerBacked) -> Iterator[None]:
    """Adapters constructed inside this block with the same Juggler settings as ``template``
    route through ``template``'s Juggler instead of building (and leaking) one per call."""
    token = _TEMPLATE.set(template)
    try:
        yield
    finally:
        _TEMPLATE.reset(token)


class JugglerBacked(BaseModel):
    """Fields and validation shared by ChatJuggler, JugglerEmbeddings and JugglerRerank.

    Attributes:
        juggler: an existing Juggler to route through. With it, ``targets`` (if given) is the
            chain for this adapter's calls, taken from that Juggler's configured providers.
        targets: the chain for this adapter's capability, e.g.
            ``["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]``. Left out: Juggler's
            discovery (every provider whose API key is set, in the default order).
        providers: ``{"groq": {"api_key": ..., "base_url": ...}}``, as for Juggler.
        api_key: a key for every provider of the chain that ``providers`` leaves without one
            (handy with a single provider or a gateway such as OpenRouter).
        timeout: seconds for one attempt (Juggler's ``timeout``).
        max_retries: same-target retries on the last target (Juggler's ``retries``).
        base_url: with ``model=`` (and ``api_key``), one OpenAI-compatible endpoint as the
            whole chain (provider name ``openai_compatible``), as ``ChatOpenAI(base_url=...)``.
        juggler_options: any other Juggler option; passing them as keyword arguments to the
            constructor puts them here.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    capability: ClassVar[Capability]

    juggler: Juggler | None = Field(default=None, exclude=True, repr=False)
    targets: list[Any] | None = None
    # Credentials live in these two: never dumped (tracing sends dumps) and never printed.
    providers: dict[str, Any] | None = Field(default=None, exclude=True, repr=False)
    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    base_url: str | None = None
    timeout: float | None = None
    max_retries: int | None = None
    juggler_options: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)

    _juggler: Juggler = PrivateAttr()
    _owns_juggler: bool = PrivateAttr(default=False)
    # True for a configured copy using its template's Juggler: the template closes it.
    _borrowed: bool = PrivateAttr(default=False)

    def __init__(self, **kwargs: Any) -> None:
        # Checked and built here rather than in pydantic validators, so that core errors
        # (a bad target, a chain across embedding spaces) keep their own types.
        super().__init__(**self._split_options(kwargs))
        self._build_juggler()

    @classmethod
    def _split_options(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Move Juggler options given as keywords into ``juggler_options``; refuse typos
        with a did-you-mean (the same rule as every Juggler adapter)."""
        known = set(cls.model_fields) | {
            f.alias for f in cls.model_fields.values() if f.alias is not None
        }
        rest, options = split_adapter_kwargs(cls.__name__, values, sorted(known))
        rest["juggler_options"] = {**(rest.get("juggler_options") or {}), **options}
        return rest

    def _build_juggler(self) -> None:
        """Use the given Juggler, or build one for this capability's chain (core helper)."""
        template = _TEMPLATE.get()
        if (
            self.juggler is None
            and template is not None
            and type(template) is type(self)
            and template._juggler_settings() == self._juggler_settings()
        ):
            self._juggler = template._juggler
            self._owns_juggler = template._owns_juggler
            self._borrowed = True
            return
        self._juggler, self._owns_juggler = build_adapter_juggler(self._adapter_settings())

    def _adapter_settings(self) -> AdapterSettings:
        return AdapterSettings(
            capability=self.capability,
            owner=type(self).__name__,
            targets=self._chain_for_construction(),
            model=self._construction_model(),
            juggler=self.juggler,
            providers=self.providers,
            api_key=self.api_key.get_secret_value() if self.api_key is not None else None,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            options={**self._implied_options(), **self.juggler_options},
        )

    def _juggler_settings(self) -> dict[str, Any]:
        """Everything the built Juggler depends on (equal settings: the same Juggler)."""
        names = (
            "targets",
            "providers",
            "api_key",
            "base_url",
            "timeout",
            "max_retries",
            "juggler_options",
        )
        return {
            **{name: getattr(self, name) for name in names},
            "chain": self._chain_for_construction(),
            "model": self._construction_model(),
            "implied": self._implied_options(),
        }

    def _implied_options(self) -> dict[str, Any]:
        """Juggler options implied by the adapter's own fields (overridden by embeddings)."""
        return {}

    def _chain_for_construction(self) -> list[Any] | None:
        """The ``targets`` the built Juggler gets for this capability."""
        return list(self.targets) if self.targets is not None else None

    def _construction_model(self) -> str | None:
        """The ``model`` the chain is built from when ``targets`` is not given (chat)."""
        return None

    @property
    def client(self) -> Juggler:
        """The Juggler this adapter routes through."""
        return self._juggler

    def call_targets(self) -> list[Any] | None:
        """The ``targets=`` to pass per call: only when sharing someone else's Juggler."""
        if self._owns_juggler or self.targets is None:
            return None
        return list(self.targets)

    def close(self) -> None:
        """Close the Juggler if this adapter built it (a shared one is left to its owner)."""
        if self._owns_juggler and not self._borrowed:
            self._juggler.close()

    async def aclose(self) -> None:
        """Async :meth:`close`."""
        if self._owns_juggler and not self._borrowed:
            await self._juggler.aclose()
            self._juggler.close()


class SharedJugglerFields(RunnableConfigurableFields):
    """``configurable_fields`` whose per-call copies share the default model's Juggler.

    LangChain builds a new model from the default's fields on every configured call; without
    this, each such call would build a Juggler (a loop thread and connection pools, never
    closed) and start with fresh circuit breakers.
    """

    def _prepare(
        self, config: RunnableConfig | None = None
    ) -> tuple[Runnable[Any, Any], RunnableConfig]:
        assert isinstance(self.default, JugglerBacked)
        with cloning(self.default):
            return super()._prepare(config)
