"""Pure conversions between OpenAI-shaped chat requests and Gemini's generateContent API.

No I/O here, so each rule is tested on its own (``tests/providers/test_google_convert.py``).
Field names follow ``specs/google/*.proto`` in their JSON (camelCase) spelling.

* ``system`` / ``developer`` messages become ``systemInstruction``; ``assistant`` becomes role
  ``model``; consecutive contents of one role are merged (Gemini wants all function responses
  of a turn in one content).
* assistant ``tool_calls`` become ``functionCall`` parts; ``role: tool`` messages become
  ``functionResponse`` parts. Gemini needs the function's *name* in a response, which OpenAI
  tool messages do not carry: it is found from the earlier assistant tool call with that id.
* ``image_url`` parts: a ``data:`` URL becomes ``inlineData``; another URL becomes
  ``fileData`` (Gemini fetches only URLs it supports, e.g. Files API and some public URLs).
* JSON schemas (tool parameters, ``response_format``) are rewritten to Gemini's ``Schema``
  subset: ``$ref`` inlined, ``type: [x, "null"]`` and ``anyOf`` with null become
  ``nullable``, and keys Gemini rejects (``additionalProperties``, ``$schema``, ...) dropped.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Mapping
from typing import Any

from juggler._exceptions import InvalidRequestError
from juggler._types import Usage

__all__ = [
    "finish_reason",
    "gemini_schema",
    "generation_config",
    "is_blocked",
    "stable_call_id",
    "to_gemini_contents",
    "to_gemini_tool_config",
    "to_gemini_tools",
    "usage_from_gemini",
]

# Schema fields in content.proto (``message Schema``), JSON spelling.
_SCHEMA_KEYS = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "items",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
    }
)
# Gemini accepts only these string formats; others (uri, email, ...) are a 400.
_FORMATS = {
    "STRING": {"enum", "date-time"},
    "NUMBER": {"float", "double"},
    "INTEGER": {"int32", "int64"},
}
_BLOCKED = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)


def finish_reason(reason: str | None, has_calls: bool = False) -> str | None:
    """Gemini's ``finishReason`` as an OpenAI finish reason."""
    if reason is None:
        return None
    if reason == "STOP":
        return "tool_calls" if has_calls else "stop"
    if reason == "MAX_TOKENS":
        return "length"
    if reason in _BLOCKED:
        return "content_filter"
    return reason.lower()


def is_blocked(reason: str | None) -> bool:
    """True for finish reasons that mean the answer was withheld by a filter."""
    return reason in _BLOCKED


def usage_from_gemini(raw: Any) -> Usage | None:
    """Usage from ``usageMetadata``. Thinking tokens count as output, as Gemini bills them
    (and as OpenAI's ``completion_tokens`` includes reasoning), so input + output = total."""
    if not isinstance(raw, dict):
        return None
    output = None
    if raw.get("candidatesTokenCount") is not None or raw.get("thoughtsTokenCount") is not None:
        output = int(raw.get("candidatesTokenCount") or 0) + int(raw.get("thoughtsTokenCount") or 0)
    return Usage.of(
        raw.get("promptTokenCount"),
        output,
        raw.get("totalTokenCount"),
        cached=raw.get("cachedContentTokenCount"),
    )


def stable_call_id(response_id: str | None, index: int, name: str, args: Any) -> str:
    """Gemini gives function calls no id; make one that is the same on every replay."""
    seed = f"{response_id or ''}:{index}:{name}:{json.dumps(args, sort_keys=True)}"
    return "call_" + hashlib.sha256(seed.encode()).hexdigest()[:24]


def gemini_schema(schema: Any, defs: Mapping[str, Any] | None = None, depth: int = 0) -> Any:
    """A JSON schema rewritten to Gemini's ``Schema`` subset."""
    if not isinstance(schema, dict):
        return schema
    if depth > 32:
        raise InvalidRequestError("JSON schema nests too deeply (recursive $ref?) for Gemini")
    if defs is None:
        defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        if name not in defs:
            raise InvalidRequestError(f"JSON schema $ref {schema['$ref']!r} is not in $defs")
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return gemini_schema({**defs[name], **rest}, defs, depth + 1)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type":
            types = value if isinstance(value, list) else [value]
            if "null" in types:
                out["nullable"] = True
            real = [t for t in types if t != "null"]
            if real:
                out["type"] = str(real[0]).upper()
        elif key == "const":
            out["enum"] = [value]
        elif key == "properties":
            out[key] = {k: gemini_schema(v, defs, depth + 1) for k, v in value.items()}
        elif key == "items":
            out[key] = gemini_schema(value, defs, depth + 1)
        elif key in ("anyOf", "oneOf"):
            variants = [v for v in value if not (isinstance(v, dict) and v.get("type") == "null")]
            if len(variants) < len(value):
                out["nullable"] = True
            converted = [gemini_schema(v, defs, depth + 1) for v in variants]
            if len(converted) == 1:
                out.update({k: v for k, v in converted[0].items() if k not in out})
            elif converted:
                out["anyOf"] = converted
        elif key == "allOf" and isinstance(value, list) and len(value) == 1:
            out.update(gemini_schema(value[0], defs, depth + 1))
        elif key in _SCHEMA_KEYS:
            out[key] = value
    if "enum" in out:
        if all(isinstance(v, str) for v in out["enum"]):
            out["type"] = "STRING"
        else:
            del out["enum"]  # Gemini's enum holds strings only
    if "format" in out and out["format"] not in _FORMATS.get(out.get("type", ""), set()):
        del out["format"]
    return out


def _data_part(url: str) -> dict[str, Any]:
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        return {"inlineData": {"mimeType": header[5:].split(";")[0], "data": data}}
    mime = mimetypes.guess_type(url.split("?")[0])[0] or "image/jpeg"
    return {"fileData": {"mimeType": mime, "fileUri": url}}


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    out: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, str):
            out.extend(_parts(part))
        elif part.get("type") == "text":
            out.extend(_parts(part.get("text")))
        elif part.get("type") == "image_url":
            ref = part.get("image_url")
            out.append(_data_part(str(ref.get("url") if isinstance(ref, dict) else ref)))
        elif "type" not in part:
            out.append(part)  # already a Gemini part (inlineData, fileData, ...)
    return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(str(p.get("text", "")) for p in content or [] if isinstance(p, dict))


def _response_object(content: Any) -> dict[str, Any]:
    """A tool result as the JSON object ``functionResponse.response`` must be."""
    text = _text(content)
    try:
        value = json.loads(text)
    except ValueError:
        return {"result": text}
    return value if isinstance(value, dict) else {"result": value}


def _arguments(raw: Any) -> Any:
    if isinstance(raw, dict):
        return raw
    return json.loads(raw) if raw and str(raw).strip() else {}


def _append(out: list[dict[str, Any]], role: str, parts: list[dict[str, Any]]) -> None:
    if not parts:
        return
    if out and out[-1]["role"] == role:
        out[-1]["parts"].extend(parts)
    else:
        out.append({"role": role, "parts": list(parts)})


def to_gemini_contents(
    messages: list[dict[str, Any]],
    signatures: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """``(systemInstruction, contents)`` from OpenAI-shaped messages.

    ``signatures`` maps tool-call ids to the ``thoughtSignature`` Gemini sent with them:
    thinking models (Gemini 3) refuse a history whose function calls lost their signature.
    """
    signatures = signatures or {}
    names = {
        call.get("id"): (call.get("function") or {}).get("name")
        for m in messages
        if m["role"] == "assistant"
        for call in m.get("tool_calls") or []
    }
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        role = message["role"]
        if role in ("system", "developer"):
            system.append(_text(message.get("content")))
        elif role in ("tool", "function"):
            call_id = message.get("tool_call_id")
            name = names.get(call_id) or message.get("name")
            if not name:
                raise InvalidRequestError(
                    f"messages[{i}]: Gemini needs the function name of tool result "
                    f"{call_id!r}; no earlier assistant tool call has that id"
                )
            response: dict[str, Any] = {
                "name": name,
                "response": _response_object(message.get("content")),
            }
            if call_id:
                response["id"] = call_id
            _append(contents, "user", [{"functionResponse": response}])
        elif role == "assistant":
            parts = _parts(message.get("content"))
            for call in message.get("tool_calls") or []:
                fn = call.get("function") or {}
                fc: dict[str, Any] = {
                    "name": fn.get("name"),
                    "args": _arguments(fn.get("arguments")),
                }
                if call.get("id"):
                    fc["id"] = call["id"]
                part: dict[str, Any] = {"functionCall": fc}
                signature = signatures.get(call.get("id") or "") or (
                    (call.get("extra_content") or {}).get("google") or {}
                ).get("thought_signature")
                if signature:
                    part["thoughtSignature"] = signature
                parts.append(part)
            _append(contents, "model", parts)
        else:
            _append(contents, "user", _parts(message.get("content")))
    text = "\n\n".join(s for s in system if s)
    if not contents and text:
        return None, [{"role": "user", "parts": [{"text": text}]}]
    return ({"parts": [{"text": text}]} if text else None), contents


def to_gemini_tools(tools: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """OpenAI function tools as one Gemini ``Tool`` holding ``functionDeclarations``."""
    declarations = []
    for tool in tools or []:
        fn = tool.get("function") or {}
        decl: dict[str, Any] = {"name": fn["name"], "description": fn.get("description") or ""}
        if fn.get("parameters"):
            decl["parameters"] = gemini_schema(fn["parameters"])
        declarations.append(decl)
    return [{"functionDeclarations": declarations}] if declarations else []


def to_gemini_tool_config(choice: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """``tool_choice`` as ``toolConfig.functionCallingConfig`` (AUTO / ANY / NONE)."""
    if choice is None:
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        config: dict[str, Any] = {"mode": "ANY", "allowedFunctionNames": [name]}
    else:
        config = {"mode": {"required": "ANY", "none": "NONE"}.get(choice, "AUTO")}
    return {"functionCallingConfig": config}


def generation_config(
    *,
    temperature: float | None,
    max_tokens: int | None,
    top_p: float | None,
    stop: list[str] | None,
    seed: int | None,
    response_format: dict[str, Any] | None,
) -> dict[str, Any]:
    """``generationConfig`` from the OpenAI-style sampling and output options."""
    config: dict[str, Any] = {}
    if temperature is not None:
        config["temperature"] = temperature
    if max_tokens is not None:
        config["maxOutputTokens"] = max_tokens
    if top_p is not None:
        config["topP"] = top_p
    if stop:
        config["stopSequences"] = stop
    if seed is not None:
        config["seed"] = seed
    kind = (response_format or {}).get("type")
    if kind in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
    if kind == "json_schema":
        schema = ((response_format or {}).get("json_schema") or {}).get("schema")
        if schema:
            config["responseSchema"] = gemini_schema(schema)
    return config


# OpenAI's reasoning_effort as Gemini's thinkingLevel (the spec's ThinkingConfig field).
_THINKING_LEVELS = {"minimal": "minimal", "low": "low", "medium": "medium", "high": "high"}


def generation_extras(request: Any) -> dict[str, Any]:
    """``generationConfig`` fields for the OpenAI-style extras Gemini honours."""
    config: dict[str, Any] = {}
    if request.presence_penalty is not None:
        config["presencePenalty"] = request.presence_penalty
    if request.frequency_penalty is not None:
        config["frequencyPenalty"] = request.frequency_penalty
    if request.logprobs:
        config["responseLogprobs"] = True
        if request.top_logprobs is not None:
            config["logprobs"] = request.top_logprobs
    if request.reasoning_effort is not None:
        config["thinkingConfig"] = {"thinkingLevel": _THINKING_LEVELS[request.reasoning_effort]}
    return config
