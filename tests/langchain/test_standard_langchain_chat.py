"""langchain-tests' standard chat-model suites, run against the loopback simulator.

The integration suite's chain starts with a target that always answers 503, so every
standard test also exercises fallback. The skips left are the suite's own:

* image, PDF, audio and Anthropic-input tests: their ``supports_*`` flags stay False,
  because each of those tests downloads its fixture from the internet at run time, and
  tests here reach loopback only;
* the VCR benchmark (``enable_vcr_tests``): this suite runs live against the simulator;
* serialisation: ChatJuggler is not LangChain-serialisable by design (its namespace is not
  in ``langchain_core.load.mapping``, so ``load()`` would refuse it anyway);
* init-from-env: keys come from Juggler's own environment lookup, covered in core tests.
"""

from __future__ import annotations

from typing import Any

import lc_support
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_juggler import ChatJuggler


class TestChatJugglerUnit(ChatModelUnitTests):
    """Offline checks: construction, standard params, tool binding, structured output."""

    @property
    def chat_model_class(self) -> type[ChatJuggler]:
        return ChatJuggler

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"targets": list(lc_support.CHAT), "env": {}}

    @property
    def supports_json_mode(self) -> bool:
        return True


class TestChatJugglerIntegration(ChatModelIntegrationTests):
    """The full integration suite through a failing-then-healthy chain."""

    @property
    def chat_model_class(self) -> type[ChatJuggler]:
        return ChatJuggler

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return lc_support.chat_params()

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        # A model id of the chain: that target goes to the front for the call, and
        # response_metadata["model_name"] (the provider's model id) echoes it.
        return "gpt-4.1-mini"
