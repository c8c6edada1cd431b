"""Building a Juggler's fleet: provider instances and one chain of targets per capability.

Chains are explicit (``chat=["groq/llama-3.1-8b-instant", ...]``) or discovered: every
catalogued provider whose key is set, in ``DEFAULT_ORDER``, with its default model. A chain
position may be a group of equivalent deployments (see ``juggler._routing.groups``): the fleet
keeps both the positions (``Fleet.positions``, for per-call balancing) and the flat view of
every target in configured order (``Fleet.chains``, for health, probes, the CLI and adapters).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from juggler._config import ProviderConfig, resolve_provider
from juggler._exceptions import CapabilityNotConfiguredError, InvalidRequestError
from juggler._routing.groups import Group, flatten, parse_chain
from juggler._routing.plan import resolve_target, space_of
from juggler._types import Capability, Target
from juggler.providers import WIRE_FORMATS
from juggler.providers.base import BaseProvider
from juggler.providers.catalog import CATALOG, DEFAULT_ORDER
from juggler.providers.transport import HttpClients

__all__ = ["ChainSpec", "Fleet", "TargetSpec", "build_fleet"]

logger = logging.getLogger("juggler")

TargetSpec = str | Target
ChainSpec = str | Target | Mapping[str, Any]
"""A configured chain's entry: ``"provider/model"``, a ``Target``, ``{"target": ...,
"rpm": ...}`` or a group ``{"group": [...], "strategy": "weighted"}``."""
Position = Target | Group


@dataclass(slots=True)
class Fleet:
    """Provider instances by name, and the configured chain of each capability: as
    positions (targets and groups) and as the flat list of every target."""

    providers: dict[str, BaseProvider] = field(default_factory=dict)
    chains: dict[Capability, list[Target]] = field(default_factory=dict)
    positions: dict[Capability, list[Position]] = field(default_factory=dict)

    def chain(self, capability: Capability) -> list[Target]:
        """The configured chain, or a clear error naming providers that would offer it."""
        chain = self.chains.get(capability)
        if chain:
            return chain
        offering = sorted(n for n, s in CATALOG.items() if capability in s.capabilities)
        # With no provider at all, the cause is almost always the keys: say so first, in the
        # seed's words, and name the variables.
        lead = "" if self.providers else "No providers available: check API keys. "
        variables = ", ".join(CATALOG[n].api_key_env for n in offering)
        raise CapabilityNotConfiguredError(
            f"{lead}no configured provider offers {capability.value}; providers that do: "
            f"{', '.join(offering)} (set one of {variables}, or pass "
            f"{capability.value}=['provider/model'])"
        )


def build_fleet(
    explicit: Mapping[Capability, Sequence[ChainSpec] | None],
    provider_configs: Mapping[str, Mapping[str, Any] | ProviderConfig | BaseProvider] | None,
    clients: HttpClients,
    *,
    env: Mapping[str, str] | None = None,
    allow_cross_space: bool = False,
) -> Fleet:
    """Validate the configuration and build the fleet. Raises before any request is sent."""
    environ = os.environ if env is None else env
    configs = {str(k).lower(): v for k, v in (provider_configs or {}).items()}
    fleet = Fleet()

    for name, instance in configs.items():
        if isinstance(instance, BaseProvider):  # a custom wire, or a FakeProvider
            if instance.name != name:
                raise InvalidRequestError(
                    f"providers={{{name!r}: ...}} holds a provider named {instance.name!r}"
                )
            instance.attach(clients)
            fleet.providers[name] = instance

    def provider(name: str) -> BaseProvider:
        if name not in fleet.providers:
            entry = configs.get(name)
            assert not isinstance(entry, BaseProvider)  # instances were placed above
            spec, config = resolve_provider(name, entry, environ)
            wire = WIRE_FORMATS.get(spec.wire)
            if wire is None:
                raise InvalidRequestError(
                    f"provider {name!r} uses unknown wire format {spec.wire!r}; "
                    f"known: {', '.join(sorted(WIRE_FORMATS))}"
                )
            key = config.api_key.get_secret_value() if config.api_key else None
            base_url = config.base_url or spec.base_url
            instance = wire(spec, api_key=key, base_url=base_url, clients=clients)
            if key is None and _needs_key(name, base_url):
                instance.missing_key = spec.api_key_env
                _warn_keyless(name, spec.api_key_env, environ)
            fleet.providers[name] = instance
        return fleet.providers[name]

    for capability in Capability:
        given = explicit.get(capability)
        positions: list[Position]
        if given is not None:
            positions = parse_chain(given, where=capability.value)
        else:
            positions = list(_discover(capability, configs, environ))
        resolved: dict[Target, Target] = {}
        for target in flatten(positions):
            p = provider(target.provider)
            if capability not in p.capabilities:
                offered = ", ".join(sorted(c.value for c in p.capabilities))
                raise CapabilityNotConfiguredError(
                    f"{target} cannot serve {capability.value}: {p.name} offers {offered}"
                )
            resolved[target] = resolve_target(target, p.spec)
        chain = [resolved[t] for t in flatten(positions)]
        if capability is Capability.EMBED and chain:
            chain = _one_space(chain, explicit=given is not None, allow=allow_cross_space)
        fleet.chains[capability] = chain
        fleet.positions[capability] = _keep(positions, resolved, chain)
    # Every provider the caller configured or holds a key for is ready for per-call targets
    # (``targets=``, a framework's ``model=``), even when no default chain names it.
    for name in [*DEFAULT_ORDER, *configs]:
        if name in configs or environ.get(CATALOG[name].api_key_env):
            provider(name)
    return fleet


def _keep(
    positions: Sequence[Position], resolved: Mapping[Target, Target], chain: Sequence[Target]
) -> list[Position]:
    """The positions with their targets resolved, less any the flat chain dropped (embedding
    targets outside the first one's space)."""
    kept = set(chain)
    out: list[Position] = []
    for position in positions:
        if isinstance(position, Group):
            members = tuple(resolved[m] for m in position.members if resolved[m] in kept)
            if members:
                out.append(Group(members, position.strategy, position.name))
        elif resolved[position] in kept:
            out.append(resolved[position])
    return out


def _needs_key(name: str, base_url: str) -> bool:
    """A catalogued vendor at its own URL needs a key; a server at another base URL (a
    local or custom OpenAI-compatible one, a proxy) may be keyless."""
    spec = CATALOG.get(name)
    return spec is not None and base_url.rstrip("/") == spec.base_url.rstrip("/")


def _warn_keyless(name: str, variable: str, environ: Mapping[str, str]) -> None:
    """Say once, when the Juggler is built, that a provider's targets will be skipped."""
    prefix = variable.removesuffix("_API_KEY")
    near = sorted(
        k for k in environ if k.upper().startswith(prefix) and "KEY" in k.upper() and k != variable
    )
    hint = f" ({', '.join(near)} is set: a misspelling?)" if near else ""
    logger.warning(
        "juggler: %s has no API key; its targets will be skipped. Set %s%s, or pass "
        "providers={%r: {'api_key': ...}}",
        name,
        variable,
        hint,
        name,
    )


def _discover(
    capability: Capability,
    configs: Mapping[str, Any],
    environ: Mapping[str, str],
) -> list[Target]:
    names = list(DEFAULT_ORDER) + [n for n in configs if n not in CATALOG]
    found = []
    for name in names:
        given = configs.get(name)
        if isinstance(given, BaseProvider):
            spec, usable = given.spec, True
        else:
            spec, config = resolve_provider(name, given, environ)
            usable = bool(config.api_key or (name in configs and config.base_url))
        if capability in spec.capabilities and usable:
            model = spec.models[capability]
            if model:
                found.append(Target(provider=name, model=model))
    return found


def _one_space(chain: list[Target], *, explicit: bool, allow: bool) -> list[Target]:
    """Embedding fallback stays in one space unless crossing is explicitly allowed."""
    first = space_of(chain[0])
    if allow:
        return chain
    foreign = [t for t in chain if space_of(t) != first]
    if foreign and explicit:
        names = ", ".join(str(t) for t in foreign)
        raise InvalidRequestError(
            f"embedding targets {names} are not in the space {first!r} of {chain[0]}: vectors "
            "of different models cannot share an index. Give them the same space "
            "(Target(..., space=...)) if they serve the same weights, or pass "
            "allow_cross_space=True to let fallback cross spaces (recorded on each response)."
        )
    return [t for t in chain if space_of(t) == first]
