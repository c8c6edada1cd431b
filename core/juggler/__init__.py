"""Juggler: reliable LLM calls through an ordered chain of provider/model targets.

Every answer, stream and error carries ``models_used``: each attempt, in order, with
provider, model, outcome, status code, error and time.
"""

from ._attempts import ModelAttempt
from ._catalog import CATALOG, DEFAULT_ORDER, ProviderSpec
from ._errors import (
    AllProvidersFailedError,
    AuthenticationError,
    BadRequestError,
    CapabilityNotConfiguredError,
    ContextLengthError,
    EmbeddingSpaceError,
    InvalidRequestError,
    InvalidResponseError,
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
from ._juggler import Juggler
from ._responses import (
    ChatResponse,
    EmbeddingResponse,
    RerankResponse,
    SpeechResponse,
    TranscriptionResponse,
)
from ._router import BackupModelRouter, complete, quick_chat
from ._settings import ProviderConfig, Settings
from ._stream import AsyncChatStream, ChatStream, StreamChunk
from ._types import Capability, Provider, Target, ToolCall, Usage

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
    "ContextLengthError",
    "EmbeddingResponse",
    "EmbeddingSpaceError",
    "InvalidRequestError",
    "InvalidResponseError",
    "Juggler",
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
