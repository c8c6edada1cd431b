"""A small HTTP/1.1 server on asyncio protocols: keep-alive, chunked streaming, faults.

It is built for speed and for misbehaving on purpose, not for the open internet: it parses
only what LLM clients send (a request line, headers, a Content-Length or chunked body), and a
handler decides per request what to answer: a complete response, a chunked event stream
(which may be cut short), a dropped connection, or no answer at all. Answers without a delay
are written straight from ``data_received``, so the fast path creates no task per request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["HttpServer", "NoAnswer", "Request", "Response", "StreamResponse"]

_MAX_HEAD = 64 * 1024
_REASONS = {s.value: s.phrase for s in HTTPStatus}
_REASONS[529] = "Site Overloaded"


@dataclass(slots=True)
class Request:
    """One parsed HTTP request. Header names are lower-case."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def params(self) -> dict[str, str]:
        """The query string as a dict (last value wins)."""
        return dict(parse_qsl(self.query)) if self.query else {}


@dataclass(slots=True)
class Response:
    """A complete answer."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: Sequence[tuple[str, str]] = ()


@dataclass(slots=True)
class StreamResponse:
    """A chunked answer sent event by event; ``cut_after`` closes the socket mid-stream."""

    events: Sequence[bytes]
    content_type: str = "text/event-stream"
    status: int = 200
    headers: Sequence[tuple[str, str]] = ()
    first_delay: float = 0.0
    chunk_delay: float = 0.0
    cut_after: int | None = None


@dataclass(slots=True)
class NoAnswer:
    """``drop``: close the socket without a byte; ``hang``: keep it open and say nothing."""

    kind: str = "drop"


Answer = Response | StreamResponse | NoAnswer
Handler = Callable[[Request], tuple[float, Answer]]
"""Given a request, return (seconds to wait before answering, the answer)."""


class _BadRequest(Exception):
    pass


def _head(status: int, content_type: str, extra: Sequence[tuple[str, str]], tail: str) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
        f"content-type: {content_type}",
    ]
    lines += [f"{k}: {v}" for k, v in extra]
    lines.append(tail)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def render(response: Response, keep_alive: bool) -> bytes:
    """Status line, headers and body of a complete response."""
    tail = f"content-length: {len(response.body)}"
    if not keep_alive:
        tail += "\r\nconnection: close"
    return _head(response.status, response.content_type, response.headers, tail) + response.body


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def _parse(buf: bytearray) -> tuple[Request, int, bool] | None:
    """One request from the front of ``buf``: (request, bytes used, keep-alive) or None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > _MAX_HEAD:
            raise _BadRequest("request head too large")
        return None
    lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError as exc:
        raise _BadRequest(f"bad request line {lines[0][:80]!r}") from exc
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    start = end + 4
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parsed = _dechunk(buf, start)
        if parsed is None:
            return None
        body, used = parsed
    else:
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError as exc:
            raise _BadRequest("bad content-length") from exc
        used = start + length
        if len(buf) < used:
            return None
        body = bytes(buf[start:used])
    path, _, query = target.partition("?")
    connection = headers.get("connection", "").lower()
    keep = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    return Request(method.upper(), path, query, headers, body), used, keep


def _dechunk(buf: bytearray, pos: int) -> tuple[bytes, int] | None:
    """A chunked request body starting at ``pos``: (body, end position) or None if partial."""
    parts: list[bytes] = []
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        try:
            size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        except ValueError as exc:
            raise _BadRequest("bad chunk size") from exc
        pos = eol + 2
        if size == 0:
            trailer_end = buf.find(b"\r\n", pos)
            while trailer_end > pos:  # skip trailers
                pos = trailer_end + 2
                trailer_end = buf.find(b"\r\n", pos)
            if trailer_end < 0:
                return None
            return b"".join(parts), trailer_end + 2
        if len(buf) < pos + size + 2:
            return None
        parts.append(bytes(buf[pos : pos + size]))
        pos += size + 2


class _Connection(asyncio.Protocol):
    """One client connection; requests on it are answered in order (keep-alive)."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.closed = False
        self.continued = False
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        if self.task is not None:
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.busy:
            self._drain()

    def close(self) -> None:
        """Close the socket (pending output is flushed first)."""
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()

    def _drain(self) -> None:
        transport = self.transport
        assert transport is not None
        while not self.busy and not self.closed:
            try:
                parsed = _parse(self.buf)
            except _BadRequest as exc:
                body = f'{{"error": {{"message": "bad request: {exc}"}}}}'.encode()
                transport.write(render(Response(400, body), keep_alive=False))
                self.close()
                return
            if parsed is None:
                self._maybe_continue()
                return
            request, used, keep = parsed
            del self.buf[:used]
            self.continued = False
            delay, answer = self.server.handler(request)
            if delay <= 0 and type(answer) is Response:
                transport.write(render(answer, keep))
                if not keep:
                    self.close()
                continue
            self.busy = True
            self.task = asyncio.get_running_loop().create_task(self._later(delay, answer, keep))

    def _maybe_continue(self) -> None:
        # curl sends "Expect: 100-continue" before large uploads and waits for this line.
        if not self.continued and b"100-continue" in self.buf[:_MAX_HEAD].lower():
            self.continued = True
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    async def _later(self, delay: float, answer: Answer, keep: bool) -> None:
        transport = self.transport
        assert transport is not None
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            if isinstance(answer, NoAnswer):
                if answer.kind == "hang":
                    await asyncio.get_running_loop().create_future()  # until the client leaves
                self.close()
                return
            if isinstance(answer, Response):
                transport.write(render(answer, keep))
            else:
                if not await self._stream(transport, answer, keep):
                    return
        except asyncio.CancelledError:
            self.close()
            return
        self.busy = False
        self.task = None
        if not keep:
            self.close()
        elif self.buf:
            self._drain()

    async def _stream(self, transport: asyncio.Transport, s: StreamResponse, keep: bool) -> bool:
        """Send a chunked stream; False when it was cut (the socket is then closed)."""
        tail = "transfer-encoding: chunked" + ("" if keep else "\r\nconnection: close")
        head = _head(s.status, s.content_type, s.headers, tail)
        events = list(s.events)
        cut = s.cut_after is not None and s.cut_after < len(events)
        if cut:
            events = events[: s.cut_after]
        if s.first_delay <= 0 and s.chunk_delay <= 0:
            end = b"" if cut else b"0\r\n\r\n"
            transport.write(head + b"".join(_chunk(e) for e in events) + end)
        else:
            transport.write(head)
            for i, event in enumerate(events):
                pause = s.first_delay if i == 0 else s.chunk_delay
                if pause > 0:
                    await asyncio.sleep(pause)
                if self.closed:
                    return False
                transport.write(_chunk(event))
            if not cut:
                transport.write(b"0\r\n\r\n")
        if cut:
            self.close()
            return False
        return True


@dataclass
class HttpServer:
    """Serve ``handler`` on ``host:port`` (port 0 takes a free one) in the running loop."""

    handler: Handler
    host: str = "127.0.0.1"
    port: int = 0
    connections: set[_Connection] = field(default_factory=set)
    _server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Bind and listen; ``self.port`` then holds the real port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), self.host, self.port, reuse_address=True, backlog=1024
        )
        sock = self._server.sockets[0]
        self.port = int(sock.getsockname()[1])

    async def close(self) -> None:
        """Stop listening and close every open connection (hung ones included)."""
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            if conn.task is not None:
                conn.task.cancel()
            conn.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"


def json_response(status: int, body: Any, headers: Sequence[tuple[str, str]] = ()) -> Response:
    """A JSON response from any JSON-ready value."""
    import json

    return Response(status, json.dumps(body, ensure_ascii=False).encode(), headers=headers)
