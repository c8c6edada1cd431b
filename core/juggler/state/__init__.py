"""State shared between processes (replicas of one service), behind one typed interface.

:class:`SharedState` is what the engine uses: circuit openings and the half-open probe lock,
health figures, the retry budget, rate-limit "blocked until" facts, budget spend and the
response cache. :class:`~juggler.state.memory.MemoryState` is the in-process default (shares
nothing); :class:`~juggler.state.redis.RedisState` shares through Redis
(``pip install 'juggler[redis]'``), selected by ``Juggler(state="redis://host:6379/0")`` or
the ``JUGGLER_STATE_URL`` environment variable.

A shared store must never take calls down: every operation of a backend is bounded by a short
timeout, and a failing backend answers with "nothing shared" (the local state decides) while
a circuit on the store skips it until it is retried. See :mod:`juggler.state._guard`.

``BreakerStore`` is the older, circuits-only interface (``Juggler(breaker_store=...)``, now a
deprecated alias); :func:`as_shared_state` adapts one.
"""

from __future__ import annotations

from juggler.state.base import BreakerStore, Key, ProbeClaim, SharedState, SharedView
from juggler.state.factory import as_shared_state, open_state

__all__ = ["BreakerStore", "Key", "ProbeClaim", "SharedState", "SharedView", "as_shared_state",
           "open_state"]  # fmt: skip
