"""Live calls to the real providers. Run with ``pytest -m integration`` when keys are set.

Each test skips itself, with the reason, when its provider's key is missing. These are the
only tests allowed to leave 127.0.0.1 (``enable_socket``).
"""

from __future__ import annotations

import os

import pytest

from juggler import CATALOG, Capability, Juggler

pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]


def _needs_key(name: str) -> None:
    env = CATALOG[name].api_key_env
    if not os.environ.get(env):
        pytest.skip(f"{env} is not set")


@pytest.mark.parametrize(
    "name", [n for n, spec in CATALOG.items() if Capability.CHAT in spec.capabilities]
)
def test_live_chat(name: str) -> None:
    _needs_key(name)
    with Juggler(chat=[f"{name}/{CATALOG[name].models[Capability.CHAT]}"]) as juggler:
        response = juggler.chat("Say hello in one word.", max_tokens=16)
    assert response.models_used[-1].success
    assert response.provider == name


@pytest.mark.parametrize(
    "name", [n for n, spec in CATALOG.items() if Capability.EMBED in spec.capabilities]
)
def test_live_embed(name: str) -> None:
    _needs_key(name)
    with Juggler(embed=[f"{name}/{CATALOG[name].models[Capability.EMBED]}"]) as juggler:
        response = juggler.embed(["Hello", "World"])
    assert len(response) == 2 and response.dimensions > 0


@pytest.mark.parametrize(
    "name", [n for n, spec in CATALOG.items() if Capability.RERANK in spec.capabilities]
)
def test_live_rerank(name: str) -> None:
    _needs_key(name)
    with Juggler(rerank=[f"{name}/{CATALOG[name].models[Capability.RERANK]}"]) as juggler:
        response = juggler.rerank("capital of France", ["Paris", "Berlin", "Rome"], top_k=2)
    assert len(response) == 2 and len(response.scores) == 2
