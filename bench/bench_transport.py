"""Reading a streamed answer piece by piece: glm's transport and httpx's own (httpcore) against bare http.client.

Run: .venv/bin/python bench/bench_transport.py [--runs N]
In-process, with this interpreter's glm_cli. A server thread writes one SSE event, then waits until the client
has read it: every event is one network read, as when a real server streams tokens one at a time. The figures
are the client thread's CPU (and wall) for 3,000 such reads, medians of interleaved runs; the floor is
http.client's HTTPResponse.read1, what bench/floor_client.py reads with.
"""

from __future__ import annotations

import http.client
import resource
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # as glm imports httpx

import httpx  # noqa: E402
from _common import GLM, Timing, _median, header, parser, row  # noqa: E402

from glm_cli.tls import tls_context  # noqa: E402
from glm_cli.transport import Transport  # noqa: E402

PIECES = 3_000
EVENT = b'data: {"id":"b","choices":[{"index":0,"delta":{"content":"tok "}}]}\n\n'


class OneAtATime:
    """A server on 127.0.0.1 writing PIECES events, each once the client has read the one before."""

    def __init__(self, chunked: bool) -> None:
        self.chunked, self.read = chunked, threading.Semaphore(0)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            sock, _ = self.listener.accept()
            with sock:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += sock.recv(65536)
                framing = b"Transfer-Encoding: chunked" if self.chunked else b"Connection: close"
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" + framing + b"\r\n\r\n")
                for _ in range(PIECES):
                    sock.sendall(b"%x\r\n%s\r\n" % (len(EVENT), EVENT) if self.chunked else EVENT)
                    self.read.acquire()
                if self.chunked:
                    sock.sendall(b"0\r\n\r\n")


def thread_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


def measure(server: OneAtATime, pieces: Callable[[], Iterator[bytes]]) -> Timing:
    it = pieces()
    wall, cpu = time.perf_counter(), thread_cpu()
    for _ in it:
        server.read.release()
    return Timing(time.perf_counter() - wall, thread_cpu() - cpu)


def via_httpx(server: OneAtATime, glm: bool) -> Callable[[], Iterator[bytes]]:
    def pieces() -> Iterator[bytes]:
        transport = Transport(tls_context()) if glm else None
        with httpx.Client(transport=transport, verify=tls_context()) as client, client.stream("GET", server.url) as r:
            yield from r.iter_raw()

    return pieces


def via_http_client(server: OneAtATime) -> Callable[[], Iterator[bytes]]:
    def pieces() -> Iterator[bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1].strip("/")))
        conn.request("GET", "/")
        resp = conn.getresponse()
        yield from iter(lambda: resp.read1(65536), b"")
        conn.close()

    return pieces


def main() -> None:
    ap = parser(__doc__)
    args = ap.parse_args()
    header("bench_transport", args.runs, f"{GLM} (in-process)")
    for chunked in (False, True):
        server = OneAtATime(chunked)
        sides = {
            "glm's transport": via_httpx(server, glm=True),
            "httpx's own transport (httpcore)": via_httpx(server, glm=False),
            "floor": via_http_client(server),
        }
        times: dict[str, list[Timing]] = {name: [] for name in sides}
        for _ in range(args.runs):
            for name, pieces in sides.items():
                times[name].append(measure(server, pieces))
        floor = _median(times["floor"])
        body = "chunked" if chunked else "close-delimited"
        for name in ("glm's transport", "httpx's own transport (httpcore)"):
            row(
                f"{PIECES:,} reads of a {body} SSE answer, one event each: {name}",
                _median(times[name]),
                floor,
                f"httpx.Client(...).stream(...).iter_raw()  vs  http.client HTTPResponse.read1 ({body})",
                on="CPU",
            )


if __name__ == "__main__":
    main()
