"""Input checks that run before any request: bad input gets a clear error, and no provider is
called. Each function returns the normalised request the engine will route."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import IO, Any

from juggler._chat_input import chat_request, number, positive_int
from juggler._exceptions import InvalidRequestError
from juggler.providers.types import (
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
        dimensions = positive_int("dimensions", dimensions)
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
        top_k = positive_int("top_k", top_k)
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
        speed = number("speed", speed)
        if not 0.25 <= speed <= 4.0:
            raise InvalidRequestError(f"speed must be between 0.25 and 4.0, got {speed}")
    return SpeakRequest(text=text, voice=voice, format=format, speed=speed)
