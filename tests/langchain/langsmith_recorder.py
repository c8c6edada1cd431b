"""A loopback LangSmith endpoint that records what the real ``langsmith.Client`` posts.

The client is the real one (``langsmith.Client(api_url="http://127.0.0.1:<port>")``): it
serialises runs and posts them in batches (``POST /runs/batch``, ``{"post": [...],
"patch": [...]}``) from its background thread, exactly as it would to LangSmith. ``/info``
tells it to use the batch endpoint (not multipart), so the payloads are plain JSON. Single
``POST /runs`` / ``PATCH /runs/<id>`` are recorded too.
"""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["LangSmithRecorder"]

_INFO = {
    "version": "0.11.0",
    "license_expiration_time": None,
    "batch_ingest_config": {
        "use_multipart_endpoint": False,
        "scale_up_qsize_trigger": 1000,
        "scale_up_nthreads_limit": 1,
        "scale_down_nempty_trigger": 4,
        "size_limit": 100,
        "size_limit_bytes": 20_971_520,
    },
    "instance_flags": {},
}


class LangSmithRecorder:
    """Start with ``with LangSmithRecorder() as rec``; ``rec.url`` is the api_url."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.patches: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> Any:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding") == "gzip":
                    raw = gzip.decompress(raw)
                return json.loads(raw) if raw else None

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._reply(200, _INFO if self.path.startswith("/info") else {})

            def do_POST(self) -> None:
                body = self._body()
                with recorder._lock:
                    if self.path.startswith("/runs/batch"):
                        recorder.posts.extend(body.get("post") or [])
                        recorder.patches.extend(body.get("patch") or [])
                    elif self.path.rstrip("/") == "/runs":
                        recorder.posts.append(body)
                self._reply(200, {})

            def do_PATCH(self) -> None:
                body = self._body()
                body.setdefault("id", self.path.rsplit("/", 1)[-1])
                with recorder._lock:
                    recorder.patches.append(body)
                self._reply(200, {})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The ``api_url`` to give ``langsmith.Client``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LangSmithRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def runs(self) -> list[dict[str, Any]]:
        """Every posted run, with its later patch (end, outputs, final metadata) merged in."""
        with self._lock:
            merged: dict[str, dict[str, Any]] = {}
            for post in self.posts:
                merged[str(post["id"])] = dict(post)
            for patch in self.patches:
                run = merged.setdefault(str(patch["id"]), {})
                for key, value in patch.items():
                    if value is not None:
                        run[key] = value
            return list(merged.values())

    def find(self, run_type: str) -> list[dict[str, Any]]:
        """The merged runs of one type (``llm``, ``embedding``, ``chain``, ...)."""
        return [r for r in self.runs() if r.get("run_type") == run_type]
