"""The loopback server of the peer benchmarks: the project's simulator in its own process,
pinned to one CPU, with one bench-only latency shape.

``spawn(scenarios, bimodal={name: (p_slow, slow_ms)})`` starts ``python bench/_server.py``
and returns the simulator's :class:`SimulatorProcess` handle (``base_url``, ``counts``,
``set_scenario``, ``reset_counts``, ``stop``). A bimodal provider answers after its
``latency_ms`` with probability ``1 - p_slow`` and after ``slow_ms`` otherwise (the tail
benchmark: 95 % at 50 ms, 5 % at 1 s); the simulator itself has no such shape, so the child
patches its latency draw for the scenarios that carry the seeds listed here.
"""

from __future__ import annotations

import json
import os
import random
import selectors
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from juggler.testing import Scenario
from juggler.testing._spawn import SimulatorProcess

__all__ = ["SERVER_CPU", "spawn"]

_READY = "JUGGLER-SIMULATOR-READY "
# The server takes the last CPU; the client process measures its own CPU time, not this one.
SERVER_CPU = (os.cpu_count() or 1) - 1


def spawn(
    scenarios: Mapping[str, Scenario],
    bimodal: Mapping[str, tuple[float, float]] | None = None,
) -> SimulatorProcess:
    """Start the pinned simulator process; wait until it listens."""
    slow = {str(scenarios[n].seed): list(v) for n, v in (bimodal or {}).items()}
    config = json.dumps(
        {
            "scenarios": {n: s.to_json() for n, s in scenarios.items()},
            "bimodal": slow,
            "any_model": True,  # the bench names models freely
        }
    )
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), config], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    line = process.stdout.readline() if selector.select(20) else ""
    selector.close()
    if not line.startswith(_READY):
        process.kill()
        raise RuntimeError(f"the bench server did not start (got {line.strip()!r})")
    return SimulatorProcess(process, line[len(_READY) :].strip(), scenarios)


def _child(config: dict[str, object]) -> None:
    from juggler.testing import _child as child_main

    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {SERVER_CPU})
    bimodal = {int(k): v for k, v in dict(config.pop("bimodal") or {}).items()}  # type: ignore[call-overload]
    if bimodal:
        plain = Scenario.sample_latency

        def sample(self: Scenario, rng: random.Random) -> float:
            shape = bimodal.get(self.seed) if self.seed is not None else None
            if shape is None:
                return plain(self, rng)
            p_slow, slow_ms = shape
            return (slow_ms if rng.random() < p_slow else self.latency_ms) / 1000.0

        Scenario.sample_latency = sample  # type: ignore[method-assign]
    child_main.main([json.dumps(config)])


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
