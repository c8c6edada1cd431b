"""The simulator answers a model it does not serve as each vendor does (404
``model_not_found`` in the wire's own error shape; Voyage: its 400), so a chain with a
misspelt model falls over by default; ``any_model`` serves every name."""

from __future__ import annotations

import httpx
import pytest

from juggler import Juggler
from juggler.testing import ProviderSimulator, Scenario, simulator_fixture
from juggler.testing._spawn import spawn

simulator = simulator_fixture({"groq": Scenario()}, name="anything_goes", any_model=True)

FLEET = {
    name: Scenario()
    for name in ("groq", "openai", "anthropic", "google", "cohere", "voyage", "jina", "nvidia")
}


@pytest.fixture(scope="module")
def sim() -> ProviderSimulator:  # type: ignore[misc]
    with ProviderSimulator(FLEET) as s:
        yield s


def post(sim: ProviderSimulator, name: str, path: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(sim.base_url(name) + path, json=body)


def test_openai_wire_answers_an_unknown_model_404_model_not_found(sim: ProviderSimulator) -> None:
    r = post(sim, "groq", "/chat/completions", {"model": "llama-9", "messages": []})
    assert r.status_code == 404
    assert r.json() == {
        "error": {
            "message": "The model `llama-9` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }


def test_anthropic_answers_an_unknown_model_404_not_found_error(sim: ProviderSimulator) -> None:
    r = post(sim, "anthropic", "/v1/messages", {"model": "claude-9", "max_tokens": 5})
    assert r.status_code == 404
    body = r.json()
    assert body["type"] == "error"
    assert body["error"] == {"type": "not_found_error", "message": "model: claude-9"}


def test_gemini_answers_an_unknown_model_in_the_path_404_not_found(sim: ProviderSimulator) -> None:
    r = post(sim, "google", "/v1beta/models/gemini-9:generateContent", {"contents": []})
    assert r.status_code == 404
    error = r.json()["error"]
    assert (error["code"], error["status"]) == (404, "NOT_FOUND")
    assert error["message"].startswith("models/gemini-9 is not found for API version v1beta")


def test_cohere_answers_an_unknown_model_404_with_its_message(sim: ProviderSimulator) -> None:
    r = post(sim, "cohere", "/v2/embed", {"model": "embed-9", "texts": ["a"]})
    assert r.status_code == 404
    assert r.json()["message"].startswith("model 'embed-9' not found")


def test_voyage_answers_an_unknown_model_400_not_supported(sim: ProviderSimulator) -> None:
    r = post(sim, "voyage", "/embeddings", {"model": "voyage-9", "input": ["a"]})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("Model voyage-9 is not supported. Supported models are")


def test_jina_answers_an_unknown_model_404(sim: ProviderSimulator) -> None:
    r = post(sim, "jina", "/embeddings", {"model": "jina-9", "input": ["a"]})
    assert r.status_code == 404 and "jina-9" in r.json()["detail"]


def test_an_audio_upload_names_its_model_in_the_form(sim: ProviderSimulator) -> None:
    files = {"file": ("a.wav", b"RIFF0000WAVE"), "model": (None, "whisper-9")}
    r = httpx.post(sim.base_url("openai") + "/audio/transcriptions", files=files)
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(
    ("capability", "missing", "served"),
    [
        ("chat", "groq/llama-3.1-8b-instnat", "groq/llama-3.1-8b-instant"),
        ("chat", "anthropic/claude-sonnet-9", "anthropic/claude-sonnet-4-5"),
        ("chat", "google/gemini-9-flash", "google/gemini-2.5-flash"),
        ("chat", "cohere/command-z", "cohere/command-a-03-2025"),
        ("embed", "voyage/voyage-9", "voyage/voyage-3.5"),
        ("embed", "jina/jina-embeddings-v9", "jina/jina-embeddings-v3"),
        ("rerank", "nvidia/nvidia/no-such-reranker", "nvidia/nvidia/nv-rerankqa-mistral-4b-v3"),
    ],
)
def test_a_chain_falls_over_an_unknown_model_by_default(
    sim: ProviderSimulator, capability: str, missing: str, served: str
) -> None:
    j = Juggler(
        **{capability: [missing, served]},  # type: ignore[arg-type]
        providers=sim.providers_config(),
        env={},
        allow_cross_space=True,  # the misspelt embedder names another space
    )
    try:
        if capability == "chat":
            answer = j.chat("hello")
        elif capability == "embed":
            answer = j.embed(["hello"])
        else:
            answer = j.rerank("cats", ["cats purr", "dogs bark"])
    finally:
        j.close()
    first, last = answer.models_used[0], answer.models_used[-1]
    assert f"{first.provider}/{first.model}" == missing
    assert first.error_type == "ModelNotFoundError"
    assert last.success and f"{last.provider}/{last.model}" == served


def test_a_scenario_with_any_model_serves_every_name() -> None:
    with ProviderSimulator({"groq": Scenario(any_model=True)}) as sim:
        r = post(sim, "groq", "/chat/completions", {"model": "anything", "messages": []})
    assert r.status_code == 200 and r.json()["model"] == "anything"


def test_the_simulator_wide_any_model_serves_every_name() -> None:
    with ProviderSimulator({"groq": Scenario()}, any_model=True) as sim:
        sim.set_scenario("groq", Scenario(latency_ms=0))
        r = post(sim, "groq", "/chat/completions", {"model": "anything", "messages": []})
    assert r.status_code == 200


def test_the_fixture_factory_takes_any_model(anything_goes: ProviderSimulator) -> None:
    r = post(anything_goes, "groq", "/chat/completions", {"model": "anything", "messages": []})
    assert r.status_code == 200


def test_known_models_adds_names_a_provider_serves() -> None:
    with ProviderSimulator({"groq": Scenario(known_models=["my-finetune"])}) as sim:
        ok = post(sim, "groq", "/chat/completions", {"model": "my-finetune", "messages": []})
        missing = post(sim, "groq", "/chat/completions", {"model": "other", "messages": []})
    assert (ok.status_code, missing.status_code) == (200, 404)


def test_a_custom_provider_without_a_model_list_serves_every_name() -> None:
    with ProviderSimulator({"local": Scenario(wire="openai")}) as sim:
        r = post(sim, "local", "/chat/completions", {"model": "my-model", "messages": []})
    assert r.status_code == 200


def test_a_custom_provider_with_models_serves_only_those() -> None:
    scenario = Scenario(wire="openai", models={"chat": "my-model"})
    with ProviderSimulator({"local": scenario}) as sim:
        ok = post(sim, "local", "/chat/completions", {"model": "my-model", "messages": []})
        missing = post(sim, "local", "/chat/completions", {"model": "typo", "messages": []})
    assert (ok.status_code, missing.status_code) == (200, 404)


def test_unknown_models_are_counted_as_404(sim: ProviderSimulator) -> None:
    before = sim.counts("jina").get(404, 0)
    post(sim, "jina", "/embeddings", {"model": "jina-9", "input": ["a"]})
    assert sim.counts("jina").get(404, 0) == before + 1


def test_any_model_and_known_models_survive_the_json_round_trip() -> None:
    scenario = Scenario(any_model=True, known_models=["x"])
    assert Scenario.from_json(scenario.to_json()) == scenario


def test_a_spawned_simulator_takes_any_model() -> None:
    with spawn({"groq": Scenario()}, any_model=True) as proc:
        r = httpx.post(
            proc.base_url("groq") + "/chat/completions", json={"model": "bench", "messages": []}
        )
    assert r.status_code == 200
