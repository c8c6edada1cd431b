"""The Cohere v2 wire format: chat (plain and SSE), embed and rerank.

* ``POST /v2/chat``: messages are OpenAI-like (``tool_calls`` on assistant turns, tool results
  as role ``tool`` with ``tool_call_id``). The answer is ``message.content[].text`` and
  ``message.tool_calls``, with ``finish_reason`` in capitals (``COMPLETE``, ``TOOL_CALL`` …)
  and ``usage.tokens`` / ``usage.billed_units``.
* Streaming sends typed events: ``content-delta``, ``tool-call-start``, ``tool-call-delta``,
  ``message-end`` (finish reason and usage), then ``data: [DONE]``.
* ``POST /v2/embed`` (``texts``, ``input_type`` search_document/search_query,
  ``embedding_types: ["float"]`` → ``embeddings.float``) and ``POST /v2/rerank`` (``query``,
  ``documents``, ``top_n`` → ``results[{index, relevance_score}]``).

Errors are ``{"id": ..., "message": ...}``; ``classify`` reads them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from juggler._exceptions import InvalidResponseError
from juggler._params import refuse_unsupported
from juggler._types import Usage
from juggler.providers._shapes import CohereChatAnswer, CohereEmbeddings, RerankAnswer
from juggler.providers.base import BaseProvider
from juggler.providers.openai import ordered_vectors, tool_calls_of
from juggler.providers.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    EmbedRequest,
    EmbedResult,
    RerankRequest,
    RerankResult,
    ToolCallDelta,
)

__all__ = ["CohereProvider", "cohere_messages", "cohere_usage", "finish_reason_of"]

# Cohere's finish reasons in the OpenAI vocabulary every other answer uses.
_FINISH = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_calls",
    "ERROR": "error",
    "TIMEOUT": "error",
}
_INPUT_TYPES = {"query": "search_query", "document": "search_document"}


def finish_reason_of(raw: Any) -> str | None:
    """``COMPLETE`` → ``stop``, ``MAX_TOKENS`` → ``length``, ``TOOL_CALL`` → ``tool_calls``."""
    if not raw:
        return None
    return _FINISH.get(str(raw), str(raw).lower())


def cohere_usage(raw: Any) -> Usage | None:
    """Usage from ``usage.tokens`` (what the model saw), else ``usage.billed_units``."""
    if not isinstance(raw, dict):
        return None
    counts = raw.get("tokens") or raw.get("billed_units")
    if not isinstance(counts, dict):
        return None
    return Usage.of(counts.get("input_tokens"), counts.get("output_tokens"))


def _message(message: dict[str, Any]) -> dict[str, Any]:
    role = message["role"]
    content = message.get("content")
    if role in ("system", "developer"):
        return {"role": "system", "content": _text_of(content)}
    if role in ("tool", "function"):
        call_id = message.get("tool_call_id") or message.get("name") or ""
        return {"role": "tool", "tool_call_id": call_id, "content": _text_of(content)}
    if role == "assistant":
        out: dict[str, Any] = {"role": "assistant"}
        if content:  # Cohere's schema has no null content
            out["content"] = _text_of(content)
        if message.get("tool_calls"):
            out["tool_calls"] = [
                {
                    "id": tc.get("id"),
                    "type": "function",
                    "function": {
                        "name": tc["function"]["name"],
                        "arguments": tc["function"].get("arguments") or "{}",
                    },
                }
                for tc in message["tool_calls"]
            ]
        return out
    if isinstance(content, list):
        parts = [
            {"type": "image_url", "image_url": p["image_url"]}
            if p.get("type") == "image_url"
            else {"type": "text", "text": p.get("text", "")}
            for p in content
            if isinstance(p, dict)
        ]
        return {"role": "user", "content": parts}
    return {"role": "user", "content": content or ""}


def _text_of(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""


def cohere_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI chat messages in Cohere v2's shape."""
    return [_message(m) for m in messages]


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    fn = tool["function"]
    out: dict[str, Any] = {
        "name": fn["name"],
        "parameters": fn.get("parameters") or {"type": "object", "properties": {}},
    }
    if fn.get("description"):
        out["description"] = fn["description"]
    return {"type": "function", "function": out}


def _response_format(fmt: dict[str, Any]) -> dict[str, Any]:
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        return {"type": "json_object", "json_schema": schema} if schema else {"type": "json_object"}
    return {"type": fmt["type"]}


class CohereProvider(BaseProvider):
    """Cohere chat, embed and rerank over the v2 API."""

    wire = "cohere"

    def chat_payload(self, model: str, request: ChatRequest, stream: bool) -> dict[str, Any]:
        """The JSON body of ``POST /v2/chat``."""
        refuse_unsupported(request, self.wire, f"{getattr(self, 'name', self.wire)}/{model}")
        payload: dict[str, Any] = {
            "model": model,
            "messages": cohere_messages(request.messages),
            "stream": stream,
        }
        tools = [_tool(t) for t in request.tools or []]
        choice = request.tool_choice
        if isinstance(choice, dict):  # one named function: offer only it, and require it
            name = (choice.get("function") or {}).get("name")
            tools = [t for t in tools if t["function"]["name"] == name] or tools
            choice = "required"
        if tools and choice != "none":
            payload["tools"] = tools
        if choice == "required":
            payload["tool_choice"] = "REQUIRED"
        optional = {
            # Cohere's temperature scale ends at 1 and p must stay inside (0.01, 0.99); an
            # OpenAI-range value would be refused with a 400 and stop the whole chain.
            "temperature": min(request.temperature, 1.0)
            if request.temperature is not None
            else None,
            "p": min(max(request.top_p, 0.01), 0.99) if request.top_p is not None else None,
            "max_tokens": request.max_tokens,
            "stop_sequences": request.stop or None,
            "seed": request.seed,
            "presence_penalty": request.presence_penalty,
            "frequency_penalty": request.frequency_penalty,
            "logprobs": request.logprobs,
            "response_format": _response_format(request.response_format)
            if request.response_format
            else None,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        payload.update(request.extra_body)
        return payload

    async def chat(self, model: str, request: ChatRequest) -> ChatResult:
        """``POST /v2/chat`` and parse the message."""
        body = await self.post_json(
            "/v2/chat",
            self.chat_payload(model, request, False),
            model=model,
            headers=request.headers or None,
        )
        CohereChatAnswer.model_validate(body)
        try:
            message = body["message"]
            text = "".join(
                part.get("text", "")
                for part in message.get("content") or []
                if part.get("type", "text") == "text"
            )
            calls = tool_calls_of(message.get("tool_calls"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._error(
                InvalidResponseError,
                f"unexpected chat answer shape: {exc!r}",
                model,
                status_code=200,
            ) from exc
        return ChatResult(
            content=text,
            model=model,
            tool_calls=calls,
            usage=cohere_usage(body.get("usage")) or Usage(),
            finish_reason=finish_reason_of(body.get("finish_reason")),
            raw=body,
        )

    async def stream_chat(self, model: str, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """SSE chat: text and tool-call deltas, then finish reason and usage."""
        payload = self.chat_payload(model, request, True)
        # Closing the event source when the caller stops early closes the
        # connection now, not whenever the garbage collector gets to it.
        async with contextlib.aclosing(
            self.post_sse("/v2/chat", payload, model=model, headers=request.headers or None)
        ) as events:
            async for event in events:
                data = event.data.strip()
                if data == "[DONE]":
                    await self.finish_sse(events)
                    return
                if not data:
                    continue
                chunk = self.sse_json(event, model)
                kind = chunk.get("type") or event.event
                delta = (chunk.get("delta") or {}).get("message") or {}
                if kind == "content-delta":
                    yield ChatDelta(
                        text=(delta.get("content") or {}).get("text") or "", model=model
                    )
                elif kind in ("tool-call-start", "tool-call-delta"):
                    call = delta.get("tool_calls") or {}
                    fn = call.get("function") or {}
                    fragment = ToolCallDelta(
                        index=int(chunk.get("index") or 0),
                        id=call.get("id"),
                        name=fn.get("name"),
                        arguments=fn.get("arguments") or "",
                    )
                    yield ChatDelta(tool_calls=[fragment], model=model)
                elif kind == "message-end":
                    end = chunk.get("delta") or {}
                    yield ChatDelta(
                        usage=cohere_usage(end.get("usage")),
                        finish_reason=finish_reason_of(end.get("finish_reason")),
                        model=model,
                    )
                    await self.finish_sse(events)
                    return
        raise self.truncated(model, "message-end")

    def embed_payload(self, model: str, request: EmbedRequest) -> dict[str, Any]:
        """The JSON body of ``POST /v2/embed``; ``input_type`` is required by Cohere."""
        payload: dict[str, Any] = {
            "model": model,
            "texts": request.texts,
            "input_type": _INPUT_TYPES[request.input_type or "document"],
            "embedding_types": ["float"],
        }
        if request.dimensions is not None:
            payload["output_dimension"] = request.dimensions
        return payload

    async def embed(self, model: str, request: EmbedRequest) -> EmbedResult:
        """Embed one batch (at most 96 texts); vectors come back in input order."""
        body = await self.post_json("/v2/embed", self.embed_payload(model, request), model=model)
        CohereEmbeddings.model_validate(body)
        try:
            vectors = ordered_vectors(
                body["embeddings"]["float"], len(request.texts), by_index=False
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise self._error(
                InvalidResponseError, f"unexpected embed answer: {exc!r}", model
            ) from exc
        billed = (body.get("meta") or {}).get("billed_units") or {}
        return EmbedResult(vectors=vectors, model=model, usage=Usage.of(billed.get("input_tokens")))

    def rerank_payload(self, model: str, request: RerankRequest) -> dict[str, Any]:
        """The JSON body of ``POST /v2/rerank``."""
        payload: dict[str, Any] = {
            "model": model,
            "query": request.query,
            "documents": request.documents,
        }
        if request.top_k is not None:
            payload["top_n"] = request.top_k
        return payload

    async def rerank(self, model: str, request: RerankRequest) -> RerankResult:
        """Order the documents by relevance to the query."""
        body = await self.post_json("/v2/rerank", self.rerank_payload(model, request), model=model)
        RerankAnswer.model_validate(body)
        ranking = self.parse_ranking(
            body.get("results"), "relevance_score", len(request.documents), model
        )
        return RerankResult(ranking=ranking, model=model)
