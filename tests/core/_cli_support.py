"""Helpers for the `juggler` command tests: point the CLI at the simulator through the
environment, with every other provider's variables unset so real keys are never used."""

from __future__ import annotations

import json
from typing import Any

from juggler import CATALOG
from juggler.testing import ProviderSimulator


def env_for(sim: ProviderSimulator | None, *names: str) -> dict[str, str | None]:
    """Every catalogue variable unset, except ``names``, which point at the simulator."""
    env: dict[str, str | None] = {}
    for spec in CATALOG.values():
        env[spec.api_key_env] = None
        env[spec.base_url_env] = None
    for name in names:
        assert sim is not None
        spec = CATALOG[name]
        env[spec.api_key_env] = "sim-key"
        env[spec.base_url_env] = sim.base_url(name)
    return env


def one_red_line(result: Any) -> str:
    """The single stderr line of a failed command (asserts there is exactly one)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return str(lines[0])


def only_json(result: Any) -> Any:
    """stdout must be exactly one JSON document (nothing else on it); returns it parsed."""
    return json.loads(result.stdout)
