"""The OpenAI wire format, simulated: chat completions (plain and SSE), embeddings, rerank,
audio transcription and speech, in the shapes of the recordings in ``shared/wire/openai``,
``groq``, ``together`` and ``nvidia``.

Paths are matched by their ending, so any base path works (``/v1``, ``/openai/v1``, …):
``/chat/completions``, ``/embeddings``, ``/rerank`` (Together/Cohere-like ``results``),
``/reranking`` and ``/ranking`` (NVIDIA's ``rankings``), ``/audio/transcriptions``,
``/audio/speech`` and ``GET /models``.
"""

from __future__ import annotations

import time
from typing import Any

import juggler.testing._behaviour as model
from juggler.testing._behaviour import ChatInput, Reply, Tool
from juggler.testing._server import Answer, Response
from juggler.testing.wires.base import (
    Call,
    WireFormat,
    document_texts,
    dumps,
    embedding_rows,
    json_answer,
    next_id,
    parse_multipart,
    ranked_documents,
    retry_headers,
    sse,
    text_of,
)

__all__ = ["OpenAIWire", "chat_input"]

_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", "bad_gateway"),
    503: ("service_unavailable", None),
    529: ("overloaded_error", "overloaded"),
}


def chat_input(body: dict[str, Any]) -> ChatInput:
    """Reduce an OpenAI chat-completions body to what the simulated model reads."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    last_user = next(
        (text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    after_tool = None
    if messages and messages[-1].get("role") in ("tool", "function"):
        after_tool = text_of(messages[-1].get("content"))
    tools = []
    for t in body.get("tools") or []:
        fn = t.get("function") if isinstance(t, dict) else None
        if isinstance(fn, dict) and fn.get("name"):
            tools.append(Tool(fn["name"], fn.get("description") or "", fn.get("parameters") or {}))
    for fn in body.get("functions") or []:  # the legacy field
        tools.append(Tool(fn["name"], fn.get("description") or "", fn.get("parameters") or {}))
    choice = body.get("tool_choice") or "auto"
    if isinstance(choice, dict):
        choice = (choice.get("function") or {}).get("name") or choice.get("name") or "required"
    fmt = body.get("response_format") or {}
    schema = None
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
    elif fmt.get("type") == "json_object" and isinstance(fmt.get("schema"), dict):
        schema = fmt["schema"]  # Together's JSON mode takes the schema beside the type
    stop = body.get("stop") or []
    prompt = sum(model.count_tokens(text_of(m.get("content"))) + 3 for m in messages)
    return ChatInput(
        model=str(body.get("model") or ""),
        last_user=last_user,
        after_tool=after_tool,
        tools=tools,
        tool_choice=str(choice),
        schema=schema,
        json_object=fmt.get("type") == "json_object",
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        stop=[stop] if isinstance(stop, str) else list(stop),
        prompt_tokens=max(1, prompt),
        context="\n".join(text_of(m.get("content")) for m in messages),
    )


def _usage(r: Reply) -> dict[str, int]:
    return {
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.completion_tokens,
        "total_tokens": r.total_tokens,
    }


def _tool_calls(r: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": cid,
            "type": "function",
            "function": {"name": name, "arguments": dumps(args).decode()},
        }
        for cid, name, args in r.tool_calls
    ]


class OpenAIWire(WireFormat):
    """Answers like OpenAI and the vendors that speak its wire format."""

    name = "openai"
    default_base_path = "/v1"

    def handle(self, call: Call) -> Answer | None:
        """Route by the path's ending."""
        path = call.path
        body = call.body if isinstance(call.body, dict) else {}
        if call.request.method == "GET" and path.endswith("/models"):
            return json_answer({"object": "list", "data": []})
        if path.endswith("/chat/completions"):
            return self.chat(call, body)
        if path.endswith("/embeddings"):
            return self.embeddings(call, body)
        if path.endswith("/reranking") or path.endswith("/ranking"):
            return self.nvidia_rerank(body)
        if path.endswith("/rerank"):
            return self.rerank(body)
        if path.endswith("/audio/transcriptions") or path.endswith("/audio/translations"):
            return self.transcribe(call)
        if path.endswith("/audio/speech"):
            audio, ctype = model.speech(
                str(body.get("input") or ""), str(body.get("response_format") or "mp3")
            )
            return Response(200, audio, ctype)
        return None

    def chat(self, call: Call, body: dict[str, Any]) -> Answer:
        """``POST /chat/completions``, plain or streamed."""
        r = model.reply(chat_input(body))
        name = call.model
        rid = f"chatcmpl-sim{next_id()}"
        created = int(time.time())
        if body.get("stream"):
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return call.stream(self._chunks(r, name, rid, created, usage))
        message: dict[str, Any] = {"role": "assistant", "content": r.text or None, "refusal": None}
        if r.tool_calls:
            message["tool_calls"] = _tool_calls(r)
        return json_answer(
            {
                "id": rid,
                "object": "chat.completion",
                "created": created,
                "model": name,
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": r.finish}
                ],
                "usage": _usage(r),
                "system_fingerprint": None,
            }
        )

    def _chunks(self, r: Reply, name: str, rid: str, created: int, usage: bool) -> list[bytes]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data: dict[str, Any] = {
                "id": rid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": name,
                "system_fingerprint": None,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if usage:
                data["usage"] = None
            return sse(data)

        events = [chunk({"role": "assistant", "content": ""})]
        if r.tool_calls:
            for i, (cid, tool, args) in enumerate(r.tool_calls):
                head = {"name": tool, "arguments": ""}
                events.append(
                    chunk(
                        {
                            "tool_calls": [
                                {"index": i, "id": cid, "type": "function", "function": head}
                            ]
                        }
                    )
                )
                for piece in model.pieces(dumps(args).decode(), 8):
                    events.append(
                        chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
                    )
        else:
            events += [chunk({"content": piece}) for piece in model.pieces(r.text)]
        events.append(chunk({}, r.finish))
        if usage:
            events.append(
                sse(
                    {
                        "id": rid,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": name,
                        "system_fingerprint": None,
                        "choices": [],
                        "usage": _usage(r),
                    }
                )
            )
        events.append(b"data: [DONE]\n\n")
        return events

    def embeddings(self, call: Call, body: dict[str, Any]) -> Answer:
        """``POST /embeddings``: float lists, or base64 float32 when asked."""
        dims = int(body.get("dimensions") or call.scenario.dimensions)
        data, tokens = embedding_rows(
            document_texts(body.get("input")), dims, body.get("encoding_format") == "base64"
        )
        return json_answer(
            {
                "object": "list",
                "data": data,
                "model": call.model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    def rerank(self, body: dict[str, Any]) -> Answer:
        """``POST /rerank`` in Together's shape (``results[{index, relevance_score}]``)."""
        docs, ranked = ranked_documents(body, "top_n")
        tokens = model.count_tokens(str(body.get("query") or "")) + sum(
            model.count_tokens(d) for d in docs
        )
        return json_answer(
            {
                "id": f"sim-rerank-{next_id()}",
                "object": "rerank",
                "model": str(body.get("model") or ""),
                "results": [{"index": i, "relevance_score": s, "document": {}} for i, s in ranked],
                "usage": {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens},
            }
        )

    def nvidia_rerank(self, body: dict[str, Any]) -> Answer:
        """NVIDIA's ``POST …/reranking``: ``rankings[{index, logit}]``, best first."""
        query = body.get("query") or {}
        q = query.get("text", "") if isinstance(query, dict) else str(query)
        _, ranked = ranked_documents(body, "top_n", docs_key="passages", query=q)
        return json_answer(
            {"rankings": [{"index": i, "logit": round(8 * s - 4, 4)} for i, s in ranked]}
        )

    def transcribe(self, call: Call) -> Answer:
        """``POST /audio/transcriptions`` (multipart): json, verbose_json or text."""
        fields, files = parse_multipart(call.request)
        filename, audio = files.get("file", ("audio", b""))
        if not audio:
            return self.error(400, "missing 'file' in the multipart body (simulated)")
        result = model.transcription(audio, filename, fields.get("language"))
        fmt = fields.get("response_format") or "json"
        if fmt == "verbose_json":
            return json_answer(result)
        if fmt in ("text", "srt", "vtt"):
            return Response(200, result["text"].encode(), "text/plain; charset=utf-8")
        return json_answer({"text": result["text"]})

    def requested_model(self, call: Call) -> str:
        """The body's ``model``; for audio uploads, the multipart form's ``model`` field."""
        if "multipart/" in call.request.headers.get("content-type", ""):
            return parse_multipart(call.request)[0].get("model", "")
        return call.model

    def error(self, status: int, message: str, retry_after: float | None = None) -> Response:
        """OpenAI's envelope: ``{"error": {"message", "type", "param", "code"}}``."""
        kind, code = _ERRORS.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None)
        )
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return json_answer(body, status, retry_headers(status, retry_after))

    def error_in_200(self, call: Call) -> Answer:
        """OpenRouter's habit: an upstream error object, with its code, inside a 200."""
        body = {
            "error": {
                "code": 502,
                "message": "Provider returned error (simulated, inside a 200)",
                "metadata": {"provider_name": "simulator"},
            }
        }
        return json_answer(body)
