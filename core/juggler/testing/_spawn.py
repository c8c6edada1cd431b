"""A simulator in its own process, so a benchmark's client never shares its CPU.

``ProviderSimulator.spawn(...)`` starts ``python -m juggler.testing._child '<scenarios JSON>'``,
reads the URL the child prints once it listens, and returns a :class:`SimulatorProcess`. The
handle talks to the child through the simulator's ``/_sim/…`` control endpoints.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from juggler.testing._addresses import provider_config, wire_of
from juggler.testing._scenario import Decision, Scenario

__all__ = ["SimulatorProcess", "spawn"]

READY = "JUGGLER-SIMULATOR-READY "


class SimulatorProcess:
    """Handle on a simulator running in a child process."""

    def __init__(self, process: subprocess.Popen[str], url: str, scenarios: Mapping[str, Scenario]):
        self.process = process
        self.url = url
        self._scenarios = dict(scenarios)

    def __repr__(self) -> str:
        return f"SimulatorProcess({self.url}, pid={self.process.pid})"

    def base_url(self, name: str) -> str:
        """The provider's base URL on the simulator."""
        return str(provider_config(self.url, name, self._scenarios[name])["base_url"])

    def providers_config(self, *names: str) -> dict[str, dict[str, Any]]:
        """``providers=`` for a Juggler."""
        chosen = names or tuple(self._scenarios)
        return {n: provider_config(self.url, n, self._scenarios[n]) for n in chosen}

    def counts(self, name: str) -> dict[Decision, int]:
        """Requests per status for ``name`` (see ``ProviderSimulator.counts``)."""
        data = httpx.get(f"{self.url}/_sim/counts", timeout=5).json().get(name, {})
        return {int(k) if k.isdigit() else k: v for k, v in data.items()}

    def total(self, name: str) -> int:
        """All requests that reached ``name``."""
        return sum(self.counts(name).values())

    def reset_counts(self) -> None:
        """Forget every count."""
        httpx.post(f"{self.url}/_sim/reset", timeout=5).raise_for_status()

    def set_scenario(self, name: str, scenario: Scenario) -> None:
        """Replace (or add) a provider's scenario in the child."""
        httpx.put(
            f"{self.url}/_sim/scenarios/{name}", json=scenario.to_json(), timeout=5
        ).raise_for_status()
        self._scenarios[name] = scenario

    def stop(self) -> None:
        """Terminate the child and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def spawn(
    scenarios: Mapping[str, Scenario],
    *,
    port: int = 0,
    timeout: float = 20.0,
    any_model: bool = False,
) -> SimulatorProcess:
    """Start a simulator process and wait until it listens."""
    for name, scenario in scenarios.items():
        wire_of(name, scenario)  # validate here, where the error is readable
    config = json.dumps(
        {
            "port": port,
            "any_model": any_model,
            "scenarios": {n: s.to_json() for n, s in scenarios.items()},
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "juggler.testing._child", config],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    import selectors

    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    line = process.stdout.readline() if selector.select(timeout) else ""
    selector.close()
    if not line.startswith(READY):
        process.kill()
        process.wait(5)
        raise RuntimeError(f"the simulator process did not start (got {line.strip()!r})")
    return SimulatorProcess(process, line[len(READY) :].strip(), scenarios)
