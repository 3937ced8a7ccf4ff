"""glm's own transport (glm_cli/transport.py) against real sockets on 127.0.0.1: what client.py relies on.

Raw socket servers play each fault exactly: a kept-alive connection the server drops, a body cut mid-way,
chunked framing edge cases, a silent server, a refused connection. The proxy tests prove a proxied client
stays on httpx's own transport.
"""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import glm_cli.tls
from glm_cli.client import GlmClient, RetryPolicy
from glm_cli.errors import NetworkError
from glm_cli.events import ContentDelta
from glm_cli.transport import Transport
from tests.conftest import FAKE_KEY, wait_until
from tests.fake_server import FakeGLM
from tests.hostile_server import Hostile
from tests.test_perf_startup import modules_after

CERT = Path(__file__).resolve().parent / "fake_tls.pem"
PROXY_VARS = [f"{name}_proxy" for name in ("http", "https", "all", "no")]
PROXY_VARS += [name.upper() for name in PROXY_VARS]


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------------------------------ a scripted server


class Peer:
    """One accepted connection, seen from the server: read requests, write bytes, close."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf = sock, b""
        self.ended = threading.Event()  # its script is over (keep_answering's: the client closed)

    def request(self) -> bytes:
        """The next whole request (head and Content-Length or chunked body); b"" if the client closed first."""
        while b"\r\n\r\n" not in self.buf:
            if not self._more():
                return b""
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(b":") for ln in lines[1:])}
        body = b""
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            while True:
                while b"\r\n" not in self.buf:
                    self._more()
                size_line, _, self.buf = self.buf.partition(b"\r\n")
                size = int(size_line, 16)
                while len(self.buf) < size + 2:
                    self._more()
                body, self.buf = body + self.buf[:size], self.buf[size + 2 :]
                if not size:
                    break
        else:
            size = int(fields.get(b"content-length", b"0"))
            while len(self.buf) < size:
                self._more()
            body, self.buf = self.buf[:size], self.buf[size:]
        return head + b"\r\n\r\n" + body

    def _more(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def eof(self) -> None:
        """Read (and drop) whatever the client sends until it closes its end."""
        while self.sock.recv(65536):
            pass


def ok(body: bytes = b"ok", *extra: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Server:
    """A TCP server on 127.0.0.1 (or ::1) handing each accepted connection to SCRIPT(peer, n) in a thread.

    `requests` keeps every request the scripts read (via `peer.request()`), `accepted` counts connections.
    """

    def __init__(self, script: Callable[[Peer, int], None], host: str = "127.0.0.1") -> None:
        self.script, self.host = script, host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind((host, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.requests: list[bytes] = []
        self.peers: list[Peer] = []
        self.errors: list[BaseException] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            n, self.accepted = self.accepted, self.accepted + 1
            peer = Peer(sock)
            self.peers.append(peer)
            threading.Thread(target=self._run, args=(peer, n), daemon=True).start()

    def _run(self, peer: Peer, n: int) -> None:
        original = peer.request

        def recorded() -> bytes:
            req = original()
            if req:
                self.requests.append(req)
            return req

        peer.request = recorded  # type: ignore[method-assign]
        try:
            self.script(peer, n)
        except OSError:
            pass
        except BaseException as exc:  # noqa: BLE001 - shown by the test that reads it
            self.errors.append(exc)
        finally:
            peer.sock.close()
            peer.ended.set()

    def close(self) -> None:
        self.listener.close()
        for peer in self.peers:
            try:
                peer.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    made: list[Server] = []

    def start(script: Callable[[Peer, int], None], host: str = "127.0.0.1") -> Server:
        made.append(Server(script, host))
        return made[-1]

    yield start
    for server in made:
        server.close()


def keep_answering(peer: Peer, n: int) -> None:
    while peer.request():
        peer.send(ok(b"answer %d" % len(peer.buf)))


def client(**kw: object) -> httpx.Client:
    return httpx.Client(transport=Transport(glm_cli.tls.tls_context(), **kw))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ requests and answers


def test_the_request_goes_out_as_httpx_built_it(serve) -> None:
    srv = serve(keep_answering, host="::1")  # an IPv6 literal, its port, a query string, a body
    with client() as c:
        r = c.post(srv.url + "/api/x?a=1&b=%20two", content=b'{"k": "v"}', headers={"X-Custom": "Value"})
    assert r.status_code == 200 and r.text == "answer 0" and r.reason_phrase == "OK"
    head, _, body = srv.requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /api/x?a=1&b=%20two HTTP/1.1"
    assert f"Host: [::1]:{srv.port}".encode() in lines and b"X-Custom: Value" in lines
    assert b"Content-Length: 10" in lines and body == b'{"k": "v"}'


def test_repeated_answer_headers_are_kept_in_order(serve) -> None:
    def script(peer: Peer, n: int) -> None:
        peer.request()
        peer.send(ok(b"", "Set-Cookie: a=1", "X-Thing: one", "Set-Cookie: b=2", status="201 Made Up"))

    srv = serve(script)
    with client() as c:
        r = c.get(srv.url)
    assert r.status_code == 201 and r.reason_phrase == "Made Up"
    assert r.headers.get_list("set-cookie") == ["a=1", "b=2"] and r.headers["x-thing"] == "one"


def test_an_interim_answer_is_skipped(serve) -> None:
    def script(peer: Peer, n: int) -> None:
        peer.request()
        peer.send(b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + ok(b"final"))

    with client() as c:
        assert c.get(serve(script).url).text == "final"


def test_a_streamed_upload_arrives_whole_with_its_length(serve) -> None:
    srv = serve(keep_answering)
    data = bytes(range(256)) * 1000
    with client() as c:
        r = c.post(srv.url + "/files", data={"purpose": "batch"}, files={"file": ("b.jsonl", data, "application/x")})
    assert r.status_code == 200
    head, _, body = srv.requests[0].partition(b"\r\n\r\n")
    assert f"Content-Length: {len(body)}".encode() in head.split(b"\r\n") and data in body


def test_a_generated_upload_is_sent_chunked(serve) -> None:
    srv = serve(keep_answering)
    with client() as c:
        r = c.post(srv.url, content=iter([b"one ", b"", b"two"]))
    assert r.status_code == 200 and srv.requests[0].endswith(b"\r\n\r\none two")


def test_pieces_arrive_as_the_server_sends_them(serve) -> None:
    got_first = threading.Event()

    def script(peer: Peer, n: int) -> None:
        peer.request()
        peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst \r\n")
        assert got_first.wait(30)  # the second piece only once the client has the first
        peer.send(b"6\r\nsecond\r\n0\r\n\r\n")

    with client() as c, c.stream("GET", serve(script).url) as r:
        pieces = r.iter_raw()
        assert next(pieces) == b"first "
        got_first.set()
        assert b"".join(pieces) == b"second"


def test_gzip_bytes_come_through_raw(serve) -> None:
    packed = gzip.compress(b"hello " * 100)

    def script(peer: Peer, n: int) -> None:
        peer.request()
        peer.send(ok(packed, "Content-Encoding: gzip"))

    with client() as c, c.stream("GET", serve(script).url) as r:
        assert b"".join(r.iter_raw()) == packed  # not unpacked: glm's Body does that, bounded


def test_glm_unpacks_a_gzip_answer_that_came_through_this_transport() -> None:
    with Hostile("gzip_answer", text="packed answer") as srv:
        c = GlmClient(base_url=srv.base_url, api_key=FAKE_KEY)
        try:
            assert isinstance(c.http._transport, Transport)  # type: ignore[attr-defined]
            deltas = list(c.chat({"model": "glm-4.7", "messages": [], "stream": True}))
        finally:
            c.close()
    assert "".join(d.text for d in deltas if isinstance(d, ContentDelta)) == "packed answer "  # word by word


# ------------------------------------------------------------------------------------------ chunked framing


def test_chunked_edge_cases_are_decoded_and_the_connection_kept(serve) -> None:
    body = (
        b"3;name=value\r\nabc\r\n"  # a chunk extension
        b"A\r\n0123456789\r\n"  # upper-case hex
        b"1\r\n\n\r\n"  # a chunk that is a bare LF
        b"0\r\nX-Trailer: yes\r\n\r\n"  # a trailer
    )

    def script(peer: Peer, n: int) -> None:
        while peer.request():
            head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            for i in range(0, len(body), 5):  # framing split anywhere
                peer.send((head if i == 0 else b"") + body[i : i + 5])

    srv = serve(script)
    with client() as c:
        assert [c.get(srv.url).content for _ in range(2)] == [b"abc0123456789\n"] * 2
    assert srv.accepted == 1  # the trailer was read: the same connection served the second request


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",  # cut inside a chunk
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",  # cut before the last chunk
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",  # not a chunk size
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",  # shorter than its Content-Length
        b"HTTP/1.1 2x0 ??\r\n\r\n",  # a malformed status line
        b"SMTP ready\r\n\r\n",  # not HTTP
        b"",  # no status at all
    ],
    ids=["mid-chunk", "before-last-chunk", "bad-size", "short-content-length", "bad-status", "not-http", "no-status"],
)
def test_a_malformed_or_cut_answer_is_a_protocol_error(serve, answer: bytes) -> None:
    def script(peer: Peer, n: int) -> None:
        peer.request()
        peer.send(answer)

    with client() as c, pytest.raises(httpx.RemoteProtocolError):
        c.get(serve(script).url)


def test_a_close_delimited_body_ends_at_the_close(serve) -> None:
    def script(peer: Peer, n: int) -> None:
        peer.request()
        peer.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")

    srv = serve(script)
    with client() as c:
        assert c.get(srv.url).text == "all of it" and c.get(srv.url).text == "all of it"
    assert srv.accepted == 2


# ------------------------------------------------------------------------------------------ kept-alive connections


def test_connections_are_kept_alive_and_reused(serve) -> None:
    srv = serve(keep_answering)
    with client() as c:
        assert [c.get(srv.url).status_code for _ in range(5)] == [200] * 5
    assert srv.accepted == 1


def test_an_answer_closed_before_its_end_does_not_leave_its_connection_in_the_pool(serve) -> None:
    srv = serve(lambda peer, n: [peer.send(ok(b"x" * 100_000)) for _ in iter(peer.request, b"")])
    with client() as c:
        with c.stream("GET", srv.url) as r:
            next(r.iter_raw())
        assert c.get(srv.url).content == b"x" * 100_000
    assert srv.accepted == 2


def test_an_http_1_0_answer_closes_its_connection(serve) -> None:
    srv = serve(lambda peer, n: (peer.request(), peer.send(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")))
    with client() as c:
        assert [c.get(srv.url).text for _ in range(2)] == ["ok", "ok"]
    assert srv.accepted == 2


def test_a_connection_the_server_closed_while_idle_is_not_reused(serve) -> None:
    closed = threading.Event()

    def script(peer: Peer, n: int) -> None:
        peer.request()
        peer.send(ok(b"first" if n == 0 else b"second"))
        if n == 0:
            peer.sock.close()
            closed.set()
        else:
            peer.request()

    srv = serve(script)
    with client() as c:
        assert c.get(srv.url).text == "first"
        assert closed.wait(30)
        assert c.post(srv.url, content=b"body").text == "second"
    assert srv.accepted == 2


def test_a_kept_alive_connection_dropped_unanswered_is_retried_once_on_a_new_one(serve) -> None:
    def script(peer: Peer, n: int) -> None:
        peer.request()
        peer.send(ok(b"first" if n == 0 else b"again"))
        if n == 0:
            peer.request()  # the second request is read, then the connection closes with no answer

    srv = serve(script)
    with client() as c:
        assert c.get(srv.url).text == "first"
        assert c.post(srv.url, content=b'{"n": 2}').text == "again"
    assert srv.accepted == 2 and srv.requests[1] == srv.requests[2] and srv.requests[2].endswith(b'{"n": 2}')


def answer_then_drop(peer: Peer, n: int) -> None:
    """The first connection answers one request, then reads the next and closes unanswered; later ones answer none."""
    peer.request()
    if n == 0:
        peer.send(ok())
        peer.request()


def test_the_retry_is_made_once_only(serve) -> None:
    srv = serve(answer_then_drop)
    with client() as c:
        c.get(srv.url)
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            c.get(srv.url)
    assert srv.accepted == 2


def test_a_new_connection_dropped_unanswered_is_not_retried(serve) -> None:
    srv = serve(lambda peer, n: peer.request())
    with client() as c, pytest.raises(httpx.RemoteProtocolError):
        c.get(srv.url)
    assert srv.accepted == 1


def test_a_streamed_upload_is_not_sent_twice(serve) -> None:
    srv = serve(answer_then_drop)
    with client() as c:
        c.get(srv.url)
        with pytest.raises(httpx.TransportError):
            c.post(srv.url, content=iter([b"once"]))
    assert srv.accepted == 1


def test_the_pool_waits_for_a_free_connection_and_bounds_its_wait(serve) -> None:
    srv = serve(keep_answering)
    with client(max_connections=1) as c:
        first = c.send(c.build_request("GET", srv.url), stream=True)
        with pytest.raises(httpx.PoolTimeout):
            c.get(srv.url, timeout=httpx.Timeout(30, pool=0.01))
        done: list[int] = []
        waiter = threading.Thread(target=lambda: done.append(c.get(srv.url).status_code), daemon=True)
        waiter.start()
        first.read()
        first.close()
        waiter.join(30)
        assert done == [200]
    assert srv.accepted == 1  # the waiting request took the freed connection


def test_idle_connections_are_bounded_and_closed_with_the_client(serve) -> None:
    srv = serve(keep_answering)
    transport = Transport(glm_cli.tls.tls_context(), max_keepalive=1)
    c = httpx.Client(transport=transport)
    a, b = (c.send(c.build_request("GET", srv.url), stream=True) for _ in range(2))
    for r in (a, b):
        r.read()
        r.close()
    assert srv.accepted == 2
    wait_until(lambda: sum(p.ended.is_set() for p in srv.peers) == 1, "one connection closed")
    assert len(transport._idle) == 1  # the other went back to the pool
    c.close()
    wait_until(lambda: all(p.ended.is_set() for p in srv.peers), "every connection closed with the client")


# ------------------------------------------------------------------------------------------ time and failures


def test_a_silent_server_ends_at_the_read_timeout(serve) -> None:
    srv = serve(lambda peer, n: (peer.request(), peer.eof()))
    with client() as c, pytest.raises(httpx.ReadTimeout):
        c.get(srv.url, timeout=httpx.Timeout(30, read=0.05))


def test_a_handshake_that_never_comes_ends_at_the_connect_timeout(serve) -> None:
    srv = serve(lambda peer, n: peer.eof())
    with client() as c, pytest.raises(httpx.ConnectTimeout):
        c.get(srv.url.replace("http:", "https:"), timeout=httpx.Timeout(30, connect=0.05))


def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with client() as c, pytest.raises(httpx.ConnectError):
        c.get(f"http://127.0.0.1:{port}/")


def test_shutting_the_answer_s_socket_ends_a_blocked_read(serve) -> None:
    def script(peer: Peer, n: int) -> None:
        peer.request()
        peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n")
        peer.eof()  # then silence

    outcome: list[object] = []
    with client() as c, c.stream("GET", serve(script).url) as r:
        sock = r.extensions["network_stream"].get_extra_info("socket")
        pieces = r.iter_raw()
        assert next(pieces) == b"hi"

        def read_on() -> None:
            try:
                outcome.append(b"".join(pieces))
            except httpx.HTTPError as exc:
                outcome.append(exc)

        reader = threading.Thread(target=read_on, daemon=True)
        reader.start()
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # what client._Watchdog does at the deadline
        reader.join(30)
        assert not reader.is_alive() and isinstance(outcome[0], httpx.RemoteProtocolError)


def test_glm_retries_a_refused_connection_as_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits: list[float] = []
    c = GlmClient(base_url=f"http://127.0.0.1:{port}/v4", api_key=FAKE_KEY, sleep=waits.append)
    try:
        with pytest.raises(NetworkError, match="cannot reach .*ConnectError"):
            c.request_json("GET", "/models")
    finally:
        c.close()
    assert len(waits) == RetryPolicy().max_retries


# ------------------------------------------------------------------------------------------ https


@pytest.fixture
def tls_server(serve, monkeypatch: pytest.MonkeyPatch) -> Server:
    """A kept-alive https server for 127.0.0.1 (tests/fake_tls.pem), trusted through SSL_CERT_FILE."""
    monkeypatch.setattr(glm_cli.tls, "_shared", None)
    monkeypatch.setenv("SSL_CERT_FILE", str(CERT))
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(CERT)
    names: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment]

    def script(peer: Peer, n: int) -> None:
        peer.sock = server_ctx.wrap_socket(peer.sock, server_side=True)
        keep_answering(peer, n)

    srv = serve(script)
    srv.sni = names  # type: ignore[attr-defined]
    return srv


def test_https_is_verified_kept_alive_and_its_socket_offered(tls_server: Server) -> None:
    url = tls_server.url.replace("http:", "https:")
    with client() as c:
        with c.stream("GET", url) as r:
            assert isinstance(r.extensions["network_stream"].get_extra_info("socket"), ssl.SSLSocket)
            r.read()
        assert c.get(url).text.startswith("answer")
    assert tls_server.accepted == 1 and tls_server.sni == [None]  # no SNI for an IP address, as RFC 6066 says


# ------------------------------------------------------------------------------------------ which transport


def test_a_direct_client_uses_this_transport() -> None:
    with FakeGLM() as srv:
        srv.reply(content="direct")
        c = GlmClient(base_url=srv.base_url, api_key=FAKE_KEY)
        try:
            assert isinstance(c.http._transport, Transport)  # type: ignore[attr-defined]
            deltas = list(c.chat({"model": "glm-4.7", "messages": [{"role": "user", "content": "hi"}], "stream": True}))
        finally:
            c.close()
    assert "".join(d.text for d in deltas if isinstance(d, ContentDelta)) == "direct"


def proxy_script(peer: Peer, n: int) -> None:
    if peer.request():
        peer.send(ok(b'{"object": "list", "data": [{"id": "via-proxy"}]}', "Content-Type: application/json"))


@pytest.mark.parametrize("how", ["argument", "HTTP_PROXY", "ALL_PROXY", "http_proxy"])
def test_a_proxied_client_goes_through_the_proxy(serve, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    proxy = serve(proxy_script)
    if how != "argument":
        monkeypatch.setenv(how, proxy.url)
    c = GlmClient(
        base_url="http://glm.invalid/api/paas/v4", api_key=FAKE_KEY, proxy=proxy.url if how == "argument" else None
    )
    try:
        assert not isinstance(c.http._transport, Transport)  # type: ignore[attr-defined]
        assert c.request_json("GET", "/models")["data"] == [{"id": "via-proxy"}]
    finally:
        c.close()
    assert proxy.requests[0].startswith(b"GET http://glm.invalid/api/paas/v4/models HTTP/1.1\r\n")


def test_no_proxy_star_means_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "*")
    c = GlmClient(base_url="https://glm.invalid/api/paas/v4", api_key=FAKE_KEY)
    try:
        assert isinstance(c.http._transport, Transport)  # type: ignore[attr-defined]
    finally:
        c.close()


@pytest.mark.parametrize(
    "head",
    [b"Content-Length: 2\r\nno colon here\r\nX-A: b", b": no name\r\nContent-Length: 2"],
    ids=["not-a-field", "no-name"],
)
def test_a_malformed_header_field_is_a_protocol_error_and_frees_its_place(serve, head: bytes) -> None:
    srv = serve(
        lambda peer, n: [peer.send(b"HTTP/1.1 200 OK\r\n" + head + b"\r\n\r\nok") for _ in iter(peer.request, b"")]
    )
    with client(max_connections=1) as c:
        for _ in range(2):  # the second would wait for the pool forever if the first had kept its place
            with pytest.raises(httpx.RemoteProtocolError, match="malformed header"):
                c.get(srv.url, timeout=httpx.Timeout(30, pool=5))


def test_a_folded_header_field_is_unfolded(serve) -> None:
    srv = serve(
        lambda peer, n: (peer.request(), peer.send(b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n  b\r\nContent-Length: 0\r\n\r\n"))
    )
    with client() as c:
        assert c.get(srv.url).headers["x-fold"] == "a b"


def test_a_direct_ask_never_imports_httpcore(environ) -> None:
    text, mods = modules_after(["ask", "--no-log", "hi"], environ)
    assert "Echo: hi" in text and "httpx" in mods
    assert not {"httpcore", "h11", "anyio"} & mods  # ~15 ms of imports that httpx's own transport costs
    text, mods = modules_after(["ask", "--no-log", "hi"], {**environ, "HTTP_PROXY": "http://127.0.0.1:9"})
    assert "httpcore" in mods  # through a proxy: httpx's own transport


def test_an_idle_connection_past_its_expiry_is_not_reused(serve) -> None:
    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    srv = serve(keep_answering)
    with httpx.Client(transport=Transport(glm_cli.tls.tls_context(), clock=clock, keepalive_expiry=5.0)) as c:
        c.get(srv.url)
        clock.now += 5.0
        c.get(srv.url)  # idle exactly 5 s: still kept
        clock.now += 5.1
        c.get(srv.url)
    assert srv.accepted == 2
    wait_until(lambda: srv.peers[0].ended.is_set(), "the expired connection closed")


def test_a_failed_connect_frees_its_place_in_the_pool() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with client(max_connections=1) as c:
        for _ in range(2):  # the second would time out waiting for the pool if the first had kept its place
            with pytest.raises(httpx.ConnectError):
                c.get(f"http://127.0.0.1:{port}/", timeout=httpx.Timeout(30, pool=5))
