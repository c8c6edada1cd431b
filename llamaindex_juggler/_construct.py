"""Constructor logic shared by the three adapters.

Each adapter is built either from ``targets=[...]`` (the chain of its own capability) plus any
Juggler option (``providers=``, ``timeout=``, ``retries=``, ``env=``, ...), or from ``juggler=``,
an existing :class:`juggler.Juggler` that may be shared with other adapters. Mixing the two is
refused, because options given next to ``juggler=`` would be silently ignored otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from juggler import Capability, InvalidRequestError, Juggler, Target

__all__ = ["build_juggler", "split_options"]


def split_options(
    kwargs: dict[str, Any], fields: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split constructor kwargs into the adapter's pydantic fields and Juggler options."""
    own = {k: v for k, v in kwargs.items() if k in fields}
    rest = {k: v for k, v in kwargs.items() if k not in fields}
    return own, rest


def build_juggler(
    capability: Capability,
    targets: Sequence[str | Target] | None,
    juggler: Juggler | None,
    options: Mapping[str, Any],
) -> Juggler:
    """Return the Juggler an adapter routes through, checking its chain is configured.

    Raises ``InvalidRequestError`` (a ``ValueError``) for contradictory arguments and
    ``CapabilityNotConfiguredError`` when no target can serve ``capability``: both before any
    request is sent.
    """
    if juggler is not None:
        if not isinstance(juggler, Juggler):
            raise InvalidRequestError(
                f"juggler= must be a juggler.Juggler, got {type(juggler).__name__}"
            )
        if targets is not None or options:
            given = sorted(["targets", *options] if targets is not None else options)
            raise InvalidRequestError(
                f"pass either juggler= or targets=/Juggler options, not both (got {given}); "
                "configure the shared Juggler itself instead"
            )
        built = juggler
    else:
        if isinstance(targets, str | Target):
            targets = [targets]  # a single target is a chain of one
        chains: dict[str, Any] = {capability.value: list(targets) if targets is not None else None}
        if capability.value in options:
            raise InvalidRequestError(
                f"use targets= for the {capability.value} chain, not {capability.value}="
            )
        built = Juggler(**chains, **options)
    built.chain(capability)  # raises CapabilityNotConfiguredError with a helpful message
    return built


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
