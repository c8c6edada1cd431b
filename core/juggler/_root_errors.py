"""The root of Juggler's exception tree and the bad-input error, in a leaf module.

The value types (``_types``) raise :class:`InvalidRequestError`, and the tree
(``_exceptions``, where both are re-exported and drawn) types its errors' ``models_used``
with ``ModelAttempt``, which is built from those value types: keeping these two classes here
keeps that from becoming an import cycle.
"""

from __future__ import annotations

__all__ = ["InvalidRequestError", "JugglerError"]


class JugglerError(Exception):
    """Base class of every exception Juggler raises."""


class InvalidRequestError(JugglerError, ValueError):
    """The call's arguments are wrong; raised before any request is sent."""
