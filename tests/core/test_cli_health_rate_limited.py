"""`juggler health` tells a rate-limited provider (429: up, key valid, throttled) from one
that is down, in the table, in --json, and in the exit code."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _cli_support import env_for, one_red_line, only_json
from typer.testing import CliRunner

from juggler.cli.app import app
from juggler.cli.health import state_of
from juggler.cli.tables import health_rows
from juggler.testing import ProviderSimulator, Scenario

runner = CliRunner()


@pytest.fixture(scope="module")
def sim() -> Iterator[ProviderSimulator]:
    fleet = {
        "groq": Scenario(),
        "cerebras": Scenario(error_rates={429: 1.0}),
        "mistral": Scenario(error_rates={500: 1.0}),
    }
    with ProviderSimulator(fleet) as s:
        yield s


def test_health_reports_a_429_as_rate_limited_not_down(sim: ProviderSimulator) -> None:
    result = runner.invoke(app, ["health"], env=env_for(sim, "groq", "cerebras"))
    assert "rate limited" in result.stdout
    assert "down" not in result.stdout
    assert result.exit_code == 0, result.output


def test_health_exit_code_counts_only_providers_that_are_down(sim: ProviderSimulator) -> None:
    result = runner.invoke(app, ["health"], env=env_for(sim, "groq", "cerebras", "mistral"))
    assert result.exit_code == 1
    assert one_red_line(result) == "error: 1 of 3 down: mistral"


def test_health_json_lists_rate_limited_apart_from_down(sim: ProviderSimulator) -> None:
    result = runner.invoke(
        app, ["health", "--json"], env=env_for(sim, "groq", "cerebras", "mistral")
    )
    data = only_json(result)
    assert data["ok"] == ["groq"]
    assert data["rate_limited"] == ["cerebras"]
    assert data["down"] == ["mistral"]
    states = {row["provider"]: row["state"] for row in data["providers"]}
    assert states == {"groq": "ok", "cerebras": "rate limited", "mistral": "down"}


def test_own_probe_also_reports_a_429_as_rate_limited(
    sim: ProviderSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from juggler import Juggler

    monkeypatch.setattr(Juggler, "ahealth_check", None, raising=False)
    result = runner.invoke(app, ["health"], env=env_for(sim, "groq", "cerebras"))
    assert result.exit_code == 0, result.output
    assert "rate limited" in result.stdout and "RateLimitError" in result.stdout


def test_state_of_a_rate_limit_error_line_is_rate_limited() -> None:
    assert state_of("RateLimitError: slow down") == "rate limited"
    assert state_of(None, 429) == "rate limited"
    assert state_of("ServerError: boom", 500) == "down"


def test_health_rows_read_the_status_keyed_by_provider_with_models_inside() -> None:
    status = {
        "groq": {
            "circuit_state": "open",
            "success_rate": 0.5,
            "models": {"llama": {"circuit_state": "open", "requests": 2, "failures": 1}},
        }
    }
    rows = health_rows(status)
    assert [(r["provider"], r["model"], r["requests"]) for r in rows] == [("groq", "llama", 2)]
