"""langchain-tests' standard embeddings suites, run against the loopback simulator (the
chain's first target always answers 503)."""

from __future__ import annotations

from typing import Any

import lc_support
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from langchain_juggler import JugglerEmbeddings


class TestJugglerEmbeddingsUnit(EmbeddingsUnitTests):
    """Offline construction checks."""

    @property
    def embeddings_class(self) -> type[JugglerEmbeddings]:
        return JugglerEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        # Construction only: the self-hosted server is declared but never called.
        selfhosted = {
            "base_url": "http://127.0.0.1:9/v1",
            "wire": "openai",
            "models": {"embed": "BAAI/bge-base-en-v1.5"},
        }
        return {
            "targets": list(lc_support.EMBED),
            "providers": {"selfhosted": selfhosted},
            "env": {},
        }


class TestJugglerEmbeddingsIntegration(EmbeddingsIntegrationTests):
    """The integration suite through a failing-then-healthy chain."""

    @property
    def embeddings_class(self) -> type[JugglerEmbeddings]:
        return JugglerEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return lc_support.embed_params()
