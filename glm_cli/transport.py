"""httpx's transport for direct connections, over the standard library's sockets and http.client parser.

httpx's own transport (httpcore, h11, anyio) costs ~15 ms of imports at every start; this one uses what
httpx has imported already. It keeps what client.py relies on: raw body bytes in pieces as they arrive,
the socket in ``network_stream`` (the deadline watchdog shuts it), the per-request timeouts, httpx's
exception types, kept-alive connections in a pool bounded like httpx.Limits. Proxies are not its job:
client.py leaves a proxied client on httpx's own transport (see ``proxied``).
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.request import getproxies

import httpx

PIECE = 64 * 1024  # most bytes read at a time
KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is kept (httpx.Limits' default)
_PORTS = {"http": 80, "https": 443}
_Key = tuple[str, str, int]


def proxied(proxy: str | None) -> bool:
    """Whether httpx would send through a proxy: PROXY given, or one in the environment (as httpx reads it)."""
    if proxy is not None:
        return True
    found = getproxies()
    if "*" in (h.strip() for h in found.get("no", "").split(",")):
        return False
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


class _Response(http.client.HTTPResponse):
    def _read_status(self) -> tuple[str, int, str]:
        version, status, reason = super()._read_status()  # type: ignore[misc]
        if 100 <= status < 200 and status != 101:
            return version, 100, reason  # any interim answer (103 Early Hints...) is skipped as 100 Continue is
        return version, status, reason  # type: ignore[no-any-return]


class _Conn:
    """One open connection: its socket and when it was last put back idle."""

    def __init__(self, key: _Key, sock: socket.socket) -> None:
        self.key, self.sock, self.idle_since = key, sock, 0.0

    def stale(self) -> bool:
        """Readable while idle: the server closed it (or sent what nobody asked for)."""
        poll = select.poll()
        poll.register(self.sock, select.POLLIN)
        return bool(poll.poll(0))

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class _NetworkStream:
    """What httpx's ``network_stream`` extension offers and glm uses: the socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def get_extra_info(self, info: str) -> Any:
        return self._sock if info == "socket" else None


class _Retry(Exception):
    """A kept-alive connection turned out closed before anything of the answer came: send again, once."""


class Transport(httpx.BaseTransport):
    """Send over plain or TLS sockets; keep up to MAX_KEEPALIVE idle connections, open at most MAX_CONNECTIONS."""

    def __init__(
        self,
        context: Any,
        *,
        max_connections: int = 100,
        max_keepalive: int = 20,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.context, self.clock = context, clock
        self.max_connections, self.max_keepalive = max_connections, max_keepalive
        self.keepalive_expiry = keepalive_expiry
        self._idle: list[_Conn] = []  # oldest first
        self._open = 0  # connections open: idle and in use
        self._cond = threading.Condition()
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in _PORTS:
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{url.scheme}://'.")
        if not url.host:
            raise httpx.UnsupportedProtocol("Request URL is missing a host.")
        timeout = request.extensions.get("timeout", {})
        key = (url.scheme, url.raw_host.decode("ascii"), url.port or _PORTS[url.scheme])  # IDNA: its ASCII form
        replayable, retried = isinstance(request.stream, httpx.ByteStream), False
        while True:
            conn, reused = self._acquire(key, timeout, fresh=retried)
            try:
                resp = self._exchange(conn, request, timeout, reused and replayable and not retried)
                headers = _headers(resp)
            except _Retry:  # once, on a new connection
                self._release(conn, reuse=False)
                retried = True
                continue
            except BaseException:
                self._release(conn, reuse=False)
                raise
            return httpx.Response(
                resp.status,
                headers=headers,
                stream=_Body(self, conn, resp),
                extensions={
                    "http_version": b"HTTP/1.1" if resp.version == 11 else b"HTTP/1.0",
                    "reason_phrase": resp.reason.encode("latin-1"),
                    "network_stream": _NetworkStream(conn.sock),
                },
            )

    # --- the pool ---

    def _acquire(self, key: _Key, timeout: dict[str, float | None], fresh: bool) -> tuple[_Conn, bool]:
        """An idle connection to KEY (reused: True) unless FRESH, else a new one once the pool has room for it.

        FRESH drops KEY's idle connections: after one turned out closed, the others are likely closed too.
        """
        wait = timeout.get("pool")
        end = None if wait is None else self.clock() + wait
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the transport is closed")
                now = self.clock()
                for conn in reversed(self._idle):  # the most recently used first
                    if conn.key != key:
                        continue
                    self._idle.remove(conn)
                    if not fresh and now - conn.idle_since <= self.keepalive_expiry and not conn.stale():
                        return conn, True
                    self._drop(conn)
                if self._open < self.max_connections:
                    self._open += 1
                    break
                if self._idle:  # room taken by idle connections elsewhere: close the oldest
                    self._drop(self._idle.pop(0))
                    continue
                left = None if end is None else end - self.clock()
                if left is not None and left <= 0:
                    raise httpx.PoolTimeout("no connection came free in time")
                self._cond.wait(left)
        try:
            return self._connect(key, timeout.get("connect")), False
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def _drop(self, conn: _Conn) -> None:
        """Close CONN and free its place (the lock held)."""
        conn.close()
        self._open -= 1
        self._cond.notify()

    def _release(self, conn: _Conn, *, reuse: bool) -> None:
        with self._cond:
            if reuse and not self._closed and len(self._idle) < self.max_keepalive:
                conn.idle_since = self.clock()
                self._idle.append(conn)
                self._cond.notify()
            else:
                self._drop(conn)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            while self._idle:
                self._drop(self._idle.pop())

    # --- one exchange ---

    def _connect(self, key: _Key, timeout: float | None) -> _Conn:
        scheme, host, port = key
        try:
            sock = socket.create_connection((host, port), timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self.context.wrap_socket(sock, server_hostname=host)
        except TimeoutError as exc:
            sock.close()
            raise httpx.ConnectTimeout(str(exc) or "timed out") from exc
        except (OSError, ValueError) as exc:  # ssl errors, a certificate for another name
            sock.close()
            raise httpx.ConnectError(str(exc)) from exc
        return _Conn(key, sock)

    def _exchange(
        self, conn: _Conn, request: httpx.Request, timeout: dict[str, float | None], retry: bool
    ) -> http.client.HTTPResponse:
        """Send REQUEST on CONN and read the answer's head. RETRY: a failure before any answer raises _Retry."""
        sock = conn.sock
        head = [b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), request.url.raw_path)]
        head += [b"%s: %s\r\n" % (k, v) for k, v in request.headers.raw]
        head.append(b"\r\n")
        chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
        sent: OSError | None = None
        try:
            sock.settimeout(timeout.get("write"))
            if isinstance(request.stream, httpx.ByteStream):
                sock.sendall(b"".join(head) + b"".join(request.stream))
            else:
                sock.sendall(b"".join(head))
                for piece in request.stream:  # type: ignore[union-attr]  # a sync client's stream
                    if chunked and piece:
                        piece = b"%x\r\n%s\r\n" % (len(piece), piece)
                    sock.sendall(piece)
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
        except TimeoutError as exc:
            raise httpx.WriteTimeout(str(exc) or "timed out") from exc
        except OSError as exc:
            if retry:
                raise _Retry from exc
            sent = exc  # the server may have answered before closing (as httpcore, read what it said)
        try:
            sock.settimeout(timeout.get("read"))
            resp = _Response(sock, method=request.method)
            try:
                resp.begin()
            except BaseException:
                resp.close()  # its file holds the socket open
                raise
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out") from exc
        except (http.client.RemoteDisconnected, ConnectionError) as exc:
            if retry:
                raise _Retry from exc
            if sent is not None:
                raise httpx.WriteError(str(sent)) from sent
            if isinstance(exc, http.client.RemoteDisconnected):
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from exc
            raise httpx.ReadError(str(exc)) from exc
        except (http.client.HTTPException, ValueError) as exc:
            raise httpx.RemoteProtocolError(f"malformed answer: {exc.__class__.__name__}: {exc}") from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc)) from exc
        return resp


def _headers(resp: http.client.HTTPResponse) -> list[tuple[bytes, bytes]]:
    """The answer's header fields as httpx keeps them; a malformed head is a protocol error (as in h11)."""
    msg = resp.msg
    if msg.defects or msg.get_payload():  # a line that is no header field, a field without a name
        resp.close()
        raise httpx.RemoteProtocolError("malformed header field in the answer")
    fields = []
    for name, value in resp.getheaders():
        if "\n" in value:  # obsolete line folding: one space, as h11 unfolds it
            value = " ".join(part.strip() for part in value.splitlines())
        fields.append((name.encode("latin-1"), value.encode("latin-1")))
    return fields


class _Body(httpx.SyncByteStream):
    """An answer's body, raw (not decoded), in pieces as they arrive; its connection kept when read to the end."""

    def __init__(self, transport: Transport, conn: _Conn, resp: http.client.HTTPResponse) -> None:
        self.transport, self.conn, self.resp = transport, conn, resp
        self.done = self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        resp = self.resp
        try:
            while True:
                piece = resp.read1(PIECE)
                if not piece:
                    break
                yield piece
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out") from exc
        except (http.client.HTTPException, ValueError) as exc:  # a chunked body cut short or malformed
            raise httpx.RemoteProtocolError(f"incomplete or malformed body: {exc.__class__.__name__}") from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc)) from exc
        if resp.length:  # http.client ends a Content-Length body cut short without a word
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body: "
                f"{resp.length} bytes of the Content-Length missing"
            )
        self.done = True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.resp.close()  # its file holds the socket open
            self.transport._release(self.conn, reuse=self.done and not self.resp.will_close)
