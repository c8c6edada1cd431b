"""Wire-format modules. Importing this package registers every wire format it holds.

To add a wire format: one module with a ``@register_wire`` subclass of ``BaseProvider``, and
one import line below.
"""

from . import anthropic as anthropic
from . import cohere as cohere
from . import google as google
from . import jina as jina
from . import openai_compat as openai_compat
from . import voyage as voyage
from .base import WIRE_FORMATS, BaseProvider, register_wire

__all__ = ["WIRE_FORMATS", "BaseProvider", "register_wire"]
