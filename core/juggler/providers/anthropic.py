"""The Anthropic wire format: the Messages API, plain and streamed (SSE).

``POST {base}/v1/messages`` with ``x-api-key`` and ``anthropic-version`` headers. Requests are
converted from the OpenAI shape by ``_anthropic_convert``; this module builds the payload,
parses answers and turns the stream's events into ``ChatDelta`` objects.

Stream events: ``message_start`` (model, prompt usage), ``content_block_start`` (a tool_use
block's id and name), ``content_block_delta`` (``text_delta``; ``input_json_delta`` becomes a
tool-call fragment; thinking and signature deltas are skipped), ``message_delta`` (stop reason,
output usage), ``message_stop``, ``ping``. An ``event: error`` frame (for example
``overloaded_error`` inside a 200 stream) is classified like an HTTP error of the matching
status, so ``overloaded_error`` raises ``OverloadedError`` exactly as a 529 does.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from juggler._exceptions import ContentPolicyError, InvalidResponseError
from juggler._params import refuse_unsupported
from juggler._types import ToolCall, Usage
from juggler.providers._anthropic_convert import (
    DEFAULT_MAX_TOKENS,
    finish_reason,
    json_tool,
    to_anthropic_messages,
    to_anthropic_tool_choice,
    to_anthropic_tools,
    usage_from_anthropic,
)
from juggler.providers._classify import classify
from juggler.providers._shapes import AnthropicEvent, AnthropicMessage
from juggler.providers.base import BaseProvider
from juggler.providers.types import ChatDelta, ChatRequest, ChatResult, ToolCallDelta

__all__ = ["ANTHROPIC_VERSION", "ERROR_STATUS", "AnthropicProvider"]

ANTHROPIC_VERSION = "2023-06-01"

# The HTTP status Anthropic documents for each error type, so an error that arrives as an
# SSE frame is classified exactly like the same error arriving as an HTTP answer.
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


class AnthropicProvider(BaseProvider):
    """Chat over Anthropic's Messages API (tools, images, JSON output by a forced tool)."""

    wire = "anthropic"

    def auth_headers(self) -> dict[str, str]:
        """``x-api-key`` (not a bearer token) plus the API version header."""
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if self._api_key:
            headers["x-api-key"] = self._api_key
        return headers

    def chat_payload(self, model: str, request: ChatRequest, stream: bool) -> dict[str, Any]:
        """The JSON body of ``POST /v1/messages``."""
        refuse_unsupported(request, self.wire, f"{getattr(self, 'name', self.wire)}/{model}")
        system, messages = to_anthropic_messages(request.messages)
        payload: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        }
        if system:
            payload["system"] = system
        if request.temperature is not None:
            # Anthropic's range is 0..1 where OpenAI's is 0..2; out of range is a 400 that
            # would stop the whole chain, so clamp.
            payload["temperature"] = min(float(request.temperature), 1.0)
        elif request.top_p is not None:
            # Recent Claude models refuse temperature and top_p together; temperature wins.
            payload["top_p"] = request.top_p
        if request.stop:
            payload["stop_sequences"] = request.stop
        if request.user:
            payload["metadata"] = {"user_id": request.user}
        tools = to_anthropic_tools(request.tools)
        choice = to_anthropic_tool_choice(request.tool_choice)
        forced = json_tool(request.response_format)
        if forced is not None:
            tools.append(forced)
            # Alone (or with tools the caller switched off) the JSON tool is forced; beside
            # usable tools the model must call one: the caller's own or the JSON answer.
            if not request.tools or (choice and choice["type"] == "none"):
                choice = {"type": "tool", "name": forced["name"]}
            elif choice is None or choice["type"] == "auto":
                choice = {"type": "any"}
        if tools:
            payload["tools"] = tools
            if choice is not None:
                payload["tool_choice"] = choice
        if stream:
            payload["stream"] = True
        payload.update(request.extra_body)
        return payload

    def _json_tool_name(self, request: ChatRequest) -> str | None:
        forced = json_tool(request.response_format)
        return forced["name"] if forced else None

    async def chat(self, model: str, request: ChatRequest) -> ChatResult:
        """``POST /v1/messages`` and parse the content blocks."""
        body = await self.post_json(
            "/v1/messages",
            self.chat_payload(model, request, False),
            model=model,
            headers=request.headers or None,
        )
        AnthropicMessage.model_validate(body)
        json_name = self._json_tool_name(request)
        texts: list[str] = []
        calls: list[ToolCall] = []
        json_answer: str | None = None
        try:
            for block in body["content"]:
                kind = block.get("type")
                if kind == "text":
                    texts.append(block.get("text") or "")
                elif kind == "tool_use" and block.get("name") == json_name:
                    json_answer = json.dumps(block.get("input") or {}, ensure_ascii=False)
                elif kind == "tool_use":
                    calls.append(
                        ToolCall(id=block["id"], name=block["name"], arguments=block["input"])
                    )
        except (KeyError, TypeError, ValueError) as exc:
            raise self._error(
                InvalidResponseError,
                f"unexpected messages answer shape: {exc!r}",
                model,
                status_code=200,
            ) from exc
        if body.get("stop_reason") == "refusal":
            raise self._refused(model)
        reason = finish_reason(body.get("stop_reason"))
        if json_answer is not None and not calls:
            reason = "stop"  # the forced JSON tool is how the answer ends, not a tool call
        return ChatResult(
            # Text the model wrote before its JSON answer is preamble: the caller asked for JSON.
            content=json_answer if json_answer is not None else "".join(texts),
            model=body.get("model") or model,
            tool_calls=calls,
            usage=usage_from_anthropic(body.get("usage")) or Usage(),
            finish_reason=reason,
            raw=body,
        )

    async def stream_chat(self, model: str, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """SSE chat: text and tool-call deltas, usage from the first and last events."""
        payload = self.chat_payload(model, request, True)
        json_name = self._json_tool_name(request)
        json_blocks: set[int] = set()
        tool_index: dict[int, int] = {}  # content-block index -> tool-call ordinal
        start_usage: Usage | None = None
        served: str | None = None
        # Closing the event source when the caller stops early closes the
        # connection now, not whenever the garbage collector gets to it.
        async with contextlib.aclosing(
            self.post_sse("/v1/messages", payload, model=model, headers=request.headers or None)
        ) as events:
            async for event in events:
                if not event.data.strip():
                    continue
                data = self._event_json(event.data, model)
                AnthropicEvent.model_validate(data)
                kind = data.get("type") or event.event
                if kind == "error" or event.event == "error":
                    raise self._stream_error(data, event.data, model)
                if kind == "message_stop":
                    await self.finish_sse(events)
                    return
                delta: ChatDelta | None = None
                if kind == "message_start":
                    message = data.get("message") or {}
                    served = message.get("model") or served
                    usage = usage_from_anthropic(message.get("usage"))
                    start_usage = usage
                    delta = ChatDelta(usage=usage)
                elif kind == "content_block_start":
                    block = data.get("content_block") or {}
                    index = int(data.get("index", 0))
                    if block.get("type") == "tool_use" and block.get("name") == json_name:
                        json_blocks.add(index)
                    elif block.get("type") == "tool_use":
                        tool_index[index] = len(tool_index)
                        call = ToolCallDelta(
                            index=tool_index[index], id=block.get("id"), name=block.get("name")
                        )
                        delta = ChatDelta(tool_calls=[call])
                    elif block.get("type") == "text" and block.get("text"):
                        delta = ChatDelta(text=block["text"])
                elif kind == "content_block_delta":
                    delta = self._block_delta(data, json_blocks, tool_index)
                elif kind == "message_delta":
                    stop = (data.get("delta") or {}).get("stop_reason")
                    if stop == "refusal":
                        # Before any text this falls back; after some, the stream is cut
                        # and the caller is told (never a silently truncated answer).
                        raise self._refused(model)
                    usage = usage_from_anthropic(data.get("usage"), start_usage)
                    reason = finish_reason(stop)
                    if json_blocks and not tool_index and reason == "tool_calls":
                        reason = "stop"
                    delta = ChatDelta(usage=usage, finish_reason=reason)
                # ping, content_block_stop and unknown event types carry nothing to deliver
                if delta is not None:
                    # Every delta names the served model, so the stream reports it, not the alias.
                    delta.model = served
                    yield delta
        raise self.truncated(model, "message_stop")

    def _refused(self, model: str) -> ContentPolicyError:
        """Claude's safety classifiers stopped the answer (``stop_reason: "refusal"``)."""
        error: ContentPolicyError = self._error(
            ContentPolicyError,
            "Claude declined to answer (stop_reason=refusal)",
            model,
            status_code=200,
        )
        return error

    @staticmethod
    def _block_delta(
        data: dict[str, Any], json_blocks: set[int], tool_index: dict[int, int]
    ) -> ChatDelta | None:
        delta = data.get("delta") or {}
        index = int(data.get("index", 0))
        kind = delta.get("type")
        if kind == "text_delta":
            return ChatDelta(text=delta.get("text") or "")
        if kind == "input_json_delta":
            fragment = delta.get("partial_json") or ""
            if index in json_blocks:
                return ChatDelta(text=fragment) if fragment else None
            if index in tool_index and fragment:
                return ChatDelta(
                    tool_calls=[ToolCallDelta(index=tool_index[index], arguments=fragment)]
                )
        return None  # thinking_delta, signature_delta, citations_delta

    def _event_json(self, text: str, model: str) -> dict[str, Any]:
        # Not BaseProvider.sse_json: an error frame must be classified by its type here,
        # not turned into a generic "error inside a 200".
        try:
            data = json.loads(text)
        except ValueError as exc:
            snippet = " ".join(text.split())[:80]
            raise self._error(
                InvalidResponseError, f"stream event is not JSON: {snippet!r}", model
            ) from exc
        if not isinstance(data, dict):
            raise self._error(InvalidResponseError, "stream event is not a JSON object", model)
        return data

    def _stream_error(self, data: dict[str, Any], text: str, model: str) -> Exception:
        kind = str((data.get("error") or {}).get("type") or "api_error")
        return classify(
            ERROR_STATUS.get(kind, 500),
            {},
            text,
            provider=self.name,
            model=model,
            secrets=self.secret_values,
        )
