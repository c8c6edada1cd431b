"""The built-in provider catalogue: one data row per vendor.

A row says which wire format the vendor speaks, where it lives, which environment variables
hold its key and base URL, what it can do, and its default model per capability. Adding an
OpenAI-compatible vendor is one more row here; nothing else changes.

Tiers follow the seed's table (speed and quality of each vendor's default chat model): 1 fast
and cheap, 2 balanced, 3 best quality. groq and together are tier 1, openai and google tier
2, anthropic and moonshot tier 3; the README's tier table gives every row's reason.

``DEFAULT_ORDER`` is the discovery order when no chain is given: free tiers and fast
inference first (cerebras, groq, nvidia, google), then paid general-purpose vendors, with the
most expensive models last.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from juggler._types import Capability

__all__ = ["CATALOG", "DEFAULT_ORDER", "ProviderSpec"]

C = Capability


class ProviderSpec(BaseModel):
    """One vendor's data row.

    Attributes:
        name: provider name used in target strings.
        wire: which wire-format module speaks to it (``openai``, ``anthropic``, …).
        base_url: the prefix the wire format's paths are appended to, as in the vendor SDK.
        env_prefix: ``GROQ`` → ``GROQ_API_KEY`` and ``GROQ_BASE_URL``.
        models: default model per capability; the keys are the capabilities it offers.
        tier: 1 fast/cheap, 2 balanced, 3 best quality.
        context_window: tokens, for the default chat model.
        embed_batch_limit: most texts one embeddings request may carry.
        urls: extra per-capability base URLs where a vendor splits its API across hosts.
        default_voice: the voice used for speech when the caller names none.
        wire_options: quirks of this vendor's dialect of its wire format, e.g.
            ``no_stream_options`` (rejects ``stream_options``), ``random_seed`` (names the
            seed so), ``strict_tool_history`` (wants string content and indexed tool calls in
            the history), ``max_completion_tokens`` (sends the limit under that name: OpenAI's
            reasoning models refuse the deprecated ``max_tokens``), or ``input_type``
            (embedders that need a query/passage hint), ``azure`` (Azure OpenAI's URL scheme
            ``/deployments/{model}/...?api-version=`` and ``api-key`` header).
        headers: extra headers sent on every request (e.g. OpenRouter's ``HTTP-Referer``).
        api_version: the ``api-version`` query parameter of Azure-style URLs.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    wire: str
    base_url: str
    env_prefix: str
    models: dict[Capability, str]
    tier: int = Field(default=2, ge=1, le=3)
    context_window: int | None = None
    embed_batch_limit: int = 96
    urls: dict[Capability, str] = Field(default_factory=dict)
    default_voice: str | None = None
    wire_options: frozenset[str] = frozenset()
    headers: dict[str, str] = Field(default_factory=dict)
    api_version: str | None = None

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this provider can do."""
        return frozenset(self.models)

    @property
    def api_key_env(self) -> str:
        """Environment variable holding the key."""
        return f"{self.env_prefix}_API_KEY"

    @property
    def base_url_env(self) -> str:
        """Environment variable overriding the base URL."""
        return f"{self.env_prefix}_BASE_URL"


def _row(**kwargs: object) -> ProviderSpec:
    return ProviderSpec.model_validate(kwargs)


CATALOG: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        _row(
            name="cerebras",
            wire="openai",
            base_url="https://api.cerebras.ai/v1",
            env_prefix="CEREBRAS",
            tier=1,
            context_window=65_536,
            models={C.CHAT: "qwen-3-32b"},
        ),
        _row(
            name="groq",
            wire="openai",
            base_url="https://api.groq.com/openai/v1",
            env_prefix="GROQ",
            tier=1,
            context_window=131_072,
            models={
                C.CHAT: "llama-3.1-8b-instant",
                C.TRANSCRIBE: "whisper-large-v3-turbo",
                C.SPEAK: "playai-tts",
            },
            default_voice="Fritz-PlayAI",
        ),
        _row(
            name="nvidia",
            wire="openai",
            base_url="https://integrate.api.nvidia.com/v1",
            env_prefix="NVIDIA",
            tier=1,
            context_window=131_072,
            models={
                C.CHAT: "meta/llama-3.1-8b-instruct",
                C.EMBED: "nvidia/nv-embedqa-e5-v5",
                C.RERANK: "nvidia/nv-rerankqa-mistral-4b-v3",
            },
            urls={C.RERANK: "https://ai.api.nvidia.com/v1/retrieval"},
            embed_batch_limit=50,
            wire_options=frozenset({"input_type", "nvidia_rerank"}),
        ),
        _row(
            name="google",
            wire="google",
            base_url="https://generativelanguage.googleapis.com",
            env_prefix="GOOGLE",
            tier=2,
            context_window=1_048_576,
            models={C.CHAT: "gemini-2.5-flash", C.EMBED: "gemini-embedding-001"},
            embed_batch_limit=100,
        ),
        _row(
            name="mistral",
            wire="openai",
            base_url="https://api.mistral.ai/v1",
            env_prefix="MISTRAL",
            tier=2,
            context_window=131_072,
            models={C.CHAT: "mistral-small-latest", C.EMBED: "mistral-embed"},
            embed_batch_limit=256,
            wire_options=frozenset({"no_stream_options", "output_dimension", "random_seed"}),
        ),
        _row(
            name="cohere",
            wire="cohere",
            base_url="https://api.cohere.com",
            env_prefix="COHERE",
            tier=2,
            context_window=256_000,
            models={
                C.CHAT: "command-a-03-2025",
                C.EMBED: "embed-english-v3.0",
                C.RERANK: "rerank-v3.5",
            },
            embed_batch_limit=96,
        ),
        _row(
            name="together",
            wire="openai",
            base_url="https://api.together.xyz/v1",
            env_prefix="TOGETHER",
            tier=1,
            context_window=131_072,
            models={
                C.CHAT: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
                C.EMBED: "BAAI/bge-base-en-v1.5",
                C.RERANK: "Salesforce/Llama-Rank-V1",
            },
            wire_options=frozenset({"strict_tool_history"}),
        ),
        _row(
            name="deepseek",
            wire="openai",
            base_url="https://api.deepseek.com",
            env_prefix="DEEPSEEK",
            tier=2,
            context_window=131_072,
            models={C.CHAT: "deepseek-chat"},
        ),
        _row(
            name="moonshot",
            wire="openai",
            base_url="https://api.moonshot.ai/v1",
            env_prefix="MOONSHOT",
            tier=3,
            context_window=131_072,
            models={C.CHAT: "kimi-k2-0905-preview"},
        ),
        _row(
            name="openrouter",
            wire="openai",
            base_url="https://openrouter.ai/api/v1",
            env_prefix="OPENROUTER",
            tier=2,
            context_window=128_000,
            models={C.CHAT: "openai/gpt-4o-mini"},
        ),
        _row(
            name="openai",
            wire="openai",
            base_url="https://api.openai.com/v1",
            env_prefix="OPENAI",
            tier=2,
            context_window=128_000,
            models={
                C.CHAT: "gpt-4o-mini",
                C.EMBED: "text-embedding-3-small",
                C.TRANSCRIBE: "whisper-1",
                C.SPEAK: "tts-1",
            },
            embed_batch_limit=2048,
            default_voice="alloy",
            wire_options=frozenset({"embed_base64", "max_completion_tokens"}),
        ),
        _row(
            # Azure OpenAI: the OpenAI wire with Azure's URL scheme. The base URL is the
            # resource's endpoint, e.g. https://my-resource.openai.azure.com
            # (AZURE_OPENAI_BASE_URL; the key in AZURE_OPENAI_API_KEY);
            # a target's model is the *deployment* name. 2024-10-21 is the latest GA
            # api-version of the inference spec (override with providers={"azure":
            # {"api_version": ...}}).
            name="azure",
            wire="openai",
            base_url="",
            env_prefix="AZURE_OPENAI",
            tier=2,
            context_window=128_000,
            models={C.CHAT: "gpt-4o-mini", C.EMBED: "text-embedding-3-small"},
            embed_batch_limit=2048,
            wire_options=frozenset({"azure"}),
            api_version="2024-10-21",
        ),
        _row(
            name="anthropic",
            wire="anthropic",
            base_url="https://api.anthropic.com",
            env_prefix="ANTHROPIC",
            tier=3,
            context_window=200_000,
            models={C.CHAT: "claude-sonnet-4-5"},
        ),
        _row(
            name="voyage",
            wire="voyage",
            base_url="https://api.voyageai.com/v1",
            env_prefix="VOYAGE",
            tier=2,
            models={C.EMBED: "voyage-3.5", C.RERANK: "rerank-2.5"},
            embed_batch_limit=128,
        ),
        _row(
            name="jina",
            wire="jina",
            base_url="https://api.jina.ai/v1",
            env_prefix="JINA",
            tier=2,
            models={C.EMBED: "jina-embeddings-v3", C.RERANK: "jina-reranker-v2-base-multilingual"},
            embed_batch_limit=2048,
        ),
    )
}

DEFAULT_ORDER: tuple[str, ...] = tuple(CATALOG)
