"""The OpenAI wire format: chat completions (plain and SSE), embeddings, audio, rerank.

Spoken by openai, groq, cerebras, nvidia, together, moonshot, mistral, deepseek, openrouter
and any server given a ``base_url``. Vendor quirks (Groq's ``x_groq.usage``, Mistral's lack of
``stream_options``) are handled by reading the shapes, not by naming the vendor.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from juggler._exceptions import ContentPolicyError, InvalidResponseError
from juggler._types import Usage
from juggler.providers._openai_shapes import (
    array_of_floats,
    decode_vector,
    embeddings_result,
    ordered_vectors,
    parse_tool_arguments,
    text_of,
    tool_calls_of,
    usage_from_openai,
)
from juggler.providers._rerank import CompatRerankMixin
from juggler.providers._shapes import OpenAIChatAnswer, OpenAIChunk
from juggler.providers.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    EmbedRequest,
    EmbedResult,
    SpeakRequest,
    SpeechResult,
    ToolCallDelta,
    TranscribeRequest,
    TranscriptionResult,
)

__all__ = [
    "OpenAICompatProvider",
    "array_of_floats",
    "decode_vector",
    "embeddings_result",
    "ordered_vectors",
    "parse_tool_arguments",
    "text_of",
    "tool_calls_of",
    "usage_from_openai",
]

_AUDIO_MIME = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


def _strict_tool_history(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Together's schema wants assistant content as a string and an index on each tool call."""
    out = []
    for message in messages:
        if message.get("role") == "assistant" and message.get("tool_calls"):
            calls = [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]
            message = {**message, "content": message.get("content") or "", "tool_calls": calls}
        out.append(message)
    return out


class OpenAICompatProvider(CompatRerankMixin):
    """Chat completions, embeddings, transcription and speech over the OpenAI wire format.

    Rerank (Together, NVIDIA) comes from :class:`CompatRerankMixin`.
    """

    wire = "openai"

    def auth_headers(self) -> dict[str, str]:
        """A bearer token; Azure OpenAI wants the key in ``api-key`` instead."""
        if "azure" in self.spec.wire_options:
            return {"api-key": self._api_key} if self._api_key else {}
        return super().auth_headers()

    def endpoint(self, model: str, path: str) -> str:
        """Where ``path`` (``/chat/completions``, …) lives for ``model``. Azure OpenAI names the
        deployment in the URL and the API version in the query:
        ``{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…``."""
        if "azure" not in self.spec.wire_options:
            return path
        version = self.spec.api_version or "2024-10-21"
        return (
            f"{self.base_url}/openai/deployments/{quote(model, safe='')}{path}"
            f"?api-version={quote(version, safe='')}"
        )

    def chat_payload(self, model: str, request: ChatRequest, stream: bool) -> dict[str, Any]:
        """The JSON body of ``POST /chat/completions``."""
        options = self.spec.wire_options
        messages = request.messages
        if "strict_tool_history" in options:
            messages = _strict_tool_history(messages)
        payload: dict[str, Any] = {"model": model, "messages": messages}
        optional = {
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "top_p": request.top_p,
            "stop": request.stop or None,
            "tools": request.tools,
            "tool_choice": request.tool_choice,
            "response_format": request.response_format,
            "seed": request.seed,
            "presence_penalty": request.presence_penalty,
            "frequency_penalty": request.frequency_penalty,
            "logprobs": request.logprobs,
            "top_logprobs": request.top_logprobs,
            "reasoning_effort": request.reasoning_effort,
            "user": request.user,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        if "max_completion_tokens" in options and "max_tokens" in payload:
            # OpenAI deprecated max_tokens; its reasoning models refuse it with a 400
            # (shared/wire/openai/chat_completions/vercel-ai/reasoning-model-legacy-...json).
            payload["max_completion_tokens"] = payload.pop("max_tokens")
        if "random_seed" in options and "seed" in payload:
            payload["random_seed"] = payload.pop("seed")  # Mistral's name; it rejects "seed"
        if stream:
            payload["stream"] = True
            # Some vendors' schemas reject unknown fields (additionalProperties: false);
            # they send usage on their last chunk anyway.
            if "no_stream_options" not in self.spec.wire_options:
                payload["stream_options"] = {"include_usage": True}
        payload.update(request.extra_body)
        return payload

    async def chat(self, model: str, request: ChatRequest) -> ChatResult:
        """``POST /chat/completions`` and parse the first choice."""
        body = await self.post_json(
            self.endpoint(model, "/chat/completions"),
            self.chat_payload(model, request, False),
            model=model,
            headers=request.headers or None,
        )
        OpenAIChatAnswer.model_validate(body)
        try:
            choice = body["choices"][0]
            message = choice.get("message") or {}
            calls = tool_calls_of(message.get("tool_calls"))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise self._error(
                InvalidResponseError,
                f"unexpected chat answer shape: {exc!r}",
                model,
                status_code=200,
            ) from exc
        usage = usage_from_openai(body.get("usage")) or Usage()
        content = text_of(message.get("content"))
        if choice.get("finish_reason") == "content_filter" and not content and not calls:
            # Azure OpenAI withholds a filtered answer this way (a 200 with no content).
            raise self._error(
                ContentPolicyError,
                "the answer was withheld by the content filter (finish_reason=content_filter)",
                model,
                status_code=200,
            )
        return ChatResult(
            content=content,
            model=body.get("model") or model,
            tool_calls=calls,
            usage=usage,
            finish_reason=choice.get("finish_reason"),
            raw=body,
        )

    async def stream_chat(self, model: str, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """SSE chat: text and tool-call deltas, then usage (own chunk or ``x_groq``)."""
        payload = self.chat_payload(model, request, True)
        # Closing the event source when the caller stops early closes the
        # connection now, not whenever the garbage collector gets to it.
        async with contextlib.aclosing(
            self.post_sse(
                self.endpoint(model, "/chat/completions"),
                payload,
                model=model,
                headers=request.headers or None,
            )
        ) as events:
            delivered = False
            async for event in events:
                if event.data.strip() == "[DONE]":
                    await self.finish_sse(events)
                    return
                if not event.data.strip():
                    continue
                chunk = self.sse_json(event, model)
                OpenAIChunk.model_validate(chunk)
                usage = usage_from_openai(chunk.get("usage")) or usage_from_openai(
                    (chunk.get("x_groq") or {}).get("usage")
                )
                delta = ChatDelta(usage=usage, model=chunk.get("model"))
                for choice in chunk.get("choices") or []:
                    if choice.get("index", 0) != 0:
                        continue  # n > 1 (via extra_body): the answer is the first choice
                    d = choice.get("delta") or {}
                    delta.text += text_of(d.get("content"))
                    for tc in d.get("tool_calls") or []:
                        fn = tc.get("function") or {}
                        delta.tool_calls.append(
                            ToolCallDelta(
                                index=tc.get("index", 0),
                                id=tc.get("id"),
                                name=fn.get("name"),
                                arguments=fn.get("arguments") or "",
                            )
                        )
                    if choice.get("finish_reason"):
                        delta.finish_reason = choice["finish_reason"]
                delivered = delivered or bool(delta.text or delta.tool_calls)
                if delta.finish_reason == "content_filter" and not delivered:
                    # Azure withholds a filtered streamed answer this way; nothing was said,
                    # so the next target may answer instead.
                    raise self._error(
                        ContentPolicyError,
                        "the answer was withheld by the content filter (finish_reason="
                        "content_filter)",
                        model,
                        status_code=200,
                    )
                yield delta
        raise self.truncated(model, "[DONE]")

    def embed_payload(self, model: str, request: EmbedRequest) -> dict[str, Any]:
        """The JSON body of ``POST /embeddings``, in this vendor's dialect."""
        options = self.spec.wire_options
        payload: dict[str, Any] = {"model": model, "input": request.texts}
        # base64 is what the OpenAI SDK asks for (a quarter of the bytes of a JSON float list);
        # vendors without that flag get plain floats, which every OpenAI-like server knows.
        payload["encoding_format"] = "base64" if "embed_base64" in options else "float"
        if request.dimensions is not None:
            # Mistral's schema names it output_dimension and forbids unknown fields.
            key = "output_dimension" if "output_dimension" in options else "dimensions"
            payload[key] = request.dimensions
        if request.input_type and self.embed_needs_input_type():
            payload["input_type"] = "query" if request.input_type == "query" else "passage"
        return payload

    async def embed(self, model: str, request: EmbedRequest) -> EmbedResult:
        """``POST /embeddings``; vectors are put back in input order by their ``index``."""
        body = await self.post_json(
            self.endpoint(model, "/embeddings"), self.embed_payload(model, request), model=model
        )
        return embeddings_result(self, body, len(request.texts), model)

    def embed_needs_input_type(self) -> bool:
        """NVIDIA's retrieval embedders require ``input_type`` (query or passage)."""
        return "input_type" in self.spec.wire_options

    async def transcribe(self, model: str, request: TranscribeRequest) -> TranscriptionResult:
        """``POST /audio/transcriptions`` with ``verbose_json`` for language and duration.

        OpenAI's ``gpt-4o*-transcribe`` models accept only ``json`` (per the official spec);
        asking them for ``verbose_json`` is a 400 that would stop the whole chain, so they get
        ``json`` and answer without language and duration.
        """
        verbose = not model.split("/")[-1].startswith("gpt-4o")
        data: dict[str, Any] = {
            "model": model,
            "response_format": "verbose_json" if verbose else "json",
        }
        if request.language:
            data["language"] = request.language
        if request.prompt:
            data["prompt"] = request.prompt
        files = {"file": (request.filename, request.audio, request.content_type)}
        body = await self.post_multipart(
            self.endpoint(model, "/audio/transcriptions"), data, files, model=model
        )
        if not isinstance(body, dict) or "text" not in body:
            raise self._error(InvalidResponseError, "transcription answer has no text", model)
        duration = body.get("duration")
        return TranscriptionResult(
            text=body["text"],
            model=model,
            language=body.get("language"),
            duration=float(duration) if duration is not None else None,
            segments=body.get("segments"),
        )

    async def speak(self, model: str, request: SpeakRequest) -> SpeechResult:
        """``POST /audio/speech``; the answer is the audio itself."""
        payload: dict[str, Any] = {
            "model": model,
            "input": request.text,
            "voice": request.voice or self.spec.default_voice or "alloy",
            "response_format": request.format,
        }
        if request.speed is not None:
            payload["speed"] = request.speed
        audio, content_type = await self.post_for_bytes(
            self.endpoint(model, "/audio/speech"), payload, model=model
        )
        if content_type == "application/octet-stream":
            content_type = _AUDIO_MIME.get(request.format, content_type)
        return SpeechResult(audio=audio, content_type=content_type, model=model)
