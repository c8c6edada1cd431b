"""Every simulated wire format through a real Juggler: chat, stream, tools, structured output,
embeddings, rerank, transcription and speech."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jsonschema
import pytest

from juggler import Juggler
from juggler.testing import ProviderSimulator, Scenario

CHAT = [
    "groq/llama-3.1-8b-instant",
    "anthropic/claude-sonnet-4-5",
    "google/gemini-2.5-flash",
    "cohere/command-a-03-2025",
]
EMBED = [
    "openai/text-embedding-3-small",
    "google/gemini-embedding-001",
    "cohere/embed-english-v3.0",
    "voyage/voyage-3.5",
    "jina/jina-embeddings-v3",
]
RERANK = [
    "together/Salesforce/Llama-Rank-V1",
    "cohere/rerank-v3.5",
    "voyage/rerank-2.5",
    "jina/jina-reranker-v2-base-multilingual",
]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather at a location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "days": {"type": "integer", "minimum": 1, "maximum": 14},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location", "days"],
        },
    },
}
JOKE = {
    "type": "object",
    "properties": {
        "setup": {"type": "string"},
        "punchline": {"type": "string"},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
    },
    "required": ["setup", "punchline", "rating", "tags"],
    "additionalProperties": False,
}
NAMES = ["groq", "openai", "anthropic", "google", "cohere", "voyage", "jina", "together"]


@pytest.fixture(scope="module")
def sim() -> Iterator[ProviderSimulator]:
    with ProviderSimulator({n: Scenario(dimensions=64) for n in NAMES}) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def j(sim: ProviderSimulator) -> Iterator[Juggler]:
    juggler = Juggler(
        chat=CHAT,
        embed=EMBED,
        rerank=RERANK,
        transcribe=["openai/whisper-1", "groq/whisper-large-v3-turbo"],
        speak=["openai/tts-1", "groq/playai-tts"],
        providers=sim.providers_config(),
        env={},
        allow_cross_space=True,
        retries=0,
    )
    yield juggler
    juggler.close()


@pytest.mark.parametrize("target", CHAT)
def test_chat_echoes_model_and_reports_usage(j: Juggler, target: str) -> None:
    r = j.chat("hello there", targets=[target])
    assert "hello there" in r and target.split("/", 1)[1] in r
    assert r.usage.input_tokens and r.usage.output_tokens


@pytest.mark.parametrize("target", CHAT)
def test_stream_delivers_the_same_text_with_usage(j: Juggler, target: str) -> None:
    stream = j.stream_chat("hello there", targets=[target])
    text = "".join(stream)
    assert text == str(j.chat("hello there", targets=[target]))
    assert stream.usage is not None and stream.usage.output_tokens


@pytest.mark.parametrize("target", CHAT)
def test_tool_call_arguments_satisfy_the_schema(j: Juggler, target: str) -> None:
    r = j.chat("What is the weather in 'Paris' for 3 days?", targets=[target], tools=[WEATHER])
    (call,) = r.tool_calls
    assert call.name == "get_weather"
    assert call.arguments == {"location": "Paris", "days": 3, "unit": "celsius"}
    jsonschema.validate(call.arguments, WEATHER["function"]["parameters"])


@pytest.mark.parametrize("target", CHAT)
def test_streamed_tool_call_is_assembled(j: Juggler, target: str) -> None:
    stream = j.stream_chat("Use the tool for 'Oslo', 2 days", targets=[target], tools=[WEATHER])
    list(stream)
    assert stream.tool_calls[0].arguments["location"] == "Oslo"


@pytest.mark.parametrize("target", CHAT)
def test_json_schema_output_is_valid(j: Juggler, target: str) -> None:
    import json

    fmt = {"type": "json_schema", "json_schema": {"name": "Joke", "schema": JOKE}}
    r = j.chat("Tell me a joke about cats", targets=[target], response_format=fmt)
    jsonschema.validate(json.loads(r), JOKE)


@pytest.mark.parametrize("target", EMBED)
def test_embeddings_are_deterministic_and_sized_by_the_scenario(j: Juggler, target: str) -> None:
    first = j.embed(["same text", "other"], targets=[target])
    again = j.embed(["same text"], targets=[target])
    assert len(first) == 2 and len(first[0]) == 64
    assert first[0] == pytest.approx(again[0], abs=1e-6) and first[0] != first[1]


@pytest.mark.parametrize("target", RERANK)
def test_rerank_orders_by_word_overlap(j: Juggler, target: str) -> None:
    r = j.rerank("cat food", ["a dog", "cat food here", "one cat"], targets=[target], top_k=2)
    assert list(r) == ["cat food here", "one cat"]
    assert r.scores == pytest.approx([1.0, 0.5])


@pytest.mark.parametrize("target", ["openai/whisper-1", "groq/whisper-large-v3-turbo"])
def test_transcription_has_text_language_and_duration(j: Juggler, target: str) -> None:
    r = j.transcribe(b"\x00" * 32000, filename="hello.mp3", targets=[target])
    assert r == "Simulated transcript of hello.mp3."
    assert r.language == "english" and r.duration == 2.0


@pytest.mark.parametrize("target", ["openai/tts-1", "groq/playai-tts"])
def test_speech_returns_mpeg_audio(j: Juggler, target: str) -> None:
    r = j.speak("hello there", targets=[target])
    assert r.content_type == "audio/mpeg" and bytes(r).startswith(b"ID3") and len(r) > 1000


def test_openai_stream_sends_final_usage_chunk_with_no_choices(sim: ProviderSimulator) -> None:
    body = {
        "model": "llama-3.1-8b-instant",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}],
    }
    text = httpx.post(sim.base_url("groq") + "/chat/completions", json=body).text
    events = [e for e in text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    assert '"choices":[]' in events[-2] and '"usage":{"prompt_tokens"' in events[-2]


def test_gemini_stream_without_alt_sse_is_a_json_array(sim: ProviderSimulator) -> None:
    url = sim.base_url("google") + "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    chunks = httpx.post(url, json={"contents": [{"parts": [{"text": "hi"}]}]}).json()
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_unknown_provider_and_path_are_404(sim: ProviderSimulator) -> None:
    assert httpx.post(sim.url + "/nobody/v1/chat/completions").status_code == 404
    assert httpx.post(sim.base_url("groq") + "/nothing-here").status_code == 404


def test_custom_names_need_a_wire_and_get_its_base_path() -> None:
    with pytest.raises(ValueError, match="wire"):
        ProviderSimulator({"slowpoke": Scenario()})
    with ProviderSimulator({"slowpoke": Scenario(wire="openai")}) as sim:
        config = sim.providers_config()["slowpoke"]
        assert config["wire"] == "openai" and config["base_url"] == sim.url + "/slowpoke/v1"
        j = Juggler(chat=["slowpoke/any-model"], providers=sim.providers_config(), env={})
        assert j.chat("hi").model == "any-model"
        j.close()
