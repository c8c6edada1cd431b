"""The Google Gemini wire format: generateContent, streamGenerateContent (SSE) and
batchEmbedContents, under ``{base}/v1beta/models/{model}:{method}``.

The key travels in the ``x-goog-api-key`` header, never in the URL (URLs end up in logs,
proxies and tracebacks). Requests are converted from the OpenAI shape by ``_google_convert``.

Gemini quirks handled here:

* a bad key is answered with ``400 INVALID_ARGUMENT`` (reason ``API_KEY_INVALID``); it is
  classified as an ``AuthenticationError`` so the chain moves on instead of stopping;
* a 429's ``RetryInfo.retryDelay`` (``"34.4s"``) in the body becomes ``retry_after``;
* a blocked prompt (``promptFeedback.blockReason``) or a candidate withheld by a filter with
  no content (``finishReason: SAFETY`` ...) raises :class:`~juggler.ContentPolicyError`
  (``ContentBlockedError`` is its old name): another provider may well answer, so the chain
  falls back, but retrying Gemini would be blocked again, so it is not transient;
* function calls carry no id: a stable one is derived from the response id, position, name
  and arguments. Thinking models attach a ``thoughtSignature`` to function calls that must be
  sent back with them; the provider remembers the last signatures by call id.
"""

from __future__ import annotations

import contextlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import httpx

from juggler._exceptions import ContentPolicyError, InvalidResponseError
from juggler._params import refuse_unsupported
from juggler._types import ToolCall, Usage
from juggler.providers._classify import classify
from juggler.providers._google_convert import (
    finish_reason,
    generation_config,
    generation_extras,
    is_blocked,
    stable_call_id,
    to_gemini_contents,
    to_gemini_tool_config,
    to_gemini_tools,
    usage_from_gemini,
)
from juggler.providers._shapes import GeminiResponse
from juggler.providers.base import BaseProvider
from juggler.providers.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    EmbedRequest,
    EmbedResult,
    ToolCallDelta,
)

__all__ = ["ContentBlockedError", "GoogleProvider"]

_SIGNATURES_KEPT = 1024
_EMPTY_FAILURES = frozenset({"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL"})


# The old name of Gemini's refusal, kept so existing ``except`` clauses still work: every
# vendor's content-policy refusal is now one class.
ContentBlockedError = ContentPolicyError


def _retry_delay(body_text: str) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` detail (``"retryDelay": "34.4s"``)."""
    try:
        details = json.loads(body_text)["error"]["details"]
        for detail in details:
            if str(detail.get("@type", "")).endswith("RetryInfo"):
                return float(str(detail["retryDelay"]).rstrip("s"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return None


class GoogleProvider(BaseProvider):
    """Chat (plain and streamed) and embeddings over the Gemini API."""

    wire = "google"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signatures: OrderedDict[str, str] = OrderedDict()

    def auth_headers(self) -> dict[str, str]:
        """The key in ``x-goog-api-key`` (never ``?key=`` in the URL)."""
        return {"x-goog-api-key": self._api_key} if self._api_key else {}

    def model_path(self, model: str, method: str) -> str:
        """``/v1beta/models/{model}:{method}`` (a model id with a ``/`` is used as it is)."""
        name = model if "/" in model else f"models/{model}"
        return f"/v1beta/{name}:{method}"

    def _check(self, response: httpx.Response, body_text: str, model: str) -> None:
        status = response.status_code
        if status < 300:
            return
        # Gemini reports a bad key as 400 INVALID_ARGUMENT; a 400 would stop the whole chain.
        effective = 401 if status == 400 and "API_KEY_INVALID" in body_text else status
        error = classify(
            effective,
            response.headers,
            body_text,
            provider=self.name,
            model=model,
            secrets=self.secret_values,
        )
        error.status_code = status
        if error.retry_after is None:
            error.retry_after = _retry_delay(body_text)
        raise error

    # ----- chat -----

    def chat_payload(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body of ``generateContent`` / ``streamGenerateContent``."""
        refuse_unsupported(request, self.wire, getattr(self, "name", self.wire))
        system, contents = to_gemini_contents(request.messages, self._signatures)
        payload: dict[str, Any] = {"contents": contents}
        if system:
            payload["systemInstruction"] = system
        tools = to_gemini_tools(request.tools)
        if tools:
            payload["tools"] = tools
            config = to_gemini_tool_config(request.tool_choice)
            if config:
                payload["toolConfig"] = config
        generation = generation_config(
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            top_p=request.top_p,
            stop=request.stop,
            seed=request.seed,
            response_format=request.response_format,
        )
        generation.update(generation_extras(request))
        if generation:
            payload["generationConfig"] = generation
        payload.update(request.extra_body)
        return payload

    def _remember(self, call_id: str, signature: str | None) -> None:
        if signature:
            self._signatures[call_id] = signature
            while len(self._signatures) > _SIGNATURES_KEPT:
                self._signatures.popitem(last=False)

    def _blocked(self, message: str, model: str) -> ContentPolicyError:
        error: ContentPolicyError = self._error(ContentPolicyError, message, model, status_code=200)
        return error

    def _candidate(self, body: dict[str, Any], model: str) -> dict[str, Any] | None:
        """The first candidate; a blocked prompt raises."""
        candidates = body.get("candidates") or []
        if candidates:
            first: dict[str, Any] = candidates[0]
            return first
        reason = (body.get("promptFeedback") or {}).get("blockReason")
        if reason:
            raise self._blocked(f"Gemini blocked the prompt (blockReason={reason})", model)
        return None

    def _parts(
        self, candidate: dict[str, Any], response_id: str | None, first_index: int
    ) -> tuple[str, list[ToolCall]]:
        texts: list[str] = []
        calls: list[ToolCall] = []
        for part in (candidate.get("content") or {}).get("parts") or []:
            if part.get("thought"):
                continue  # thought summaries are not the answer
            if part.get("text"):
                texts.append(part["text"])
            call = part.get("functionCall")
            if call:
                args = call.get("args") or {}
                call_id = call.get("id") or stable_call_id(
                    response_id, first_index + len(calls), call["name"], args
                )
                self._remember(call_id, part.get("thoughtSignature"))
                calls.append(ToolCall(id=call_id, name=call["name"], arguments=args))
        return "".join(texts), calls

    async def chat(self, model: str, request: ChatRequest) -> ChatResult:
        """``generateContent`` and parse the first candidate."""
        body = await self.post_json(
            self.model_path(model, "generateContent"),
            self.chat_payload(request),
            model=model,
            headers=request.headers or None,
        )
        GeminiResponse.model_validate(body)
        try:
            candidate = self._candidate(body, model)
            if candidate is None:
                raise self._error(InvalidResponseError, "answer has no candidates", model)
            text, calls = self._parts(candidate, body.get("responseId"), 0)
        except (KeyError, TypeError, AttributeError) as exc:
            raise self._error(
                InvalidResponseError, f"unexpected generateContent shape: {exc!r}", model
            ) from exc
        reason = candidate.get("finishReason")
        if not text and not calls:
            if is_blocked(reason):
                raise self._blocked(f"Gemini withheld the answer (finishReason={reason})", model)
            if reason in _EMPTY_FAILURES:
                raise self._error(InvalidResponseError, f"empty answer: {reason}", model)
        return ChatResult(
            content=text,
            model=body.get("modelVersion") or model,
            tool_calls=calls,
            usage=usage_from_gemini(body.get("usageMetadata")) or Usage(),
            finish_reason=finish_reason(reason, bool(calls)),
            raw=body,
        )

    async def stream_chat(self, model: str, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """``streamGenerateContent?alt=sse``: each event is a partial GenerateContentResponse."""
        url = self.url(self.model_path(model, "streamGenerateContent")) + "?alt=sse"
        calls_seen = 0
        delivered = False
        finished = False
        # Closing the event source when the caller stops early closes the
        # connection now, not whenever the garbage collector gets to it.
        async with contextlib.aclosing(
            self.post_sse(
                url, self.chat_payload(request), model=model, headers=request.headers or None
            )
        ) as events:
            async for event in events:
                if not event.data.strip():
                    continue
                chunk = self.sse_json(event, model)  # an {"error": {...}} frame raises here
                GeminiResponse.model_validate(chunk)
                candidate = self._candidate(chunk, model)
                text = ""
                calls: list[ToolCall] = []
                reason = None
                if candidate is not None:
                    text, calls = self._parts(candidate, chunk.get("responseId"), calls_seen)
                    reason = candidate.get("finishReason")
                fragments = [
                    ToolCallDelta(
                        index=calls_seen + i,
                        id=call.id,
                        name=call.name,
                        arguments=json.dumps(call.arguments, ensure_ascii=False),
                    )
                    for i, call in enumerate(calls)
                ]
                calls_seen += len(calls)
                delivered = delivered or bool(text or calls)
                if not delivered and is_blocked(reason):
                    raise self._blocked(
                        f"Gemini withheld the answer (finishReason={reason})", model
                    )
                yield ChatDelta(
                    text=text,
                    tool_calls=fragments,
                    usage=usage_from_gemini(chunk.get("usageMetadata")),
                    finish_reason=finish_reason(reason, calls_seen > 0),
                    model=chunk.get("modelVersion"),
                )
                if reason:
                    finished = True
        if not finished:
            raise self.truncated(model, "a chunk with finishReason")

    # ----- embeddings -----

    async def embed(self, model: str, request: EmbedRequest) -> EmbedResult:
        """``batchEmbedContents``: one sub-request per text, vectors in input order."""
        name = model if "/" in model else f"models/{model}"
        common: dict[str, Any] = {}
        if request.input_type:
            common["taskType"] = (
                "RETRIEVAL_QUERY" if request.input_type == "query" else "RETRIEVAL_DOCUMENT"
            )
        if request.dimensions is not None:
            common["outputDimensionality"] = request.dimensions
        payload = {
            "requests": [
                {"model": name, "content": {"parts": [{"text": text}]}, **common}
                for text in request.texts
            ]
        }
        body = await self.post_json(
            self.model_path(model, "batchEmbedContents"), payload, model=model
        )
        try:
            vectors = [list(map(float, row["values"])) for row in body["embeddings"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._error(
                InvalidResponseError, f"unexpected batchEmbedContents shape: {exc!r}", model
            ) from exc
        if len(vectors) != len(request.texts):
            raise self._error(
                InvalidResponseError,
                f"asked for {len(request.texts)} vectors, got {len(vectors)}",
                model,
            )
        return EmbedResult(vectors=vectors, model=model, usage=Usage())
