"""Constructor logic shared by the three adapters.

Each adapter is built either from ``targets=[...]`` (the chain of its own capability) or
``model=`` plus any Juggler option (``providers=``, ``timeout=``, ``retries=``, ``env=``, ...),
or from ``juggler=``, an existing :class:`juggler.Juggler` that may be shared with other
adapters. Mixing the two is refused, because options given next to ``juggler=`` would be
silently ignored otherwise. The rules live in the core (``juggler._adapters``), shared with
the LangChain adapters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import SecretStr

from juggler import Capability, InvalidRequestError, Juggler, Target
from juggler._adapters import (
    ADAPTER_SETTINGS,
    AdapterSettings,
    build_adapter_juggler,
    split_adapter_kwargs,
)

__all__ = ["OwnsJuggler", "adapter_juggler"]

# llama-index-llms-openai's names for the shared settings.
_ALIASES = {"api_base": "base_url"}


def adapter_juggler(
    owner: str,
    capability: Capability,
    targets: str | Target | Sequence[str | Target] | None,
    juggler: Juggler | None,
    kwargs: Mapping[str, Any],
    fields: Iterable[str],
    *,
    implied: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], Juggler, bool]:
    """Build (or take) the Juggler of one adapter, with the core's shared helper.

    Returns the adapter's own pydantic fields, the Juggler, and whether the adapter owns it.
    ``model``, ``api_key``, ``base_url`` (or ``api_base``), ``timeout`` and ``max_retries`` mean
    what they mean for llama-index-llms-openai's ``OpenAI``; a typo raises
    ``InvalidRequestError`` with a did-you-mean, before any request.
    """
    values = {_ALIASES.get(k, k): v for k, v in kwargs.items()}
    own_fields = set(fields)
    own, options = split_adapter_kwargs(owner, values, sorted(own_fields | set(ADAPTER_SETTINGS)))
    settings = {k: own.pop(k) for k in ADAPTER_SETTINGS if k in own and k not in own_fields}
    if isinstance(settings.get("api_key"), SecretStr):
        settings["api_key"] = settings["api_key"].get_secret_value()
    if juggler is not None and targets is not None:
        raise InvalidRequestError(
            f"{owner}: pass either juggler= or targets=, not both; configure the shared "
            "Juggler's chain instead"
        )
    built, owns = build_adapter_juggler(
        AdapterSettings(
            capability=capability,
            owner=owner,
            targets=targets,
            juggler=juggler,
            options={**(implied or {}), **options} if juggler is None else options,
            **settings,
        )
    )
    return own, built, owns


class OwnsJuggler:
    """``juggler``, ``close`` and ``aclose`` for the adapter classes, which keep the Juggler
    in ``self._juggler`` and whether they built it in ``self._owns``."""

    @property
    def juggler(self) -> Juggler:
        """The Juggler this object routes through."""
        juggler: Juggler = getattr(self, "_juggler")  # noqa: B009 - a pydantic private attr
        return juggler

    def close(self) -> None:
        """Close the Juggler this object built; a shared ``juggler=`` stays open."""
        if getattr(self, "_owns", False):
            self.juggler.close()

    async def aclose(self) -> None:
        """Async :meth:`close`: also closes the running loop's connection pools."""
        if getattr(self, "_owns", False):
            await self.juggler.aclose()
            self.juggler.close()
