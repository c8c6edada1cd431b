"""Speech to text and text to speech over the OpenAI wire format (openai, groq), with fallback.

``openai/audio_transcribe.yaml`` is a real recording (verbose_json); ``groq/audio_transcribe``
wraps a real Groq answer body in a documented envelope; the two speech cassettes are built from
the official spec (no speech traffic was ever recorded). Header comments say which is which.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from juggler import AllProvidersFailedError, Juggler

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64" + bytes(64)  # a tiny mp3-ish file


def recorded_audio(path: str) -> bytes:
    """The binary body of a speech cassette's answer."""
    data = yaml.safe_load((CASSETTES / path).read_text())
    body: bytes = data["interactions"][0]["response"]["body"]["string"]
    return body


@pytest.fixture
def audio_file(tmp_path: Path) -> Path:
    """A small ``audio.mp3`` on disk."""
    path = tmp_path / "audio.mp3"
    path.write_bytes(AUDIO)
    return path


@pytest.fixture
def sent() -> list[bytes]:
    """The raw request bodies the test's Juggler sent."""
    return []


@pytest.fixture
def audio(sent: list[bytes]) -> Iterator[Any]:
    """``audio("openai")``: a Juggler transcribing and speaking with one provider's defaults."""
    made: list[Juggler] = []

    async def spy(request: httpx.Request) -> None:
        sent.append(await request.aread())

    def make(provider: str) -> Juggler:
        models = {"openai": ("whisper-1", "tts-1"), "groq": ("whisper-large-v3", "playai-tts")}
        stt, tts = models[provider]
        j = Juggler(
            transcribe=[f"{provider}/{stt}"],
            speak=[f"{provider}/{tts}"],
            providers={provider: {"api_key": "test"}},
            http_client=httpx.AsyncClient(event_hooks={"request": [spy]}),
            env={},
        )
        made.append(j)
        return j

    yield make
    for j in made:
        j.close()


# ----- transcription -----


def test_openai_transcription_gives_text_language_duration_and_segments(
    cassette: Any, audio: Any, audio_file: Path, sent: list[bytes]
) -> None:
    with cassette.use_cassette("openai/audio_transcribe.yaml"):
        r = audio("openai").transcribe(audio_file)
    assert r == "Look at all those chickens!"
    assert r.language == "english"
    assert r.duration == 2.78
    assert r.segments is not None and r.segments[0]["text"] == " Look at all those chickens!"
    assert [(a.provider, a.model, a.success) for a in r.models_used] == [
        ("openai", "whisper-1", True)
    ]
    body = sent[0]
    assert b'name="response_format"\r\n\r\nverbose_json' in body
    assert b'name="model"\r\n\r\nwhisper-1' in body
    assert b'filename="audio.mp3"' in body and AUDIO in body


async def test_groq_transcription_async_from_bytes(
    cassette: Any, audio: Any, sent: list[bytes]
) -> None:
    with cassette.use_cassette("groq/audio_transcribe.yaml"):
        r = await audio("groq").atranscribe(AUDIO, filename="audio.mp3")
    assert r == " Hello from the Versal AISDK."
    assert r.language == "English"
    assert r.duration == 2.507750144
    assert r.segments is None  # Groq sent "segments": null
    assert b"verbose_json" in sent[0]


def test_transcribe_accepts_a_binary_file_object(
    cassette: Any, audio: Any, audio_file: Path
) -> None:
    with cassette.use_cassette("openai/audio_transcribe.yaml"), audio_file.open("rb") as f:
        r = audio("openai").transcribe(f)
    assert r.language == "english" and r.duration == 2.78


# ----- speech -----


def test_speak_writes_the_audio_the_provider_sent(
    cassette: Any, audio: Any, tmp_path: Path, sent: list[bytes]
) -> None:
    with cassette.use_cassette("openai/audio_speech.yaml"):
        r = audio("openai").speak("Hello world")
    out = r.write_to_file(tmp_path / "output.mp3")
    assert out.read_bytes() == recorded_audio("openai/audio_speech.yaml") == r.audio_data
    assert len(r) == 427
    assert r.content_type == "audio/mpeg"
    assert json.loads(sent[0]) == {
        "model": "tts-1",
        "input": "Hello world",
        "voice": "alloy",
        "response_format": "mp3",
    }
    assert r.models_used[0].success


async def test_aspeak_with_groq_uses_its_default_voice_and_format(
    cassette: Any, audio: Any, tmp_path: Path, sent: list[bytes]
) -> None:
    with cassette.use_cassette("groq/audio_speech.yaml"):
        r = await audio("groq").aspeak("Hello world", format="wav")
    r.write_to_file(tmp_path / "output.wav")
    assert (tmp_path / "output.wav").read_bytes()[:4] == b"RIFF"
    assert r.content_type == "audio/wav"
    assert json.loads(sent[0])["voice"] == "Fritz-PlayAI"
    assert [(a.provider, a.success) for a in r.models_used] == [("groq", True)]


# ----- fallback -----


def failing_openai(ok: httpx.Response) -> Any:
    """A handler where api.openai.com answers 500 and everyone else answers ``ok``."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.openai.com":
            return httpx.Response(500, json={"error": {"message": "upstream broke"}})
        return ok

    return handler


async def test_transcribe_falls_back_to_groq(make_juggler: Any, audio_file: Path) -> None:
    answer = {"text": "hello", "language": "English", "duration": 1.5}
    j = make_juggler(
        failing_openai(httpx.Response(200, json=answer)),
        transcribe=["openai/whisper-1", "groq/whisper-large-v3"],
        retries=0,
    )
    r = await j.atranscribe(audio_file)
    assert (str(r), r.language, r.duration, r.provider) == ("hello", "English", 1.5, "groq")
    assert [(a.provider, a.success, a.status_code) for a in r.models_used] == [
        ("openai", False, 500),
        ("groq", True, 200),
    ]


def test_transcribe_all_fail_lists_every_attempt(make_juggler: Any, audio_file: Path) -> None:
    j = make_juggler(
        lambda request: httpx.Response(503, json={"error": {"message": "down"}}),
        transcribe=["openai/whisper-1", "groq/whisper-large-v3"],
        retries=0,
    )
    with pytest.raises(AllProvidersFailedError) as info:
        j.transcribe(audio_file)
    assert [(a.provider, a.status_code) for a in info.value.models_used] == [
        ("openai", 503),
        ("groq", 503),
    ]


def test_speak_falls_back_to_groq(make_juggler: Any) -> None:
    ok = httpx.Response(200, content=b"RIFF....WAVE", headers={"content-type": "audio/wav"})
    j = make_juggler(failing_openai(ok), speak=["openai/tts-1", "groq/playai-tts"], retries=0)
    r = j.speak("Hello world")
    assert bytes(r) == b"RIFF....WAVE" and r.provider == "groq"
    assert [a.success for a in r.models_used] == [False, True]


async def test_speak_all_fail_lists_every_attempt(make_juggler: Any) -> None:
    j = make_juggler(
        lambda request: httpx.Response(429, json={"error": {"message": "slow down"}}),
        speak=["openai/tts-1", "groq/playai-tts"],
        retries=0,
    )
    with pytest.raises(AllProvidersFailedError) as info:
        await j.aspeak("Hello world")
    assert [(a.provider, a.error_type) for a in info.value.models_used] == [
        ("openai", "RateLimitError"),
        ("groq", "RateLimitError"),
    ]


async def test_a_json_error_inside_a_200_speech_answer_is_a_failure(make_juggler: Any) -> None:
    j = make_juggler(
        lambda request: httpx.Response(200, json={"error": {"message": "voice not found"}}),
        speak=["openai/tts-1"],
        retries=0,
    )
    with pytest.raises(AllProvidersFailedError) as info:
        await j.aspeak("Hello world")
    assert info.value.models_used[0].error_type == "InvalidResponseError"


async def test_gpt_4o_transcribe_models_are_asked_for_plain_json(make_juggler: Any) -> None:
    forms: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        forms.append(request.read())
        return httpx.Response(200, json={"text": "hello"})

    j = make_juggler(handler, transcribe=["openai/gpt-4o-mini-transcribe"], retries=0)
    r = await j.atranscribe(AUDIO, filename="audio.mp3")
    assert b'name="response_format"\r\n\r\njson\r\n' in forms[0]  # the spec's only option
    assert (str(r), r.language, r.duration) == ("hello", None, None)
