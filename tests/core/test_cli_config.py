"""``juggler --config FILE``: the file's providers, chains and settings drive the command."""

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


def test_chat_with_a_config_file_uses_its_chain(tmp_path: Path) -> None:
    with ProviderSimulator({"groq": Scenario(error_rates={503: 1.0}), "openai": Scenario()}) as sim:
        config = tmp_path / "juggler.yaml"
        config.write_text(
            "providers:\n"
            f"  groq: {{api_key: '${{SIM_KEY}}', base_url: '{sim.base_url('groq')}'}}\n"
            f"  openai: {{api_key: '${{SIM_KEY}}', base_url: '{sim.base_url('openai')}'}}\n"
            "chains:\n  chat: [groq/llama-3.1-8b-instant, openai/gpt-4o-mini]\n"
            "settings: {retries: 0}\n"
        )
        result = runner.invoke(
            app, ["--config", str(config), "chat", "hello", "-v"], env=_clean_env(SIM_KEY="k")
        )
        assert result.exit_code == 0, result.output
        assert sim.total("groq") == 1 and sim.total("openai") == 1
    assert "openai" in result.stdout


def test_a_bad_config_file_exits_2_naming_the_line(tmp_path: Path) -> None:
    config = tmp_path / "juggler.toml"
    config.write_text("[settings]\nretires = 1\n")
    result = runner.invoke(app, ["--config", str(config), "chat", "hello"], env=_clean_env())
    assert result.exit_code == 2
    assert "juggler.toml:2: settings.retires" in result.stderr
