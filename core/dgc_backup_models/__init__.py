"""The DGC Backup Models import path: a thin alias of Juggler's seed API.

``from dgc_backup_models import BackupModelRouter, Provider, complete, quick_chat`` works as
the seed documents show; everything here is ``juggler``'s own object, re-exported.
"""

from juggler import (
    AllProvidersFailedError,
    BackupModelRouter,
    ChatResponse,
    ModelAttempt,
    Provider,
    complete,
    quick_chat,
)

__all__ = [
    "AllProvidersFailedError",
    "BackupModelRouter",
    "ChatResponse",
    "ModelAttempt",
    "Provider",
    "complete",
    "quick_chat",
]
