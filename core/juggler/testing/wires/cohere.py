"""The Cohere v2 wire format, simulated (shapes from ``shared/wire/cohere``).

``POST /v2/chat`` plain and streamed (message-start, content-start, content-delta…,
content-end, message-end, then ``data: [DONE]``; tool calls as tool-plan-delta…,
tool-call-start, tool-call-delta…, tool-call-end), ``POST /v2/embed`` (``embeddings`` by
type) and ``POST /v2/rerank``. Errors are ``{"id": …, "message": …}``.
"""

from __future__ import annotations

from typing import Any

import juggler.testing._behaviour as model
from juggler.testing._behaviour import ChatInput, Reply
from juggler.testing._server import Answer, Response
from juggler.testing.wires.base import (
    Call,
    WireFormat,
    dumps,
    json_answer,
    next_id,
    ranked_documents,
    retry_headers,
    sse,
    text_of,
)
from juggler.testing.wires.openai import chat_input as openai_chat_input

__all__ = ["CohereWire"]

_FINISH = {"stop": "COMPLETE", "length": "MAX_TOKENS", "tool_calls": "TOOL_CALL"}


def _uuid() -> str:
    n = next_id()
    return f"00000000-0000-4000-8000-{n:012d}"


def chat_input(body: dict[str, Any]) -> ChatInput:
    """Cohere v2 chat is OpenAI-shaped apart from a few names; map those and reuse."""
    mapped = dict(body)
    choice = str(body.get("tool_choice") or "").upper()
    mapped["tool_choice"] = {"REQUIRED": "required", "NONE": "none"}.get(choice, "auto")
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_object":
        schema = fmt.get("json_schema") or fmt.get("schema")
        mapped["response_format"] = (
            {"type": "json_schema", "json_schema": {"schema": schema}} if schema else fmt
        )
    mapped["stop"] = body.get("stop_sequences") or []
    return openai_chat_input(mapped)


def _usage(r: Reply) -> dict[str, Any]:
    counts = {"input_tokens": r.prompt_tokens, "output_tokens": r.completion_tokens}
    return {"billed_units": dict(counts), "tokens": dict(counts)}


class CohereWire(WireFormat):
    """Answers like Cohere's v2 API."""

    name = "cohere"
    default_base_path = ""

    def handle(self, call: Call) -> Answer | None:
        """``/v2/chat``, ``/v2/embed`` and ``/v2/rerank`` (``/v1/…`` embed and rerank too)."""
        body = call.body if isinstance(call.body, dict) else {}
        if call.path.endswith("/chat"):
            return self.chat(call, body)
        if call.path.endswith("/embed"):
            return self.embed(call, body)
        if call.path.endswith("/rerank"):
            return self.rerank(body)
        return None

    def chat(self, call: Call, body: dict[str, Any]) -> Answer:
        """``POST /v2/chat``."""
        r = model.reply(chat_input(body))
        rid = _uuid()
        if body.get("stream"):
            return call.stream(self._events(r, rid))
        message: dict[str, Any] = {"role": "assistant"}
        if r.tool_calls:
            message["tool_plan"] = self._plan(r)
            message["tool_calls"] = [
                {
                    "id": cid,
                    "type": "function",
                    "function": {"name": n, "arguments": dumps(a).decode()},
                }
                for cid, n, a in r.tool_calls
            ]
        else:
            message["content"] = [{"type": "text", "text": r.text}]
        return json_answer(
            {"id": rid, "message": message, "finish_reason": _FINISH[r.finish], "usage": _usage(r)}
        )

    def _plan(self, r: Reply) -> str:
        names = ", ".join(n for _, n, _ in r.tool_calls)
        return f"I will use the {names} tool."

    def _events(self, r: Reply, rid: str) -> list[bytes]:
        start = {
            "role": "assistant",
            "content": [],
            "tool_plan": "",
            "tool_calls": [],
            "citations": [],
        }
        events = [
            sse({"id": rid, "type": "message-start", "delta": {"message": start}}, "message-start")
        ]
        if r.tool_calls:
            for piece in model.pieces(self._plan(r)):
                events.append(
                    sse(
                        {"type": "tool-plan-delta", "delta": {"message": {"tool_plan": piece}}},
                        "tool-plan-delta",
                    )
                )
            for i, (cid, name, args) in enumerate(r.tool_calls):
                call = {"id": cid, "type": "function", "function": {"name": name, "arguments": ""}}
                events.append(
                    sse(
                        {
                            "type": "tool-call-start",
                            "index": i,
                            "delta": {"message": {"tool_calls": call}},
                        },
                        "tool-call-start",
                    )
                )
                for piece in model.pieces(dumps(args).decode(), 8):
                    fn = {"function": {"arguments": piece}}
                    delta: dict[str, Any] = {"message": {"tool_calls": fn}}
                    events.append(
                        sse(
                            {"type": "tool-call-delta", "index": i, "delta": delta},
                            "tool-call-delta",
                        )
                    )
                events.append(sse({"type": "tool-call-end", "index": i}, "tool-call-end"))
        else:
            opening = {"message": {"content": {"type": "text", "text": ""}}}
            events.append(
                sse({"type": "content-start", "index": 0, "delta": opening}, "content-start")
            )
            for piece in model.pieces(r.text):
                delta = {"message": {"content": {"text": piece}}}
                events.append(
                    sse({"type": "content-delta", "index": 0, "delta": delta}, "content-delta")
                )
            events.append(sse({"type": "content-end", "index": 0}, "content-end"))
        end = {"finish_reason": _FINISH[r.finish], "usage": _usage(r)}
        events.append(sse({"type": "message-end", "delta": end}, "message-end"))
        events.append(b"data: [DONE]\n\n")
        return events

    def embed(self, call: Call, body: dict[str, Any]) -> Answer:
        """``POST /v2/embed``: one list per requested embedding type."""
        texts = [str(t) for t in body.get("texts") or []]
        for item in body.get("inputs") or []:
            texts.append(text_of(item.get("content") if isinstance(item, dict) else item))
        dims = int(body.get("output_dimension") or call.scenario.dimensions)
        vectors = [model.embedding(t, dims) for t in texts]
        kinds = body.get("embedding_types") or ["float"]
        by_type: dict[str, Any] = {}
        for kind in kinds:
            if kind == "int8":
                by_type[kind] = [[round(x * 127) for x in v] for v in vectors]
            elif kind == "uint8":
                by_type[kind] = [[round(x * 127) + 128 for x in v] for v in vectors]
            else:
                by_type[kind] = vectors
        tokens = sum(model.count_tokens(t) for t in texts)
        return json_answer(
            {
                "id": _uuid(),
                "texts": texts,
                "embeddings": by_type,
                "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": tokens}},
                "response_type": "embeddings_by_type",
            }
        )

    def rerank(self, body: dict[str, Any]) -> Answer:
        """``POST /v2/rerank``: ``results[{index, relevance_score}]`` best first."""
        _, ranked = ranked_documents(body, "top_n")
        return json_answer(
            {
                "id": _uuid(),
                "results": [{"index": i, "relevance_score": s} for i, s in ranked],
                "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}},
            }
        )

    def model_not_found(self, model: str, call: Call) -> Response:
        """404 ``{"id", "message"}`` (shared/wire/cohere/embed_v2/pydantic-ai/
        TestCohere.test_embed_error.yaml)."""
        message = (
            f"model '{model}' not found, make sure the correct model ID was used and that you "
            "have access to the model."
        )
        return json_answer({"id": _uuid(), "message": message}, 404)

    def error(self, status: int, message: str, retry_after: float | None = None) -> Response:
        """``{"id": …, "message": …}``."""
        return json_answer(
            {"id": _uuid(), "message": message}, status, retry_headers(status, retry_after)
        )

    def error_in_200(self, call: Call) -> Answer:
        """Cohere's envelope inside a 200 (a body with no result in it)."""
        return json_answer(
            {"id": _uuid(), "message": "internal server error (simulated, inside a 200)"}
        )
