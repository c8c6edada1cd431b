"""The ``juggler`` command (``pip install "juggler[cli]"``): chat, embed, rerank, transcribe,
speak, providers, health, simulate and demo. Nothing in the library imports this package."""

from juggler.cli.app import app, main

__all__ = ["app", "main"]
