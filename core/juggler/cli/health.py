"""``juggler health``: an active probe of every configured provider.

When the Juggler has ``ahealth_check()`` (the resilience engine), the probe is its own and
the table is filled from the health figures it recorded. Otherwise the CLI sends one tiny
request per provider itself (a 1-token chat, or a one-word embedding for providers that only
embed), with no retries and a short timeout, all in parallel.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from juggler._exceptions import JugglerError
from juggler._juggler import Juggler
from juggler._types import Capability
from juggler.cli.common import error_line
from juggler.cli.tables import ProbeResult, health_rows
from juggler.providers.base import BaseProvider
from juggler.providers.catalog import CATALOG

__all__ = ["configured_providers", "probe_all", "state_of"]

# The cheapest request each capability allows; chat first because every chat provider has it.
_PROBE_ORDER = (Capability.CHAT, Capability.EMBED, Capability.RERANK)


def state_of(error_type: str | None, status_code: int | None = None) -> str:
    """``"rate limited"`` for a 429 (the provider answered; it is throttling this key), else
    ``"down"``. ``error_type`` may be a class name or a ``"RateLimitError: …"`` line."""
    if status_code == 429 or str(error_type or "").startswith("RateLimitError"):
        return "rate limited"
    return "down"


def configured_providers(juggler: Juggler) -> dict[str, BaseProvider]:
    """The Juggler's providers that have a key (the ones worth probing)."""
    return {name: p for name, p in sorted(juggler.providers.items()) if p.has_key}


def _probe_capability(provider: BaseProvider) -> Capability | None:
    for capability in _PROBE_ORDER:
        if capability in provider.capabilities and provider.spec.models.get(capability):
            return capability
    return None


async def _probe_one(juggler: Juggler, provider: BaseProvider) -> ProbeResult:
    capability = _probe_capability(provider)
    if capability is None:
        offered = ", ".join(sorted(c.value for c in provider.capabilities))
        return ProbeResult(provider.name, "", offered, False, None, "no probe for " + offered)
    model = provider.spec.models[capability]
    target = [f"{provider.name}/{model}"]
    started = time.perf_counter()
    try:
        if capability is Capability.CHAT:
            await juggler.achat("ping", targets=target, max_tokens=1)
        elif capability is Capability.EMBED:
            await juggler.aembed("ping", targets=target)
        else:
            await juggler.arerank("ping", ["ping", "pong"], targets=target)
    except (JugglerError, OSError) as exc:
        elapsed = (time.perf_counter() - started) * 1000.0
        attempts = getattr(exc, "models_used", None)
        last = attempts[-1] if attempts else None
        # The same "ErrorType: message" shape as get_health_status()'s last_error.
        why = f"{last.error_type}: {last.error}" if last is not None else error_line(exc)
        state = state_of(last.error_type, last.status_code) if last is not None else "down"
        return ProbeResult(provider.name, model, capability.value, False, elapsed, why, state)
    elapsed = (time.perf_counter() - started) * 1000.0
    return ProbeResult(provider.name, model, capability.value, True, elapsed)


def _from_status(verdict: Mapping[str, bool], status: Any) -> list[ProbeResult]:
    """Probe rows from ``ahealth_check()``'s verdict and the health figures it recorded."""
    rows = [r for r in health_rows(status) if r.get("requests")]
    results = []
    for name, ok in sorted(verdict.items()):
        mine = [r for r in rows if r.get("provider") == name]
        row = mine[0] if mine else {}
        model = str(row.get("model", ""))
        spec = CATALOG.get(name)
        capability = next(
            (c.value for c, m in (spec.models.items() if spec else ()) if m == model), ""
        )
        elapsed = row.get("p50_ms") if ok else None
        error = None if ok else str(row.get("last_error") or "no answer")
        state = "ok" if ok else state_of(error)
        results.append(ProbeResult(name, model, capability, bool(ok), elapsed, error, state))
    return results


async def _probe(juggler: Juggler) -> list[ProbeResult]:
    try:
        check = getattr(juggler, "ahealth_check", None)
        if callable(check):  # the resilience engine's own probe (it records what it saw)
            verdict = {str(k): bool(v) for k, v in dict(await check()).items()}
            return _from_status(verdict, juggler.get_health_status())
        providers = configured_providers(juggler)
        return list(await asyncio.gather(*(_probe_one(juggler, p) for p in providers.values())))
    finally:
        await juggler.aclose()


def probe_all(juggler: Juggler) -> list[ProbeResult]:
    """Probe every configured provider once, in parallel, and close the Juggler's pools."""
    return asyncio.run(_probe(juggler))
