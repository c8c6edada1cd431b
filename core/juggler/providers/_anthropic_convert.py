"""Pure conversions between OpenAI-shaped chat requests and Anthropic's Messages API.

No I/O here: every function takes plain data and returns plain data, so each rule is tested
on its own (``tests/providers/test_anthropic_convert.py``). The provider module
(``anthropic.py``) composes them.

Rules, in the order a request meets them:

* ``system`` / ``developer`` messages, wherever they are, are lifted into the top-level
  ``system`` string (joined by blank lines): Anthropic has no system role in ``messages``.
* assistant ``tool_calls`` become ``tool_use`` blocks; ``role: tool`` messages become
  ``tool_result`` blocks in a user message. Consecutive messages of one role are merged into
  one message, so several tool results answer one assistant turn together.
* ``image_url`` parts become image blocks: a ``data:`` URL as a base64 source, any other URL
  as a url source. Parts already in Anthropic's own shape pass through unchanged.
* ``response_format`` (JSON schema or JSON mode) is emulated with a forced tool whose
  ``input_schema`` is the schema: Anthropic has no JSON mode, and a forced tool works on every
  Claude model. Its input is returned as the answer's text, never as a tool call.
"""

from __future__ import annotations

import json
from typing import Any

from juggler._types import Usage

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "JSON_TOOL_DEFAULT_NAME",
    "finish_reason",
    "image_block",
    "json_tool",
    "to_anthropic_messages",
    "to_anthropic_tool_choice",
    "to_anthropic_tools",
    "usage_from_anthropic",
]

DEFAULT_MAX_TOKENS = 1024
JSON_TOOL_DEFAULT_NAME = "json_response"

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: str | None) -> str | None:
    """Anthropic's ``stop_reason`` as an OpenAI finish reason (unknown values pass through)."""
    if stop_reason is None:
        return None
    return _FINISH.get(stop_reason, stop_reason)


def usage_from_anthropic(raw: Any, start: Usage | int | None = None) -> Usage | None:
    """Usage from an Anthropic ``usage`` object.

    ``input_tokens`` there excludes cached prompt tokens; they are added back so the figure
    means what OpenAI's ``prompt_tokens`` means (the whole prompt). ``cache_read_input_tokens``
    become ``cached_tokens`` and ``cache_creation_input_tokens`` ``cache_write_tokens``.
    ``start`` is the stream's ``message_start`` usage (or just its input tokens): a
    ``message_delta`` that carries no input counts keeps those.
    """
    if not isinstance(raw, dict):
        return None
    first = start if isinstance(start, Usage) else Usage.of(start)
    if raw.get("input_tokens") is None:
        return Usage.of(
            first.input_tokens,
            raw.get("output_tokens"),
            cached=first.cached_tokens,
            cache_write=first.cache_write_tokens,
        )
    cached = raw.get("cache_read_input_tokens")
    written = raw.get("cache_creation_input_tokens")
    input_tokens = int(raw["input_tokens"]) + int(written or 0) + int(cached or 0)
    return Usage.of(input_tokens, raw.get("output_tokens"), cached=cached, cache_write=written)


def image_block(url: str) -> dict[str, Any]:
    """An Anthropic image block from an OpenAI ``image_url`` URL (``data:`` or http)."""
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header[5:].split(";")[0] or "image/png"
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    return {"type": "image", "source": {"type": "url", "url": url}}


def _blocks(content: Any) -> list[dict[str, Any]]:
    """Content (a string or a list of OpenAI parts) as Anthropic content blocks."""
    if content is None:
        return []
    if isinstance(content, str):
        # Anthropic rejects empty text blocks; an empty assistant text next to tool calls is
        # common in OpenAI-shaped histories.
        return [{"type": "text", "text": content}] if content.strip() else []
    out: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, str):
            out.extend(_blocks(part))
        elif part.get("type") == "text":
            if str(part.get("text") or "").strip():
                block = {"type": "text", "text": part["text"]}
                if "cache_control" in part:
                    block["cache_control"] = part["cache_control"]
                out.append(block)
        elif part.get("type") == "image_url":
            ref = part.get("image_url")
            url = ref.get("url") if isinstance(ref, dict) else ref
            out.append(image_block(str(url)))
        else:
            out.append(part)  # already an Anthropic block (image, document, ...)
    return out


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if not raw or not str(raw).strip():
        return {}
    value = json.loads(raw)
    return value if isinstance(value, dict) else {"value": value}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(
        str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content or []
    )


def _append(out: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    if out and out[-1]["role"] == role:
        out[-1]["content"].extend(blocks)
    else:
        out.append({"role": role, "content": list(blocks)})


def _tool_result(message: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": message.get("tool_call_id") or message.get("name") or "",
    }
    content = message.get("content")
    if isinstance(content, str):
        if content:
            block["content"] = content
    elif content:
        block["content"] = _blocks(content)
    return block


def to_anthropic_messages(
    messages: list[dict[str, Any]],
) -> tuple[str | None, list[dict[str, Any]]]:
    """``(system, messages)`` for the Messages API from OpenAI-shaped messages."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message["role"]
        if role in ("system", "developer"):
            system.append(_text(message.get("content")))
        elif role in ("tool", "function"):
            _append(out, "user", [_tool_result(message)])
        elif role == "assistant":
            blocks = _blocks(message.get("content"))
            for call in message.get("tool_calls") or []:
                fn = call.get("function") or {}
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.get("id"),
                        "name": fn.get("name"),
                        "input": _arguments(fn.get("arguments")),
                    }
                )
            _append(out, "assistant", blocks)
        else:
            _append(out, "user", _blocks(message.get("content")))
    for message in out:
        # One plain text block reads better (and is what the SDKs send) as a string.
        blocks = message["content"]
        if len(blocks) == 1 and set(blocks[0]) == {"type", "text"} and blocks[0]["type"] == "text":
            message["content"] = blocks[0]["text"]
    return ("\n\n".join(s for s in system if s) or None), out


def to_anthropic_tools(tools: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """OpenAI function tools as Anthropic tools (``name``, ``description``, ``input_schema``)."""
    out = []
    for tool in tools or []:
        fn = tool.get("function") or {}
        entry: dict[str, Any] = {
            "name": fn["name"],
            "input_schema": fn.get("parameters") or {"type": "object", "properties": {}},
        }
        if fn.get("description"):
            entry["description"] = fn["description"]
        out.append(entry)
    return out


def to_anthropic_tool_choice(choice: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """``auto`` / ``required`` / ``none`` / a named function, in Anthropic's forms."""
    if choice is None:
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        return {"type": "tool", "name": name}
    return {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}.get(
        choice, {"type": "auto"}
    )


def json_tool(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """The forced tool that emulates ``response_format`` (None for plain text answers)."""
    if not response_format:
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        return {
            "name": spec.get("name") or JSON_TOOL_DEFAULT_NAME,
            "description": spec.get("description")
            or "Give the final answer as a JSON object matching this schema.",
            "input_schema": spec.get("schema") or {"type": "object"},
        }
    if kind == "json_object":
        return {
            "name": JSON_TOOL_DEFAULT_NAME,
            "description": "Give the final answer as a JSON object.",
            "input_schema": {"type": "object"},
        }
    return None
