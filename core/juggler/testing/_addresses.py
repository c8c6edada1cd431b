"""Where each simulated provider lives: the wire it speaks, its base path (as in the
catalogue) and the ``providers=`` entry that points a Juggler at it. Shared by the
simulator and by the handle on a simulator in another process."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from juggler.providers.catalog import CATALOG
from juggler.testing._scenario import Scenario
from juggler.testing.wires.anthropic import AnthropicWire
from juggler.testing.wires.base import WireFormat
from juggler.testing.wires.cohere import CohereWire
from juggler.testing.wires.google import GoogleWire
from juggler.testing.wires.openai import OpenAIWire
from juggler.testing.wires.retrieval import JinaWire, VoyageWire

__all__ = ["SIM_KEY", "WIRES", "base_path", "provider_config", "wire_of"]

WIRES: dict[str, WireFormat] = {
    w.name: w
    for w in (OpenAIWire(), AnthropicWire(), GoogleWire(), CohereWire(), VoyageWire(), JinaWire())
}
SIM_KEY = "sim-key"


def wire_of(name: str, scenario: Scenario) -> str:
    """The wire format a simulated provider speaks; names not in the catalogue need one."""
    spec = CATALOG.get(name)
    if spec is not None:
        if scenario.wire and scenario.wire != spec.wire:
            raise ValueError(
                f"{name!r} speaks {spec.wire!r} (catalogue); Scenario(wire={scenario.wire!r}) "
                "would not be what the Juggler sends. Use another provider name for it."
            )
        return spec.wire
    if not scenario.wire:
        raise ValueError(
            f"{name!r} is not a catalogued provider: give its wire format, "
            f"e.g. Scenario(wire='openai') (known: {', '.join(sorted(WIRES))})"
        )
    if scenario.wire not in WIRES:
        raise ValueError(f"unknown wire {scenario.wire!r}; known: {', '.join(sorted(WIRES))}")
    return scenario.wire


def base_path(name: str, scenario: Scenario) -> str:
    """The vendor's base path (as in the catalogue's base_url), e.g. ``/openai/v1`` for groq."""
    spec = CATALOG.get(name)
    if spec is not None:
        return urlsplit(spec.base_url).path.rstrip("/")
    return WIRES[wire_of(name, scenario)].default_base_path


def provider_config(
    url: str, name: str, scenario: Scenario, api_key: str = SIM_KEY
) -> dict[str, Any]:
    """One ``providers=`` entry pointing the Juggler at the simulated provider."""
    config: dict[str, Any] = {
        "api_key": api_key,
        "base_url": f"{url}/{name}{base_path(name, scenario)}",
    }
    if name not in CATALOG:
        config["wire"] = wire_of(name, scenario)
    if scenario.models:
        config["models"] = dict(scenario.models)
    return config
