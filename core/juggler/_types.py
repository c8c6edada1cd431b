"""Small value types shared by every layer: provider names, capabilities, targets, usage."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from juggler._root_errors import InvalidRequestError

__all__ = ["Capability", "Provider", "Target", "ToolCall", "Usage", "estimate_usage"]


class Provider(StrEnum):
    """Names of the catalogued providers. Any string naming a configured provider works too."""

    OPENAI = "openai"
    AZURE = "azure"
    GROQ = "groq"
    CEREBRAS = "cerebras"
    NVIDIA = "nvidia"
    TOGETHER = "together"
    MOONSHOT = "moonshot"
    MISTRAL = "mistral"
    DEEPSEEK = "deepseek"
    OPENROUTER = "openrouter"
    ANTHROPIC = "anthropic"
    GOOGLE = "google"
    COHERE = "cohere"
    VOYAGE = "voyage"
    JINA = "jina"


class Capability(StrEnum):
    """What a target can do; a call's chain holds only targets with its capability."""

    CHAT = "chat"
    EMBED = "embed"
    RERANK = "rerank"
    TRANSCRIBE = "transcribe"
    SPEAK = "speak"


class Target(BaseModel):
    """One provider/model pair in a chain.

    ``Target.parse("nvidia/meta-llama/llama-3.1-8b-instruct")`` splits on the first ``/``,
    because model ids may contain slashes.

    Attributes:
        provider: provider name.
        model: model id as the provider spells it.
        tier: 1 fast/cheap, 2 balanced, 3 best quality; None takes the catalogue's tier.
        context_window: tokens; None takes the catalogue's value (or unknown).
        space: embedding space name (embedding targets only); None means the model id.
        weight: share of a group's traffic under the ``weighted`` strategy (default 1).
        rpm: client-side cap on requests per minute to this target (None: no cap).
        tpm: client-side cap on tokens per minute to this target (None: no cap).
        group: name of the group of equivalent deployments this target belongs to, if any.
    """

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    tier: int | None = Field(default=None, ge=1, le=3)
    context_window: int | None = None
    space: str | None = None
    weight: float | None = Field(default=None, gt=0)
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    group: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The (provider, model) pair breakers, health and rate-limit books are keyed by.
        Deployments of one vendor differ by provider name (``openai-eu``), so each has its own."""
        return (self.provider, self.model)

    @classmethod
    def parse(cls, value: str | Target) -> Target:
        """Build a target from ``"provider/model"`` (or return a Target unchanged)."""
        if isinstance(value, Target):
            return value
        if not isinstance(value, str) or "/" not in value:
            raise InvalidRequestError(
                f"cannot parse target {value!r}: expected 'provider/model', "
                "e.g. 'groq/llama-3.1-8b-instant'"
            )
        provider, model = value.split("/", 1)
        if not provider.strip() or not model.strip():
            raise InvalidRequestError(f"cannot parse target {value!r}: empty provider or model")
        return cls(provider=provider.strip().lower(), model=model.strip())

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


class Usage(BaseModel):
    """Token counts reported by the provider (None where it did not say).

    Attributes:
        input_tokens: the whole prompt, cached tokens included (as OpenAI's ``prompt_tokens``;
            Anthropic's uncached ``input_tokens`` has its cache reads and writes added back).
        output_tokens: generated tokens, reasoning/thinking included.
        total_tokens: input + output, or the provider's own total.
        cached_tokens: prompt tokens read from the provider's prompt cache, as the wire reports
            them (OpenAI ``prompt_tokens_details.cached_tokens``, Anthropic
            ``cache_read_input_tokens``, Gemini ``cachedContentTokenCount``); a part of
            ``input_tokens``, billed at the cache-read price.
        cache_write_tokens: prompt tokens written to the cache (Anthropic
            ``cache_creation_input_tokens``); also a part of ``input_tokens``.
        estimated: True when the counts were not reported but estimated from the delivered
            text (a cut or cancelled stream: about 4 characters per token, see
            :func:`estimate_usage`).
    """

    model_config = ConfigDict(frozen=True)

    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    estimated: bool = False

    @classmethod
    def of(
        cls,
        input_tokens: Any = None,
        output_tokens: Any = None,
        total: Any = None,
        *,
        cached: Any = None,
        cache_write: Any = None,
        estimated: bool = False,
    ) -> Usage:
        """Build from possibly-missing counts, deriving the total when both parts are known.

        Cache counts of zero are stored as None (no cache involved), so a usage without prompt
        caching compares equal whichever wire reported it.
        """
        i = int(input_tokens) if input_tokens is not None else None
        o = int(output_tokens) if output_tokens is not None else None
        t = int(total) if total is not None else (i + o if i is not None and o is not None else i)
        return cls(
            input_tokens=i,
            output_tokens=o,
            total_tokens=t,
            cached_tokens=int(cached) if cached else None,
            cache_write_tokens=int(cache_write) if cache_write else None,
            estimated=estimated,
        )


CHARS_PER_TOKEN = 4
"""The estimate used where a wire reported no usage: about 4 characters of English per token
(the same rule as ``_routing/plan.py::estimate_tokens``)."""


def estimate_usage(delivered_text: str, input_tokens: int | None = None) -> Usage:
    """Usage of a cut or cancelled stream that never received the wire's usage event.

    Output is ``ceil(len(delivered_text) / 4)`` tokens. ``input_tokens`` is the prompt estimate
    the caller already has (``_routing/plan.py::estimate_tokens(messages)``), or None when
    unknown. The result is marked ``estimated=True``.
    """
    out = -(-len(delivered_text) // CHARS_PER_TOKEN)
    return Usage.of(input_tokens, out, estimated=True)


JsonValue = dict[str, Any] | list[Any] | str | int | float | bool | None


class ToolCall(BaseModel):
    """A tool call normalised across providers: id, name and parsed arguments.

    ``arguments`` is the decoded JSON the model sent: almost always an object (a ``dict``),
    but kept as it came when it is another JSON value (NVIDIA's nemotron-parse answers with
    an array). :attr:`kwargs` always gives a ``dict``, for frameworks that need one.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    arguments: JsonValue = Field(default_factory=dict)

    @property
    def kwargs(self) -> dict[str, Any]:
        """The arguments as a ``dict``: themselves when an object, else ``{"value": ...}``."""
        return self.arguments if isinstance(self.arguments, dict) else {"value": self.arguments}
