"""Wire formats: one module per format, each a :class:`BaseProvider` subclass.

``WIRE_FORMATS`` maps a catalogue row's ``wire`` name to its class; it is a plain, read-only
table with no registration by import. To add a wire format, write one module with a
``BaseProvider`` subclass (and its simulator twin under the same name in
``juggler.testing.wires``), then either add it to the table below or pass an instance in
``Juggler(providers={"name": MyProvider(...)})``. An OpenAI-compatible vendor is a data row in
``catalog.py``, not code.
"""

from types import MappingProxyType

from juggler.providers.anthropic import AnthropicProvider
from juggler.providers.base import BaseProvider
from juggler.providers.catalog import CATALOG, DEFAULT_ORDER, ProviderSpec
from juggler.providers.cohere import CohereProvider
from juggler.providers.google import GoogleProvider
from juggler.providers.jina import JinaProvider
from juggler.providers.openai import OpenAICompatProvider
from juggler.providers.voyage import VoyageProvider

__all__ = [
    "CATALOG",
    "DEFAULT_ORDER",
    "WIRE_FORMATS",
    "AnthropicProvider",
    "BaseProvider",
    "CohereProvider",
    "GoogleProvider",
    "JinaProvider",
    "OpenAICompatProvider",
    "ProviderSpec",
    "VoyageProvider",
]

WIRE_FORMATS = MappingProxyType(
    {
        cls.wire: cls
        for cls in (
            OpenAICompatProvider,
            AnthropicProvider,
            GoogleProvider,
            CohereProvider,
            VoyageProvider,
            JinaProvider,
        )
    }
)
