"""``Juggler.from_config(file)`` builds the same Juggler as the Python API with the same values."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from juggler import Capability, Juggler
from juggler.testing import ProviderSimulator, Scenario

HI = [{"role": "user", "content": "hi"}]

YAML = """\
providers:
  groq: {api_key: "${SIM_KEY}", base_url: "${SIM_URL}/groq/openai/v1"}
  cerebras: {api_key: "${SIM_KEY}", base_url: "${SIM_URL}/cerebras/v1"}
  openai: {api_key: "${SIM_KEY}", base_url: "${SIM_URL}/openai/v1"}
chains:
  chat:
    - group:
        - groq/m
        - {target: cerebras/m, weight: 3, rpm: 1000}
      strategy: weighted
      name: fast
    - {target: openai/m, tier: 2}
settings: {timeout: 12, retries: 1}
tier_neighbours: true
limiter: {storage: "memory://", strategy: fixed-window}
"""

TOML = """\
tier_neighbours = true

[providers.groq]
api_key = "${SIM_KEY}"
base_url = "${SIM_URL}/groq/openai/v1"

[providers.cerebras]
api_key = "${SIM_KEY}"
base_url = "${SIM_URL}/cerebras/v1"

[providers.openai]
api_key = "${SIM_KEY}"
base_url = "${SIM_URL}/openai/v1"

[[chains.chat]]
strategy = "weighted"
name = "fast"
group = ["groq/m", {target = "cerebras/m", weight = 3, rpm = 1000}]

[[chains.chat]]
target = "openai/m"
tier = 2

[settings]
timeout = 12
retries = 1

[limiter]
storage = "memory://"
strategy = "fixed-window"
"""


def _python_api(sim: ProviderSimulator, **extra: Any) -> Juggler:
    return Juggler(
        chat=[
            {
                "group": ["groq/m", {"target": "cerebras/m", "weight": 3, "rpm": 1000}],
                "strategy": "weighted",
                "name": "fast",
            },
            {"target": "openai/m", "tier": 2},
        ],
        providers={
            "groq": {"api_key": "k", "base_url": sim.base_url("groq")},
            "cerebras": {"api_key": "k", "base_url": sim.base_url("cerebras")},
            "openai": {"api_key": "k", "base_url": sim.base_url("openai")},
        },
        timeout=12,
        retries=1,
        tier_neighbours=True,
        limiter={"storage": "memory://", "strategy": "fixed-window"},
        env={},
        **extra,
    )


def _shape(j: Juggler) -> dict[str, Any]:
    return {
        "chains": {c: j.chain(c) for c in Capability if j.engine.fleet.chains.get(c)},
        "positions": j.engine.fleet.positions,
        "settings": j.settings,
        "providers": {n: (type(p), p.base_url) for n, p in j.providers.items()},
        "tier_neighbours": j.tier_neighbours,
        "limiter": j.engine.traffic.limiter,
    }


@pytest.mark.parametrize(("name", "text"), [("juggler.yaml", YAML), ("juggler.toml", TOML)])
def test_a_config_file_builds_the_same_juggler_as_the_python_api(
    tmp_path: Path, name: str, text: str
) -> None:
    scenarios = {n: Scenario() for n in ("groq", "cerebras", "openai")}
    with ProviderSimulator(scenarios, any_model=True) as sim:
        path = tmp_path / name
        path.write_text(text)
        # The simulator serves each provider under /<name>/...: its base URLs share one root.
        assert sim.base_url("groq") == f"{sim.url}/groq/openai/v1"
        env = {"SIM_KEY": "k", "SIM_URL": sim.url}
        from_file = Juggler.from_config(path, env=env, rng=random.Random(5).random)
        from_code = _python_api(sim, rng=random.Random(5).random)
        assert sim.total("groq") + sim.total("cerebras") + sim.total("openai") == 0
        assert _shape(from_file) == _shape(from_code)
        # Same routing, call by call, with the same random source.
        routed = [[j.chat(HI).provider for _ in range(30)] for j in (from_file, from_code)]
        from_file.close()
        from_code.close()
    assert routed[0] == routed[1]
    assert set(routed[0]) == {"groq", "cerebras"}
