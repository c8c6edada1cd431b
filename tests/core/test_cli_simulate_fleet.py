"""`juggler simulate`: a stable port with --port, and providers a scenario file leaves out are
still served healthy unless --only is given."""

from __future__ import annotations

import io
import json
import re
import socket
from pathlib import Path

import httpx
from _cli_support import env_for, one_red_line
from rich.console import Console
from typer.testing import CliRunner

from juggler import CATALOG
from juggler.cli.app import app
from juggler.cli.simulate import load_scenarios, run_simulator

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_simulate_port_serves_on_the_port_given() -> None:
    port = free_port()
    args = ["simulate", "--only", "-p", "groq", "--port", str(port), "--duration", "0"]
    result = runner.invoke(app, args, env=env_for(None))
    assert result.exit_code == 0, result.output
    assert f"export GROQ_BASE_URL=http://127.0.0.1:{port}/groq/openai/v1" in result.stdout


def test_simulate_on_a_taken_port_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["simulate", "--only", "-p", "groq", "--port", str(port), "--duration", "0"]
        result = runner.invoke(app, args, env=env_for(None))
    assert result.exit_code == 1
    assert f"cannot serve on port {port}" in one_red_line(result)


def test_simulate_serves_providers_the_file_leaves_out_healthy(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps({"cerebras": {"error_rates": {"429": 1.0}}}))
    result = runner.invoke(app, ["simulate", "-s", str(path), "--duration", "0"])
    assert result.exit_code == 0, result.output
    for spec in CATALOG.values():
        assert f"export {spec.base_url_env}=" in result.stdout


def test_simulate_only_serves_just_the_file_s_providers(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps({"cerebras": {"error_rates": {"429": 1.0}}}))
    result = runner.invoke(app, ["simulate", "-s", str(path), "--only", "--duration", "0"])
    assert result.exit_code == 0, result.output
    assert "CEREBRAS_BASE_URL" in result.stdout
    assert "GROQ_BASE_URL" not in result.stdout


def test_simulate_only_with_nothing_named_is_bad_input() -> None:
    result = runner.invoke(app, ["simulate", "--only", "--duration", "0"])
    assert result.exit_code == 2
    assert "--only needs" in one_red_line(result)


def serve_once(scenarios: dict[str, object], name: str, model: str, **options: object) -> int:
    """Run ``juggler simulate``'s server for one tick; in it, ask ``name`` for ``model``."""
    out = io.StringIO()
    statuses: list[int] = []
    ticks = iter([0.0, 0.0, 1.0, 1.0, 1.0])
    prefix = CATALOG[name].base_url_env

    def sleep(_: float) -> None:  # the one tick of serving: send the request then
        base = re.search(rf"{prefix}=(\S+)", out.getvalue())
        assert base is not None
        body = {"model": model, "messages": []}
        statuses.append(httpx.post(base.group(1) + "/chat/completions", json=body).status_code)

    console = Console(file=out, width=200)
    run_simulator(
        scenarios, console, duration=0.5, clock=lambda: next(ticks), sleep=sleep, **options
    )  # type: ignore[arg-type]
    assert len(statuses) == 1
    return statuses[0]


def test_simulate_any_model_serves_every_model_name() -> None:
    scenarios = load_scenarios(None, ["groq"], only=True)
    assert serve_once(scenarios, "groq", "not-a-groq-model", any_model=True) == 200
    assert serve_once(scenarios, "groq", "not-a-groq-model") == 404


def test_a_provider_the_file_leaves_out_answers_healthy(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps({"cerebras": {"error_rates": {"429": 1.0}}}))
    scenarios = load_scenarios(path)
    assert serve_once(scenarios, "groq", "llama-3.1-8b-instant") == 200
    assert serve_once(scenarios, "cerebras", "qwen-3-32b") == 429
