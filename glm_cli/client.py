"""THE client: the only httpx import; retries, timeouts, the deadline and size bounds, GLM error mapping."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from glm_cli import __version__
from glm_cli.errors import (
    APIAuthError,
    APIContentFilterError,
    APIError,
    APINetworkError,
    APIRateLimitError,
    GlmError,
    NetworkError,
    ProtocolError,
    RateLimitError,
)
from glm_cli.events import Event, Waiting
from glm_cli.response import ReportedError, chunk_to_deltas, error_body_detail, loads
from glm_cli.sse import DeltaReader, MiB, StreamCutError, read_deltas

if TYPE_CHECKING:
    import httpx


def _import_httpx():  # noqa: ANN202
    """Import httpx without its own CLI module: `httpx._main` pulls in click, rich and pygments (~30 ms)."""
    import sys

    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # makes httpx fall back to a stub main
    import httpx

    return httpx


@functools.cache
def _cookie_jar() -> type[httpx.Cookies]:
    """httpx.Cookies that skips reading a response without Set-Cookie (httpx reads every one: ~27 us each).

    The cookie jar's own extraction takes cookies from Set-Cookie and Set-Cookie2 only: what it keeps is the same.
    """
    _import_httpx()
    import httpx

    class Cookies(httpx.Cookies):
        def extract_cookies(self, response: httpx.Response) -> None:
            if "set-cookie" in response.headers or "set-cookie2" in response.headers:
                super().extract_cookies(response)

    return Cookies


# GLM business codes: meaning, what to do, error class (zhipu-api.md §5.3).
CODES: dict[str, tuple[str, str | None, type[APIError]]] = {
    "1000": ("authentication failed", "check the API key (GLM_API_KEY / ZAI_API_KEY / ZHIPUAI_API_KEY)", APIAuthError),
    "1001": ("authentication header missing", "set an API key", APIAuthError),
    "1002": ("invalid authentication token", "check the API key", APIAuthError),
    "1003": ("authentication token expired", "create a new key", APIAuthError),
    "1004": ("authentication failed (token invalid)", "check the API key", APIAuthError),
    "1110": ("account not active", "activate the account on the platform", APIAuthError),
    "1111": ("account does not exist", "check the API key and endpoint", APIAuthError),
    "1112": ("account locked", "contact Zhipu support", APIAuthError),
    "1113": (
        "insufficient balance or no resource package",
        "recharge, or if you have a Coding Plan key use `--endpoint zai-coding` (or bigmodel-coding)",
        APIRateLimitError,
    ),
    "1121": ("account locked for rule violations", "contact Zhipu support", APIAuthError),
    "1210": ("invalid API parameters", "check --max-tokens, --temperature and --top-p", APIError),
    "1211": ("unknown model", "see `glm models` for valid ids", APIError),
    "1212": ("method not supported by this model", None, APIError),
    "1213": ("required field missing", None, APIError),
    "1214": ("invalid field value", "check the messages and parameters", APIError),
    "1220": ("no permission for this API", "check your plan", APIAuthError),
    "1231": ("duplicate request_id", "use a new --request-id", APIError),
    "1234": ("internal network error", "try again", APINetworkError),
    "1261": ("prompt too long for the context window", "shorten the input", APIError),
    "1301": ("content blocked as unsafe or sensitive", "rephrase the input", APIContentFilterError),
    "1302": ("rate limit reached (concurrency)", "slow down or lower concurrency", APIRateLimitError),
    "1303": ("request frequency too high", "slow down", APIRateLimitError),
    "1304": ("daily call limit reached", "try again tomorrow", APIRateLimitError),
    "1305": ("the model is overloaded", "try again later or use another model", APIRateLimitError),
    "1308": ("usage limit reached", "wait for the reset time in the message", APIRateLimitError),
    "1309": ("GLM Coding Plan expired", "renew the plan", APIAuthError),
    "1310": ("weekly/monthly limit reached", "wait for the reset", APIRateLimitError),
    "500": ("internal server error", "try again", APIError),
}


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed request is sent again, and how long to wait first: one value, for the client and batch.

    Retried: the GLM codes and HTTP statuses below, and network errors (a dropped connection, a timeout);
    never a ProtocolError, a passed deadline, auth, balance, content or other 4xx answers. The wait before try
    N+1 is the server's Retry-After (up to ``retry_after_cap``), else ``base``·2^(N-1) up to ``cap``, less up to
    ``jitter`` of it (so that many clients do not come back in step).
    """

    max_retries: int = 3  # tries after the first (the config's max_retries)
    base: float = 0.5  # seconds before the first retry; doubled for each one after it
    cap: float = 8.0  # the longest wait between two tries (Retry-After aside)
    jitter: float = 0.25  # share of each wait taken off at random
    retry_after_cap: float = 60.0  # the longest Retry-After honoured
    codes: frozenset[str] = frozenset({"500", "1234", "1302", "1303", "1305"})
    statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})  # for answers without a GLM code

    def retryable(self, err: GlmError) -> bool:
        """Whether ERR may succeed on a later try."""
        if isinstance(err, (ProtocolError, DeadlineError)):
            return False
        if isinstance(err, APIError):
            return err.code in self.codes if err.code is not None else err.status in self.statuses
        return isinstance(err, NetworkError)

    def retry_after(self, err: GlmError) -> float | None:
        """The server's Retry-After in seconds (capped), if it sent one."""
        after = err.retry_after if isinstance(err, APIError) else None
        return None if after is None else min(after, self.retry_after_cap)

    def delay(self, err: GlmError, attempt: int) -> float:
        """Seconds to wait before try ATTEMPT+1."""
        after = self.retry_after(err)
        if after is not None:
            return after
        return min(self.base * 2 ** (attempt - 1), self.cap) * (1 - random.random() * self.jitter)


def error_from_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> APIError:
    """Map an HTTP error answer to a typed error whose message names the GLM code."""
    found, message = error_body_detail(body)
    # GLM business codes are numeric strings; another server's code (OpenAI's "invalid_api_key",
    # "rate_limit_exceeded", ...) is not a GLM code: the HTTP status says what kind of failure it is.
    code = found if found is not None and found.isdigit() else None
    if found is not None and code is None:
        message = f"{found}: {message}" if message else found
    meaning, hint, cls = CODES.get(code or "", (None, None, APIError))
    if code is None:
        if status == 401:
            meaning, hint, cls = "authentication failed", "check the API key", APIAuthError
        elif status == 404:
            meaning, hint = "not found", "check the base URL / --endpoint"
        elif status == 429:
            meaning, cls = "rate limited", APIRateLimitError
    parts = [f"HTTP {status}"]
    if code:
        parts.append(f"GLM {code}")
    summary = text = f"{' '.join(parts)}: {meaning or 'error'}"
    if message and message != meaning:
        text += f" ({message})"
    return cls(text, hint, status=status, code=code, retry_after=_retry_after(headers or {}), summary=summary)


class StreamBrokeError(NetworkError):
    """The server reported an error after part of the answer had come: it broke off, like a cut stream."""

    def __init__(self, message: str, hint: str | None, *, code: str | None) -> None:
        super().__init__(message, hint)
        self.code = code  # what batch records show


def reported_error(err: ReportedError, *, mid_answer: bool) -> GlmError:
    """Class an error the server reported in a 200 answer as the same GLM code in an HTTP error answer is.

    MID_ANSWER (part of the answer had come): one whose code names no class of its own (none, 500, another
    server's) means the answer broke off - a network-class failure (exit 6), as a cut stream is.
    """
    found = CODES.get(err.code or "")
    what = f"the answer broke off: the server reported an error{f' (GLM {err.code})' if err.code else ''}"
    made: GlmError
    if found is None or (mid_answer and err.code == "500"):
        if not mid_answer:
            return err
        made = StreamBrokeError(f"{what}: {err.detail}", "try again", code=err.code)
    else:
        _, hint, cls = found
        made = cls(f"{what}: {err.detail}" if mid_answer else err.message, hint, code=err.code)
    made.mid_answer = mid_answer
    return made


def broke_off(err: GlmError) -> bool:
    """Whether ERR ended an answer that was real as far as it came (a cut stream, the deadline, an error the
    server reported mid-answer): what was shown is kept. Not an answer refused for its size or its shape."""
    return isinstance(err, NetworkError) or err.mid_answer


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


DEFAULT_DEADLINE = 600.0  # seconds for one request: every try, backoff and byte of the answer
DEFAULT_MAX_RESPONSE_MB = 64  # a streamed 128K-token answer is ~30 MiB of events; a whole JSON one ~1 MiB
ERROR_BODY_BYTES = 1024 * 1024  # of an error answer, only the first MiB is read: far more than any message
HEAD_BYTES = 4096  # the start of a body kept to show what came back when it is not what was asked for
PIECE = 64 * 1024  # most bytes unpacked at a time


class DeadlineError(NetworkError):
    """The request's total deadline passed (tries, waits and the answer included); never retried."""


class Deadline:
    """The end of one request's time, on an injectable clock (None: no deadline)."""

    def __init__(self, seconds: float | None, clock: Callable[[], float], used: float = 0.0) -> None:
        """SECONDS in all, of which USED are gone already (earlier tries of a batch line)."""
        self.seconds, self.clock = seconds, clock
        self.end = None if seconds is None else clock() + seconds - used

    def remaining(self) -> float | None:
        return None if self.end is None else self.end - self.clock()

    def expired(self) -> bool:
        return self.end is not None and self.clock() >= self.end

    def error(self, attempts: int = 1) -> DeadlineError:
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        return DeadlineError(
            f"timed out: no complete answer within the {self.seconds:g} s deadline{tries}",
            "raise `deadline` in the config (seconds per request, retries included) if answers really take this long",
        )

    def give_up(self, err: GlmError, attempts: int) -> GlmError:
        """ERR, the last try's, saying that no time is left for another."""
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        err.message += f" — gave up after {tries} within the {self.seconds:g} s deadline"
        return err


class _Watchdog:
    """At the deadline, shut the response's socket: a read blocked on a silent server returns then."""

    def __init__(self, resp: httpx.Response, seconds: float | None) -> None:
        from glm_cli.alarms import alarms

        self.fired = False
        stream = resp.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        self._alarm: int | None = None
        if sock is not None and seconds is not None:
            self._alarm = alarms().set(seconds, lambda: self._fire(sock))

    def _fire(self, sock: Any) -> None:
        import socket

        self.fired = True
        try:  # the plain socket's shutdown, under any TLS layer: the reader sees end-of-file
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        if self._alarm is not None:
            from glm_cli.alarms import alarms

            alarms().cancel(self._alarm)


def too_big(limit: int) -> APIError:
    return APIError(
        f"the answer is larger than {limit / MiB:g} MiB; glm stopped reading it",
        "if it really is that large, raise `max_response_mb` in the config",
    )


def decoded(raw: Iterable[bytes], encoding: str, limit: int | None) -> Iterator[bytes]:
    """Undo the Content-Encoding (none or gzip) piece by piece; stop past LIMIT bytes read or unpacked."""
    import zlib

    encoding = encoding.strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise APIError(
            f"the server sent Content-Encoding {sanitise(encoding.encode(), 40)!r}, which glm did not ask for"
        )
    unzip = zlib.decompressobj(47) if encoding.endswith("gzip") else None  # 47: a gzip or zlib header
    read = unpacked = 0
    for piece in raw:
        read += len(piece)
        if limit is not None and read > limit:
            raise too_big(limit)
        if unzip is None:
            yield piece
            continue
        while piece and not unzip.eof:  # what follows the end of the gzip data is ignored, as httpx does
            try:
                out = unzip.decompress(piece, PIECE)  # bounded: a bomb unpacks 64 KiB at a time
            except zlib.error:
                raise APIError("the server's gzip-compressed answer is corrupt") from None
            piece = unzip.unconsumed_tail
            unpacked += len(out)
            if limit is not None and unpacked > limit:
                raise too_big(limit)
            if out:
                yield out


def sanitise(data: bytes, size: int = 160, secret: str = "") -> str:
    """The start of DATA as one printable line of at most SIZE characters, SECRET replaced by ***."""
    text = data.decode("utf-8", "replace")
    text = "".join(c if c.isprintable() else " " for c in text)
    if secret:
        text = text.replace(secret, "***")  # before cutting, so no part of it is left at the cut
    short = " ".join(text[:size].split())
    return short + ("…" if len(text) > size else "")


def media_type(resp: httpx.Response) -> str:
    return resp.headers.get("content-type", "").split(";")[0].strip().lower()


class Body:
    """A response body read in bounded pieces: size (read and unpacked) and time (the deadline).

    ``head`` keeps its first bytes, to show what came back when it is not what was asked for.
    """

    def __init__(self, resp: httpx.Response, deadline: Deadline, limit: int | None) -> None:
        self.resp, self.deadline, self.limit = resp, deadline, limit
        self.head = bytearray()

    def __iter__(self) -> Iterator[bytes]:
        httpx = _import_httpx()

        if self.resp.is_stream_consumed:  # built whole (httpx.MockTransport in tests) and so unpacked by httpx
            raw, encoding = iter([self.resp.content]), ""
        else:
            raw, encoding = self.resp.iter_raw(), self.resp.headers.get("content-encoding", "")
        watchdog = _Watchdog(self.resp, self.deadline.remaining())
        try:
            for piece in decoded(raw, encoding, self.limit):
                if self.deadline.expired():
                    raise self.deadline.error()
                if len(self.head) < HEAD_BYTES:
                    self.head += piece[: HEAD_BYTES - len(self.head)]
                yield piece
        except httpx.HTTPError as exc:
            if watchdog.fired or self.deadline.expired():
                raise self.deadline.error() from None
            if isinstance(exc, httpx.TimeoutException):
                raise NetworkError(
                    "the answer stalled: no data within the read timeout", "raise `timeout` in the config"
                ) from None
            raise NetworkError(f"the connection broke mid-answer: {exc.__class__.__name__}") from None
        finally:
            watchdog.cancel()
        if watchdog.fired:
            raise self.deadline.error()

    def read(self) -> bytes:
        return b"".join(self)


@dataclass
class GlmClient:
    """Send requests to the GLM API; stream or not, with retries before the first byte.

    Every request has a total ``deadline`` (seconds: tries, waits and the answer, on ``clock``) and a
    size bound, ``max_response_bytes``, on what is read and on what that unpacks to.
    """

    base_url: str
    api_key: str
    timeout: float = 300.0
    connect_timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    proxy: str | None = None
    transport: Any = None
    sleep: Callable[[float], None] = time.sleep
    log: Callable[[str], None] | None = None
    notice: Callable[[Waiting], None] | None = None  # told of each wait before a retry (chat yields it instead)
    accept_language: str | None = "en-US,en"
    pool_size: int | None = None  # connections kept open; batch sets it to its concurrency
    deadline: float | None = DEFAULT_DEADLINE
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_MB * MiB
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._http: httpx.Client | None = None
        self._no_stream_options = False  # the server refused stream_options once: not sent again
        self._urls: dict[str, httpx.URL] = {}  # path -> its URL under base_url, joined once (see _url)

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            httpx = _import_httpx()
            from glm_cli.tls import tls_context

            headers = {
                "Authorization": f"Bearer {self.api_key}",
                "User-Agent": f"glm-cli/{__version__}",
                "Accept-Encoding": "gzip",  # what Body can unpack, bounded
            }
            if self.accept_language:
                headers["Accept-Language"] = self.accept_language
            keep = self.pool_size or 20  # httpx's default; batch raises it to its concurrency
            most = max(keep, 100)
            limits = httpx.Limits(max_connections=most, max_keepalive_connections=keep)
            transport = self.transport
            if transport is None:
                from glm_cli import transport as stdlib

                if not stdlib.proxied(self.proxy):  # through a proxy: httpx's own transport (it mounts it)
                    transport = stdlib.Transport(tls_context(), max_connections=most, max_keepalive=keep)
            self._http = httpx.Client(
                limits=limits,
                base_url=self.base_url,
                headers=headers,
                timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
                proxy=self.proxy,
                transport=transport,
                trust_env=True,
                verify=tls_context(),  # shared, its CA certificates loaded at the first https handshake
            )
            self._http._cookies = _cookie_jar()()  # the same jar, read only from a response that sets a cookie
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
            self._urls.clear()

    def _url(self, path: str) -> httpx.URL:
        """Return PATH's URL under base_url, as httpx joins it; joined once per path, not once per request."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= 64:  # paths with ids in them (files, batches): keep it bounded
                self._urls.clear()
            url = self._urls[path] = self.http.build_request("GET", path).url
        return url

    def _log(self, text: str) -> None:
        if self.log:
            self.log(text)

    def _timeouts(self, remaining: float | None) -> httpx.Timeout:
        """This try's timeouts: the configured ones, none beyond the deadline."""
        httpx = _import_httpx()

        def cap(t: float) -> float:
            return t if remaining is None else max(0.001, min(t, remaining))

        return httpx.Timeout(cap(self.timeout), connect=cap(self.connect_timeout))

    def _send(
        self, method: str, path: str, deadline: Deadline, *, retries: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """Send with retries (by the policy; none if not RETRIES); return a 2xx response, its body unread.

        Each wait before a retry is announced through ``notice`` first.
        """
        tries = self._tries(method, path, deadline, retries=retries, **kwargs)
        while True:
            try:
                wait = next(tries)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if self.notice is not None:
                self.notice(wait)

    def _tries(
        self, method: str, path: str, deadline: Deadline, *, retries: bool = True, **kwargs: Any
    ) -> Generator[Waiting, None, httpx.Response]:
        """Send with retries; yield a Waiting before each wait (taken up again, it waits); return the response."""
        httpx = _import_httpx()

        most = self.retry.max_retries if retries else 0
        attempt = 0
        while True:
            started = self.clock()
            try:
                req = self.http.build_request(
                    method, self._url(path), timeout=self._timeouts(deadline.remaining()), **kwargs
                )
                self._log(f"> {method} {req.url}")
                resp = self.http.send(req, stream=True)
            except httpx.TimeoutException as exc:
                if deadline.expired():
                    raise deadline.error(attempt + 1) from None
                err: GlmError = NetworkError(
                    f"timed out talking to {self.base_url} ({exc.__class__.__name__})",
                    "raise `timeout` / `connect_timeout` or check the network",
                )
            except httpx.HTTPError as exc:
                err = NetworkError(
                    f"cannot reach {self.base_url}: {exc.__class__.__name__}: {exc}",
                    "check the network, proxy settings and --endpoint / base_url",
                )
            else:
                self._log(
                    f"< HTTP {resp.status_code} in {self.clock() - started:.3f}s "
                    f"x-request-id={resp.headers.get('x-request-id', '-')}"
                )
                if resp.status_code < 300:
                    return resp
                err = self._refusal(resp, deadline)
            if attempt >= most or not self.retry.retryable(err):
                if attempt and self.retry.retryable(err):
                    err.message += f" — gave up after {attempt + 1} attempts"
                raise err
            delay = self.retry.delay(err, attempt + 1)
            remaining = deadline.remaining()
            if remaining is not None and delay >= remaining:
                raise deadline.give_up(err, attempt + 1)
            yield Waiting(
                getattr(err, "summary", None) or err.message,
                delay,
                attempt + 2,
                most + 1,
                rate_limited=isinstance(err, RateLimitError),
                asked=self.retry.retry_after(err) is not None,
            )
            self.sleep(delay)
            attempt += 1

    def _refusal(self, resp: httpx.Response, deadline: Deadline) -> GlmError:
        """The error a 3xx, 4xx or 5xx answer stands for (its body read up to ERROR_BODY_BYTES)."""
        httpx = _import_httpx()

        try:
            if 300 <= resp.status_code < 400:
                where = sanitise(resp.headers.get("location", "").encode(), 120, self.api_key) or "nowhere"
                return APIError(
                    f"HTTP {resp.status_code}: the server redirects to {where}; glm does not follow redirects",
                    "check base_url / --endpoint",
                )
            body = bytearray()
            try:
                for piece in Body(resp, deadline, None):
                    body += piece
                    if len(body) >= ERROR_BODY_BYTES:
                        break
            except (GlmError, httpx.HTTPError):
                pass  # what arrived is enough to name the error
            return error_from_response(resp.status_code, bytes(body[:ERROR_BODY_BYTES]), dict(resp.headers))
        finally:
            resp.close()

    def _unexpected(self, resp: httpx.Response, head: bytes, wanted: str) -> APIError:
        """Say what came back instead of WANTED: status, content type and its first bytes."""
        ctype = resp.headers.get("content-type") or "no content type"
        shown = sanitise(head, 160, self.api_key)
        return APIError(
            f"the server answered HTTP {resp.status_code} with {sanitise(ctype.encode(), 60)}, "
            f"not {wanted}: " + (f'"{shown}"' if shown else "an empty body"),
            "check base_url / --endpoint: is it the GLM API?",
        )

    def chat(
        self,
        body: dict[str, Any],
        *,
        retries: bool = True,
        deadline: Deadline | None = None,
        idle: bool = False,
    ) -> Iterator[Event]:
        """Send a chat request and yield typed deltas, streamed or whole.

        ``retries=False``: one try; the caller retries by ``self.retry`` (batch: shared, adaptive backoff) and
        passes what is left of the request's ``deadline`` (default: ``self.deadline`` from now).
        Before each wait for a retry it yields a Waiting: whoever shows the answer announces it.
        ``idle``: a streamed answer yields IDLE before each read from the network, that is, whenever the deltas
        yielded so far are all there is until the server sends more (the renderer then flushes what it holds).
        """
        if body.get("stream"):
            yield from self._stream(body, retries, deadline, idle)
            return
        deadline = deadline or Deadline(self.deadline, self.clock)
        resp = yield from self._tries("POST", "/chat/completions", deadline, retries=retries, json=body)
        try:
            deltas = chunk_to_deltas(self._json(resp, deadline), whole=True)
        except ReportedError as err:
            raise reported_error(err, mid_answer=False) from None
        yield from deltas

    def _stream(
        self, body: dict[str, Any], retries: bool, deadline: Deadline | None, idle: bool = False
    ) -> Iterator[Event]:
        deadline = deadline or Deadline(self.deadline, self.clock)
        if self._no_stream_options:
            body = {k: v for k, v in body.items() if k != "stream_options"}
        kwargs: dict[str, Any] = {"retries": retries, "headers": {"Accept": "text/event-stream"}}
        try:
            resp = yield from self._tries("POST", "/chat/completions", deadline, json=body, **kwargs)
        except APIError as err:
            # Some OpenAI-compatible servers refuse a field they do not know: the answer matters more than its usage.
            if not ("stream_options" in body and err.status == 400 and "stream_options" in err.message):
                raise
            self._log("the server refuses stream_options; sending again without it (its usage may be unknown)")
            self._no_stream_options = True
            body = {k: v for k, v in body.items() if k != "stream_options"}
            resp = yield from self._tries("POST", "/chat/completions", deadline, json=body, **kwargs)
        try:
            reader = Body(resp, deadline, self.max_response_bytes)
            if media_type(resp) not in ("", "text/event-stream"):
                for _ in reader:
                    if len(reader.head) >= HEAD_BYTES:
                        break
                raise self._unexpected(resp, bytes(reader.head), "an event stream")
            deltas = DeltaReader()
            try:
                yield from read_deltas(reader, deltas, idle, joined=True)  # a delta per run of usual chunks
            except ReportedError as err:  # an error frame: classed by its code, as an HTTP error answer is
                raise reported_error(err, mid_answer=deltas.started) from None
            except StreamCutError as exc:
                if not deltas.started:  # nothing usable came: say what did
                    shown = sanitise(bytes(reader.head), 160, self.api_key)
                    exc.message += f'; it held no answer, only: "{shown}"' if shown else "; it was empty"
                raise
        finally:
            resp.close()

    def request_json(
        self, method: str, path: str, *, retries: bool = True, deadline: Deadline | None = None, **kwargs: Any
    ) -> Any:
        """Send a request (whole chat answers, models, files, batches) and return its JSON."""
        deadline = deadline or Deadline(self.deadline, self.clock)
        return self._json(self._send(method, path, deadline, retries=retries, **kwargs), deadline)

    def _json(self, resp: httpx.Response, deadline: Deadline) -> Any:
        """Read a response's JSON body (within the size bound and the deadline)."""
        try:
            data = Body(resp, deadline, self.max_response_bytes).read()
        finally:
            resp.close()
        if "json" not in resp.headers.get("content-type", "").lower() and data.lstrip()[:1] not in (b"{", b"["):
            raise self._unexpected(resp, data[:HEAD_BYTES], "JSON")
        return loads(data, f"the server's answer (HTTP {resp.status_code})")

    def request_bytes(self, method: str, path: str, **kwargs: Any) -> bytes:
        """Send a request and return the raw body (file downloads: no size bound or deadline, only `timeout`)."""
        unbounded = Deadline(None, self.clock)
        resp = self._send(method, path, unbounded, **kwargs)
        try:
            return Body(resp, unbounded, None).read()
        finally:
            resp.close()
