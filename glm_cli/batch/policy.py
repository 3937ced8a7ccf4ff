"""What a batch does with each outcome: retry, record the error, or stop the whole run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from glm_cli.client import RetryPolicy
from glm_cli.errors import FINISH_PROBLEMS, APIError, AuthError, GlmError, NetworkError, RateLimitError

if TYPE_CHECKING:
    from glm_cli.config import Settings
    from glm_cli.events import Reply

THROTTLE_CODES = {"1302", "1303", "1305"}
# A batch runs unattended and its lines share the rate limits: more patience than one `glm ask` (3 retries,
# waits up to 8 s), where a person is waiting. The other values are the one policy's (glm_cli/client.py).
BATCH_MAX_RETRIES = 8
BATCH_RETRY_CAP = 20.0
# finish_reason values that make a record an error although an answer arrived.
BAD_FINISH = set(FINISH_PROBLEMS) - {"network_error"}  # network_error is retried like a dropped connection


class FinishError(GlmError):
    """An answer arrived but is not a success: cut, filtered, or not the JSON asked for."""

    def __init__(self, message: str, code: str, *, repair: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.repair = repair  # not the JSON or schema asked for: worth one follow-up that names the errors


def retry_policy(settings: Settings, max_retries: int | None = None, base: float | None = None) -> RetryPolicy:
    """Batch's retries: --max-retries, else max_retries if the config sets it, else BATCH_MAX_RETRIES."""
    if max_retries is None:
        max_retries = settings.max_retries if settings.source("max_retries") != "default" else BATCH_MAX_RETRIES
    policy = RetryPolicy(max_retries=max_retries, cap=BATCH_RETRY_CAP)
    return policy if base is None else replace(policy, base=base)


def is_fatal(err: GlmError, retry: RetryPolicy) -> bool:
    """Whether an error is about the account, not the line (no balance, quota, auth): stop at once."""
    return not retry.retryable(err) and isinstance(err, (AuthError, RateLimitError))


def is_throttle(err: GlmError, retry: RetryPolicy) -> bool:
    """Whether the server asked us to slow down (429, GLM 1302/1303/1305)."""
    if not retry.retryable(err) or not isinstance(err, APIError):
        return False
    return err.status == 429 or err.code in THROTTLE_CODES


def throttle_notice(err: GlmError, pause: float, limit: int) -> str:
    """The line that says how the whole run slows down after a throttle: a shared pause, fewer requests in flight."""
    from glm_cli.events import seconds_text

    if pause > 0:
        then = f"every request waits {seconds_text(pause)}, as the server asked; then at most {limit} in flight"
    else:
        then = f"at most {limit} request{'s' if limit != 1 else ''} in flight now, each retried after a backoff"
    return f"glm batch: {getattr(err, 'summary', None) or err.message}; {then}"


def error_code(err: GlmError) -> str:
    """Return the record's error code: the GLM code, else the HTTP status, else the error kind."""
    code = getattr(err, "code", None) or getattr(err, "status", None)
    if code:
        return str(code)
    return "network_error" if isinstance(err, NetworkError) else "error"


def finish_error(
    reply: Reply, wants_json: bool, validate: Callable[[str], str] | None, *, repairable: bool = False
) -> GlmError | None:
    """Return why a reply that arrived is still not a success, or None.

    A reply that is not the JSON (or schema) asked for is marked `repair` when `repairable`: the caller may send
    the conversation again with that reply and the errors (glm_cli/schema.py repair_message), once.
    """
    reason = reply.finish_reason or ""
    if reason == "network_error":
        return NetworkError("the service reported a network error mid-answer (finish_reason network_error)")
    if reason in BAD_FINISH:
        return FinishError(f"the answer is not whole (finish_reason {reason})", reason)
    if wants_json and validate is not None:
        try:
            validate(reply.content)
        except GlmError as err:
            return FinishError(err.message, getattr(err, "code", None) or "invalid_json", repair=repairable)
    return None
