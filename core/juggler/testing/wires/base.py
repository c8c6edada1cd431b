"""What every simulated wire format shares: the call it handles, JSON/SSE encoding, and faults.

A wire format is a :class:`WireFormat` subclass: ``handle`` answers a healthy request in the
vendor's shape, ``error`` renders an HTTP error in the vendor's error envelope, and
``error_in_200`` renders that envelope inside a 200. Malformed answers are made here, the same
way for every vendor: truncated JSON, or one garbage event in a stream.
"""

from __future__ import annotations

import abc
import itertools
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import juggler.testing._behaviour as model
from juggler.testing._scenario import Scenario
from juggler.testing._server import Answer, Request, Response, StreamResponse

__all__ = [
    "Call",
    "WireFormat",
    "document_texts",
    "dumps",
    "embedding_rows",
    "json_answer",
    "malformed",
    "next_id",
    "ranked_documents",
    "retry_headers",
    "sse",
    "text_of",
]

_ids = itertools.count(1)


def next_id() -> int:
    """A process-wide increasing number for response ids."""
    return next(_ids)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (non-ASCII kept as is, as vendors send it)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def json_answer(
    body: Any, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """A JSON response."""
    return Response(status, dumps(body), "application/json", headers)


def sse(data: Any, event: str | None = None, *, eol: str = "\n") -> bytes:
    """One server-sent event (``data`` is JSON-encoded unless it is already a str).

    ``eol`` is the line ending: Gemini frames its events with ``\\r\\n``, the others with
    ``\\n`` (as in the recordings), and a client must read both.
    """
    payload = data if isinstance(data, str) else dumps(data).decode()
    head = f"event: {event}{eol}" if event else ""
    return f"{head}data: {payload}{eol}{eol}".encode()


def document_texts(raw: Any) -> list[str]:
    """Rerank documents or embedding inputs as texts: strings, or objects with a ``text``
    (any other object reads as its values joined, so every document scores something)."""
    if isinstance(raw, str):
        return [raw]
    out = []
    for item in raw or []:
        if isinstance(item, dict):
            text = item.get("text")
            out.append(text if isinstance(text, str) else " ".join(map(str, item.values())))
        else:
            out.append(str(item))
    return out


def ranked_documents(
    body: dict[str, Any], limit_key: str, docs_key: str = "documents", query: Any = None
) -> tuple[list[str], list[tuple[int, float]]]:
    """The documents of a rerank body and their (index, score) ranking, best first, cut to
    ``body[limit_key]`` when the caller asked for a top-N."""
    docs = document_texts(body.get(docs_key))
    ranked = model.rerank_scores(str(body.get("query") if query is None else query), docs)
    if body.get(limit_key):
        ranked = ranked[: int(body[limit_key])]
    return docs, ranked


def embedding_rows(texts: list[str], dims: int, b64: bool) -> tuple[list[dict[str, Any]], int]:
    """OpenAI-style ``data`` rows ``{object, index, embedding}`` (base64 float32 when asked)
    and the token count of the texts."""
    rows = []
    for i, text in enumerate(texts):
        vec = model.embedding(text, dims)
        rows.append(
            {
                "object": "embedding",
                "index": i,
                "embedding": model.floats_base64(vec) if b64 else vec,
            }
        )
    return rows, sum(model.count_tokens(t) for t in texts)


def text_of(content: Any) -> str:
    """The text of a message content: a string, or a list of text parts/blocks."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        if isinstance(content.get("text"), str):
            return str(content["text"])
        return text_of(content.get("content"))
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type", "text") in ("text", "input_text"):
                parts.append(str(part.get("text") or ""))
        return " ".join(p for p in parts if p)
    return str(content)


@dataclass(slots=True)
class Call:
    """One request to a simulated provider, as a wire format sees it.

    Attributes:
        provider: the simulated provider's name (first path segment).
        path: the vendor path, after ``/{provider}`` (e.g. ``/openai/v1/chat/completions``).
        request: the raw HTTP request.
        body: the decoded JSON body (None when the body is not JSON).
        scenario: the provider's scenario (for ``dimensions``, stream pacing, faults).
    """

    provider: str
    path: str
    request: Request
    body: Any
    scenario: Scenario

    def stream(self, events: list[bytes], content_type: str = "text/event-stream") -> Answer:
        """A streamed answer paced by the scenario."""
        s = self.scenario
        return StreamResponse(
            events,
            content_type,
            first_delay=s.first_chunk_delay_ms / 1000.0,
            chunk_delay=s.chunk_delay_ms / 1000.0,
            cut_after=s.cut_stream_after,
        )

    @property
    def model(self) -> str:
        """The requested model (empty when the body names none)."""
        if isinstance(self.body, dict):
            return str(self.body.get("model") or "")
        return ""


class WireFormat(abc.ABC):
    """Base of the simulated wire formats."""

    name: ClassVar[str] = ""
    default_base_path: ClassVar[str] = ""

    @abc.abstractmethod
    def handle(self, call: Call) -> Answer | None:
        """A healthy answer, or None when the path is not part of this wire format."""

    def error(self, status: int, message: str, retry_after: float | None = None) -> Response:
        """An HTTP error in this vendor's envelope (default: OpenAI's)."""
        return json_answer(
            {"error": {"message": message, "type": "error", "code": status}},
            status,
            retry_headers(status, retry_after),
        )

    def error_in_200(self, call: Call) -> Answer:
        """The vendor's error envelope inside a 200 answer."""
        err = self.error(500, "an error object inside a 200 answer (simulated)")
        return Response(200, err.body, "application/json")

    def requested_model(self, call: Call) -> str:
        """The model the request names ("" when it names none: then nothing is checked)."""
        return call.model

    def model_not_found(self, model: str, call: Call) -> Response:
        """The vendor's answer to a model it does not serve (default: OpenAI's 404
        ``model_not_found``, shared/wire/openai/chat_completions/otel-contrib/
        test_chat_completion_404.yaml)."""
        return json_answer(
            {
                "error": {
                    "message": f"The model `{model}` does not exist or you do not have access "
                    "to it.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "model_not_found",
                }
            },
            404,
        )


def retry_headers(status: int, retry_after: float | None) -> tuple[tuple[str, str], ...]:
    if status == 429 and retry_after is not None:
        value = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
        return (("retry-after", value),)
    return ()


def malformed(answer: Answer) -> Answer:
    """The same answer with broken JSON: a truncated body, or a garbage second event."""
    if isinstance(answer, Response):
        if not answer.content_type.startswith("application/json"):
            return answer  # audio and plain text have no JSON to break
        body = answer.body[: max(1, len(answer.body) // 2)]
        return Response(answer.status, body, answer.content_type, answer.headers)
    if isinstance(answer, StreamResponse):
        events = list(answer.events)
        garbage = b'data: {"choices": [{"delta": {"content": "trunc\n\n'
        events.insert(min(1, len(events)), garbage)
        return StreamResponse(
            events,
            answer.content_type,
            answer.status,
            answer.headers,
            answer.first_delay,
            answer.chunk_delay,
            answer.cut_after,
        )
    return answer


def parse_multipart(request: Request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Form fields and files ``{name: (filename, bytes)}`` of a multipart/form-data body."""
    ctype = request.headers.get("content-type", "")
    boundary = ""
    for param in ctype.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if not boundary:
        return fields, files
    for part in request.body.split(b"--" + boundary.encode()):
        if part in (b"", b"--", b"--\r\n") or part.startswith(b"--"):
            continue
        head, sep, data = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            continue
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = filename = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition"):
                for item in line.split(";")[1:]:
                    k, _, v = item.strip().partition("=")
                    if k == "name":
                        name = v.strip('"')
                    elif k == "filename":
                        filename = v.strip('"')
        if name is None:
            continue
        if filename is not None:
            files[name] = (filename, data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files
