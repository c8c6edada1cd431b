"""Which targets a call tries, in which order. Pure functions: no I/O, no clock.

The plan starts from the capability's configured chain and applies, in order: the per-call
tier filter, the preferred provider/model (moved or added to the front), the context
window check (targets too small for the request are skipped and recorded), and the key
check: a catalogued provider without its API key is never called; its targets are skipped
with the reason ``no API key: set OPENAI_API_KEY``. When that leaves no target at all,
:func:`plan_call` raises ``AllProvidersFailedError`` ("No providers available: check API
keys") before any request is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from juggler._attempts import ModelAttempt
from juggler._exceptions import AllProvidersFailedError, InvalidRequestError
from juggler._types import CHARS_PER_TOKEN, Capability, Target
from juggler.providers.catalog import ProviderSpec

if TYPE_CHECKING:
    from juggler.providers.base import BaseProvider
    from juggler.providers.types import ChatRequest

__all__ = [
    "NO_API_KEY",
    "Choices",
    "Plan",
    "estimate_tokens",
    "plan_call",
    "plan_chain",
    "resolve_target",
    "space_of",
]

NO_API_KEY = "no API key: set "


@dataclass(frozen=True, slots=True)
class Choices:
    """A call's own say in its targets: ``targets`` replaces the configured chain, ``model``
    (a framework's per-call model, ``"provider/model"``) goes first, ``tier`` filters, and
    ``preferred_provider`` / ``preferred_model`` move to the front."""

    targets: Sequence[str | Target] | None = None
    model: str | None = None
    tier: int | None = None
    preferred_provider: str | None = None
    preferred_model: str | None = None


@dataclass(slots=True)
class Plan:
    """The ordered targets to try, and the ones left out with the reason (for models_used)."""

    targets: list[Target]
    skipped: list[tuple[Target, str]] = field(default_factory=list)


def resolve_target(target: Target, spec: ProviderSpec) -> Target:
    """Fill a target's tier and context window from the catalogue when it left them unset."""
    updates: dict[str, Any] = {}
    if target.tier is None:
        updates["tier"] = spec.tier
    if target.context_window is None and spec.context_window:
        updates["context_window"] = spec.context_window
    return target.model_copy(update=updates) if updates else target


def space_of(target: Target) -> str:
    """The embedding space: explicit, or the model id without its vendor prefix.

    ``together/BAAI/bge-base-en-v1.5`` and ``other/bge-base-en-v1.5`` share a space because
    they serve the same weights; two different model ids never do.
    """
    if target.space:
        return target.space
    return target.model.rsplit("/", 1)[-1].lower()


def estimate_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """A cheap, deliberately generous estimate: about 4 characters per token."""
    chars = 0
    for message in messages:
        content = message.get("content")
        chars += len(content) if isinstance(content, str) else len(json.dumps(content or ""))
        chars += 16  # role and framing
    return chars // CHARS_PER_TOKEN + 1


def plan_chain(
    chain: Sequence[Target],
    *,
    tier: int | None = None,
    tier_neighbours: bool = False,
    preferred_provider: str | None = None,
    preferred_model: str | None = None,
    prompt_tokens: int | None = None,
    max_tokens: int | None = None,
) -> Plan:
    """Apply the per-call choices to a configured chain."""
    targets = list(chain)
    if tier is not None:
        # True == 1 and 1.0 == 1 in Python: only a real int names a tier.
        if isinstance(tier, bool) or not isinstance(tier, int) or tier not in (1, 2, 3):
            raise InvalidRequestError(f"tier must be 1, 2 or 3, got {tier!r}")
        exact = [t for t in targets if t.tier == tier]
        if tier_neighbours:
            exact += [t for t in targets if t.tier is not None and abs(t.tier - tier) == 1]
        if not exact and not preferred_provider:
            have = sorted({t.tier for t in targets if t.tier is not None})
            raise InvalidRequestError(f"no target has tier {tier}; the chain has tiers {have}")
        targets = exact
    if preferred_provider or preferred_model:
        targets = _prefer(targets, chain, preferred_provider, preferred_model)
    plan = Plan(targets=[])
    need = (prompt_tokens or 0) + (max_tokens or 0)
    for target in targets:
        if prompt_tokens is not None and target.context_window and need > target.context_window:
            plan.skipped.append(
                (target, f"context window {target.context_window} < ~{need} tokens needed")
            )
        else:
            plan.targets.append(target)
    return plan


def _prefer(
    targets: list[Target],
    chain: Sequence[Target],
    provider: str | None,
    model: str | None,
) -> list[Target]:
    provider = str(provider).lower() if provider else None

    def matches(t: Target) -> bool:
        return (provider is None or t.provider == provider) and (model is None or t.model == model)

    front = [t for t in targets if matches(t)] or [t for t in chain if matches(t)]
    if not front:
        if provider is None:
            raise InvalidRequestError(
                f"preferred_model {model!r} is in no target; name its preferred_provider too"
            )
        template = next((t for t in chain if t.provider == provider), None)
        if model is None:
            raise InvalidRequestError(f"preferred_provider {provider!r} is not in the chain")
        front = [
            Target(provider=provider, model=model)
            if template is None
            else template.model_copy(update={"model": model})
        ]
    return front + [t for t in targets if t not in front]


def known_target(
    providers: Mapping[str, BaseProvider], target: Target, capability: Capability
) -> Target:
    """``target`` checked against the configured providers, with catalogue defaults filled."""
    provider = providers.get(target.provider)
    if provider is None:
        raise InvalidRequestError(
            f"provider {target.provider!r} is not configured in this Juggler; configured: "
            f"{', '.join(sorted(providers))}"
        )
    if capability not in provider.capabilities:
        raise InvalidRequestError(f"{target} cannot serve {capability.value}")
    return resolve_target(target, provider.spec)


def plan_call(
    providers: Mapping[str, BaseProvider],
    configured: Sequence[Target],
    capability: Capability,
    *,
    choices: Choices | None = None,
    tier_neighbours: bool = False,
    request: ChatRequest | None = None,
) -> Plan:
    """One call's plan: per-call ``targets`` (or the configured chain), a framework's
    per-call ``model=`` (a target string, moved to the front), then :func:`plan_chain`."""
    c = choices or Choices()
    if c.targets is not None and (
        isinstance(c.targets, str | bytes) or not isinstance(c.targets, Sequence) or not c.targets
    ):
        raise InvalidRequestError(
            f"targets must be a non-empty list of 'provider/model' strings, got {c.targets!r}"
        )
    chain = (
        [known_target(providers, Target.parse(t), capability) for t in c.targets]
        if c.targets is not None
        else list(configured)
    )
    preferred_provider, preferred_model = c.preferred_provider, c.preferred_model
    if c.model is not None:
        front = known_target(providers, Target.parse(c.model), capability)
        preferred_provider, preferred_model = front.provider, front.model
        chain = [front, *[t for t in chain if t != front]]
    plan = plan_chain(
        chain,
        tier=c.tier,
        tier_neighbours=tier_neighbours,
        preferred_provider=str(preferred_provider) if preferred_provider else None,
        preferred_model=preferred_model,
        prompt_tokens=estimate_tokens(request.messages) if request else None,
        max_tokens=request.max_tokens if request else None,
    )
    plan.targets = [known_target(providers, t, capability) for t in plan.targets]
    return _skip_keyless(plan, providers)


def _skip_keyless(plan: Plan, providers: Mapping[str, BaseProvider]) -> Plan:
    """Move targets whose provider lacks its API key to ``skipped``; when none is left,
    fail now, naming the variables to set (no request could have succeeded)."""
    ready = []
    for target in plan.targets:
        missing = getattr(providers[target.provider], "missing_key", None)
        if missing:
            plan.skipped.append((target, NO_API_KEY + missing))
        else:
            ready.append(target)
    plan.targets = ready
    if not ready and any(reason.startswith(NO_API_KEY) for _, reason in plan.skipped):
        raise no_providers_available(plan.skipped)
    return plan


def no_providers_available(skipped: Sequence[tuple[Target, str]]) -> AllProvidersFailedError:
    """The error of a call none of whose targets has a key; ``models_used`` holds every
    skipped target, and the message names the variables to set."""
    variables = sorted({r.removeprefix(NO_API_KEY) for _, r in skipped if r.startswith(NO_API_KEY)})
    attempts = [
        ModelAttempt(
            provider=t.provider,
            model=t.model,
            success=False,
            outcome="skipped",
            attempt=i,
            error=reason,
        )
        for i, (t, reason) in enumerate(skipped, start=1)
    ]
    return AllProvidersFailedError(
        attempts,
        "No providers available: check API keys. Set "
        + " or ".join(variables)
        + " (or pass providers={name: {'api_key': ...}}); no request was sent:",
    )
