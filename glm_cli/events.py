"""Typed stream events and the finished reply; stdlib only, shared by client, renderer and commands."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from glm_cli.errors import ProtocolError
from glm_cli.shape import want_count, want_object


@dataclass(frozen=True)
class Usage:
    """Token counts of one response, as GLM reports them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    image_tokens: int = 0  # of the prompt, when the server says (top level, as /tokenizer does, or in the details)
    video_tokens: int = 0

    @classmethod
    def from_api(cls, data: Any) -> Usage | None:
        """Build from the API's usage object (null, {} or all null: None; each count and detail optional).

        Raises ProtocolError when it is not an object, or a count is not a whole number ≥ 0.
        """
        if data is None:
            return None
        data = want_object(data, "usage")
        if all(value is None for value in data.values()):
            return None  # `usage: {}` counts nothing: unknown, never zeros the server did not report
        prompt = want_object(data.get("prompt_tokens_details") or {}, "usage.prompt_tokens_details")
        completion = want_object(data.get("completion_tokens_details") or {}, "usage.completion_tokens_details")
        return cls(
            prompt_tokens=want_count(data.get("prompt_tokens"), "usage.prompt_tokens"),
            completion_tokens=want_count(data.get("completion_tokens"), "usage.completion_tokens"),
            total_tokens=want_count(data.get("total_tokens"), "usage.total_tokens"),
            cached_tokens=want_count(prompt.get("cached_tokens"), "usage.prompt_tokens_details.cached_tokens"),
            reasoning_tokens=want_count(
                completion.get("reasoning_tokens"), "usage.completion_tokens_details.reasoning_tokens"
            ),
            image_tokens=_media_count(data, prompt, "image_tokens"),
            video_tokens=_media_count(data, prompt, "video_tokens"),
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_tokens + other.total_tokens,
            self.cached_tokens + other.cached_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            self.image_tokens + other.image_tokens,
            self.video_tokens + other.video_tokens,
        )

    def to_api(self) -> dict[str, Any]:
        """Return the API's usage shape (image and video tokens only when there were some)."""
        out: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
        }
        for name in ("image_tokens", "video_tokens"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out


def usage_sum(*usages: Usage | None) -> Usage | None:
    """Add up the usage of several requests; unknown (None) when any of them reported none."""
    total = Usage()
    for usage in usages:
        if usage is None:
            return None
        total = total + usage
    return total


def _media_count(usage: dict[str, Any], details: dict[str, Any], name: str) -> int:
    """An image/video token count, at the top of usage (as /tokenizer reports it) or in prompt_tokens_details."""
    if usage.get(name) is not None:
        return want_count(usage.get(name), f"usage.{name}")
    return want_count(details.get(name), f"usage.prompt_tokens_details.{name}")


@dataclass(frozen=True)
class ContentDelta:
    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a tool call; whole calls arrive as one piece with every field set."""

    index: int
    id: str | None = None
    type: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True)
class Finish:
    """The end of a response: finish reason, usage and response metadata."""

    finish_reason: str | None
    usage: Usage | None = None
    id: str | None = None
    model: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


Delta = ContentDelta | ReasoningDelta | ToolCallDelta | Finish


def seconds_text(seconds: float) -> str:
    """`0.5 s`, `2 s`, `60 s`: a wait as a person reads it."""
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.2g} s"


@dataclass(frozen=True)
class Waiting:
    """A wait before a request is sent again (no part of any reply): why, how long, which try comes next."""

    reason: str  # what failed: the error's message
    seconds: float
    attempt: int  # the try after the wait (2: the first retry)
    attempts: int  # tries in all, at most
    rate_limited: bool = False
    asked: bool = False  # the server named the wait (Retry-After)

    def text(self) -> str:
        """The announcement: `HTTP 429 …; retrying in 60 s, as the server asked (attempt 2 of 4)`."""
        asked = ", as the server asked" if self.asked else ""
        return f"{self.reason}; retrying in {seconds_text(self.seconds)}{asked} ({self.of()})"

    def label(self, left: float) -> str:
        """The spinner's words while waiting, LEFT seconds to go (then while the next try is on its way)."""
        what = "rate limited" if self.rate_limited else "request failed"
        if left <= 0:
            return f"{what}: trying again ({self.of()})…"
        return f"{what}: retrying in {math.ceil(left)} s ({self.of()})…"

    def of(self) -> str:
        return f"attempt {self.attempt} of {self.attempts}"


@dataclass(frozen=True)
class Idle:
    """No part of any reply: a streamed answer is about to wait for the server (what is held should be shown now)."""


IDLE = Idle()

Event = Delta | Waiting | Idle  # what a chat request yields: the answer's deltas, the waits before a retry (and IDLE)


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    type: str = "function"

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True)
class Reply:
    """A finished (or interrupted) assistant reply."""

    content: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    usage: Usage | None = None
    id: str | None = None
    model: str | None = None
    interrupted: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    def to_message(self) -> dict[str, Any]:
        """Return the assistant message to append to history (reasoning kept byte for byte)."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.reasoning:
            msg["reasoning_content"] = self.reasoning
        if self.tool_calls:
            msg["tool_calls"] = [c.to_api() for c in self.tool_calls]
        return msg


class ReplyBuilder:
    """Accumulate deltas into a Reply; tolerant of whole and fragmented tool calls."""

    def __init__(self) -> None:
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.finish: Finish | None = None
        self.extras: dict[str, Any] = {}  # merged from every Finish (web_search may come early)

    def add(self, delta: Event) -> None:
        if isinstance(delta, ContentDelta):
            self.content.append(delta.text)
        elif isinstance(delta, ReasoningDelta):
            self.reasoning.append(delta.text)
        elif isinstance(delta, ToolCallDelta):
            call = self.calls.setdefault(delta.index, {"id": "", "type": "function", "name": "", "arguments": ""})
            if delta.id:
                call["id"] = delta.id
            if delta.type:
                call["type"] = delta.type
            if delta.name:
                call["name"] = delta.name
            call["arguments"] += delta.arguments
        elif isinstance(delta, Finish):
            self.extras.update(delta.extras)
            fin = self.finish
            if delta.usage and not delta.finish_reason and fin is not None and fin.finish_reason:
                # usage on a chunk of its own after the finish chunk (stream_options.include_usage): keep the reason
                self.finish = replace(fin, usage=delta.usage)
            elif delta.finish_reason or delta.usage or fin is None:
                self.finish = delta

    def build(self, interrupted: bool = False) -> Reply:
        """Return the reply; unless interrupted, raise ProtocolError for a function call with no name or id."""
        fin = self.finish
        calls = tuple(
            ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"], type=c["type"])
            for _, c in sorted(self.calls.items())
        )
        if not interrupted:
            _check_calls(calls)
        return Reply(
            content="".join(self.content),
            reasoning="".join(self.reasoning),
            tool_calls=calls,
            finish_reason=fin.finish_reason if fin else None,
            usage=fin.usage if fin else None,
            id=fin.id if fin else None,
            model=fin.model if fin else None,
            interrupted=interrupted,
            extras=dict(self.extras),
        )


def _check_calls(calls: tuple[ToolCall, ...]) -> None:
    """Refuse a function call that can be neither run nor answered: one without a name or an id."""
    for n, call in enumerate(calls):
        if call.type == "function" and not (call.name and call.id):
            missing = "function name" if not call.name else "id"
            raise ProtocolError(f"the server's answer was not in the expected shape: tool call {n} has no {missing}")
