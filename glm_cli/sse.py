"""Pure SSE parsing: byte chunks -> events -> typed GLM deltas; no I/O."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from glm_cli.errors import APIError, NetworkError, ProtocolError
from glm_cli.events import Delta, Finish
from glm_cli.response import EMPTY, chunk_to_deltas, loads, says_something


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


def iter_deltas(events: Iterable[SSEEvent]) -> Iterator[Delta]:
    """Decode GLM chat-completion SSE events into typed deltas; stop at [DONE].

    A stream that ends before ``[DONE]`` and before any finish_reason was cut:
    that raises StreamCutError so the caller never mistakes a partial answer for a whole one.
    A ``[DONE]`` before any content, tool call or finish_reason is an empty answer: ProtocolError.
    """
    finished = answered = False
    for ev in events:
        data = ev.data.strip()
        if not data:
            continue
        if data == "[DONE]":
            if not answered:
                raise ProtocolError(EMPTY)
            return
        if ev.event == "error":
            raise APIError(f"stream error: {data[:200]}")
        obj = loads(data, "a stream event from the server")
        for delta in chunk_to_deltas(obj):
            if isinstance(delta, Finish) and delta.finish_reason:
                finished = True
            answered = answered or says_something(delta)
            yield delta
    if not finished:
        raise StreamCutError("the stream ended before the answer was complete (no [DONE])")
