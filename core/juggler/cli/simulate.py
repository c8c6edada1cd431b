"""``juggler simulate``: run the provider simulator in the foreground.

Scenarios come from a JSON or YAML file mapping a provider name to Scenario fields::

    {"groq": {"error_rates": {"500": 0.5}, "seed": 7},
     "cerebras": {"error_rates": {"429": 1.0}, "retry_after": 2},
     "nvidia": {"latency_ms": 40, "latency": "normal", "jitter_ms": 10}}

Every catalogued provider is served, healthy unless the file says otherwise; ``--only`` serves
just the providers the file (or ``-p``) names. ``--port`` fixes the port, so the ``export``
lines stay true from one run to the next.

The command prints each provider's base URL and the ``export`` lines that point a Juggler
(or any OpenAI-compatible SDK) at it, then serves until Ctrl-C or ``--duration`` seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from juggler.cli.common import CliError
from juggler.providers.catalog import CATALOG

__all__ = ["load_scenarios", "run_simulator"]


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # optional: PyYAML is only needed for YAML scenario files
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise CliError(f"{path}: reading YAML needs PyYAML (pip install pyyaml)") from exc
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CliError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"{path}: not valid JSON: {exc}") from exc


def load_scenarios(
    path: Path | None, names: Sequence[str] = (), *, only: bool = False
) -> dict[str, Any]:
    """``{name: Scenario}``: every catalogued provider healthy, then the scenario file's
    entries over them, plus healthy ``names``. ``only`` keeps just the file's and ``names``
    (with neither, ``only`` is an error: there would be nothing to serve)."""
    from juggler.testing import Scenario

    scenarios: dict[str, Any] = {}
    if path is not None:
        data = _parse(path)
        if not isinstance(data, Mapping):
            raise CliError(f"{path}: expected a mapping of provider name to scenario fields")
        for name, fields in data.items():
            if not isinstance(fields, Mapping):
                raise CliError(f"{path}: scenario of {name!r} must be a mapping of fields")
            if str(name) not in CATALOG and not fields.get("wire"):
                raise CliError(f"{path}: {name!r} is not a catalogued provider, so it needs wire:")
            try:
                scenarios[str(name)] = Scenario.from_json(dict(fields))
            except (TypeError, ValueError) as exc:
                raise CliError(f"{path}: scenario of {name!r}: {exc}") from exc
    for name in names:
        if name not in CATALOG:
            raise CliError(f"unknown provider {name!r}; known: {', '.join(sorted(CATALOG))}")
        scenarios.setdefault(name, Scenario())
    if only:
        if not scenarios:
            raise CliError("--only needs a scenario file (-s) or providers (-p) to serve")
        return scenarios
    healthy: dict[str, Any] = {name: Scenario() for name in CATALOG}
    return {**healthy, **scenarios}


def _env_prefix(name: str) -> str:
    spec = CATALOG.get(name)
    return spec.env_prefix if spec else name.upper().replace("-", "_")


def run_simulator(
    scenarios: Mapping[str, Any],
    out: Console,
    *,
    duration: float | None = None,
    port: int = 0,
    any_model: bool = False,
    clock: Any = time.monotonic,
    sleep: Any = time.sleep,
) -> dict[str, dict[Any, int]]:
    """Start the simulator (on ``port``; 0 takes a free one), print where it listens, serve,
    stop; returns the request counts."""
    from juggler.testing import ProviderSimulator

    sim = ProviderSimulator(dict(scenarios), port=port, any_model=any_model)
    try:
        sim.start()
    except RuntimeError as exc:  # e.g. the port is taken: one line, not a traceback
        raise CliError(f"cannot serve on port {port}: {exc}", 1) from exc
    try:
        config = sim.providers_config()
        table = Table(title=f"provider simulator on {sim.url}", title_justify="left")
        table.add_column("provider", style="bold")
        table.add_column("base URL")
        for name in scenarios:
            table.add_row(name, sim.base_url(name))
        out.print(table)
        out.print("# point a Juggler (or an SDK) at it:")
        for name in scenarios:
            prefix = _env_prefix(name)
            key = config.get(name, {}).get("api_key", "sim-key")
            out.print(f"export {prefix}_BASE_URL={sim.base_url(name)}", soft_wrap=True)
            out.print(f"export {prefix}_API_KEY={key}", soft_wrap=True)
        out.print(
            "serving; Ctrl-C stops"
            + (f" (or after {duration:g} s)" if duration is not None else "")
        )
        end = None if duration is None else clock() + duration
        try:
            while end is None or clock() < end:
                sleep(min(0.2, max(0.0, end - clock())) if end is not None else 0.2)
        except KeyboardInterrupt:
            out.print("stopping")
        counts = {name: dict(sim.counts(name)) for name in scenarios}
    finally:
        sim.stop()
    seen = {n: c for n, c in counts.items() if c}
    if seen:
        summary = ", ".join(
            f"{n}: " + " ".join(f"{s}x{c}" for s, c in sorted(v.items(), key=lambda kv: str(kv[0])))
            for n, v in seen.items()
        )
        out.print(f"requests served: {summary}", soft_wrap=True)
    else:
        out.print("no requests served")
    return counts
