"""Helpers the framework adapters (``langchain_juggler``, ``llamaindex_juggler``) share.

They hold no framework import, so both packages use the same rules: ``models_used`` as
plain dicts, and the embedding-space rule for an object that embeds many times.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from typing import Any

from juggler._attempts import ModelAttempt
from juggler._exceptions import EmbeddingSpaceError
from juggler._responses import EmbeddingResponse

__all__ = ["SpaceGuard", "models_used_dicts"]


def models_used_dicts(attempts: Sequence[ModelAttempt]) -> list[dict[str, Any]]:
    """``models_used`` as plain, JSON-ready dicts (safe in framework metadata and payloads)."""
    return [dict(a) for a in attempts]


class SpaceGuard:
    """Keeps every answer of one adapter object in one embedding space.

    The first answer fixes the space. A later answer from another space raises
    :class:`EmbeddingSpaceError` (its vectors would silently corrupt the index), unless
    ``allow_cross_space`` is set: then it is accepted with a warning, never silently. The
    check and the update happen under one lock, so two threads making the first calls at
    once cannot each fix a different space.
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.first: str | None = None
        self.current: str | None = None
        self._lock = threading.Lock()

    def admit(self, response: EmbeddingResponse, *, allow_cross_space: bool) -> bool:
        """Accept ``response`` or raise; True when it switched spaces (allowed, and warned)."""
        with self._lock:
            if self.current is None:
                self.first = self.current = response.space
                return False
            if response.space == self.current:
                return False
            if not allow_cross_space:
                raise EmbeddingSpaceError(
                    self.current,
                    response.space,
                    response.provider,
                    response.model,
                    response.models_used,
                    owner=self.owner,
                )
            warnings.warn(
                f"{self.owner} switched embedding space from {self.current!r} to "
                f"{response.space!r} ({response.provider}/{response.model}); "
                "allow_cross_space=True",
                stacklevel=4,
            )
            self.current = response.space
            return True
