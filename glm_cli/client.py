"""THE client: the only httpx import; retries, timeouts and GLM error mapping."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from glm_cli import __version__
from glm_cli.errors import (
    APIError,
    AuthError,
    ContentFilterError,
    GlmError,
    NetworkError,
    RateLimitError,
)
from glm_cli.events import Delta
from glm_cli.response import chunk_to_deltas, error_body_detail, loads
from glm_cli.sse import iter_deltas, iter_sse

if TYPE_CHECKING:
    import httpx


def _import_httpx():  # noqa: ANN202
    """Import httpx without its own CLI module: `httpx._main` pulls in click, rich and pygments (~30 ms)."""
    import sys

    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # makes httpx fall back to a stub main
    import httpx

    return httpx


# GLM business codes: meaning, what to do, error class (zhipu-api.md §5.3).
CODES: dict[str, tuple[str, str | None, type[GlmError]]] = {
    "1000": ("authentication failed", "check the API key (GLM_API_KEY / ZAI_API_KEY / ZHIPUAI_API_KEY)", AuthError),
    "1001": ("authentication header missing", "set an API key", AuthError),
    "1002": ("invalid authentication token", "check the API key", AuthError),
    "1003": ("authentication token expired", "create a new key", AuthError),
    "1004": ("authentication failed (token invalid)", "check the API key", AuthError),
    "1110": ("account not active", "activate the account on the platform", AuthError),
    "1111": ("account does not exist", "check the API key and endpoint", AuthError),
    "1112": ("account locked", "contact Zhipu support", AuthError),
    "1113": ("insufficient balance or no resource package",
             "recharge, or if you have a Coding Plan key use `--endpoint zai-coding` "
             "(or bigmodel-coding)", RateLimitError),
    "1121": ("account locked for rule violations", "contact Zhipu support", AuthError),
    "1210": ("invalid API parameters", "check --max-tokens, --temperature and --top-p", APIError),
    "1211": ("unknown model", "see `glm models` for valid ids", APIError),
    "1212": ("method not supported by this model", None, APIError),
    "1213": ("required field missing", None, APIError),
    "1214": ("invalid field value", "check the messages and parameters", APIError),
    "1220": ("no permission for this API", "check your plan", AuthError),
    "1231": ("duplicate request_id", "use a new --request-id", APIError),
    "1234": ("internal network error", "try again", NetworkError),
    "1261": ("prompt too long for the context window", "shorten the input", APIError),
    "1301": ("content blocked as unsafe or sensitive", "rephrase the input", ContentFilterError),
    "1302": ("rate limit reached (concurrency)", "slow down or lower concurrency", RateLimitError),
    "1303": ("request frequency too high", "slow down", RateLimitError),
    "1304": ("daily call limit reached", "try again tomorrow", RateLimitError),
    "1305": ("the model is overloaded", "try again later or use another model", RateLimitError),
    "1308": ("usage limit reached", "wait for the reset time in the message", RateLimitError),
    "1309": ("GLM Coding Plan expired", "renew the plan", AuthError),
    "1310": ("weekly/monthly limit reached", "wait for the reset", RateLimitError),
    "500": ("internal server error", "try again", APIError),
}
RETRY_CODES = {"500", "1234", "1302", "1303", "1305"}
RETRY_STATUS = {408, 500, 502, 503, 504}
MAX_RETRY_AFTER = 60.0


def error_from_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> APIError:
    """Map an HTTP error answer to a typed error whose message names the GLM code."""
    code, message = error_body_detail(body)
    meaning, hint, cls = CODES.get(code or "", (None, None, APIError))
    if code is None:
        if status == 401:
            meaning, hint, cls = "authentication failed", "check the API key", AuthError
        elif status == 404:
            meaning, hint = "not found", "check the base URL / --endpoint"
        elif status == 429:
            meaning, cls = "rate limited", RateLimitError
    parts = [f"HTTP {status}"]
    if code:
        parts.append(f"GLM {code}")
    text = f"{' '.join(parts)}: {meaning or 'error'}"
    if message and message != meaning:
        text += f" ({message})"
    exit_code = cls.exit_code
    if cls is APIError and status >= 500:
        exit_code = APIError.exit_code
    return APIError(text, hint, status=status, code=code, exit_code=exit_code,
                    retry_after=_retry_after(headers or {}))


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


def is_retryable(err: GlmError) -> bool:
    """Whether an error may succeed on a later try (never 1113, auth, content, other 4xx)."""
    if isinstance(err, APIError):
        if err.code is not None:
            return err.code in RETRY_CODES
        return err.status in RETRY_STATUS or err.status == 429
    return isinstance(err, NetworkError)


def retry_after(err: GlmError) -> float | None:
    """Return the server's Retry-After in seconds (capped), if it sent one."""
    after = getattr(err, "retry_after", None)
    return None if after is None else min(after, MAX_RETRY_AFTER)


def backoff(err: GlmError, attempt: int, base: float, cap: float) -> float:
    """Seconds before try ATTEMPT+1: Retry-After when given, else base·2^(attempt-1) up to cap, with jitter."""
    after = retry_after(err)
    if after is not None:
        return after
    return min(base * 2 ** (attempt - 1), cap) * (1 - random.random() * 0.25)


@dataclass
class GlmClient:
    """Send requests to the GLM API; stream or not, with retries before the first byte."""

    base_url: str
    api_key: str
    timeout: float = 300.0
    connect_timeout: float = 10.0
    max_retries: int = 3
    proxy: str | None = None
    transport: Any = None
    sleep: Callable[[float], None] = time.sleep
    log: Callable[[str], None] | None = None
    accept_language: str | None = "en-US,en"
    pool_size: int | None = None  # connections kept open; batch sets it to its concurrency

    def __post_init__(self) -> None:
        self._http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            httpx = _import_httpx()

            headers = {
                "Authorization": f"Bearer {self.api_key}",
                "User-Agent": f"glm-cli/{__version__}",
            }
            if self.accept_language:
                headers["Accept-Language"] = self.accept_language
            keep = self.pool_size or 20  # httpx's default; batch raises it to its concurrency
            limits = httpx.Limits(max_connections=max(keep, 100), max_keepalive_connections=keep)
            self._http = httpx.Client(
                limits=limits,
                base_url=self.base_url,
                headers=headers,
                timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
                proxy=self.proxy,
                transport=self.transport,
                trust_env=True,
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _log(self, text: str) -> None:
        if self.log:
            self.log(text)

    def _send(self, method: str, path: str, *, stream: bool, **kwargs: Any) -> httpx.Response:
        """Send with retries; return a response whose status is 2xx (body unread if stream)."""
        httpx = _import_httpx()

        attempt = 0
        while True:
            started = time.monotonic()
            try:
                req = self.http.build_request(method, path, **kwargs)
                self._log(f"> {method} {req.url}")
                resp = self.http.send(req, stream=stream)
            except httpx.TimeoutException as exc:
                err: GlmError = NetworkError(f"timed out talking to {self.base_url} ({exc.__class__.__name__})",
                                             "raise `timeout` / `connect_timeout` or check the network")
            except httpx.HTTPError as exc:
                err = NetworkError(f"cannot reach {self.base_url}: {exc.__class__.__name__}: {exc}",
                                   "check the network, proxy settings and --endpoint / base_url")
            else:
                self._log(f"< HTTP {resp.status_code} in {time.monotonic() - started:.3f}s "
                          f"x-request-id={resp.headers.get('x-request-id', '-')}")
                if resp.status_code < 400:
                    return resp
                body = resp.read()
                resp.close()
                err = error_from_response(resp.status_code, body, dict(resp.headers))
            if attempt >= self.max_retries or not is_retryable(err):
                if attempt and is_retryable(err):
                    err.message += f" — gave up after {attempt + 1} attempts"
                raise err
            delay = backoff(err, attempt + 1, 0.5, 8.0)
            self._log(f"! {err.message}; retrying in {delay:.2f}s")
            self.sleep(delay)
            attempt += 1

    def chat(self, body: dict[str, Any]) -> Iterator[Delta]:
        """Send a chat request and yield typed deltas, streamed or whole."""
        if body.get("stream"):
            yield from self._stream(body)
            return
        resp = self._send("POST", "/chat/completions", stream=False, json=body)
        yield from chunk_to_deltas(loads(resp.content, f"the server's answer (HTTP {resp.status_code})"), whole=True)

    def _stream(self, body: dict[str, Any]) -> Iterator[Delta]:
        httpx = _import_httpx()

        resp = self._send("POST", "/chat/completions", stream=True, json=body,
                          headers={"Accept": "text/event-stream"})
        try:
            yield from iter_deltas(iter_sse(resp.iter_raw()))
        except httpx.TimeoutException:
            raise NetworkError("the stream stalled: no data within the read timeout",
                               "raise `timeout` in the config") from None
        except httpx.HTTPError as exc:
            raise NetworkError(f"the connection broke mid-answer: {exc.__class__.__name__}") from None
        finally:
            resp.close()

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a non-chat request (models, files, batches) and return its JSON."""
        resp = self._send(method, path, stream=False, **kwargs)
        return loads(resp.content, f"the server's answer to {method} {path}")

    def request_bytes(self, method: str, path: str, **kwargs: Any) -> bytes:
        """Send a request and return the raw body (file downloads)."""
        return self._send(method, path, stream=False, **kwargs).content
