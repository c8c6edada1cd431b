"""Which model names a simulated provider serves, and how it says it does not serve one.

A catalogued provider serves its catalogue models, a short list of the vendor's well-known
models (below), and whatever its scenario adds (``models``, ``known_models``). Any other name
gets the vendor's own "model not found" answer, so a chain with a misspelt or retired model
falls over in tests as it does in production. ``Scenario(any_model=True)`` (or
``ProviderSimulator(..., any_model=True)``) serves every name. A provider outside the
catalogue that lists no models serves every name: there is nothing to check against.

The lists are not exhaustive; they are the names people write in examples and tests. Add
what you need with ``known_models``.
"""

from __future__ import annotations

from juggler.providers.catalog import CATALOG
from juggler.testing._scenario import Scenario

__all__ = ["VENDOR_MODELS", "served_models"]

VENDOR_MODELS: dict[str, frozenset[str]] = {
    name: frozenset(models)
    for name, models in {
        "openai": (
            "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4-turbo",
            "gpt-3.5-turbo", "gpt-5", "gpt-5-mini", "gpt-5-nano", "o1", "o3", "o3-mini",
            "o4-mini", "text-embedding-3-small", "text-embedding-3-large",
            "text-embedding-ada-002", "whisper-1", "gpt-4o-transcribe",
            "gpt-4o-mini-transcribe", "tts-1", "tts-1-hd", "gpt-4o-mini-tts",
        ),
        "groq": (
            "llama-3.1-8b-instant", "llama-3.3-70b-versatile", "openai/gpt-oss-120b",
            "openai/gpt-oss-20b", "qwen/qwen3-32b", "moonshotai/kimi-k2-instruct",
            "meta-llama/llama-4-scout-17b-16e-instruct", "gemma2-9b-it", "llama3-8b-8192",
            "llama3-70b-8192", "whisper-large-v3", "whisper-large-v3-turbo",
            "distil-whisper-large-v3-en", "playai-tts", "playai-tts-arabic",
        ),
        "cerebras": (
            "qwen-3-32b", "llama3.1-8b", "llama-3.3-70b", "gpt-oss-120b",
            "qwen-3-235b-a22b-instruct-2507", "qwen-3-coder-480b", "zai-glm-4.6",
        ),
        "nvidia": (
            "meta/llama-3.1-8b-instruct", "meta/llama-3.1-70b-instruct",
            "meta/llama-3.3-70b-instruct", "nvidia/nv-embedqa-e5-v5",
            "nvidia/llama-3.2-nv-embedqa-1b-v2", "nvidia/nv-rerankqa-mistral-4b-v3",
            "nvidia/llama-3.2-nv-rerankqa-1b-v2", "baai/bge-m3",
        ),
        "google": (
            "gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-2.0-flash",
            "gemini-2.0-flash-lite", "gemini-1.5-flash", "gemini-1.5-pro",
            "gemini-embedding-001", "text-embedding-004",
        ),
        "mistral": (
            "mistral-small-latest", "mistral-medium-latest", "mistral-large-latest",
            "open-mistral-nemo", "codestral-latest", "ministral-8b-latest", "mistral-embed",
            "codestral-embed",
        ),
        "cohere": (
            "command-a-03-2025", "command-r-plus", "command-r", "command-r7b-12-2024",
            "command-r-08-2024", "command-r-plus-08-2024", "embed-v4.0", "embed-english-v3.0",
            "embed-multilingual-v3.0", "embed-english-light-v3.0", "rerank-v3.5",
            "rerank-english-v3.0", "rerank-multilingual-v3.0",
        ),
        "together": (
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
            "meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo", "deepseek-ai/DeepSeek-V3",
            "Qwen/Qwen2.5-72B-Instruct-Turbo", "openai/gpt-oss-120b", "BAAI/bge-base-en-v1.5",
            "BAAI/bge-large-en-v1.5", "Salesforce/Llama-Rank-V1", "Salesforce/Llama-Rank-v1",
        ),
        "deepseek": ("deepseek-chat", "deepseek-reasoner"),
        "moonshot": (
            "kimi-k2-0905-preview", "kimi-k2-0711-preview", "kimi-k2-turbo-preview",
            "kimi-latest", "moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k",
        ),
        "openrouter": (
            "openai/gpt-4o-mini", "openai/gpt-4o", "anthropic/claude-sonnet-4.5",
            "google/gemini-2.5-flash", "google/gemini-2.0-flash-exp:free",
            "meta-llama/llama-3.3-70b-instruct", "deepseek/deepseek-chat",
        ),
        "anthropic": (
            "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-haiku-4-5",
            "claude-haiku-4-5-20251001", "claude-opus-4-1", "claude-opus-4-1-20250805",
            "claude-sonnet-4-0", "claude-sonnet-4-20250514", "claude-opus-4-0",
            "claude-opus-4-20250514", "claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219",
            "claude-3-5-haiku-latest", "claude-3-5-haiku-20241022",
            "claude-3-5-sonnet-20241022", "claude-3-haiku-20240307",
        ),
        "voyage": (
            "voyage-3.5", "voyage-3.5-lite", "voyage-3", "voyage-3-lite", "voyage-3-large",
            "voyage-code-3", "voyage-finance-2", "voyage-law-2", "voyage-multilingual-2",
            "rerank-2.5", "rerank-2.5-lite", "rerank-2", "rerank-2-lite",
        ),
        "jina": (
            "jina-embeddings-v3", "jina-embeddings-v4", "jina-embeddings-v2-base-en",
            "jina-clip-v2", "jina-reranker-v2-base-multilingual", "jina-reranker-m0",
            "jina-reranker-v1-base-en", "jina-colbert-v2",
        ),
    }.items()
}  # fmt: skip


def served_models(name: str, scenario: Scenario, any_model: bool = False) -> frozenset[str] | None:
    """The model names ``name`` serves under ``scenario``; None means every name."""
    if any_model or scenario.any_model:
        return None
    own = set(scenario.known_models) | set((scenario.models or {}).values())
    spec = CATALOG.get(name)
    if spec is None:
        return frozenset(own) if own else None
    return frozenset(own | set(spec.models.values()) | VENDOR_MODELS.get(name, frozenset()))
