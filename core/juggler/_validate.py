"""Input checks that run before any request: bad input gets a clear error, and no provider is
called. Each function returns the normalised request the engine will route."""

from __future__ import annotations

import json
import math
import mimetypes
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import IO, Any

from juggler._exceptions import InvalidRequestError
from juggler.providers.types import (
    ChatRequest,
    EmbedRequest,
    RerankRequest,
    SpeakRequest,
    TranscribeRequest,
)

__all__ = [
    "AUDIO_FORMATS",
    "chat_request",
    "document_text",
    "embed_request",
    "rerank_request",
    "speak_request",
    "transcribe_request",
]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_TOOL_CHOICES = frozenset({"auto", "none", "required"})
AUDIO_FORMATS = {
    "mp3": "audio/mpeg",
    "mpga": "audio/mpeg",
    "mpeg": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "mp4": "audio/mp4",
    "webm": "audio/webm",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
}
_SPEECH_FORMATS = frozenset({"mp3", "opus", "aac", "flac", "wav", "pcm"})


def _number(name: str, value: Any) -> float:
    """A float from an int or float (a bool or a string is a mistake, not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _positive_int(name: str, value: Any) -> int:
    # bool is an int subclass: max_tokens=True must not become a limit of 1 token.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidRequestError(f"{name} must be a positive integer, got {value!r}")
    return value


def _parts(i: int, role: str, parts: list[Any]) -> None:
    """OpenAI content parts: objects with a ``type``; text parts carry a string."""
    if not parts:
        raise InvalidRequestError(f"messages[{i}] ({role}) has an empty content list")
    for j, part in enumerate(parts):
        if isinstance(part, str):
            continue  # a bare string is read as a text part by every converter
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise InvalidRequestError(
                f"messages[{i}].content[{j}] must be a part like {{'type': 'text', 'text': ...}}"
            )
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            raise InvalidRequestError(f"messages[{i}].content[{j}] (text) needs a 'text' string")
        if part["type"] == "image_url":
            ref = part.get("image_url")
            url = ref.get("url") if isinstance(ref, dict) else ref
            if not isinstance(url, str) or not url:
                raise InvalidRequestError(
                    f"messages[{i}].content[{j}] (image_url) needs image_url.url"
                )


def _tool_calls(i: int, calls: Any) -> list[dict[str, Any]]:
    """An assistant turn's ``tool_calls``: arguments as the JSON string every wire expects.

    A history rebuilt from ``response.tool_calls`` naturally carries arguments as a dict;
    OpenAI-format vendors refuse that with a 400, so it is serialised here (on a copy).
    """
    if not isinstance(calls, list):
        raise InvalidRequestError(f"messages[{i}].tool_calls must be a list")
    out = []
    for j, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise InvalidRequestError(
                f"messages[{i}].tool_calls[{j}] must look like {{'id': ..., 'type': 'function', "
                "'function': {'name': ..., 'arguments': '{...}'}}"
            )
        args = fn.get("arguments")
        if isinstance(args, dict):
            call = {**call, "function": {**fn, "arguments": json.dumps(args, ensure_ascii=False)}}
        elif args is not None and not isinstance(args, str):
            raise InvalidRequestError(
                f"messages[{i}].tool_calls[{j}].function.arguments must be a JSON string"
            )
        out.append(call)
    return out


def _messages(messages: Any) -> list[dict[str, Any]]:
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    if not isinstance(messages, Sequence) or isinstance(messages, bytes) or not messages:
        raise InvalidRequestError("messages must be a non-empty list of {'role', 'content'} dicts")
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidRequestError(f"messages[{i}] must be a dict, got {type(message).__name__}")
        role = message.get("role")
        if role not in _ROLES:
            raise InvalidRequestError(
                f"messages[{i}] has unknown role {role!r}; expected one of {sorted(_ROLES)}"
            )
        content = message.get("content")
        has_calls = role == "assistant" and bool(message.get("tool_calls"))
        if content is None and not has_calls:
            raise InvalidRequestError(f"messages[{i}] ({role}) has no content")
        if isinstance(content, str) and not content.strip() and role == "user":
            raise InvalidRequestError(f"messages[{i}] (user) has empty content")
        if content is not None and not isinstance(content, str | list):
            raise InvalidRequestError(f"messages[{i}].content must be a string or a list of parts")
        if isinstance(content, list) and (content or not has_calls):
            _parts(i, role, content)
        if role == "tool" and not message.get("tool_call_id"):
            raise InvalidRequestError(f"messages[{i}] (tool) needs a tool_call_id")
        if has_calls:
            calls = _tool_calls(i, message["tool_calls"])
            if calls != message["tool_calls"]:
                message = {**message, "tool_calls": calls}
        out.append(message)
    return out


def _stops(stop: str | Sequence[str] | None) -> list[str] | None:
    if stop is not None and not isinstance(stop, str | list | tuple):
        # A dict or a set would pass list(): its keys would become stop sequences.
        raise InvalidRequestError(
            f"stop must be a string or a list of strings, got a {type(stop).__name__}"
        )
    stops = [stop] if isinstance(stop, str) else list(stop) if stop else None
    if stops and any(not isinstance(s, str) or not s for s in stops):
        raise InvalidRequestError(f"stop must be a string or a list of non-empty strings: {stop!r}")
    return stops


def _tool_choice(choice: str | dict[str, Any] | None, tools: list[dict[str, Any]] | None) -> None:
    """``auto`` / ``none`` / ``required``, or a named function that is among the tools."""
    if choice is None:
        return
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICES:
            raise InvalidRequestError(
                f"tool_choice must be one of {sorted(_TOOL_CHOICES)} or a named function, "
                f"got {choice!r}"
            )
    elif isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        names = {t["function"]["name"] for t in tools or []}
        if name not in names:
            raise InvalidRequestError(
                f"tool_choice names {name!r}, which is not among the tools {sorted(names)}"
            )
    else:
        raise InvalidRequestError("tool_choice must be a string or a dict")
    if not tools and choice != "none":
        raise InvalidRequestError("tool_choice was given without tools")


def chat_request(
    messages: Any,
    *,
    temperature: float | None = None,
    max_tokens: int | None = None,
    top_p: float | None = None,
    stop: str | Sequence[str] | None = None,
    tools: Sequence[dict[str, Any]] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    response_format: dict[str, Any] | None = None,
    seed: int | None = None,
    extra_body: dict[str, Any] | None = None,
) -> ChatRequest:
    """Check and normalise a chat call."""
    if temperature is not None:
        temperature = _number("temperature", temperature)
        if not 0.0 <= temperature <= 2.0:
            raise InvalidRequestError(f"temperature must be between 0 and 2, got {temperature}")
    if max_tokens is not None:
        max_tokens = _positive_int("max_tokens", max_tokens)
    if top_p is not None:
        top_p = _number("top_p", top_p)
        if not 0.0 < top_p <= 1.0:
            raise InvalidRequestError(f"top_p must be in (0, 1], got {top_p}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidRequestError(f"seed must be an integer, got {seed!r}")
    stops = _stops(stop)
    tool_list = [_tool(t, i) for i, t in enumerate(tools)] if tools else None
    _tool_choice(tool_choice, tool_list)
    if response_format is not None and (
        not isinstance(response_format, dict)
        or response_format.get("type") not in ("json_object", "json_schema", "text")
    ):
        raise InvalidRequestError(
            "response_format.type must be 'json_object', 'json_schema' or 'text'"
        )
    return ChatRequest(
        messages=_messages(messages),
        temperature=temperature,
        max_tokens=max_tokens,
        top_p=top_p,
        stop=stops,
        tools=tool_list,
        tool_choice=tool_choice,
        response_format=response_format,
        seed=seed,
        extra_body=dict(extra_body or {}),
    )


def _tool(tool: Any, i: int) -> dict[str, Any]:
    if not isinstance(tool, dict):
        raise InvalidRequestError(f"tools[{i}] must be an OpenAI function-tool dict")
    fn = tool.get("function") if tool.get("type") == "function" else None
    if not isinstance(fn, dict) or not fn.get("name"):
        raise InvalidRequestError(
            f"tools[{i}] must look like {{'type': 'function', 'function': {{'name': ..., "
            "'parameters': {...}}}"
        )
    return tool


def _is_list(value: Any) -> bool:
    """An ordered collection of items: a list, tuple, other Sequence or an iterator. Not a
    str or bytes (its characters), a mapping (its keys) or a set (no stable order)."""
    if isinstance(value, str | bytes | bytearray | Mapping | AbstractSet):
        return False
    return isinstance(value, Iterable)


def _optional_text(name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be a string, got {value!r}")
    return value


def embed_request(
    texts: str | Sequence[str], *, input_type: str | None = None, dimensions: int | None = None
) -> EmbedRequest:
    """Check an embeddings call: a non-empty list of non-empty strings."""
    if not isinstance(texts, str) and not _is_list(texts):
        # list() of a dict would embed its keys, of a set in no stable order.
        raise InvalidRequestError(
            f"embed() takes a string or a list of strings, got a {type(texts).__name__}"
        )
    items = [texts] if isinstance(texts, str) else list(texts)
    if not items:
        raise InvalidRequestError("embed() needs at least one text")
    for i, text in enumerate(items):
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequestError(f"texts[{i}] must be a non-empty string (not only spaces)")
    if input_type not in (None, "query", "document"):
        raise InvalidRequestError("input_type must be 'query' or 'document'")
    if dimensions is not None:
        dimensions = _positive_int("dimensions", dimensions)
    return EmbedRequest(texts=items, input_type=input_type, dimensions=dimensions)


def document_text(doc: Any, accessor: Callable[[Any], str] | None = None) -> str:
    """The text of a rerank document: a str, ``accessor(doc)``, ``.text``, ``.page_content``."""
    if accessor is not None:
        return accessor(doc)
    if isinstance(doc, str):
        return doc
    for attr in ("text", "page_content", "content"):
        value = getattr(doc, attr, None)
        if isinstance(value, str):
            return value
    if isinstance(doc, dict) and isinstance(doc.get("text"), str):
        return str(doc["text"])
    raise InvalidRequestError(
        f"cannot read text from a {type(doc).__name__}; pass text_of=lambda d: ..."
    )


def rerank_request(
    query: str,
    documents: Sequence[Any],
    top_k: int | None,
    accessor: Callable[[Any], str] | None = None,
) -> RerankRequest:
    """Check a rerank call."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidRequestError("rerank() needs a non-empty query string")
    if not _is_list(documents) or not isinstance(documents, Sequence):
        # rerank("q", "abc") would rank the characters "a", "b", "c"; the answer indexes into
        # the documents, so a one-shot iterator cannot be used either.
        raise InvalidRequestError(
            f"rerank() takes a list of documents, got a {type(documents).__name__}"
        )
    if not documents:
        raise InvalidRequestError("rerank() needs at least one document")
    if top_k is not None:
        top_k = _positive_int("top_k", top_k)
    texts = [document_text(d, accessor) for d in documents]
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequestError(f"documents[{i}] has no text")
    return RerankRequest(query=query, documents=texts, top_k=top_k)


def transcribe_request(
    audio: str | Path | bytes | IO[bytes],
    *,
    filename: str | None = None,
    language: str | None = None,
    prompt: str | None = None,
) -> TranscribeRequest:
    """Read the audio (path, bytes or binary file) and check its format."""
    if isinstance(audio, str | Path):
        path = Path(audio)
        if not path.is_file():
            raise InvalidRequestError(f"audio file not found: {path}")
        data, name = path.read_bytes(), filename or path.name
    elif isinstance(audio, bytes | bytearray):
        data, name = bytes(audio), filename or "audio.mp3"
    elif hasattr(audio, "read"):
        data = audio.read()
        if not isinstance(data, bytes):
            raise InvalidRequestError("the audio file object must be opened in binary mode")
        name = filename or Path(getattr(audio, "name", "audio.mp3")).name
    else:
        raise InvalidRequestError("audio must be a path, bytes or a binary file object")
    if not data:
        raise InvalidRequestError("the audio is empty")
    language = _optional_text("language", language)
    prompt = _optional_text("prompt", prompt)
    ext = Path(name).suffix.lower().lstrip(".")
    if ext not in AUDIO_FORMATS:
        raise InvalidRequestError(
            f"unsupported audio format {ext!r}; expected one of {sorted(AUDIO_FORMATS)}"
        )
    content_type = AUDIO_FORMATS.get(ext) or mimetypes.guess_type(name)[0] or "audio/mpeg"
    return TranscribeRequest(
        audio=data, filename=name, content_type=content_type, language=language, prompt=prompt
    )


def speak_request(
    text: str, *, voice: str | None = None, format: str = "mp3", speed: float | None = None
) -> SpeakRequest:
    """Check a speech call."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequestError("speak() needs non-empty text")
    if not isinstance(format, str) or format not in _SPEECH_FORMATS:
        raise InvalidRequestError(
            f"unsupported speech format {format!r}; expected one of {sorted(_SPEECH_FORMATS)}"
        )
    voice = _optional_text("voice", voice)
    if speed is not None:
        speed = _number("speed", speed)
        if not 0.25 <= speed <= 4.0:
            raise InvalidRequestError(f"speed must be between 0.25 and 4.0, got {speed}")
    return SpeakRequest(text=text, voice=voice, format=format, speed=speed)
