"""Pure SSE parsing: byte chunks -> events -> typed GLM deltas; no I/O."""

from __future__ import annotations

import codecs
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


class SSEDecoder:
    """Incremental SSE decoder: feed bytes in any split, get complete events."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buf = ""
        self._data: list[str] = []
        self._event = ""

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self._buf += self._utf8.decode(chunk)
        return self._drain(final=False)

    def close(self) -> list[SSEEvent]:
        self._buf += self._utf8.decode(b"", final=True)
        events = self._drain(final=True)
        if self._data:
            # A stream cut without the closing blank line still yields its last event.
            events.append(self._dispatch())
        return [e for e in events if e is not None]

    def _drain(self, final: bool) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        while True:
            # Lines end in \n, \r\n or \r; a lone trailing \r may be half of \r\n.
            i_n = self._buf.find("\n")
            i_r = self._buf.find("\r")
            if i_n < 0 and i_r < 0:
                if final and self._buf:
                    line, self._buf = self._buf, ""
                    ev = self._line(line)
                    if ev:
                        events.append(ev)
                break
            if i_r >= 0 and (i_n < 0 or i_r < i_n):
                if i_r == len(self._buf) - 1 and not final:
                    break
                line = self._buf[:i_r]
                skip = 2 if self._buf[i_r + 1 : i_r + 2] == "\n" else 1
                self._buf = self._buf[i_r + skip :]
            else:
                line = self._buf[:i_n]
                self._buf = self._buf[i_n + 1 :]
            ev = self._line(line)
            if ev:
                events.append(ev)
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch() if self._data else None
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None

    def _dispatch(self) -> SSEEvent:
        ev = SSEEvent(data="\n".join(self._data), event=self._event or "message")
        self._data, self._event = [], ""
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
