"""Support for the LangChain tests: the loopback simulator they run against, their chains,
and a tracer that records runs.

Every chain starts with a provider whose scenario always answers 503, so each call falls
back to the healthy second target and ``models_used`` records both attempts. The
simulator is started once per test session (see ``conftest.py``); the standard suites read
their constructor arguments from here through properties, which run at test time.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run

from juggler.testing import ProviderSimulator, Scenario

__all__ = [
    "CHAT",
    "EMBED",
    "RERANK",
    "RecordingTracer",
    "chat_params",
    "embed_params",
    "providers",
    "rerank_params",
    "simulator",
    "start",
    "stop",
]

DOWN = Scenario(error_rates={503: 1.0})

# First target always 503, second healthy. The third chat target is there for the
# standard suite's model-override tests (``model="gpt-4.1-mini"`` moves it to the front).
CHAT = ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini", "openai/gpt-4.1-mini"]
# Same weights on both (one embedding space): a managed API, then a self-hosted server.
EMBED = ["together/BAAI/bge-base-en-v1.5", "selfhosted/BAAI/bge-base-en-v1.5"]
RERANK = ["voyage/rerank-2.5", "jina/jina-reranker-v2-base-multilingual"]

_sim: ProviderSimulator | None = None


def _scenarios() -> dict[str, Scenario]:
    return {
        "groq": DOWN,
        "openai": Scenario(),
        "together": DOWN,
        "selfhosted": Scenario(wire="openai", models={"embed": "BAAI/bge-base-en-v1.5"}),
        "voyage": DOWN,
        "jina": Scenario(),
    }


def start() -> ProviderSimulator:
    """Start the session's simulator (idempotent)."""
    global _sim
    if _sim is None:
        _sim = ProviderSimulator(_scenarios())
        _sim.start()
    return _sim


def stop() -> None:
    """Stop the session's simulator."""
    global _sim
    if _sim is not None:
        _sim.stop()
        _sim = None


def simulator() -> ProviderSimulator:
    """The running simulator (started on first use)."""
    return start()


def providers() -> dict[str, Any]:
    """``providers=`` pointing every provider at the simulator."""
    config: dict[str, Any] = simulator().providers_config()
    return config


def chat_params() -> dict[str, Any]:
    """ChatJuggler arguments: the failing-then-healthy chain on the simulator."""
    return {"targets": list(CHAT), "providers": providers(), "env": {}}


def embed_params() -> dict[str, Any]:
    """JugglerEmbeddings arguments on the simulator."""
    return {"targets": list(EMBED), "providers": providers(), "env": {}}


def rerank_params() -> dict[str, Any]:
    """JugglerRerank arguments on the simulator."""
    return {"targets": list(RERANK), "providers": providers(), "env": {}}


class RecordingTracer(BaseTracer):
    """A BaseTracer that keeps every finished run, children included."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs: list[Run] = []

    def _persist_run(self, run: Run) -> None:
        pass

    def _end_trace(self, run: Run) -> None:
        self.runs.append(run)
        super()._end_trace(run)

    def find(self, run_type: str) -> list[Run]:
        """Every finished run of this type, children included, in the order they ended."""
        return [run for run in self.runs if run.run_type == run_type]
