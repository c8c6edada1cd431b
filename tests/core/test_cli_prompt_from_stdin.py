"""`juggler chat -` reads the prompt from stdin, so a script can pipe text in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _cli_support import env_for, one_red_line, only_json
from typer.testing import CliRunner

from juggler.cli.app import app
from juggler.testing import ProviderSimulator, Scenario

runner = CliRunner()
CHAT = "groq/llama-3.1-8b-instant"


@pytest.fixture(scope="module")
def sim() -> Iterator[ProviderSimulator]:
    with ProviderSimulator({"groq": Scenario()}) as s:
        yield s


def test_chat_dash_reads_the_prompt_from_stdin(sim: ProviderSimulator) -> None:
    result = runner.invoke(
        app, ["chat", "-", "-t", CHAT], input="what is piped in\n", env=env_for(sim, "groq")
    )
    assert result.exit_code == 0, result.output
    assert 'Simulated answer to "what is piped in"' in result.stdout


def test_chat_dash_with_json_answers_the_piped_prompt(sim: ProviderSimulator) -> None:
    result = runner.invoke(
        app, ["chat", "-", "-t", CHAT, "--json"], input="two\nlines", env=env_for(sim, "groq")
    )
    assert result.exit_code == 0, result.output
    assert "two lines" in only_json(result)["content"]


def test_chat_dash_with_empty_stdin_is_bad_input(sim: ProviderSimulator) -> None:
    before = sim.total("groq")
    result = runner.invoke(app, ["chat", "-", "-t", CHAT], input="", env=env_for(sim, "groq"))
    assert result.exit_code == 2
    assert "the prompt is empty" in one_red_line(result)
    assert sim.total("groq") == before
