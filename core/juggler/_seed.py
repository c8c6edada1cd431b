"""The seed API: ``BackupModelRouter`` and the module-level ``complete`` / ``quick_chat``.

``BackupModelRouter`` is a :class:`Juggler` with an async ``complete`` that takes either a
prompt string or ``messages=``. The module-level helpers share one lazily created router.
As the seed says ("Add to your .env or export"), the router reads a ``.env`` file in the
working directory when there is one, without overriding variables already set.
"""

from __future__ import annotations

import os
from typing import Any

from juggler._env import seed_environment
from juggler._exceptions import InvalidRequestError
from juggler._juggler import Juggler
from juggler._responses import ChatResponse

__all__ = ["BackupModelRouter", "complete", "quick_chat"]


class BackupModelRouter(Juggler):
    """The seed's router: ``await router.complete("prompt")`` or ``complete(messages=[...])``.

    Keys come from the environment and from ``env_file`` (default ``.env`` in the working
    directory, when it exists; variables already set win; needs ``juggler[dotenv]``). An
    explicit ``env=`` mapping is used as it is, and no file is read.
    """

    def __init__(
        self,
        *args: Any,
        env: dict[str, str] | None = None,
        env_file: str | os.PathLike[str] | None = ".env",
        **kwargs: Any,
    ) -> None:
        if env is None:
            env = seed_environment(env_file)
        super().__init__(*args, env=env, **kwargs)

    async def complete(
        self,
        prompt: str | None = None,
        *,
        messages: list[dict[str, Any]] | None = None,
        system: str | None = None,
        **kwargs: Any,
    ) -> ChatResponse:
        """Chat with fallback. Takes every :meth:`Juggler.achat` option (``preferred_provider``,
        ``preferred_model``, ``temperature``, ``max_tokens``, ``tier``, …)."""
        if (prompt is None) == (messages is None):
            raise InvalidRequestError("complete() takes a prompt or messages=, exactly one")
        if messages is None:
            messages = [{"role": "user", "content": prompt}]
        if system:
            messages = [{"role": "system", "content": system}, *messages]
        return await self.achat(messages, **kwargs)

    async def health_check(self) -> dict[str, bool]:  # type: ignore[override]
        """``await router.health_check()`` (awaitable, as in the seed API): probe every
        configured provider with one minimal request; ``{provider: answered}``."""
        return await self.ahealth_check()

    async def close(self) -> None:  # type: ignore[override]
        """Close the router's connections (awaitable, as in the seed API)."""
        await self.aclose()
        Juggler.close(self)


class _Shared:
    """Holds the module-level router; created on first use, never at import."""

    router: BackupModelRouter | None = None


async def complete(prompt: str | None = None, **kwargs: Any) -> ChatResponse:
    """``await complete("...")`` through a shared router built from the environment."""
    if _Shared.router is None:
        _Shared.router = BackupModelRouter()
    return await _Shared.router.complete(prompt, **kwargs)


async def quick_chat(prompt: str, **kwargs: Any) -> str:
    """The answer text only."""
    return str(await complete(prompt, **kwargs))
