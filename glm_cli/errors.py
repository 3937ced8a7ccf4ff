"""Typed errors, each carrying its exit code (and a message with no secret in it); stdlib only."""

from __future__ import annotations

from glm_cli.redact import scrub

# Exit codes, one per class of failure (documented in README and `glm --help`).
OK = 0
API_ERROR = 1
USAGE = 2
CONFIG = 3
AUTH = 4
RATE_LIMIT = 5
NETWORK = 6
CONTENT_FILTER = 7
TRUNCATED = 8
INVALID_OUTPUT = 9
INTERRUPTED = 130

EXIT_CODES_HELP = (
    "Exit codes: 0 ok · 1 API or other error · 2 usage · 3 config · 4 auth (no key, 401) · "
    "5 rate limit / quota / balance after retries · 6 network or timeout · "
    "7 content filtered · 8 output truncated (length / context window) · "
    "9 answer is not what was asked for (JSON, a code block) · 130 interrupted (143 on SIGTERM, 129 on SIGHUP)"
)


class GlmError(Exception):
    """An error the user should see as `glm: <message>` plus an optional hint."""

    exit_code = API_ERROR
    mid_answer = False  # the server reported it after part of the answer had come (client.reported_error)

    def __init__(self, message: str, hint: str | None = None):
        # Every message passes here on its way to stderr or a batch record: whatever it quotes (a URL, a
        # server's error text, an exception's), the key and URL credentials never get through.
        message = scrub(message)
        super().__init__(message)
        self.message = message
        self.hint = scrub(hint) if hint else hint


class UsageError(GlmError):
    exit_code = USAGE


class ConfigError(GlmError):
    exit_code = CONFIG


class AuthError(GlmError):
    exit_code = AUTH


class RateLimitError(GlmError):
    exit_code = RATE_LIMIT


class NetworkError(GlmError):
    exit_code = NETWORK


class ContentFilterError(GlmError):
    exit_code = CONTENT_FILTER


class TruncatedError(GlmError):
    exit_code = TRUNCATED


class APIError(GlmError):
    """An error answer from the API, with its HTTP status and GLM business code."""

    exit_code = API_ERROR

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        summary: str | None = None,
    ):
        super().__init__(message, hint)
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.summary = scrub(summary) if summary else None  # the message without the server's words, for one line


# An error answer of each class (client.CODES): both an APIError (status, code) and the class of failure,
# whose exit code it takes (the class comes first: its exit_code wins).
class APIAuthError(AuthError, APIError):
    pass


class APIRateLimitError(RateLimitError, APIError):
    pass


class APINetworkError(NetworkError, APIError):
    pass


class APIContentFilterError(ContentFilterError, APIError):
    pass


class ProtocolError(APIError):
    """The server's answer cannot be read, or is not in the shape the API documents; never retried."""

    HINT = "check base_url / --endpoint: the server (or a proxy on the way) does not answer like the GLM API"

    def __init__(self, message: str, hint: str | None = HINT) -> None:
        super().__init__(message, hint, code="protocol_error")  # the code batch records show


class InvalidOutputError(GlmError):
    exit_code = INVALID_OUTPUT


class Terminated(SystemExit):
    """SIGTERM or SIGHUP: unwinds like an exit (every `finally` runs, child processes are stopped)."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


# finish_reason values that mean the answer is not whole: (error class, what happened, hint).
FINISH_PROBLEMS: dict[str, tuple[type[GlmError], str, str | None]] = {
    "length": (TruncatedError, "the answer was cut at max_tokens", "raise --max-tokens"),
    "model_context_window_exceeded": (
        TruncatedError,
        "the answer was cut: the context window ran out",
        "shorten the input",
    ),
    "sensitive": (ContentFilterError, "the answer was blocked by the content filter", None),
    "network_error": (NetworkError, "the service reported a network error mid-answer", "try again"),
}


def finish_problem(finish_reason: str | None) -> GlmError | None:
    """Return the error a finish_reason stands for (the answer is cut, filtered or broken), or None."""
    found = FINISH_PROBLEMS.get(finish_reason or "")
    if found is None:
        return None
    cls, what, hint = found
    return cls(f"{what} (finish_reason: {finish_reason})", hint)
