"""Pure SSE parsing: byte chunks -> events -> typed GLM deltas; no I/O."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from glm_cli.errors import APIError, NetworkError
from glm_cli.events import (
    ContentDelta,
    Delta,
    Finish,
    ReasoningDelta,
    ToolCallDelta,
    Usage,
)


class StreamCutError(NetworkError):
    """The connection closed mid-answer."""


@dataclass(frozen=True)
class SSEEvent:
    data: str
    event: str = "message"


MiB = 1 << 20
# One SSE line or event at most (bytes). A GLM stream event is ~200 bytes; a whole tool call in one event
# (arguments of a 128K-token answer, JSON-escaped) stays well under this.
MAX_EVENT_BYTES = 8 * MiB


class SSEDecoder:
    """Incremental SSE decoder: feed bytes in any split, get complete events.

    Linear in its input: each chunk is scanned once and each byte copied a bounded number of times,
    whatever the lines' lengths. A line or an event over ``max_event`` bytes is an APIError.
    """

    def __init__(self, max_event: int = MAX_EVENT_BYTES) -> None:
        self.max_event = max_event
        self._partial: list[bytes] = []  # the unfinished line, in pieces
        self._partial_len = 0
        self._after_cr = False  # the last line ended in \r: a \n that starts the next chunk is part of that end
        self._data: list[bytes] = []
        self._data_len = 0
        self._event = b""

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if self._after_cr and chunk:
            self._after_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:  # lines end in \n, \r\n or \r
            self._after_cr = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        rest = lines.pop()  # the unfinished end (b"" when the chunk ends a line)
        events: list[SSEEvent] = []
        if lines and self._partial:
            lines[0] = b"".join([*self._partial, lines[0]])
            self._partial, self._partial_len = [], 0
        for line in lines:
            if not line:
                if self._data:
                    events.append(self._dispatch())
            else:
                self._line(line)
        if rest:
            self._partial.append(rest)
            self._partial_len += len(rest)
            if self._partial_len > self.max_event:
                raise self._too_big("line")
        return events

    def close(self) -> list[SSEEvent]:
        if self._partial:  # a last line without its line end
            self._line(b"".join(self._partial))
            self._partial, self._partial_len = [], 0
        # A stream cut without the closing blank line still yields its last event.
        return [self._dispatch()] if self._data else []

    def _too_big(self, what: str) -> APIError:
        return APIError(f"the server sent a stream {what} longer than {self.max_event / MiB:g} MiB, "
                        "glm's limit for one event: this is not a GLM answer stream")

    def _line(self, line: bytes) -> None:
        """Take one non-empty line: a field, or a comment (a line that starts with a colon)."""
        if len(line) > self.max_event:
            raise self._too_big("line")
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data_len += len(value) + 1
            if self._data_len > self.max_event:
                raise self._too_big("event")
            self._data.append(value)
        elif name == b"event":
            self._event = value

    def _dispatch(self) -> SSEEvent:
        # Decoded per event: a line end never falls inside a UTF-8 sequence, so this equals decoding the stream.
        ev = SSEEvent(data=b"\n".join(self._data).decode("utf-8", "replace"),
                      event=self._event.decode("utf-8", "replace") or "message")
        self._data, self._data_len, self._event = [], 0, b""
        return ev


def iter_sse(chunks: Iterable[bytes]) -> Iterator[SSEEvent]:
    """Yield SSE events from byte chunks split anywhere."""
    dec = SSEDecoder()
    for chunk in chunks:
        yield from dec.feed(chunk)
    yield from dec.close()


def chunk_to_deltas(chunk: dict[str, Any]) -> Iterator[Delta]:
    """Turn one chat.completion.chunk (or a whole non-stream response) into deltas."""
    if "error" in chunk and isinstance(chunk["error"], dict):
        err = chunk["error"]
        raise APIError(
            f"stream error {err.get('code', '')}: {err.get('message', '')}".strip(),
            code=str(err.get("code")) if err.get("code") is not None else None,
        )
    choices = chunk.get("choices") or []
    finish_reason = None
    for choice in choices:
        delta = choice.get("delta")
        if delta is None:
            delta = choice.get("message") or {}
        if delta.get("reasoning_content"):
            yield ReasoningDelta(delta["reasoning_content"])
        if delta.get("content"):
            yield ContentDelta(delta["content"])
        for pos, call in enumerate(delta.get("tool_calls") or []):
            fn = call.get("function") or {}
            args = fn.get("arguments")
            if args is not None and not isinstance(args, str):
                args = json.dumps(args, ensure_ascii=False)
            yield ToolCallDelta(
                index=int(call.get("index", pos)),
                id=call.get("id") or None,
                type=call.get("type") or None,
                name=fn.get("name") or None,
                arguments=args or "",
            )
        finish_reason = choice.get("finish_reason") or finish_reason
    usage = Usage.from_api(chunk.get("usage"))
    # web_search results may ride on an early chunk, not the last one: pass them on wherever they are.
    extras = {k: chunk[k] for k in ("web_search", "content_filter") if k in chunk}
    if finish_reason or usage or extras:
        yield Finish(
            finish_reason=finish_reason,
            usage=usage,
            id=chunk.get("id"),
            model=chunk.get("model"),
            extras=extras,
        )


def iter_deltas(events: Iterable[SSEEvent]) -> Iterator[Delta]:
    """Decode GLM chat-completion SSE events into typed deltas; stop at [DONE].

    A stream that ends before ``[DONE]`` and before any finish_reason was cut:
    that raises StreamCutError so the caller never mistakes a partial answer for a whole one.
    """
    finished = False
    for ev in events:
        data = ev.data.strip()
        if not data:
            continue
        if data == "[DONE]":
            return
        try:
            obj = json.loads(data)
        except json.JSONDecodeError as exc:
            raise APIError(f"malformed stream event from the server: {data[:120]!r}") from exc
        if ev.event == "error":
            raise APIError(f"stream error: {data[:200]}")
        for delta in chunk_to_deltas(obj):
            if isinstance(delta, Finish) and delta.finish_reason:
                finished = True
            yield delta
    if not finished:
        raise StreamCutError("the stream ended before the answer was complete (no [DONE])")
