"""Cost of one attempt for every wire, from the usage the recorded answers carry.

Each test replays a cassette, takes the answer's usage as the wire parsed it, and prices it with
the ``Pricer`` the engine uses (bundled genai-prices figures, or a user price where the bundled
data has none). Expected figures are written out as tokens x the published $/MTok rate.
"""

from __future__ import annotations

from typing import Any

import pytest

from juggler import Juggler
from juggler._policy.cost import ModelPrice, Pricer, Units

MTOK = 1_000_000
AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64" + bytes(64)


def one(**targets: Any) -> Juggler:
    providers = {p: {"api_key": "test"} for p in ("openai", "groq", "jina", "deepseek", "mistral")}
    return Juggler(providers=providers | {"anthropic": {"api_key": "t"}}, env={}, **targets)


def test_openai_chat_usage_priced_at_the_served_models_rate(cassette: Any) -> None:
    with cassette.use_cassette("openai/chat_plain.yaml"):
        r = one(chat=["openai/gpt-3.5-turbo"]).chat("hi")
    cost = Pricer().price("openai", "gpt-3.5-turbo", "chat", r.usage, served_model=r.model)
    assert (r.usage.input_tokens, r.usage.output_tokens) == (15, 19)
    assert cost == pytest.approx((15 * 0.5 + 19 * 1.5) / MTOK)


def test_openai_compatible_stream_with_cached_prompt_tokens(cassette: Any) -> None:
    # DeepSeek's final chunk: prompt_tokens 353, of which prompt_tokens_details.cached_tokens 256.
    with cassette.use_cassette("deepseek/chat_stream.yaml"):
        stream = one(chat=["deepseek/deepseek-v4-flash"]).stream_chat("date?")
        "".join(stream)
    price = ModelPrice(input_per_mtok=0.28, cache_read_per_mtok=0.028, output_per_mtok=0.42)
    pricer = Pricer({"deepseek": {"deepseek-v4-flash": price}})
    cost = pricer.price("deepseek", "deepseek-v4-flash", "chat", stream.usage)
    assert stream.usage is not None and stream.usage.cached_tokens == 256
    assert cost == pytest.approx((97 * 0.28 + 256 * 0.028 + 23 * 0.42) / MTOK)


def test_anthropic_chat_usage_priced_by_dated_model_id(cassette: Any) -> None:
    with cassette.use_cassette("anthropic/chat_plain.yaml"):
        r = one(chat=["anthropic/claude-sonnet-4-5"]).chat("whom?", max_tokens=15)
    cost = Pricer().price("anthropic", "claude-sonnet-4-5", "chat", r.usage, served_model=r.model)
    assert cost == pytest.approx((22 * 3 + 15 * 15) / MTOK)


def test_anthropic_stream_usage_from_start_and_delta_events(cassette: Any) -> None:
    with cassette.use_cassette("anthropic/chat_stream.yaml"):
        stream = one(chat=["anthropic/claude-sonnet-4-5"]).stream_chat("hi")
        "".join(stream)
    cost = Pricer().price("anthropic", "claude-sonnet-4-5", "chat", stream.usage)
    assert cost == pytest.approx((17 * 3 + 10 * 15) / MTOK)


def test_gemini_usage_metadata_priced(cassette: Any) -> None:
    j = Juggler(chat=["google/gemini-2.5-flash"], providers={"google": {"api_key": "t"}}, env={})
    with cassette.use_cassette("google/chat_plain.yaml"):
        r = j.chat("hi")
    cost = Pricer().price("google", "gemini-2.5-flash", "chat", r.usage, served_model=r.model)
    assert cost == pytest.approx((9 * 0.30 + 43 * 2.50) / MTOK)


def test_gemini_thinking_tokens_are_billed_as_output(cassette: Any) -> None:
    j = Juggler(chat=["google/gemini-2.5-flash"], providers={"google": {"api_key": "t"}}, env={})
    with cassette.use_cassette("google/chat_stream_thinking_usage.yaml"):
        stream = j.stream_chat("hi")
        "".join(stream)
    cost = Pricer().price("google", "gemini-2.5-flash", "chat", stream.usage)
    assert cost == pytest.approx((25 * 0.30 + 67 * 2.50) / MTOK)


def test_cohere_v2_chat_usage_priced(cassette: Any) -> None:
    j = Juggler(chat=["cohere/command-a-03-2025"], providers={"cohere": {"api_key": "t"}}, env={})
    with cassette.use_cassette("cohere/chat_plain.yaml"):
        r = j.chat("hi")
    cost = Pricer().price("cohere", "command-a-03-2025", "chat", r.usage, served_model=r.model)
    assert cost == pytest.approx((70 * 2.5 + 28 * 10) / MTOK)


def test_mistral_cached_tokens_without_a_cache_price_are_billed_as_input(cassette: Any) -> None:
    with cassette.use_cassette("mistral/chat_thinking_blocks.yaml"):
        r = one(chat=["mistral/magistral-medium-latest"]).chat("What is 2+2?")
    cost = Pricer().price("mistral", "magistral-medium-latest", "chat", r.usage)
    assert r.usage.cached_tokens == 5
    assert cost == pytest.approx((10 * 2 + 63 * 5) / MTOK)


def test_jina_embeddings_priced_by_user_price_per_token(cassette: Any) -> None:
    with cassette.use_cassette("jina/embeddings.yaml"):
        r = one(embed=["jina/jina-embeddings-v3"]).embed(["Hello", "World"], input_type="document")
    assert Pricer().price("jina", "jina-embeddings-v3", "embed", r.usage) is None  # not bundled
    pricer = Pricer({"jina": {"jina-embeddings-v3": ModelPrice(input_per_mtok=0.05)}})
    assert pricer.price("jina", "jina-embeddings-v3", "embed", r.usage) == pytest.approx(
        8 * 0.05 / MTOK
    )


def test_rerank_tokens_priced_by_user_price(cassette: Any) -> None:
    model = "jina-reranker-v2-base-multilingual"
    with cassette.use_cassette("jina/rerank.yaml"):
        r = one(rerank=[f"jina/{model}"]).rerank("query", ["doc1", "doc2", "doc3"], top_k=2)
    pricer = Pricer({"jina": {model: ModelPrice(input_per_mtok=0.02)}})
    cost = pricer.price("jina", model, "rerank", r.usage, units=Units(searches=1))
    assert cost == pytest.approx(38 * 0.02 / MTOK)


async def test_transcription_priced_by_the_answers_audio_seconds(cassette: Any) -> None:
    j = one(transcribe=["groq/whisper-large-v3-turbo"])
    with cassette.use_cassette("groq/audio_transcribe.yaml"):
        r = await j.atranscribe(AUDIO, filename="audio.mp3")
    units = Units(audio_seconds=r.duration)
    cost = Pricer().price("groq", "whisper-large-v3-turbo", "transcribe", units=units)
    # 2.5 s of audio, but genai-prices knows Groq bills at least 10 seconds per request.
    assert r.duration == 2.507750144
    assert cost == pytest.approx(10 * 0.04 / 3600)


def test_speech_priced_by_input_characters(cassette: Any) -> None:
    with cassette.use_cassette("openai/audio_speech.yaml"):
        one(speak=["openai/tts-1"]).speak("Hello world")
    cost = Pricer().price("openai", "tts-1", "speak", units=Units(characters=len("Hello world")))
    assert cost == pytest.approx(11 * 15 / MTOK)
