"""The systems of the peer benchmark, built inside the running loop (their pools belong to
it): raw httpx and aiohttp, the openai SDK, LangChain with fallbacks, LiteLLM Router, Juggler
and ChatJuggler, each used as its docs show, with its defaults."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx
from _common import MESSAGES

from juggler import Juggler

__all__ = ["AUTH", "BASE", "BODY", "CHAIN", "Call", "Systems", "langchain", "litellm_router"]

A, B = "groq", "cerebras"
MA, MB = "llama-3.1-8b-instant", "llama3.1-8b"
CHAIN = [f"{A}/{MA}", f"{B}/{MB}"]
KEY = "sim-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
BODY = {"model": MA, "messages": MESSAGES}
BASE = "raw httpx"

Call = Callable[[], Awaitable[Any]]


def _quiet_litellm() -> Any:
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    return litellm


def langchain(sim: Any) -> Any:
    """``ChatOpenAI`` on A with ``with_fallbacks`` to B."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=MA, base_url=sim.base_url(A), api_key=KEY).with_fallbacks(
        [ChatOpenAI(model=MB, base_url=sim.base_url(B), api_key=KEY)]
    )


def litellm_router(sim: Any) -> Any:
    """A LiteLLM ``Router`` with two deployments, A falling back to B."""
    litellm = _quiet_litellm()
    deployments = [
        {
            "model_name": alias,
            "litellm_params": {
                "model": f"openai/{model}",
                "api_base": sim.base_url(name),
                "api_key": KEY,
            },
        }
        for alias, name, model in (("a", A, MA), ("b", B, MB))
    ]
    return litellm.Router(model_list=deployments, fallbacks=[{"a": ["b"]}])


class Systems:
    """Every client, built inside the running loop (their pools belong to it)."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.url_a = sim.base_url(A) + "/chat/completions"
        self.url_b = sim.base_url(B) + "/chat/completions"
        self.closers: list[Callable[[], Awaitable[Any]]] = []

    def juggler(self, backend: str | None = None, **options: Any) -> Juggler:
        j = Juggler(chat=CHAIN, providers=self.sim.providers_config(), env={}, **options)
        if backend is not None:
            j._clients.backend = backend  # type: ignore[attr-defined]  # bench-only override
        self.closers.append(j.aclose)
        return j

    def httpx_client(self, **kw: Any) -> httpx.AsyncClient:
        c = httpx.AsyncClient(**kw)
        self.closers.append(c.aclose)
        return c

    def overhead_calls(self) -> dict[str, Call]:
        from openai import AsyncOpenAI

        from langchain_juggler import ChatJuggler

        raw = self.httpx_client()
        old_pool = self.httpx_client(
            limits=httpx.Limits(
                max_connections=256, max_keepalive_connections=256, keepalive_expiry=30.0
            )
        )
        from httpx_aiohttp import AiohttpTransport

        over_aiohttp = self.httpx_client(transport=AiohttpTransport())
        session = aiohttp.ClientSession()
        self.closers.append(session.close)
        sdk = AsyncOpenAI(base_url=self.sim.base_url(A), api_key=KEY)
        self.closers.append(sdk.close)
        lc = langchain(self.sim)
        router = litellm_router(self.sim)
        j = self.juggler()
        j_httpx = self.juggler(backend="httpx")
        chat_juggler = ChatJuggler(juggler=self.juggler())

        def post(client: httpx.AsyncClient) -> Call:
            async def call() -> Any:
                r = await client.post(self.url_a, json=BODY, headers=AUTH)
                r.raise_for_status()
                return r.json()["choices"][0]["message"]["content"]

            return call

        async def aiohttp_call() -> Any:
            async with session.post(self.url_a, json=BODY, headers=AUTH) as r:
                r.raise_for_status()
                return (await r.json())["choices"][0]["message"]["content"]

        calls: dict[str, Call] = {
            BASE: post(raw),
            "raw aiohttp": aiohttp_call,
            "raw httpx, 256 keep-alive / 30 s": post(old_pool),
            "raw httpx over httpx-aiohttp": post(over_aiohttp),
            "openai SDK": lambda: sdk.chat.completions.create(model=MA, messages=MESSAGES),
            "LangChain with_fallbacks": lambda: lc.ainvoke("hello there"),
            "LiteLLM Router": lambda: router.acompletion(model="a", messages=MESSAGES),
            "Juggler achat": lambda: j.achat(MESSAGES),
            "Juggler achat, httpx pool": lambda: j_httpx.achat(MESSAGES),
            "ChatJuggler": lambda: chat_juggler.ainvoke("hello there"),
        }
        try:  # httpx2: the httpx fork on httpcore2, a transport candidate (its own classes)
            import httpx2
        except ImportError:
            return calls
        fork = httpx2.AsyncClient()
        self.closers.append(fork.aclose)

        async def fork_call() -> Any:
            r = await fork.post(self.url_a, json=BODY, headers=AUTH)
            r.raise_for_status()
            return r.json()["choices"][0]["message"]["content"]

        calls["raw httpx2"] = fork_call
        return calls

    def stream_calls(self) -> dict[str, Callable[[], Any]]:
        from openai import AsyncOpenAI

        from langchain_juggler import ChatJuggler

        raw = self.httpx_client()
        session = aiohttp.ClientSession()
        self.closers.append(session.close)
        sdk = AsyncOpenAI(base_url=self.sim.base_url(A), api_key=KEY)
        self.closers.append(sdk.close)
        j = self.juggler()
        chat_juggler = ChatJuggler(juggler=self.juggler())
        body = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
        headers = {**AUTH, "Accept": "text/event-stream"}

        def text_of(line: str) -> str | None:
            if not line.startswith("data: ") or line.startswith("data: [DONE]"):
                return None
            choices = json.loads(line[6:]).get("choices") or [{}]
            return choices[0].get("delta", {}).get("content")

        async def raw_stream() -> Any:
            async with raw.stream("POST", self.url_a, json=body, headers=headers) as r:
                async for line in r.aiter_lines():
                    if text := text_of(line):
                        yield text

        async def aiohttp_stream() -> Any:
            async with session.post(self.url_a, json=body, headers=headers) as r:
                async for line in r.content:
                    if text := text_of(line.decode().rstrip("\r\n")):
                        yield text

        async def sdk_stream() -> Any:
            stream = await sdk.chat.completions.create(model=MA, messages=MESSAGES, stream=True)
            async for event in stream:
                if event.choices and event.choices[0].delta.content:
                    yield event.choices[0].delta.content

        async def juggler_stream() -> Any:
            async for chunk in j.astream_chat(MESSAGES):
                if chunk:
                    yield chunk

        async def chat_juggler_stream() -> Any:
            async for chunk in chat_juggler.astream("hello there"):
                if chunk.content:
                    yield chunk.content

        return {
            BASE: raw_stream,
            "raw aiohttp": aiohttp_stream,
            "openai SDK": sdk_stream,
            "Juggler astream_chat": juggler_stream,
            "ChatJuggler astream": chat_juggler_stream,
        }

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()
