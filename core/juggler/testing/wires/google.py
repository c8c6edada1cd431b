"""The Gemini API wire format, simulated (shapes from ``shared/wire/google``).

``POST /v1beta/models/{model}:generateContent``, ``:streamGenerateContent`` (``?alt=sse``
gives server-sent events; without it, one JSON array sent in pieces, as Google does),
``:embedContent``, ``:batchEmbedContents`` and ``:countTokens``. Both camelCase and
snake_case field names are read (the SDKs send either). Errors use
``{"error": {"code", "message", "status"}}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import juggler.testing._behaviour as model
from juggler.testing._behaviour import ChatInput, Reply, Tool
from juggler.testing._server import Answer, Response
from juggler.testing.wires.base import (
    Call,
    WireFormat,
    dumps,
    json_answer,
    next_id,
    retry_headers,
    sse,
)

__all__ = ["GoogleWire"]

_PATH = re.compile(r"/(?:models|tunedModels)/(.+):(\w+)$")
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"}


def _get(d: dict[str, Any], camel: str) -> Any:
    """``d[camel]``, or its snake_case spelling."""
    if camel in d:
        return d[camel]
    return d.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel))


def _parts_text(content: Any) -> str:
    parts = content.get("parts") if isinstance(content, dict) else None
    return " ".join(str(p["text"]) for p in parts or [] if isinstance(p, dict) and "text" in p)


def chat_input(body: dict[str, Any], model_name: str) -> ChatInput:
    """Reduce a generateContent body to what the simulated model reads."""
    contents = [c for c in body.get("contents") or [] if isinstance(c, dict)]
    last_user = next(
        (
            _parts_text(c)
            for c in reversed(contents)
            if c.get("role", "user") == "user" and _parts_text(c)
        ),
        "",
    )
    after_tool = None
    if contents:
        responses = [
            _get(p, "functionResponse")
            for p in contents[-1].get("parts") or []
            if isinstance(p, dict) and _get(p, "functionResponse")
        ]
        if responses:
            after_tool = " ".join(
                json.dumps(r.get("response"), ensure_ascii=False) for r in responses
            )
    tools = []
    for group in body.get("tools") or []:
        for fn in _get(group, "functionDeclarations") or []:
            schema = _get(fn, "parametersJsonSchema") or fn.get("parameters") or {}
            tools.append(Tool(fn["name"], fn.get("description") or "", schema))
    config = _get(_get(body, "toolConfig") or {}, "functionCallingConfig") or {}
    mode = str(config.get("mode") or "AUTO").upper()
    allowed = _get(config, "allowedFunctionNames") or []
    choice = {"ANY": "required", "NONE": "none"}.get(mode, "auto")
    if mode == "ANY" and len(allowed) == 1:
        choice = str(allowed[0])
    gen = _get(body, "generationConfig") or {}
    schema = (
        _get(gen, "responseJsonSchema")
        or gen.get("_responseJsonSchema")
        or _get(gen, "responseSchema")
    )
    json_mode = _get(gen, "responseMimeType") == "application/json"
    system = _parts_text(_get(body, "systemInstruction") or {})
    prompt = model.count_tokens(system) + sum(
        model.count_tokens(_parts_text(c)) + 3 for c in contents
    )
    return ChatInput(
        model=model_name,
        last_user=last_user,
        after_tool=after_tool,
        tools=tools,
        tool_choice=choice,
        schema=schema if json_mode and schema else None,
        json_object=json_mode and not schema,
        max_tokens=_get(gen, "maxOutputTokens"),
        stop=list(_get(gen, "stopSequences") or []),
        prompt_tokens=max(1, prompt),
        context="\n".join([system, *(_parts_text(c) for c in contents)]),
    )


class GoogleWire(WireFormat):
    """Answers like the Gemini API (generativelanguage.googleapis.com)."""

    name = "google"
    default_base_path = ""

    def handle(self, call: Call) -> Answer | None:
        """Route on ``models/{model}:{method}``."""
        match = _PATH.search(call.path)
        if not match:
            return None
        name, method = match.group(1), match.group(2)
        body = call.body if isinstance(call.body, dict) else {}
        if method == "generateContent":
            return json_answer(self._response(model.reply(chat_input(body, name)), name, True))
        if method == "streamGenerateContent":
            return self._stream(call, model.reply(chat_input(body, name)), name)
        if method == "countTokens":
            return json_answer({"totalTokens": chat_input(body, name).prompt_tokens})
        if method == "embedContent":
            return json_answer({"embedding": {"values": self._vector(call, body)}})
        if method == "batchEmbedContents":
            rows = [r for r in body.get("requests") or [] if isinstance(r, dict)]
            return json_answer({"embeddings": [{"values": self._vector(call, r)} for r in rows]})
        return None

    def _vector(self, call: Call, request: dict[str, Any]) -> list[float]:
        dims = int(_get(request, "outputDimensionality") or call.scenario.dimensions)
        return model.embedding(_parts_text(request.get("content") or {}), dims)

    def _response(
        self, r: Reply, name: str, final: bool, text: str | None = None, rid: str = ""
    ) -> dict[str, Any]:
        if r.tool_calls:
            parts: list[dict[str, Any]] = [
                {"functionCall": {"name": n, "args": args}} for _, n, args in r.tool_calls
            ]
        else:
            parts = [{"text": r.text if text is None else text}]
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        usage: dict[str, Any] = {
            "promptTokenCount": r.prompt_tokens,
            "totalTokenCount": r.prompt_tokens,
        }
        if final:
            candidate["finishReason"] = _FINISH[r.finish]
            usage["candidatesTokenCount"] = r.completion_tokens
            usage["totalTokenCount"] = r.total_tokens
        return {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": name,
            "responseId": rid or f"sim{next_id()}",
        }

    def _stream(self, call: Call, r: Reply, name: str) -> Answer:
        texts = [""] if r.tool_calls else model.pieces(r.text)
        rid = f"sim{next_id()}"
        last = len(texts) - 1
        bodies = [self._response(r, name, i == last, t, rid) for i, t in enumerate(texts)]
        if call.request.params().get("alt") == "sse":
            # Gemini frames its events with CRLF (shared/wire/google/stream_generate_content).
            return call.stream([sse(b, eol="\r\n") for b in bodies])
        # Without alt=sse Google streams one JSON array, element by element.
        events = [(b"[" if i == 0 else b",\r\n") + dumps(b) for i, b in enumerate(bodies)]
        events.append(b"]")
        return call.stream(events, "application/json; charset=UTF-8")

    def _envelope(self, status: int, message: str) -> dict[str, Any]:
        code = _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
        return {"error": {"code": status, "message": message, "status": code}}

    def requested_model(self, call: Call) -> str:
        """The model is in the path: ``models/{model}:{method}``."""
        match = _PATH.search(call.path)
        return match.group(1) if match else ""

    def model_not_found(self, model: str, call: Call) -> Response:
        """404 ``NOT_FOUND`` (shared/wire/google/errors/mirascope/test_model_not_found)."""
        match = _PATH.search(call.path)
        method = match.group(2) if match else "generateContent"
        message = (
            f"models/{model} is not found for API version v1beta, or is not supported for "
            f"{method}. Call ListModels to see the list of available models and their "
            "supported methods."
        )
        return json_answer(self._envelope(404, message), 404)

    def error(self, status: int, message: str, retry_after: float | None = None) -> Response:
        """``{"error": {"code", "message", "status"}}``; a 429 carries a RetryInfo detail."""
        body = self._envelope(status, message)
        if status == 429 and retry_after is not None:
            body["error"]["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": f"{retry_after}s",
                }
            ]
        return json_answer(body, status, retry_headers(status, retry_after))

    def error_in_200(self, call: Call) -> Answer:
        """Google's error envelope (with its own code) inside a 200."""
        return json_answer(
            self._envelope(503, "The model is overloaded (simulated, inside a 200).")
        )
