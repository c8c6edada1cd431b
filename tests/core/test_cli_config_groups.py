"""``juggler --config FILE`` with a group of deployments in the file's chain."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from juggler import CATALOG
from juggler.cli.app import app
from juggler.testing import ProviderSimulator, Scenario

runner = CliRunner()


def _clean_env(**extra: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {"JUGGLER_CONFIG": None}
    for spec in CATALOG.values():
        env[spec.api_key_env] = None
        env[spec.base_url_env] = None
    env.update(extra)
    return env


def test_the_command_falls_over_inside_a_group_from_the_config_file(tmp_path: Path) -> None:
    scenarios = {"groq": Scenario(error_rates={503: 1.0}), "cerebras": Scenario()}
    with ProviderSimulator(scenarios, any_model=True) as sim:
        config = tmp_path / "juggler.yaml"
        config.write_text(
            "providers:\n"
            f"  groq: {{api_key: '${{SIM_KEY}}', base_url: '{sim.base_url('groq')}'}}\n"
            f"  cerebras: {{api_key: '${{SIM_KEY}}', base_url: '{sim.base_url('cerebras')}'}}\n"
            "chains:\n"
            "  chat:\n"
            "    - group: [groq/m, cerebras/m]\n"
            "      strategy: order\n"
            "settings: {retries: 0}\n"
        )
        result = runner.invoke(
            app, ["--config", str(config), "chat", "hello", "-v"], env=_clean_env(SIM_KEY="k")
        )
        assert result.exit_code == 0, result.output
        assert (sim.total("groq"), sim.total("cerebras")) == (1, 1)
