"""A hostile chat-completions server for tests: real sockets on 127.0.0.1 that misbehave on demand.

tests/fake_server.py fakes the real API; this one fakes a broken or malicious one, to prove that
glm stays bounded in time and memory, says what really came back, and never shows a traceback or
the key. Stdlib only; daemon threads; every loop ends when the client leaves, when the server is
stopped, or at the latest `lifetime` seconds after it started (it stops by itself).

    from tests.hostile_server import Hostile, MiB
    with Hostile("huge_line", size=200 * MiB) as srv:
        srv.base_url              # "http://127.0.0.1:PORT/api/paas/v4"
        srv.requests              # [Request(method, path, headers (lower-case), body)] as received
        srv.wait_for_requests(1)  # block (bounded) until that many arrived
        srv.behave("html")        # another misbehaviour for the next requests

Every request (any method, any path) gets the current behaviour. "stream" below means the request
body asked for `"stream": true`; the normal answer's text is `text`.

    answer          a normal answer: SSE when stream, else one JSON body (the baseline)
    gzip_answer     the same with Content-Encoding: gzip (SSE compressed and flushed event by event)
    huge_line       200 text/event-stream, then one `data:` line of `size` bytes, written lazily
    huge_json       200 application/json with Content-Length: one answer whose content is `size` bytes
    gzip_bomb       Content-Encoding: gzip, about size/1000 on the wire, `size` (1 GiB) unpacked: one JSON
                    answer, or SSE events of 64 KiB of content each when stream; compressed as it is sent
    keepalive       200 text/event-stream, then `: keep-alive` every `every` seconds, never an event
    silent_headers  200 text/event-stream headers, then nothing
    silent          read the request, then nothing (no status line)
    redirect        `status` (302) with Location `location` and a small HTML body
    html            200 text/html: a sign-in page that echoes the request's Authorization header
    bytes           exactly `raw` on the socket (a whole HTTP response, or anything), then close

From a shell (measurements): ``python tests/hostile_server.py huge_line size=52428800`` prints the
base_url, then serves until killed or `lifetime` ends.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MiB = 1 << 20
PIECE = 64 * 1024  # bytes generated and written at a time
BEHAVIOURS = (
    "answer",
    "gzip_answer",
    "huge_line",
    "huge_json",
    "gzip_bomb",
    "keepalive",
    "silent_headers",
    "silent",
    "redirect",
    "html",
    "bytes",
)
DEFAULTS: dict[str, Any] = {
    "text": "Hello from a hostile server",
    "size": 200 * MiB,
    "every": 1.0,
    "status": 302,
    "location": "http://127.0.0.1:9/elsewhere",
    "raw": b"",
}
MAX_REQUEST_BODY = 16 * MiB


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Hostile:
    """The server: start/stop it, choose its behaviour, read what it received."""

    def __init__(self, behaviour: str = "answer", lifetime: float = 120.0, **params: Any) -> None:
        self.lifetime = lifetime
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self.behave(behaviour, **params)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.hostile = self
        self._threads: list[threading.Thread] = []

    def behave(self, behaviour: str, **params: Any) -> None:
        """Set the misbehaviour (and its parameters) for the requests that come next."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; one of {', '.join(BEHAVIOURS)}")
        unknown = set(params) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}")
        self.behaviour, self.params = behaviour, {**DEFAULTS, **params}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/paas/v4"

    def start(self) -> Hostile:
        serve = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        timer = threading.Thread(target=self._expire, daemon=True)
        self._threads = [serve, timer]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # wake handler threads blocked on the socket
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> Hostile:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_requests(self, n: int, timeout: float = 30.0) -> list[Request]:
        """Wait until N requests arrived (or raise after TIMEOUT seconds); return them."""
        end = time.monotonic() + timeout
        while len(self.requests) < n:
            if time.monotonic() > end:
                raise TimeoutError(f"{len(self.requests)} requests arrived, expected {n}")
            self.stopping.wait(0.01)
        return list(self.requests)

    def _expire(self) -> None:
        if not self.stopping.wait(self.lifetime):
            self.stop()

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    hostile: Hostile

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # the client went away: expected here
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.hostile._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.hostile._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        srv = self.server.hostile
        length = min(int(self.headers.get("Content-Length") or 0), MAX_REQUEST_BODY)
        req = Request(
            self.command,
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
            self.rfile.read(length) if length > 0 else b"",
        )
        with srv._lock:
            srv.requests.append(req)
            behaviour, params = srv.behaviour, dict(srv.params)
        self.close_connection = True
        body = req.json
        stream = isinstance(body, dict) and body.get("stream") is True
        try:
            getattr(self, "_" + behaviour)(params, stream, req)
        except OSError:
            pass  # the client hung up: the usual end of a hostile reply

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    # ---- helpers

    def _head(self, status: int, content_type: str | None, **headers: Any) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), str(value))
        self.end_headers()
        self.wfile.flush()

    def _write_all(self, pieces: Iterator[bytes]) -> None:
        """Write pieces until they run out, the client leaves, or the server stops."""
        srv = self.server.hostile
        for piece in pieces:
            if srv.stopping.is_set():
                return
            self.wfile.write(piece)

    def _wait(self) -> None:
        """Say nothing until the server stops (at the latest at its lifetime's end)."""
        self.server.hostile.stopping.wait(self.server.hostile.lifetime)

    # ---- behaviours

    def _answer(self, p: dict[str, Any], stream: bool, req: Request) -> None:
        body = b"".join(answer_events(p["text"])) if stream else json.dumps(answer_json(p["text"])).encode()
        self._head(200, SSE if stream else JSON, Content_Length=len(body))
        self.wfile.write(body)

    def _gzip_answer(self, p: dict[str, Any], stream: bool, req: Request) -> None:
        self._head(200, SSE if stream else JSON, Content_Encoding="gzip")
        pieces = answer_events(p["text"]) if stream else iter([json.dumps(answer_json(p["text"])).encode()])
        self._write_all(gzip_pieces(pieces, flush_each=True))

    def _huge_line(self, p: dict[str, Any], stream: bool, req: Request) -> None:
        self._head(200, SSE)
        head = b'data: {"choices":[{"index":0,"delta":{"content":"'
        tail = b'"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
        self._write_all(padded(head, p["size"] - len(head) - len(tail), tail))

    def _huge_json(self, p: dict[str, Any], stream: bool, req: Request) -> None:
        head = b'{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"'
        tail = b'"}}]}'
        fill = max(0, p["size"] - len(head) - len(tail))
        self._head(200, JSON, Content_Length=len(head) + fill + len(tail))
        self._write_all(padded(head, fill, tail))

    def _gzip_bomb(self, p: dict[str, Any], stream: bool, req: Request) -> None:
        self._head(200, SSE if stream else JSON, Content_Encoding="gzip")
        if stream:
            event = b'data: {"choices":[{"index":0,"delta":{"content":"' + b"a" * PIECE + b'"}}]}\n\n'
            pieces: Iterator[bytes] = (event for _ in range(max(1, p["size"] // len(event))))
        else:
            head = b'{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"'
            pieces = padded(head, p["size"], b'"}}]}')
        self._write_all(gzip_pieces(pieces, flush_each=False))

    def _keepalive(self, p: dict[str, Any], stream: bool, req: Request) -> None:
        self._head(200, SSE)
        srv = self.server.hostile
        end = time.monotonic() + srv.lifetime
        while time.monotonic() < end and not srv.stopping.wait(p["every"]):
            self.wfile.write(b": keep-alive\n\n")
            self.wfile.flush()

    def _silent_headers(self, p: dict[str, Any], stream: bool, req: Request) -> None:
        self._head(200, SSE)
        self._wait()

    def _silent(self, p: dict[str, Any], stream: bool, req: Request) -> None:
        self._wait()

    def _redirect(self, p: dict[str, Any], stream: bool, req: Request) -> None:
        body = f'<html><body>Moved to <a href="{p["location"]}">here</a></body></html>'.encode()
        self._head(p["status"], "text/html", Location=p["location"], Content_Length=len(body))
        self.wfile.write(body)

    def _html(self, p: dict[str, Any], stream: bool, req: Request) -> None:
        auth = req.headers.get("authorization", "")
        body = (
            "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body>\x1b[31m"
            f"<p>Please sign in. You sent: {auth}</p></body></html>\n"
        ).encode()
        self._head(200, "text/html; charset=utf-8", Content_Length=len(body))
        self.wfile.write(body)

    def _bytes(self, p: dict[str, Any], stream: bool, req: Request) -> None:
        self.wfile.write(p["raw"])


SSE = "text/event-stream;charset=UTF-8"
JSON = "application/json; charset=UTF-8"


def answer_json(text: str) -> dict[str, Any]:
    return {
        "id": "hostile-1",
        "model": "glm-4.7",
        "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def answer_events(text: str) -> Iterator[bytes]:
    """A normal SSE answer: the text word by word, a finish chunk, [DONE]."""
    for word in text.split(" "):
        chunk = {"id": "hostile-1", "model": "glm-4.7", "choices": [{"index": 0, "delta": {"content": word + " "}}]}
        yield f"data: {json.dumps(chunk)}\n\n".encode()
    end = {"id": "hostile-1", "model": "glm-4.7", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    yield f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode()


def padded(head: bytes, fill: int, tail: bytes) -> Iterator[bytes]:
    """HEAD, FILL bytes of "a" in PIECE-sized pieces, TAIL: generated lazily, never held whole."""
    yield head
    block = b"a" * PIECE
    while fill > 0:
        yield block[:fill]
        fill -= PIECE
    yield tail


def gzip_pieces(pieces: Iterator[bytes], flush_each: bool) -> Iterator[bytes]:
    """Gzip PIECES as they come (flushed after each one if FLUSH_EACH, so a reader can decode as it goes)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    for piece in pieces:
        out = comp.compress(piece)
        if flush_each:
            out += comp.flush(zlib.Z_SYNC_FLUSH)
        if out:
            yield out
    yield comp.flush()


def main(argv: list[str]) -> None:
    behaviour, *pairs = argv or ["answer"]
    params: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        default = DEFAULTS[key]
        params[key] = value.encode() if isinstance(default, bytes) else type(default)(value)
    with Hostile(behaviour, lifetime=3600, **params) as srv:
        print(srv.base_url, flush=True)
        srv.stopping.wait(srv.lifetime)


if __name__ == "__main__":
    main(sys.argv[1:])
