"""What a ``ChatJuggler`` call sends: the model's defaults (its fields, ``model_kwargs``,
``extra_body``, ``default_headers``) merged with the call's own keyword arguments, checked
before any request.

Juggler's own ``chat`` refuses, before any request, a parameter a planned target's wire cannot
honour; :func:`check_chain_wires` runs the same check at construction, so a bad default fails
when the model is built rather than at its first call.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, Protocol

from langchain_core.messages import BaseMessage

from juggler import InvalidRequestError, Juggler, Target
from juggler._params import CHAT_PARAMS, check_wires, unknown_keyword_error

from ._convert import to_openai_messages

__all__ = ["call_n", "call_request", "check_chain_wires", "default_params"]

# Per-call keyword arguments: the chat parameters (declared once, in juggler._params), the
# routing options, ``model`` (a target to try first) and LangChain's ``stream_usage``.
_ROUTING_PARAMS = frozenset({"targets", "tier", "preferred_provider", "preferred_model"})
_CALL_PARAMS = frozenset(CHAT_PARAMS) | _ROUTING_PARAMS | {"model", "stream_usage"}
# The ChatJuggler fields sent as chat parameters on every call (a per-call value wins).
_DEFAULT_FIELDS = (
    "temperature",
    "max_tokens",
    "top_p",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "logprobs",
    "top_logprobs",
    "reasoning_effort",
)


class ChatDefaults(Protocol):
    """What these functions read of a ``ChatJuggler``."""

    model: str | None
    stop: list[str] | None
    model_kwargs: dict[str, Any]
    extra_body: dict[str, Any] | None
    default_headers: dict[str, str] | None

    @property
    def client(self) -> Juggler: ...

    def call_targets(self) -> list[str] | None: ...

    def _chain(self) -> list[Target]: ...


def default_params(llm: ChatDefaults) -> dict[str, Any]:
    """The request parameters set on the model (fields, model_kwargs, extra_body)."""
    params: dict[str, Any] = {name: getattr(llm, name) for name in _DEFAULT_FIELDS}
    params["stop"] = llm.stop
    extra: dict[str, Any] = {}
    for key, value in llm.model_kwargs.items():
        if key in CHAT_PARAMS and key not in ("extra_body", "headers"):
            params[key] = value  # as ChatOpenAI: a known parameter in model_kwargs
        else:
            extra[key] = value
    extra.update(llm.extra_body or {})
    params["extra_body"] = extra or None
    params["headers"] = llm.default_headers
    return {k: v for k, v in params.items() if v is not None and v != []}


def call_request(
    llm: ChatDefaults,
    messages: Sequence[BaseMessage],
    stop: list[str] | None,
    kwargs: dict[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The OpenAI-shaped messages and the keyword arguments for Juggler's chat call (whose
    own checks then refuse, before any request, what a planned target cannot honour)."""
    for key in kwargs:
        if key not in _CALL_PARAMS:
            raise unknown_keyword_error(key, _CALL_PARAMS, where="ChatJuggler (per call)")
    params = default_params(llm)
    if stop is not None:
        params["stop"] = stop
    extra = kwargs.pop("extra_body", None)
    params.update(kwargs)
    if extra:
        params["extra_body"] = {**params.get("extra_body", {}), **extra}
    params = {k: v for k, v in params.items() if v is not None and v != []}
    params.pop("stream_usage", None)
    params.pop("n", None)
    model = params.pop("model", None) or llm.model
    if model is not None:
        params["model"] = _resolve_model(llm._chain(), model)
    if "targets" not in params and (targets := llm.call_targets()) is not None:
        params["targets"] = targets
    return to_openai_messages(messages), params


def check_chain_wires(llm: ChatDefaults, params: dict[str, Any]) -> None:
    """Refuse, at construction, a default parameter a target of the chain cannot honour."""
    providers = llm.client.providers
    check_wires(params, [(str(t), providers.get(t.provider)) for t in llm._chain()])


def call_n(default: int, kwargs: dict[str, Any]) -> int:
    """How many answers this call asks for (``n``, each a routed call of its own)."""
    n = kwargs.get("n", default)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidRequestError(f"n must be a positive integer, got {n!r}")
    return n


def _resolve_model(chain: Sequence[Target], model: str) -> str:
    """A per-call ``model=``: a target string, or a model id of a chain target."""
    for target in chain:
        if target.model == model:
            return str(target)
    if "/" not in model:
        names = ", ".join(str(t) for t in chain)
        close = difflib.get_close_matches(model, [t.model for t in chain], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InvalidRequestError(
            f"model={model!r} is not a model of this chain ({names}){hint}; "
            "pass a target string such as 'openai/gpt-4.1-mini'"
        )
    return model
