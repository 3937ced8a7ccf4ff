"""Piped output is flushed before each read from the network, not per delta (issue 14).

What glm has received is in the output file while the server holds back the rest: a server here sends the
first events, then waits until the test has seen them in the file (or 30 s, when the test fails anyway).
"""

from __future__ import annotations

import io
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import respx

from glm_cli.client import GlmClient
from glm_cli.events import IDLE, ContentDelta, Finish, ReasoningDelta
from glm_cli.iostreams import IOStreams
from glm_cli.render import THINKING_END, THINKING_START, render_stream
from tests.conftest import FAKE_KEY, chunk, glm_executable, scratch_data_home, sse_body, wait_until

FIRST = sse_body(chunk(content="first "), chunk(content="piece"), done=False)
REST = sse_body(chunk(content=" and the rest", finish="stop"))


@contextmanager
def held_stream(first: bytes, rest: bytes) -> Iterator[tuple[str, threading.Event]]:
    """A chat server that streams FIRST, then waits for the event it yields before it streams REST."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(first)
            self.wfile.flush()
            release.wait(30)
            self.wfile.write(rest)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/paas/v4", release
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_what_came_is_in_the_file_while_the_server_holds_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "answer.txt"
    with held_stream(FIRST, REST) as (url, release), out.open("wb") as sink:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": "/nonexistent-home",
            "XDG_CONFIG_HOME": "/nonexistent-cfg",
            "XDG_DATA_HOME": scratch_data_home(),
            "GLM_API_KEY": FAKE_KEY,
            "GLM_BASE_URL": url,
        }
        cmd = [*glm_executable(), "ask", "--no-think", "hi"]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.PIPE, env=env)
        try:
            wait_until(lambda: out.read_bytes() == b"first piece", "the first deltas in the output file")
            assert proc.poll() is None  # glm is waiting for the rest
            release.set()
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, err
    assert out.read_bytes() == b"first piece and the rest\n"


BASE = "https://glm.test/api/paas/v4"
PIECES = [sse_body(chunk(content="a"), chunk(content="b"), done=False), sse_body(chunk(content="c", finish="stop"))]


def streamed(idle: bool) -> list[object]:
    with respx.mock:
        respx.post(f"{BASE}/chat/completions").mock(
            return_value=httpx.Response(200, content=iter(PIECES), headers={"content-type": "text/event-stream"})
        )
        client = GlmClient(base_url=BASE, api_key=FAKE_KEY)
        return list(client.chat({"model": "glm-4.7", "messages": [], "stream": True}, idle=idle))


def test_the_stream_says_idle_before_each_read_when_asked():
    events = streamed(idle=True)
    shown = [e if e is IDLE else e.text if isinstance(e, ContentDelta) else type(e).__name__ for e in events]
    assert shown == [IDLE, "a", "b", IDLE, "c", Finish.__name__]  # [DONE] ends it: no read after it
    assert all(isinstance(e, (ContentDelta, Finish)) for e in streamed(idle=False))


def test_answer_text_held_for_stdout_comes_before_reasoning_on_stderr():
    # stdout and stderr on one file (2>&1): what the answer said so far is written before the reasoning after it.
    both = io.StringIO()
    ios = IOStreams(stdin=io.StringIO(), stdout=both, stderr=both)
    deltas = [ContentDelta("a"), ReasoningDelta("r"), ContentDelta("b")]
    render_stream(deltas, ios, show_reasoning=True)
    assert both.getvalue() == f"a{THINKING_START}r\n{THINKING_END}\nb\n"
