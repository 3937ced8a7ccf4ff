"""Pure SSE parsing: byte chunks -> events -> typed GLM deltas; no I/O."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import NamedTuple

from glm_cli.errors import APIError, NetworkError, ProtocolError
from glm_cli.events import IDLE, ContentDelta, Delta, Finish, Idle, ReasoningDelta
from glm_cli.response import (
    EMPTY,
    Usual,
    chunk_to_deltas,
    error_event,
    loads,
    says_something,
    scan_string,
    usual_chunk,
)
from glm_cli.shape import is_text, want_text


class StreamCutError(NetworkError):
    """The connection closed mid-answer."""


class SSEEvent(NamedTuple):  # a tuple: made once per event, ~3× cheaper than a frozen dataclass
    data: str
    event: str = "message"


_EVENT = functools.partial(tuple.__new__, SSEEvent)  # _EVENT((data, event)): an SSEEvent, made without Python code
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
        """The events CHUNK completes. The usual event, one `data: ` line, is cut out of the chunk whole."""
        if self._after_cr or len(chunk) > self.max_event or b"\r" in chunk:
            return self._lines(chunk)
        events: list[SSEEvent] = []
        if self._partial or self._data or self._event:  # an event begun in an earlier chunk: read to its end
            cut = chunk.find(b"\n\n") + 2
            if cut < 2:
                return self._lines(chunk)
            events, chunk = self._lines(chunk[:cut]), chunk[cut:]
            if self._event:  # an event line, but no data yet
                return events + self._lines(chunk)
        end = chunk.rfind(b"\n\n") + 2  # the chunk's whole events; the rest waits for its end
        if end < 2 or not chunk.startswith(b"data: "):
            return events + self._lines(chunk)
        text = chunk[6 : end - 2].decode("utf-8", "replace")  # (no line end falls inside a UTF-8 sequence)
        datas = text.split("\n\ndata: ")
        if text.count("\n") != 2 * len(datas) - 2:  # a line in an event, a blank line more: not the usual stream
            return events + self._lines(chunk)
        # The usual stream: each event one `data: ` line, then a blank line (the count: no other line end).
        usual = list(map(_EVENT, zip(datas, repeat("message"))))
        return events + usual + self._lines(chunk[end:]) if end < len(chunk) else events + usual

    def _lines(self, chunk: bytes) -> list[SSEEvent]:
        """The events CHUNK completes, line by line."""
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
            elif line[:6] == b"data: " and not self._data and len(line) <= self.max_event:
                self._data.append(line[6:])  # the usual line, first of its event: what _line does, inline
                self._data_len = len(line) - 5
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
        return APIError(
            f"the server sent a stream {what} longer than {self.max_event / MiB:g} MiB, "
            "glm's limit for one event: this is not a GLM answer stream"
        )

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
        ev = SSEEvent(
            data=b"\n".join(self._data).decode("utf-8", "replace"),
            event=self._event.decode("utf-8", "replace") or "message",
        )
        self._data, self._data_len, self._event = [], 0, b""
        return ev


def iter_sse(chunks: Iterable[bytes]) -> Iterator[SSEEvent]:
    """Yield SSE events from byte chunks split anywhere."""
    dec = SSEDecoder()
    for chunk in chunks:
        yield from dec.feed(chunk)
    yield from dec.close()


class DeltaReader:
    """GLM chat-completion SSE events read into typed deltas, up to [DONE].

    A stream that ends before ``[DONE]`` and before any finish_reason was cut (``end`` raises StreamCutError), so
    that a partial answer is never taken for a whole one. A ``[DONE]`` before any content, tool call or
    finish_reason is an empty answer: ProtocolError. A chunk of the stream's usual shape (its Usual, learned
    from the stream itself) is read by its text alone; any other is read and checked field by field.
    """

    # Tries to learn a Usual that fail, at most: a server whose chunks all differ is soon read the general way
    # alone. A try that succeeds is not counted (a server may change `created` each second, say).
    LEARN = 16

    def __init__(self) -> None:
        self.finished = self.answered = self.done = self.started = False
        self.usual: Usual | None = None
        self.learn = self.LEARN

    def deltas(self, events: Iterable[SSEEvent], joined: bool = False) -> Iterator[Delta]:
        """Yield the deltas of EVENTS, in order; at ``[DONE]`` set ``done`` and stop.

        JOINED: the texts of usual chunks that follow one another among EVENTS come as one delta (a piece
        read from the network is one delta per run, not one per event: each delta costs every layer above).
        Joined or not, the same text comes in the same order, and anything else (another delta, an error,
        the end) comes after the text that came before it.
        """
        usual = self.usual is not None
        head, tail, kind, where = self.usual or ("", "", ContentDelta, "")
        heads, tails = len(head), len(tail)
        held: list[str] = []  # joined: the texts of the run of usual chunks so far
        for data, event in events:
            if usual and data.startswith(head) and data.endswith(tail):
                try:
                    text, end = scan_string(data, heads)
                except ValueError:  # a control character, a bad escape: the general reading says which
                    end = -1
                if end + tails == len(data) and event == "message":
                    if text:
                        held.append(text)
                        if not joined:
                            yield self._text_delta(held, kind, where)
                            held = []
                    continue
            if held:
                yield self._text_delta(held, kind, where)
                held = []
            data = data.strip()
            if not data:
                continue
            if data == "[DONE]":
                if not self.answered:
                    raise ProtocolError(EMPTY)
                self.done = True
                return
            if event == "error":
                raise error_event(data)
            deltas = chunk_to_deltas(loads(data, "a stream event from the server"))
            if len(deltas) == 1 and self.learn and isinstance(deltas[0], (ContentDelta, ReasoningDelta)):
                learned = usual_chunk(data, deltas[0])
                if learned is None:
                    self.learn -= 1
                else:
                    self.usual, usual, (head, tail, kind, where) = learned, True, learned
                    heads, tails = len(head), len(tail)
            for delta in deltas:
                if isinstance(delta, Finish) and delta.finish_reason:
                    self.finished = True
                self.answered = self.answered or says_something(delta)
                self.started = True
                yield delta
        if held:
            yield self._text_delta(held, kind, where)

    def _text_delta(self, texts: list[str], kind: type[ContentDelta] | type[ReasoningDelta], where: str) -> Delta:
        """One delta of KIND for the usual chunks' TEXTS (a lone surrogate becomes U+FFFD one code point at a
        time: the same for the joined text as for each text)."""
        self.started = True
        if kind is ContentDelta:
            self.answered = True
        text = "".join(texts)
        return kind(text if text.isascii() or is_text(text) else want_text(text, where) or "")

    def end(self) -> None:
        """The events are over: raise StreamCutError unless the answer was complete."""
        if not (self.done or self.finished):
            raise StreamCutError("the stream ended before the answer was complete (no [DONE])")


def read_deltas(
    chunks: Iterable[bytes], reader: DeltaReader, idle: bool = False, joined: bool = False
) -> Iterator[Delta | Idle]:
    """Yield the deltas of an SSE stream split anywhere into CHUNKS, piece by piece (READER keeps its state).

    IDLE: yield IDLE before each chunk is asked for (asking may wait on the network).
    JOINED: the usual chunks of one chunk of bytes in a row are one delta (DeltaReader.deltas).
    """
    dec = SSEDecoder()
    pieces = iter(chunks)
    while True:
        if idle:
            yield IDLE
        chunk = next(pieces, None)
        if chunk is None:
            break
        yield from reader.deltas(dec.feed(chunk), joined)
        if reader.done:
            return
    yield from reader.deltas(dec.close(), joined)
    reader.end()
