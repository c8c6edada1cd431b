"""The Anthropic Messages wire format, simulated (shapes from ``shared/wire/anthropic``).

``POST /v1/messages`` plain and streamed (message_start, content_block_start, ping,
content_block_delta…, content_block_stop, message_delta, message_stop), with ``tool_use``
blocks and ``input_json_delta`` arguments; ``POST /v1/messages/count_tokens``. Errors use
``{"type": "error", "error": {"type": "overloaded_error", "message": …}}``.
"""

from __future__ import annotations

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
    text_of,
)

__all__ = ["AnthropicWire"]

_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def _block_text(content: Any) -> str:
    """Text blocks only (tool results are not what the user said)."""
    if isinstance(content, list):
        return " ".join(
            str(b.get("text") or "")
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
    return text_of(content)


def chat_input(body: dict[str, Any]) -> ChatInput:
    """Reduce a Messages API body to what the simulated model reads."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    last_user = ""
    for m in reversed(messages):
        if m.get("role") == "user" and _block_text(m.get("content")):
            last_user = _block_text(m.get("content"))
            break
    after_tool = None
    if messages and isinstance(messages[-1].get("content"), list):
        results = [
            b
            for b in messages[-1]["content"]
            if isinstance(b, dict) and b.get("type") == "tool_result"
        ]
        if results and messages[-1].get("role") == "user":
            after_tool = " ".join(text_of(b.get("content")) for b in results)
    tools = [
        Tool(t["name"], t.get("description") or "", t.get("input_schema") or {})
        for t in body.get("tools") or []
        if isinstance(t, dict) and t.get("name") and "input_schema" in t
    ]
    choice = body.get("tool_choice") or {"type": "auto"}
    kind = choice.get("type", "auto") if isinstance(choice, dict) else str(choice)
    tool_choice = str(choice.get("name")) if kind == "tool" else {"any": "required"}.get(kind, kind)
    fmt = body.get("output_format") or {}
    system = text_of(body.get("system"))
    prompt = model.count_tokens(system) + sum(
        model.count_tokens(text_of(m.get("content"))) + 3 for m in messages
    )
    return ChatInput(
        model=str(body.get("model") or ""),
        last_user=last_user,
        after_tool=after_tool,
        tools=tools,
        tool_choice=tool_choice,
        schema=fmt.get("schema") if fmt.get("type") == "json_schema" else None,
        max_tokens=body.get("max_tokens"),
        stop=list(body.get("stop_sequences") or []),
        prompt_tokens=max(1, prompt),
        context="\n".join([system, *(text_of(m.get("content")) for m in messages)]),
    )


def _blocks(r: Reply) -> list[dict[str, Any]]:
    if r.tool_calls:
        return [
            {"type": "tool_use", "id": "toolu_" + cid[5:], "name": name, "input": args}
            for cid, name, args in r.tool_calls
        ]
    return [{"type": "text", "text": r.text}]


class AnthropicWire(WireFormat):
    """Answers like the Anthropic Messages API."""

    name = "anthropic"
    default_base_path = ""

    def handle(self, call: Call) -> Answer | None:
        """``/v1/messages`` and ``/v1/messages/count_tokens``."""
        body = call.body if isinstance(call.body, dict) else {}
        if call.path.endswith("/messages/count_tokens"):
            return json_answer({"input_tokens": chat_input(body).prompt_tokens})
        if not call.path.endswith("/messages"):
            return None
        r = model.reply(chat_input(body))
        message: dict[str, Any] = {
            "model": call.model,
            "id": f"msg_sim{next_id():012d}",
            "type": "message",
            "role": "assistant",
            "content": _blocks(r),
            "stop_reason": _STOP[r.finish],
            "stop_sequence": None,
            "usage": {"input_tokens": r.prompt_tokens, "output_tokens": r.completion_tokens},
        }
        if body.get("stream"):
            # Anthropic's stream content type carries a charset (shared/wire/anthropic).
            return call.stream(self._events(r, message), "text/event-stream; charset=utf-8")
        return json_answer(message)

    def _events(self, r: Reply, message: dict[str, Any]) -> list[bytes]:
        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": r.prompt_tokens, "output_tokens": 1},
        }
        events = [sse({"type": "message_start", "message": start}, "message_start")]
        for index, block in enumerate(message["content"]):
            if block["type"] == "tool_use":
                opening = {**block, "input": {}}
                deltas = [
                    {"type": "input_json_delta", "partial_json": p}
                    for p in model.pieces(dumps(block["input"]).decode(), 8)
                ]
            else:
                opening = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": p} for p in model.pieces(block["text"])]
            events.append(
                sse(
                    {"type": "content_block_start", "index": index, "content_block": opening},
                    "content_block_start",
                )
            )
            if index == 0:
                events.append(sse({"type": "ping"}, "ping"))
            events += [
                sse(
                    {"type": "content_block_delta", "index": index, "delta": d},
                    "content_block_delta",
                )
                for d in deltas
            ]
            events.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
        events.append(
            sse(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                    "usage": {"output_tokens": r.completion_tokens},
                },
                "message_delta",
            )
        )
        events.append(sse({"type": "message_stop"}, "message_stop"))
        return events

    def _envelope(self, status: int, message: str) -> dict[str, Any]:
        kind = _ERRORS.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": f"req_sim{next_id():012d}",
        }

    def model_not_found(self, model: str, call: Call) -> Response:
        """404 ``not_found_error`` "model: x" (shared/wire/anthropic/messages/mirascope/
        test_model_not_found)."""
        return json_answer(self._envelope(404, f"model: {model}"), 404)

    def error(self, status: int, message: str, retry_after: float | None = None) -> Response:
        """``{"type": "error", "error": {"type": "overloaded_error", "message": …}}``."""
        if status == 529:
            message = "Overloaded"
        return json_answer(
            self._envelope(status, message), status, retry_headers(status, retry_after)
        )

    def error_in_200(self, call: Call) -> Answer:
        """A stream that starts, then carries an ``error`` event (as Anthropic does when it
        overloads mid-answer); a plain request gets the error envelope with status 200."""
        envelope = self._envelope(529, "Overloaded")
        body = call.body if isinstance(call.body, dict) else {}
        if body.get("stream"):
            start: dict[str, Any] = {
                "id": f"msg_sim{next_id():012d}",
                "type": "message",
                "role": "assistant",
                "model": call.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            }
            return call.stream(
                [
                    sse({"type": "message_start", "message": start}, "message_start"),
                    sse(envelope, "error"),
                ]
            )
        return json_answer(envelope)
