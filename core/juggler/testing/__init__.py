"""Testing tools: a loopback provider simulator and a scripted in-process provider.

* :class:`ProviderSimulator` serves simulated OpenAI, Anthropic, Gemini, Cohere, Voyage and
  Jina APIs on ``127.0.0.1``, each provider following a :class:`Scenario` (latency, error
  rates, hangs, dropped connections, cut streams, malformed JSON).
* :class:`FakeProvider` is its in-process twin: a provider whose answers and failures are
  scripted per call, for unit tests of code that uses a Juggler. Its steps besides answers
  and exceptions: :class:`FakeHttpError` (classified like a real HTTP error answer),
  :class:`FakeDelay`, :class:`FakeHang` and :class:`FakeStream`.

Importing this package registers the ``fake`` wire format.
"""

from juggler.testing._fake import (
    FakeCall,
    FakeDelay,
    FakeHang,
    FakeHttpError,
    FakeProvider,
    FakeStream,
)
from juggler.testing._pytest import simulator_fixture
from juggler.testing._scenario import Scenario
from juggler.testing._simulator import ProviderSimulator

__all__ = [
    "FakeCall",
    "FakeDelay",
    "FakeHang",
    "FakeHttpError",
    "FakeProvider",
    "FakeStream",
    "ProviderSimulator",
    "Scenario",
    "simulator_fixture",
]
