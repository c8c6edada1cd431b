"""Checking a chat call before any request: messages and their parts, tool calls, tools and
tool_choice, sampling parameters and extra headers. :func:`chat_request` returns the
normalised request the engine routes."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from juggler._exceptions import InvalidRequestError
from juggler._params import AUTH_HEADERS
from juggler.providers.types import (
    ChatRequest,
)

__all__ = ["chat_request", "number", "positive_int"]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_TOOL_CHOICES = frozenset({"auto", "none", "required"})
_EFFORTS = frozenset({"minimal", "low", "medium", "high"})


def number(name: str, value: Any) -> float:
    """A float from an int or float (a bool or a string is a mistake, not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def positive_int(name: str, value: Any) -> int:
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
    presence_penalty: float | None = None,
    frequency_penalty: float | None = None,
    logprobs: bool | None = None,
    top_logprobs: int | None = None,
    n: int | None = None,
    reasoning_effort: str | None = None,
    user: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
) -> ChatRequest:
    """Check and normalise a chat call (the parameters are described in ``juggler._params``)."""
    extras = _openai_extras(
        presence_penalty=presence_penalty,
        frequency_penalty=frequency_penalty,
        logprobs=logprobs,
        top_logprobs=top_logprobs,
        n=n,
        reasoning_effort=reasoning_effort,
        user=user,
    )
    if temperature is not None:
        temperature = number("temperature", temperature)
        if not 0.0 <= temperature <= 2.0:
            raise InvalidRequestError(f"temperature must be between 0 and 2, got {temperature}")
    if max_tokens is not None:
        max_tokens = positive_int("max_tokens", max_tokens)
    if top_p is not None:
        top_p = number("top_p", top_p)
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
        **extras,
        headers=_headers(headers),
        extra_body=dict(extra_body or {}),
    )


def _openai_extras(
    *,
    presence_penalty: float | None,
    frequency_penalty: float | None,
    logprobs: bool | None,
    top_logprobs: int | None,
    n: int | None,
    reasoning_effort: str | None,
    user: str | None,
) -> dict[str, Any]:
    """Check the OpenAI-style extras; which wire honours which is ``_params.check_wires``."""
    out: dict[str, Any] = {}
    for name, value in (
        ("presence_penalty", presence_penalty),
        ("frequency_penalty", frequency_penalty),
    ):
        if value is not None:
            value = number(name, value)
            if not -2.0 <= value <= 2.0:
                raise InvalidRequestError(f"{name} must be between -2 and 2, got {value}")
            out[name] = value
    if logprobs is not None:
        if not isinstance(logprobs, bool):
            raise InvalidRequestError(f"logprobs must be True or False, got {logprobs!r}")
        out["logprobs"] = logprobs or None
    if top_logprobs is not None:
        if (
            isinstance(top_logprobs, bool)
            or not isinstance(top_logprobs, int)
            or not (0 <= top_logprobs <= 20)
        ):
            raise InvalidRequestError(
                f"top_logprobs must be an integer 0..20, got {top_logprobs!r}"
            )
        if not logprobs:
            raise InvalidRequestError("top_logprobs needs logprobs=True")
        out["top_logprobs"] = top_logprobs
    if n is not None and positive_int("n", n) != 1:
        raise InvalidRequestError(
            f"n={n}: Juggler returns one answer per call (each from the target that answered); "
            "make n calls instead (ChatJuggler does this for you)"
        )
    if reasoning_effort is not None:
        if reasoning_effort not in _EFFORTS:
            raise InvalidRequestError(
                f"reasoning_effort must be one of {sorted(_EFFORTS)}, got {reasoning_effort!r}"
            )
        out["reasoning_effort"] = reasoning_effort
    if user is not None:
        if not isinstance(user, str) or not user:
            raise InvalidRequestError(f"user must be a non-empty string, got {user!r}")
        out["user"] = user
    return out


def _headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Per-call HTTP headers: strings only, and never one that would replace the auth."""
    if not headers:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidRequestError("headers must be a dict of strings")
    out: dict[str, str] = {}
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidRequestError("headers must be a dict of strings")
        if key.lower() in AUTH_HEADERS:
            raise InvalidRequestError(
                f"header {key!r} would replace the provider's credentials; set api_key instead"
            )
        out[key] = value
    return out


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
