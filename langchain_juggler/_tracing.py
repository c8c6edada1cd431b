"""Getting ``models_used`` into LangChain callbacks and LangSmith traces.

Outputs are the stable route (the model classes put models_used in ``response_metadata``).
Run *metadata*, which LangSmith can filter on, has no public route for a chat model, so two
best-effort hooks are used, each feature-detected and never allowed to break a call:

* ``tag_run``: the tracer's own Run object, found through ``BaseTracer.run_map``.
* ``gateway_info``: the ``lc_gateway_metadata`` generation_info key (langchain-core >= 1.6),
  which tracers promote to ``metadata.ls_gateway_info``; it also works for streamed runs,
  whose ``_stream`` gets no run manager.

Embeddings have no callbacks at all, so :func:`embedding_run` uses langsmith's ``trace``
(a no-op when tracing is off). Document compressors open a child chain run through the
``callbacks`` they are given (:func:`rerank_run`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManager,
    AsyncCallbackManagerForChainRun,
    BaseCallbackHandler,
    CallbackManager,
    CallbackManagerForChainRun,
    Callbacks,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.base import LangSmithParams
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.runnables import RunnableConfig, ensure_config

from juggler import ModelAttempt

from ._convert import PROVIDER, final_chunk, models_used_dicts

__all__ = [
    "StreamRunTagger",
    "embedding_run",
    "gateway_info",
    "rerank_run",
    "run_metadata",
    "tag_handlers",
    "tag_run",
]

log = logging.getLogger("langchain_juggler")

_GATEWAY_KEY: str | None
try:  # private in langchain-core; absent before 1.6
    from langchain_core.utils._gateway import GATEWAY_METADATA_RESPONSE_KEY as _GATEWAY_KEY
except ImportError:  # pragma: no cover - depends on the installed core
    _GATEWAY_KEY = None


def run_metadata(
    attempts: Sequence[ModelAttempt] | Sequence[dict[str, Any]],
    provider: str | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """The run metadata of a finished call: ``models_used``, and the model that answered as
    ``ls_model_name``/``ls_provider`` (LangSmith's model and cost views read those two)."""
    meta: dict[str, Any] = {"models_used": [dict(a) for a in attempts]}
    if provider and model:
        meta["ls_provider"] = provider
        meta["ls_model_name"] = model
    return meta


def tag_handlers(handlers: Sequence[Any], run_id: Any, metadata: dict[str, Any]) -> None:
    """Add ``metadata`` to run ``run_id`` in every tracer among ``handlers`` that keeps a
    ``run_map`` (LangChainTracer and any BaseTracer). Best effort, never raises."""
    try:
        key = str(run_id)
        for handler in handlers or []:
            run = (getattr(handler, "run_map", None) or {}).get(key)
            if run is None:
                continue
            if hasattr(run, "add_metadata"):
                run.add_metadata(metadata)
            else:  # pragma: no cover - older Run objects
                run.extra.setdefault("metadata", {}).update(metadata)
    except Exception:  # tracing must never break the call it observes
        log.debug("could not add models_used to the run metadata", exc_info=True)


def tag_run(
    run_manager: Any,
    attempts: Sequence[ModelAttempt],
    provider: str | None = None,
    model: str | None = None,
) -> None:
    """Add ``models_used`` (and the answering model) to the metadata of the run
    ``run_manager`` belongs to."""
    if run_manager is None:
        return
    handlers = getattr(run_manager, "handlers", None) or []
    tag_handlers(handlers, run_manager.run_id, run_metadata(attempts, provider, model))


class StreamRunTagger(BaseCallbackHandler):
    """Puts a streamed run's ``models_used`` in its metadata, as ``invoke`` does.

    ``BaseChatModel.stream`` gives ``_stream`` no run manager, so the adapter cannot reach
    the run from inside the stream. This handler is added (first, and run inline) to the
    call's callback manager, which also holds the tracers: at ``on_llm_end``, before the
    tracers finish the run and post it, it copies the gateway metadata of the last chunk
    into the run's metadata in each tracer.
    """

    run_inline = True

    def __init__(self) -> None:
        self.handlers: list[Any] = []

    def on_llm_end(self, response: Any, *, run_id: Any, **kwargs: Any) -> None:
        """Tag the run with the gateway metadata the last chunk carried."""
        info = _gateway_of(response)
        if info is None:
            return
        meta = run_metadata(info.get("models_used") or [], info.get("provider"), info.get("model"))
        tag_handlers(self.handlers, run_id, meta)


def _gateway_of(response: Any) -> dict[str, Any] | None:
    if _GATEWAY_KEY is None:
        return None
    for generations in getattr(response, "generations", None) or []:
        for generation in generations:
            info = (getattr(generation, "generation_info", None) or {}).get(_GATEWAY_KEY)
            if isinstance(info, dict):
                return info
    return None


def gateway_info(
    provider: str | None, model: str | None, attempts: Sequence[ModelAttempt]
) -> dict[str, Any]:
    """``generation_info`` entries that tracers copy into the run's metadata.

    The served provider and model also correct ``ls_provider``/``ls_model_name`` there, so
    cost attribution follows the model that actually answered.
    """
    if _GATEWAY_KEY is None:
        return {}
    info: dict[str, Any] = {"models_used": models_used_dicts(attempts)}
    if provider:
        info["provider"] = provider
    if model:
        info["model"] = model
    return {_GATEWAY_KEY: info}


@contextlib.contextmanager
def embedding_run(name: str, texts: Sequence[str], input_type: str) -> Iterator[Any]:
    """A LangSmith run of type "embedding" around one call; yields the RunTree.

    The caller ends it with ``run.end(outputs=...)``; errors are recorded by ``trace``.
    """
    from langsmith.run_helpers import trace

    inputs = {"texts": list(texts), "input_type": input_type}
    metadata = {"ls_provider": PROVIDER}
    with trace(name, run_type="embedding", inputs=inputs, metadata=metadata) as rt:
        try:
            yield rt
        except BaseException as exc:
            attempts = getattr(exc, "models_used", None)
            if attempts:
                with contextlib.suppress(Exception):
                    rt.add_metadata({"models_used": models_used_dicts(attempts)})
            raise


def finish_embedding_run(
    run: Any,
    attempts: Sequence[ModelAttempt],
    outputs: dict[str, Any],
    provider: str | None = None,
    model: str | None = None,
) -> None:
    """Put models_used (and the model that answered) in the embedding run's metadata and
    outputs, and end it."""
    try:
        meta = run_metadata(attempts, provider, model)
        run.add_metadata(meta)
        run.end(outputs={**outputs, "models_used": meta["models_used"]})
    except Exception:
        log.debug("could not finish the embedding run", exc_info=True)


def _rerank_inputs(query: str, count: int) -> dict[str, Any]:
    return {"query": query, "documents": count}


@contextlib.contextmanager
def rerank_run(callbacks: Callbacks, name: str, query: str, count: int) -> Iterator[Any]:
    """A child chain run opened through ``callbacks``; yields its run manager."""
    manager = CallbackManager.configure(
        inheritable_callbacks=callbacks, local_metadata={"ls_provider": PROVIDER}
    )
    run = manager.on_chain_start(None, _rerank_inputs(query, count), name=name)
    try:
        yield run
    except BaseException as exc:
        _tag_failure(run, exc)
        run.on_chain_error(exc)
        raise


@contextlib.asynccontextmanager
async def arerank_run(
    callbacks: Callbacks, name: str, query: str, count: int
) -> AsyncIterator[Any]:
    """Async :func:`rerank_run`."""
    manager = AsyncCallbackManager.configure(
        inheritable_callbacks=callbacks, local_metadata={"ls_provider": PROVIDER}
    )
    run = await manager.on_chain_start(None, _rerank_inputs(query, count), name=name)
    try:
        yield run
    except BaseException as exc:
        _tag_failure(run, exc)
        await run.on_chain_error(exc)
        raise


def _tag_failure(
    run: CallbackManagerForChainRun | AsyncCallbackManagerForChainRun, exc: BaseException
) -> None:
    attempts = getattr(exc, "models_used", None)
    if attempts:
        tag_run(run, attempts)


def with_tagger(config: RunnableConfig | None, model: BaseChatModel) -> RunnableConfig:
    """``config`` whose callback manager starts with a :class:`StreamRunTagger` that can see
    the manager's tracers (those of ``config``, the model's own and the environment's)."""
    config = ensure_config(config)
    try:
        # Only the inheritable part: LangChain adds the model's own callbacks, tags and
        # metadata to a copy of this manager itself (passing them here would double them).
        manager = CallbackManager.configure(
            config.get("callbacks"), None, model.verbose, config.get("tags"), None
        )
    except Exception:  # never break a stream over tracing
        return config
    tagger = StreamRunTagger()
    tagger.handlers = manager.handlers
    manager.handlers.insert(0, tagger)
    return {**config, "callbacks": manager}


def tag_failure(run_manager: Any, exc: BaseException) -> None:
    """A failed call still puts its attempts in the run's metadata."""
    attempts = getattr(exc, "models_used", None)
    if attempts:
        tag_run(run_manager, attempts)


def last_chunk(stream: Any, with_usage: bool = True) -> ChatGenerationChunk:
    """A finished stream's last chunk: who answered, every attempt, the usage (unless
    ``stream_usage=False``) and the gateway info LangSmith reads."""
    attempts = stream.models_used
    return final_chunk(
        provider=stream.provider,
        model=stream.model,
        attempts=attempts,
        usage=stream.usage if with_usage else None,
        finish_reason=stream.finish_reason,
        extra_generation_info=gateway_info(stream.provider, stream.model, attempts),
    )


def start_params(params: LangSmithParams, chain: list[str], model: Any) -> LangSmithParams:
    """A run's metadata at its start: the requested (first) target as ``ls_provider`` /
    ``ls_model_name``, and the whole chain as ``juggler_chain``."""
    first = model if isinstance(model, str) else (chain[0] if chain else PROVIDER)
    if "/" in first:
        provider, _, name = first.partition("/")
        params["ls_provider"], params["ls_model_name"] = provider, name
    else:
        params["ls_provider"], params["ls_model_name"] = PROVIDER, first
    params["juggler_chain"] = chain  # type: ignore[typeddict-unknown-key]
    return params
