"""The chat parameters, declared once: names, types, defaults and what each wire can honour.

``Juggler.chat``/``achat``, ``juggler._validate.chat_request`` and both framework adapters
(``langchain_juggler``, ``llamaindex_juggler``) read their parameter list from here, so a new
parameter is added in one place. :func:`unknown_keyword_error` gives every entry point the
same did-you-mean for a misspelt keyword, and :func:`check_wires` refuses, before any
request, a parameter that a target's wire format cannot honour (Juggler never drops one
silently).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict

from juggler._exceptions import InvalidRequestError

__all__ = [
    "AUTH_HEADERS",
    "CHAT_PARAMS",
    "CHAT_PARAM_DOCS",
    "PORTABLE_PARAMS",
    "WIRE_CHAT_PARAMS",
    "ChatParams",
    "ReasoningEffort",
    "check_wires",
    "refuse_unsupported",
    "unknown_keyword_error",
    "unsupported_params",
]

ReasoningEffort = Literal["minimal", "low", "medium", "high"]


class ChatParams(TypedDict, total=False):
    """Per-call chat parameters (every one optional; ``None`` means the vendor's default)."""

    temperature: float
    max_tokens: int
    top_p: float
    stop: str | list[str]
    tools: list[dict[str, Any]]
    tool_choice: str | dict[str, Any]
    response_format: dict[str, Any]
    seed: int
    presence_penalty: float
    frequency_penalty: float
    logprobs: bool
    top_logprobs: int
    n: int
    reasoning_effort: ReasoningEffort
    user: str
    headers: dict[str, str]
    extra_body: dict[str, Any]


#: Name -> one-line description (the README and the adapters' docstrings use these).
CHAT_PARAM_DOCS: dict[str, str] = {
    "temperature": "sampling temperature, 0..2 (clamped to 1 on wires whose scale ends at 1)",
    "max_tokens": "most tokens to generate",
    "top_p": "nucleus sampling, in (0, 1]",
    "stop": "a stop string or a list of them",
    "tools": "OpenAI function-tool dicts",
    "tool_choice": "'auto', 'none', 'required' or a named function",
    "response_format": "{'type': 'json_object' | 'json_schema' | 'text', ...}",
    "seed": "an integer seed, where the vendor supports one",
    "presence_penalty": "-2..2 (OpenAI-compatible, Gemini, Cohere)",
    "frequency_penalty": "-2..2 (OpenAI-compatible, Gemini, Cohere)",
    "logprobs": "return token log-probabilities (OpenAI-compatible, Gemini, Cohere)",
    "top_logprobs": "0..20 alternatives per token; needs logprobs (OpenAI-compatible, Gemini)",
    "n": "answers per call; Juggler returns one answer, so only 1 is accepted",
    "reasoning_effort": "'minimal', 'low', 'medium' or 'high' (OpenAI-compatible, Gemini)",
    "user": "an end-user id for abuse monitoring (OpenAI-compatible, Anthropic)",
    "headers": "extra HTTP headers for this call (never the auth headers)",
    "extra_body": "vendor-specific JSON merged into the request body as-is",
}

#: Every chat parameter name, in declaration order.
CHAT_PARAMS: tuple[str, ...] = tuple(ChatParams.__annotations__)
assert set(CHAT_PARAMS) == set(CHAT_PARAM_DOCS), "document every chat parameter"

#: Parameters every wire format honours (or maps); the others are listed per wire below.
PORTABLE_PARAMS: frozenset[str] = frozenset(
    {
        "temperature",
        "max_tokens",
        "top_p",
        "stop",
        "tools",
        "tool_choice",
        "response_format",
        "seed",
        "n",
        "headers",
        "extra_body",
    }
)
_OPTIONAL = frozenset(CHAT_PARAMS) - PORTABLE_PARAMS

#: Per wire format: the non-portable parameters its payload builder forwards (from the
#: OpenAPI specs in shared/wire/specs). A wire not listed here (a custom or fake provider)
#: is assumed to take them all, unless its provider class sets ``chat_params``.
WIRE_CHAT_PARAMS: dict[str, frozenset[str]] = {
    "openai": _OPTIONAL,
    "anthropic": frozenset({"user"}),  # -> metadata.user_id
    "google": frozenset(
        {"presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "reasoning_effort"}
    ),
    "cohere": frozenset({"presence_penalty", "frequency_penalty", "logprobs"}),
}

# The auth headers a per-call header must never replace.
AUTH_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "x-goog-api-key"})


def unknown_keyword_error(
    name: str, valid: Iterable[str], *, where: str = "this call"
) -> InvalidRequestError:
    """An ``InvalidRequestError`` for an unknown keyword, with the closest valid name."""
    names = sorted(set(valid))
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return InvalidRequestError(
        f"{where} got an unknown argument {name!r}{hint} Valid: {', '.join(names)}"
    )


def _given(request: Any) -> list[str]:
    """The non-portable parameters ``request`` (a ChatRequest or a mapping) sets."""
    if isinstance(request, Mapping):
        return [p for p in sorted(_OPTIONAL) if request.get(p) not in (None, False)]
    return [p for p in sorted(_OPTIONAL) if getattr(request, p, None) not in (None, False)]


def unsupported_params(
    request: Any, wire: str, supported: Iterable[str] | None = None
) -> list[str]:
    """The parameters ``request`` sets that wire format ``wire`` cannot honour."""
    if supported is None:
        if wire not in WIRE_CHAT_PARAMS:
            return []
        supported = WIRE_CHAT_PARAMS[wire]
    allowed = frozenset(supported)
    return [p for p in _given(request) if p not in allowed]


def check_wires(request: Any, targets: Iterable[tuple[str, Any]]) -> None:
    """Refuse, before any request, a parameter some target of the chain cannot honour.

    ``targets``: (target string, provider instance) pairs; the provider's ``wire`` (and its
    optional ``chat_params`` set) says what it takes. Raises ``InvalidRequestError`` naming
    every target and parameter concerned.
    """
    problems = []
    for name, provider in targets:
        wire = str(getattr(provider, "wire", "") or "")
        missing = unsupported_params(request, wire, getattr(provider, "chat_params", None))
        if missing:
            problems.append(f"{name} ({wire} wire): {', '.join(missing)}")
    if problems:
        raise InvalidRequestError(
            "these targets cannot honour some chat parameters, and Juggler never drops one "
            "silently: " + "; ".join(problems) + ". Remove the parameter or those targets"
        )


def refuse_unsupported(request: Any, wire: str, target: str) -> None:
    """The payload builders' safety net: the same refusal for one target."""
    missing = unsupported_params(request, wire)
    if missing:
        raise InvalidRequestError(
            f"{target} ({wire} wire) cannot honour {', '.join(missing)}; Juggler never drops "
            "a chat parameter silently"
        )
