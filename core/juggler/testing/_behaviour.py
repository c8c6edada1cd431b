"""The simulated model: deterministic, wire-neutral answers for every capability.

Each wire module turns its vendor's request into a :class:`ChatInput` (or texts, a query,
audio bytes), asks this module for the answer, and renders it in the vendor's shape. Same
input, same output: no randomness here (faults and latency live in the scenario).

* chat: a short sentence echoing the last user message, or a tool call whose arguments
  satisfy the tool's JSON schema (see ``_schema``), honouring ``tool_choice``; after a tool
  result, plain text; with a JSON schema, JSON valid against it; in JSON mode, an object.
* embeddings: a unit vector seeded by a hash of the text (same text, same vector).
* rerank: the share of the query's words found in each document, in [0, 1].
* transcription and speech: a canned transcript, and well-formed silent audio.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from array import array
from dataclasses import dataclass, field
from typing import Any

from juggler.testing._schema import CANNED, Hints, keys_named, schema_in_text, synthesize

__all__ = [
    "ChatInput",
    "Reply",
    "Tool",
    "count_tokens",
    "embedding",
    "pieces",
    "reply",
    "rerank_scores",
    "speech",
    "transcription",
]

_TOOL_WORDS = re.compile(r"\b(tools?|weather|use|using)\b", re.IGNORECASE)
_WORDS = re.compile(r"\w+", re.UNICODE)


@dataclass(slots=True)
class Tool:
    """A tool the model may call: name, description and JSON-schema parameters."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ChatInput:
    """A chat request, reduced to what the simulated model looks at.

    ``tool_choice`` is ``"auto"``, ``"none"``, ``"required"`` (also ``"any"``) or a tool
    name. ``after_tool`` holds the last tool result when the conversation ends with one.
    ``context`` is every text of the request (system included): JSON mode looks there for
    a schema or the keys to answer with.
    """

    model: str
    last_user: str = ""
    after_tool: str | None = None
    tools: list[Tool] = field(default_factory=list)
    tool_choice: str = "auto"
    schema: dict[str, Any] | None = None
    json_object: bool = False
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    prompt_tokens: int = 1
    context: str = ""


@dataclass(slots=True)
class Reply:
    """The model's answer: text, or tool calls ``(id, name, arguments)``."""

    text: str = ""
    tool_calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    finish: str = "stop"  # stop | length | tool_calls
    prompt_tokens: int = 1
    completion_tokens: int = 1

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


def count_tokens(text: str) -> int:
    """A rough, deterministic token count (about four characters a token, at least 1)."""
    return max(1, (len(text) + 3) // 4)


def _digest(*parts: str, size: int = 12) -> str:
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=size).hexdigest()


def call_id(prefix: str, name: str, args: dict[str, Any]) -> str:
    """A deterministic tool-call id."""
    return prefix + _digest(name, json.dumps(args, sort_keys=True))


def pick_tool(tools: list[Tool], choice: str, prompt: str) -> Tool | None:
    """Which tool to call, if any, as a model honouring ``tool_choice`` would."""
    if not tools or choice == "none":
        return None
    if choice not in ("auto", "required", "any"):
        return next((t for t in tools if t.name == choice), tools[0])
    low = prompt.lower()
    mentioned = sorted(
        (t for t in tools if t.name.lower() in low or t.name.replace("_", " ").lower() in low),
        key=lambda t: -len(t.name),
    )
    if mentioned:
        return mentioned[0]
    if choice == "auto" and not _TOOL_WORDS.search(prompt):
        return None
    if "weather" in low:
        weather = next((t for t in tools if "weather" in t.name.lower()), None)
        if weather is not None:
            return weather
    return tools[0]


def _json_object(inp: ChatInput, fallback: bool = True) -> dict[str, Any] | None:
    """JSON mode, as a model that read the prompt: an object valid against a schema written
    out in the request (output parsers put one in the prompt), else with the keys the prompt
    names ('setup' and 'punchline'; "with keys setup and punchline"), else ``{"answer": …}``
    (None instead when not ``fallback``)."""
    prompt = inp.last_user
    schema = schema_in_text(inp.context) or schema_in_text(prompt)
    if schema is not None:
        value = synthesize(schema, Hints.from_prompt(prompt))
        return value if isinstance(value, dict) else {"answer": value}
    keys = keys_named(prompt) or keys_named(inp.context)
    if keys:
        return {k: CANNED.get(k.lower(), f"sample {k}") for k in keys}
    return {"answer": _sentence(prompt, "")} if fallback else None


def _free_form(schema: dict[str, Any]) -> bool:
    """A tool that takes any object (``{"type": "object"}``, no properties at all): how
    JSON mode is emulated with a forced tool (Anthropic)."""
    return str(schema.get("type", "object")).lower() == "object" and not any(
        k in schema for k in ("properties", "anyOf", "oneOf", "allOf", "$ref", "items")
    )


def _sentence(prompt: str, model: str) -> str:
    words = prompt.split()
    echo = " ".join(words[:12]) + (" …" if len(words) > 12 else "")
    who = f" from {model}" if model else ""
    if not echo:
        return f"Simulated answer{who}."
    return f'Simulated answer to "{echo}"{who}.'


def reply(inp: ChatInput) -> Reply:
    """The deterministic answer to one chat request."""
    if inp.after_tool is None:
        tool = pick_tool(inp.tools, inp.tool_choice, inp.last_user)
        if tool is not None:
            args = synthesize(tool.parameters, Hints.from_prompt(inp.last_user), tool.name)
            if not isinstance(args, dict):
                args = {}
            if _free_form(tool.parameters):
                args = _json_object(inp, fallback=False) or args
            args_text = json.dumps(args, ensure_ascii=False)
            return Reply(
                tool_calls=[(call_id("call_", tool.name, args), tool.name, args)],
                finish="tool_calls",
                prompt_tokens=inp.prompt_tokens,
                completion_tokens=count_tokens(tool.name + args_text),
            )
    if inp.after_tool is not None:
        result = " ".join(inp.after_tool.split())[:80] or "nothing"
        text = f"The tool returned {result}."
    elif inp.schema is not None:
        text = json.dumps(
            synthesize(inp.schema, Hints.from_prompt(inp.last_user)), ensure_ascii=False
        )
    elif inp.json_object:
        text = json.dumps(_json_object(inp), ensure_ascii=False)
    else:
        text = _sentence(inp.last_user, inp.model)
    finish = "stop"
    structured = inp.schema is not None or inp.json_object
    if not structured:
        for stop in inp.stop:
            cut = text.find(stop) if stop else -1
            if cut > 0:
                text, finish = text[:cut], "stop"
        if inp.max_tokens is not None and count_tokens(text) > inp.max_tokens:
            text, finish = text[: max(1, inp.max_tokens * 4)].rstrip() or text[:1], "length"
    return Reply(
        text=text,
        finish=finish,
        prompt_tokens=inp.prompt_tokens,
        completion_tokens=count_tokens(text),
    )


def pieces(text: str, size: int = 0) -> list[str]:
    """Split text into stream deltas: words (with their leading space) or ``size`` chars."""
    if not text:
        return [""]
    if size > 0:
        return [text[i : i + size] for i in range(0, len(text), size)]
    parts = re.findall(r"\s*\S+", text)
    return parts or [text]


def embedding(text: str, dims: int) -> list[float]:
    """A deterministic unit vector for ``text`` (hash-seeded; similar texts are not close)."""
    raw = hashlib.shake_256(text.encode()).digest(2 * dims)
    ints = array("h")
    ints.frombytes(raw)
    norm = sum(i * i for i in ints) ** 0.5 or 1.0
    return [round(i / norm, 7) for i in ints]


def floats_base64(vector: list[float]) -> str:
    """Little-endian float32 bytes in base64: ``encoding_format="base64"``."""
    import base64

    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def rerank_scores(query: str, documents: list[str]) -> list[tuple[int, float]]:
    """(index, score) best first; the score is the share of query words in the document."""
    q = set(_WORDS.findall(query.lower()))
    ranked = []
    for i, doc in enumerate(documents):
        d = set(_WORDS.findall(doc.lower()))
        score = len(q & d) / len(q) if q else 0.0
        ranked.append((i, round(score, 6)))
    ranked.sort(key=lambda p: (-p[1], p[0]))
    return ranked


_LANGUAGES = {
    "en": "english",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "ja": "japanese",
    "zh": "chinese",
}


def _audio_seconds(audio: bytes) -> float:
    """WAV duration from its header; otherwise assume 128 kbit/s compressed audio."""
    if len(audio) >= 44 and audio[:4] == b"RIFF" and audio[8:12] == b"WAVE":
        byte_rate = struct.unpack("<I", audio[28:32])[0]
        if byte_rate:
            return round((len(audio) - 44) / byte_rate, 2)
    return round(len(audio) / 16000, 2)


def transcription(audio: bytes, filename: str, language: str | None) -> dict[str, Any]:
    """A verbose_json transcription: text, language, duration and one segment."""
    seconds = max(0.01, _audio_seconds(audio))
    text = f"Simulated transcript of {filename or 'audio'}."
    lang = _LANGUAGES.get((language or "en").lower(), (language or "english").lower())
    segment = {
        "id": 0,
        "seek": 0,
        "start": 0.0,
        "end": seconds,
        "text": " " + text,
        "tokens": [50364, 50464],
        "temperature": 0.0,
        "avg_logprob": -0.2,
        "compression_ratio": 1.0,
        "no_speech_prob": 0.01,
    }
    return {
        "task": "transcribe",
        "language": lang,
        "duration": seconds,
        "text": text,
        "segments": [segment],
    }


_AUDIO_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


def speech(text: str, fmt: str = "mp3") -> tuple[bytes, str]:
    """Silent audio about as long as reading ``text`` takes, and its MIME type."""
    fmt = fmt if fmt in _AUDIO_TYPES else "mp3"
    seconds = max(0.2, len(text) / 15)
    if fmt in ("wav", "pcm"):
        rate = 16000
        samples = b"\x00\x00" * int(rate * seconds)
        if fmt == "pcm":
            return samples, _AUDIO_TYPES[fmt]
        header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVEfmt "
        header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        return header + b"data" + struct.pack("<I", len(samples)) + samples, _AUDIO_TYPES[fmt]
    # MPEG-1 layer III, 128 kbit/s, 44.1 kHz frames of silence behind an empty ID3v2 tag.
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413
    frames = max(1, int(seconds * 38.28))
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + frame * frames, _AUDIO_TYPES[fmt]
