"""`--json`: every command prints exactly one JSON object on stdout (the answer, who answered
and models_used) and nothing else, so a script can parse it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_support import env_for, one_red_line, only_json
from typer.testing import CliRunner

from juggler.cli.app import app
from juggler.cli.demo.fleet import tiny_wav
from juggler.testing import ProviderSimulator, Scenario

runner = CliRunner()

CHAT = "groq/llama-3.1-8b-instant"
LIMITED = "cerebras/qwen-3-32b"


@pytest.fixture(scope="module")
def sim() -> Iterator[ProviderSimulator]:
    fleet = {
        "groq": Scenario(),
        "openai": Scenario(),
        "voyage": Scenario(),
        "cerebras": Scenario(error_rates={429: 1.0}),
        "mistral": Scenario(error_rates={401: 1.0}),
    }
    with ProviderSimulator(fleet) as s:
        yield s


def test_chat_json_holds_the_answer_and_every_attempt(sim: ProviderSimulator) -> None:
    env = env_for(sim, "groq", "cerebras")
    result = runner.invoke(app, ["chat", "hi", "-t", LIMITED, "-t", CHAT, "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = only_json(result)
    assert data["content"].startswith("Simulated answer")
    assert (data["provider"], data["model"]) == ("groq", "llama-3.1-8b-instant")
    outcomes = [(a["provider"], a["outcome"], a["status_code"]) for a in data["models_used"]]
    assert outcomes[0] == ("cerebras", "error", 429)
    assert outcomes[-1] == ("groq", "success", 200)


def test_chat_json_leaves_out_the_verbose_table(sim: ProviderSimulator) -> None:
    result = runner.invoke(
        app, ["chat", "hi", "-t", CHAT, "--json", "-v"], env=env_for(sim, "groq")
    )
    assert result.exit_code == 0, result.output
    assert only_json(result)["content"]


def test_chat_stream_json_is_one_object_per_line(sim: ProviderSimulator) -> None:
    args = ["chat", "count to three", "--stream", "--json", "-t", CHAT]
    result = runner.invoke(app, args, env=env_for(sim, "groq"))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    deltas = "".join(line["delta"] for line in lines[:-1])
    assert deltas == lines[-1]["content"]
    assert lines[-1]["models_used"][-1]["outcome"] == "success"


def test_a_failed_call_prints_the_error_and_models_used_as_json(sim: ProviderSimulator) -> None:
    args = ["chat", "hi", "-t", "mistral/mistral-small-latest", "--json"]
    result = runner.invoke(app, args, env=env_for(sim, "mistral"))
    assert result.exit_code == 1
    data = only_json(result)
    assert data["error"]["type"] == "AllProvidersFailedError"
    assert data["models_used"][0]["error_type"] == "AuthenticationError"
    assert one_red_line(result).startswith("error: ")
    assert "sim-key" not in result.output


def test_embed_json_includes_the_vectors(sim: ProviderSimulator) -> None:
    args = ["embed", "one", "two", "-t", "openai/text-embedding-3-small", "--json"]
    result = runner.invoke(app, args, env=env_for(sim, "openai"))
    assert result.exit_code == 0, result.output
    data = only_json(result)
    assert len(data["embeddings"]) == 2
    assert len(data["embeddings"][0]) == data["dimensions"] > 0
    assert all(isinstance(x, float) for x in data["embeddings"][0])
    assert data["models_used"][0]["success"] is True


def test_rerank_json_lists_documents_best_first_with_scores(sim: ProviderSimulator) -> None:
    args = ["rerank", "cats purr", "dogs bark", "cats purr loudly", "--json"]
    result = runner.invoke(app, [*args, "-t", "voyage/rerank-2.5"], env=env_for(sim, "voyage"))
    assert result.exit_code == 0, result.output
    data = only_json(result)
    first = data["results"][0]
    assert (first["rank"], first["index"], first["document"]) == (1, 1, "cats purr loudly")
    assert first["score"] >= data["results"][1]["score"]
    assert data["provider"] == "voyage" and data["models_used"]


def test_transcribe_json_holds_the_text(sim: ProviderSimulator, tmp_path: Path) -> None:
    audio = tmp_path / "tone.wav"
    audio.write_bytes(tiny_wav())
    args = ["transcribe", str(audio), "-t", "openai/whisper-1", "--json"]
    result = runner.invoke(app, args, env=env_for(sim, "openai"))
    assert result.exit_code == 0, result.output
    data = only_json(result)
    assert "tone.wav" in data["text"]
    assert data["model"] == "whisper-1" and data["models_used"]


def test_speak_json_says_where_the_audio_went(sim: ProviderSimulator, tmp_path: Path) -> None:
    out = tmp_path / "hello.mp3"
    args = ["speak", "hello", "-o", str(out), "-t", "openai/tts-1", "--json"]
    result = runner.invoke(app, args, env=env_for(sim, "openai"))
    assert result.exit_code == 0, result.output
    data = only_json(result)
    assert data["output"] == str(out)
    assert data["bytes"] == out.stat().st_size > 0
    assert data["models_used"][0]["success"] is True


def test_providers_json_lists_the_catalogue_without_keys() -> None:
    env = env_for(None)
    env["GROQ_API_KEY"] = "gsk_THIS_IS_A_SECRET_1234567890"
    result = runner.invoke(app, ["providers", "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows = {row["provider"]: row for row in only_json(result)}
    assert rows["groq"]["key_set"] is True and rows["openai"]["key_set"] is False
    assert rows["groq"]["models"]["chat"] == "llama-3.1-8b-instant"
    assert "THIS_IS_A_SECRET" not in result.output


def test_health_json_is_the_only_output(sim: ProviderSimulator) -> None:
    result = runner.invoke(app, ["health", "--json"], env=env_for(sim, "groq", "voyage"))
    assert result.exit_code == 0, result.output
    data = only_json(result)
    assert sorted(data["ok"]) == ["groq", "voyage"]
    assert data["down"] == []
