"""The `juggler` command, end to end against the provider simulator on 127.0.0.1.

The CLI reads keys and base URLs from the environment, so each test points it at the
simulator with ``<NAME>_BASE_URL`` / ``<NAME>_API_KEY`` in the runner's env, and unsets every
other provider's variables so a developer's real keys are never used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_support import env_for, one_red_line
from typer.testing import CliRunner

from juggler.cli.app import app
from juggler.cli.demo.fleet import tiny_wav
from juggler.testing import ProviderSimulator, Scenario

runner = CliRunner()

CHAT = "groq/llama-3.1-8b-instant"
LIMITED = "cerebras/qwen-3-32b"


@pytest.fixture(scope="module")
def sim() -> Iterator[ProviderSimulator]:
    """A small fleet: groq, nvidia, openai, voyage, cohere healthy; cerebras rate-limited;
    mistral rejecting its key."""
    fleet = {
        "groq": Scenario(),
        "nvidia": Scenario(),
        "openai": Scenario(),
        "voyage": Scenario(),
        "cohere": Scenario(),
        "cerebras": Scenario(error_rates={429: 1.0}),
        "mistral": Scenario(error_rates={401: 1.0}),
    }
    with ProviderSimulator(fleet) as s:
        yield s


# ----- chat -----


def test_chat_prints_the_answer(sim: ProviderSimulator) -> None:
    result = runner.invoke(app, ["chat", "hello there", "-t", CHAT], env=env_for(sim, "groq"))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()
    assert "models_used" not in result.stdout


def test_chat_verbose_shows_the_fallback_in_models_used(sim: ProviderSimulator) -> None:
    env = env_for(sim, "groq", "cerebras")
    result = runner.invoke(app, ["chat", "hi", "-t", LIMITED, "-t", CHAT, "-v"], env=env)
    assert result.exit_code == 0, result.output
    assert "models_used" in result.stdout
    assert "RateLimitError" in result.stdout
    assert "429" in result.stdout
    assert "answered by groq/llama-3.1-8b-instant" in result.stdout


def test_chat_stream_prints_tokens_then_models_used(sim: ProviderSimulator) -> None:
    env = env_for(sim, "groq", "cerebras")
    result = runner.invoke(
        app, ["chat", "count to three", "--stream", "-v", "-t", LIMITED, "-t", CHAT], env=env
    )
    assert result.exit_code == 0, result.output
    answer, _, table = result.stdout.partition("models_used")
    assert answer.strip()
    assert "RateLimitError" in table and "success" in table


def test_chat_without_target_uses_the_providers_whose_keys_are_set(
    sim: ProviderSimulator,
) -> None:
    result = runner.invoke(app, ["chat", "hi", "-v"], env=env_for(sim, "nvidia"))
    assert result.exit_code == 0, result.output
    assert "answered by nvidia/" in result.stdout


def test_chat_accepts_system_temperature_and_max_tokens(sim: ProviderSimulator) -> None:
    args = ["chat", "hi", "-t", CHAT, "--system", "be brief", "--temperature", "0.2"]
    result = runner.invoke(app, [*args, "--max-tokens", "20"], env=env_for(sim, "groq"))
    assert result.exit_code == 0, result.output


def test_chat_failure_exits_1_with_one_line(sim: ProviderSimulator) -> None:
    env = env_for(sim, "mistral")
    result = runner.invoke(app, ["chat", "hi", "-t", "mistral/mistral-small-latest"], env=env)
    assert result.exit_code == 1
    line = one_red_line(result)
    assert line.startswith("error: ") and "AuthenticationError" in line
    assert "sim-key" not in result.output


# ----- the other capabilities -----


def test_embed_prints_count_and_dimensions(sim: ProviderSimulator) -> None:
    args = ["embed", "one", "two", "-t", "openai/text-embedding-3-small", "-v"]
    result = runner.invoke(app, args, env=env_for(sim, "openai"))
    assert result.exit_code == 0, result.output
    assert "2 vector(s) x" in result.stdout
    assert "models_used" in result.stdout


def test_rerank_prints_the_best_documents_first(sim: ProviderSimulator) -> None:
    args = ["rerank", "cats purr", "dogs bark", "cats purr loudly", "fish swim", "--top-k", "2"]
    result = runner.invoke(app, [*args, "-t", "voyage/rerank-2.5"], env=env_for(sim, "voyage"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("1.") and "cats purr loudly" in lines[0]


def test_transcribe_prints_the_transcript(sim: ProviderSimulator, tmp_path: Path) -> None:
    audio = tmp_path / "tone.wav"
    audio.write_bytes(tiny_wav())
    args = ["transcribe", str(audio), "-t", "openai/whisper-1", "-v"]
    result = runner.invoke(app, args, env=env_for(sim, "openai"))
    assert result.exit_code == 0, result.output
    assert "answered by openai/whisper-1" in result.stdout


def test_speak_writes_the_audio_file(sim: ProviderSimulator, tmp_path: Path) -> None:
    out = tmp_path / "hello.mp3"
    args = ["speak", "hello", "-o", str(out), "-t", "openai/tts-1", "--voice", "alloy"]
    result = runner.invoke(app, args, env=env_for(sim, "openai"))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    assert f"to {out}" in result.stdout


# ----- catalogue, health, simulator -----


def test_providers_lists_the_catalogue_and_never_prints_a_key() -> None:
    env = env_for(None)
    env["GROQ_API_KEY"] = "gsk_THIS_IS_A_SECRET_1234567890"
    result = runner.invoke(app, ["providers"], env=env)
    assert result.exit_code == 0, result.output
    assert "THIS_IS_A_SECRET" not in result.output
    assert "set (GROQ_API_KEY)" in result.stdout
    for name in ("cerebras", "anthropic", "voyage", "jina"):
        assert name in result.stdout


def test_health_probes_each_configured_provider(sim: ProviderSimulator) -> None:
    result = runner.invoke(app, ["health"], env=env_for(sim, "groq", "voyage"))
    assert result.exit_code == 0, result.output
    assert "groq" in result.stdout and "voyage" in result.stdout
    assert "down" not in result.stdout


def test_health_exits_1_and_names_the_provider_that_is_down(sim: ProviderSimulator) -> None:
    result = runner.invoke(app, ["health"], env=env_for(sim, "groq", "mistral"))
    assert result.exit_code == 1
    assert "down" in result.stdout
    assert one_red_line(result) == "error: 1 of 2 down: mistral"


def test_health_without_keys_is_an_error() -> None:
    result = runner.invoke(app, ["health"], env=env_for(None))
    assert result.exit_code == 2
    assert "no provider has a key set" in one_red_line(result)


def test_simulate_starts_prints_the_exports_and_stops() -> None:
    result = runner.invoke(app, ["simulate", "-p", "groq", "--duration", "0"], env=env_for(None))
    assert result.exit_code == 0, result.output
    assert "export GROQ_BASE_URL=http://127.0.0.1:" in result.stdout
    assert "export GROQ_API_KEY=" in result.stdout
    assert "no requests served" in result.stdout


def test_simulate_reads_scenarios_from_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps({"groq": {"error_rates": {"500": 0.5}, "seed": 1}, "nvidia": {}}))
    result = runner.invoke(app, ["simulate", "-s", str(path), "--duration", "0"])
    assert result.exit_code == 0, result.output
    assert "NVIDIA_BASE_URL" in result.stdout and "GROQ_BASE_URL" in result.stdout


def test_simulate_reads_scenarios_from_a_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text("cerebras:\n  error_rates: {429: 1.0}\n  retry_after: 2\n")
    result = runner.invoke(app, ["simulate", "-s", str(path), "--duration", "0"])
    assert result.exit_code == 0, result.output
    assert "CEREBRAS_BASE_URL" in result.stdout


def test_simulate_rejects_an_unknown_scenario_field(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps({"groq": {"error_rate": 0.5}}))
    result = runner.invoke(app, ["simulate", "-s", str(path), "--duration", "0"])
    assert result.exit_code == 2
    assert "unknown scenario field" in one_red_line(result)


# ----- bad input: one line, exit code 2, no traceback -----


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["chat", "hi", "-t", "nosuch/model"], "unknown provider 'nosuch'"),
        (["chat", "hi", "-t", "no-slash"], "cannot parse target"),
        (["chat", "   "], "the prompt is empty"),
        (["chat"], "Missing argument"),
        (["transcribe", "/no/such/file.wav"], "does not exist"),
        (["rerank", "q", "a", "b", "--top-k", "0"], "--top-k"),
        (["rerank", "q", "a", "--top-k", "two"], "--top-k"),
        (["chat", "hi", "-t", CHAT], "GROQ_API_KEY is not set"),
        (["chat", "hi"], "no configured provider offers chat"),
        (["chat", "hi", "--temperature", "9"], "--temperature"),
        (["nosuchcommand"], "No such command"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args: list[str], words: str) -> None:
    result = runner.invoke(app, args, env=env_for(None))
    assert result.exit_code == 2, result.output
    line = one_red_line(result)
    assert line.startswith("error: ")
    assert words in line


def test_debug_shows_the_traceback() -> None:
    result = runner.invoke(app, ["--debug", "chat", "hi", "-t", "nosuch/model"], env=env_for(None))
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: unknown provider")


def test_debug_may_come_after_the_subcommand() -> None:
    result = runner.invoke(app, ["chat", "hi", "-t", "nosuch/model", "--debug"], env=env_for(None))
    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_nothing_prompts_when_stdin_is_closed() -> None:
    result = runner.invoke(app, ["chat"], input=None, env=env_for(None))
    assert result.exit_code == 2


def test_health_uses_its_own_probe_when_the_juggler_has_no_health_check(
    sim: ProviderSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from juggler import Juggler

    monkeypatch.setattr(Juggler, "ahealth_check", None, raising=False)
    result = runner.invoke(app, ["health"], env=env_for(sim, "groq", "mistral", "voyage"))
    assert result.exit_code == 1
    assert "AuthenticationError" in result.stdout
    assert one_red_line(result) == "error: 1 of 3 down: mistral"


def test_speak_to_a_directory_is_refused_before_any_request(
    sim: ProviderSimulator, tmp_path: Path
) -> None:
    before = sim.total("openai")
    args = ["speak", "hello", "-o", str(tmp_path), "-t", "openai/tts-1"]
    result = runner.invoke(app, args, env=env_for(sim, "openai"))
    assert result.exit_code == 2, result.output
    assert "is a directory" in one_red_line(result)
    assert sim.total("openai") == before


def test_a_stream_cut_after_tokens_ends_the_answer_line_then_reports(
    sim: ProviderSimulator,
) -> None:
    sim.set_scenario("nvidia", Scenario(cut_stream_after=3))
    try:
        args = [
            "chat",
            "Tell me a long story",
            "--stream",
            "-t",
            "nvidia/meta/llama-3.1-8b-instruct",
        ]
        result = runner.invoke(app, args, env=env_for(sim, "nvidia"))
    finally:
        sim.set_scenario("nvidia", Scenario())
    assert result.exit_code == 1, result.output
    assert result.stdout.strip() and result.stdout.endswith("\n")
    assert "interrupted" in one_red_line(result).lower()
