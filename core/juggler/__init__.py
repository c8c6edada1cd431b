"""Juggler: reliable LLM calls through an ordered chain of provider/model targets.

Every answer, stream and error carries ``models_used``: each attempt, in order, with
provider, model, outcome, status code, error and time.
"""

from juggler._attempts import ModelAttempt
from juggler._config import ProviderConfig, Settings
from juggler._exceptions import (
    AllProvidersFailedError,
    AuthenticationError,
    BadRequestError,
    CapabilityNotConfiguredError,
    ContentPolicyError,
    ContextLengthError,
    EmbeddingSpaceError,
    InvalidRequestError,
    InvalidResponseError,
    JugglerBusyError,
    JugglerError,
    ModelNotFoundError,
    OverloadedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    StreamInterruptedError,
    UnsupportedRequestError,
)
from juggler._juggler import Juggler
from juggler._responses import (
    ChatResponse,
    EmbeddingResponse,
    RerankResponse,
    SpeechResponse,
    TranscriptionResponse,
)
from juggler._routing.stream import AsyncChatStream, StreamChunk
from juggler._seed import BackupModelRouter, complete, quick_chat
from juggler._sync import ChatStream
from juggler._types import Capability, Provider, Target, ToolCall, Usage
from juggler.providers.catalog import CATALOG, DEFAULT_ORDER, ProviderSpec

__version__ = "0.1.0"

__all__ = [
    "CATALOG",
    "DEFAULT_ORDER",
    "AllProvidersFailedError",
    "AsyncChatStream",
    "AuthenticationError",
    "BackupModelRouter",
    "BadRequestError",
    "Capability",
    "CapabilityNotConfiguredError",
    "ChatResponse",
    "ChatStream",
    "ContentPolicyError",
    "ContextLengthError",
    "EmbeddingResponse",
    "EmbeddingSpaceError",
    "InvalidRequestError",
    "InvalidResponseError",
    "Juggler",
    "JugglerBusyError",
    "JugglerError",
    "ModelAttempt",
    "ModelNotFoundError",
    "OverloadedError",
    "Provider",
    "ProviderConfig",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderSpec",
    "ProviderTimeoutError",
    "RateLimitError",
    "RequestRejectedError",
    "RerankResponse",
    "ServerError",
    "Settings",
    "SpeechResponse",
    "StreamChunk",
    "StreamInterruptedError",
    "Target",
    "ToolCall",
    "TranscriptionResponse",
    "UnsupportedRequestError",
    "Usage",
    "__version__",
    "complete",
    "quick_chat",
]
