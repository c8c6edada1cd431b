"""`JugglerRerank`: a LlamaIndex node postprocessor that reranks through Juggler's rerank chain.

It emits ``ReRankStartEvent`` / ``ReRankEndEvent`` and the legacy ``CBEventType.RERANKING``
callback itself (LlamaIndex core does not do it for postprocessors), plus a
:class:`ModelsUsedEvent`. Each returned node is a copy whose ``metadata["models_used"]`` lists
the call's attempts; the key is excluded from the text the LLM and the embedder see, and the
retrieved nodes themselves are left untouched. The async path awaits ``Juggler.arerank``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle

from juggler import AllProvidersFailedError, Capability, Juggler, RerankResponse, Target

from ._construct import OwnsJuggler, adapter_juggler
from ._events import dispatch_models_used

__all__ = ["JugglerRerank"]

dispatcher = get_dispatcher(__name__)

_HIDDEN = ("models_used", "retrieval_score")  # never part of the text sent to models


class JugglerRerank(OwnsJuggler, BaseNodePostprocessor):
    """Rerank retrieved nodes with fallback across a rerank chain.

    ``JugglerRerank(targets=["cohere/rerank-v3.5", "jina/jina-reranker-v2-base-multilingual"],
    top_n=3, providers=...)`` or ``JugglerRerank(juggler=j, top_n=3)``. Scores are the
    provider's relevance scores, set on each returned ``NodeWithScore``.
    """

    targets: list[str] = Field(default_factory=list, description="The rerank chain, in order.")
    top_n: int = Field(default=2, gt=0, description="How many nodes to keep.")
    keep_retrieval_score: bool = Field(
        default=False, description="Keep the retriever's score in metadata['retrieval_score']."
    )

    _juggler: Juggler = PrivateAttr()
    _owns: bool = PrivateAttr(default=False)

    def __init__(
        self,
        targets: Sequence[str | Target] | None = None,
        *,
        juggler: Juggler | None = None,
        **kwargs: Any,
    ) -> None:
        own, built, owns = adapter_juggler(
            "JugglerRerank", Capability.RERANK, targets, juggler, kwargs, type(self).model_fields
        )
        super().__init__(targets=[str(t) for t in built.chain(Capability.RERANK)], **own)  # type: ignore[call-arg]
        self._juggler = built
        self._owns = owns

    @classmethod
    def class_name(cls) -> str:
        """Class name used in LlamaIndex payloads."""
        return "JugglerRerank"

    @property
    def model_name(self) -> str:
        """The first target of the chain (what ReRankStartEvent reports)."""
        return self.targets[0]

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        query = _query(query_bundle)
        if not nodes:
            return []
        with self._start(nodes, query) as event:
            try:
                answer = self._juggler.rerank(query, _texts(nodes), self.top_n)
            except AllProvidersFailedError as exc:
                dispatch_models_used("rerank", exc.models_used, success=False)
                raise
            return self._finish(event, nodes, answer)

    @dispatcher.span
    async def _apostprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        query = _query(query_bundle)
        if not nodes:
            return []
        with self._start(nodes, query) as event:
            try:
                answer = await self._juggler.arerank(query, _texts(nodes), self.top_n)
            except AllProvidersFailedError as exc:
                dispatch_models_used("rerank", exc.models_used, success=False)
                raise
            return self._finish(event, nodes, answer)

    def _start(self, nodes: list[NodeWithScore], query: str) -> Any:
        """Dispatch ReRankStartEvent; return the legacy callback event's context manager."""
        dispatcher.event(
            ReRankStartEvent(query=query, nodes=nodes, top_n=self.top_n, model_name=self.model_name)
        )
        return self.callback_manager.event(
            CBEventType.RERANKING,
            payload={
                EventPayload.NODES: nodes,
                EventPayload.MODEL_NAME: self.model_name,
                EventPayload.QUERY_STR: query,
                EventPayload.TOP_K: self.top_n,
            },
        )

    def _finish(
        self, event: Any, nodes: list[NodeWithScore], answer: RerankResponse
    ) -> list[NodeWithScore]:
        """Scored copies of the chosen nodes; models_used to the event, callback and metadata."""
        used = dispatch_models_used(
            "rerank", answer.models_used, provider=answer.provider, model=answer.model
        )
        out = []
        for index, score in zip(answer.indices, answer.scores, strict=True):
            original = nodes[index]
            metadata = {**original.node.metadata, "models_used": used}
            if self.keep_retrieval_score:
                metadata["retrieval_score"] = original.score
            node = original.node.model_copy(
                update={
                    "metadata": metadata,
                    "excluded_llm_metadata_keys": _plus(original.node.excluded_llm_metadata_keys),
                    "excluded_embed_metadata_keys": _plus(
                        original.node.excluded_embed_metadata_keys
                    ),
                }
            )
            out.append(NodeWithScore(node=node, score=score))
        event.on_end(payload={EventPayload.NODES: out, "models_used": used})
        dispatcher.event(ReRankEndEvent(nodes=out))
        return out


def _query(bundle: QueryBundle | None) -> str:
    if bundle is None:
        raise ValueError("JugglerRerank needs the query (a QueryBundle or query_str=)")
    return bundle.query_str


def _texts(nodes: list[NodeWithScore]) -> list[str]:
    return [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]


def _plus(keys: list[str]) -> list[str]:
    return [*keys, *(k for k in _HIDDEN if k not in keys)]
