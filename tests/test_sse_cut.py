"""The SSE decoder cuts the usual stream's events out of a chunk whole; any bytes give what its line parser gives.

The usual stream (`data: …` then a blank line, event after event) is split on the event separator in one
call; anything else (other fields, comments, CR line ends, a line more, invalid UTF-8) must still read as the
line-by-line parser (SSEDecoder._lines, the general reading) reads it, split anywhere (issue 14).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.sse import SSEDecoder, SSEEvent


def general(pieces: list[bytes]) -> list[SSEEvent]:
    """The events of PIECES, read line by line only."""
    dec = SSEDecoder()
    events = [ev for piece in pieces for ev in dec._lines(piece)]
    return events + dec.close()


def cut(pieces: list[bytes]) -> list[SSEEvent]:
    dec = SSEDecoder()
    events = [ev for piece in pieces for ev in dec.feed(piece)]
    return events + dec.close()


PARTS = st.sampled_from(
    [
        b"data: ",
        b"data:",
        b'data: {"a":1}',
        b"x",
        b"\xe4\xb8\xad",
        b"\xe4",
        b"\xff",
        b"\n",
        b"\n\n",
        b"\r",
        b"\r\n",
        b"event: error\n",
        b": keep-alive\n",
        b"id: 1\n",
        b" ",
        b"data: [DONE]\n\n",
        b"\n\ndata: ",
    ]
)
STREAMS = st.lists(PARTS, max_size=30).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(STREAMS, st.lists(st.integers(min_value=0, max_value=200), max_size=6))
def test_any_bytes_split_anywhere_read_as_the_line_parser_reads_them(stream: bytes, cuts: list[int]) -> None:
    points = sorted({c for c in cuts if c <= len(stream)})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert cut(pieces) == general([stream])
    assert all(type(ev) is SSEEvent for ev in cut(pieces))


def test_the_usual_stream_is_cut_into_its_events():
    stream = b"".join(b"data: " + t.encode() + b"\n\n" for t in ("a", "", "中文", " b ", "[DONE]")) + b"data: c"
    dec = SSEDecoder()
    assert dec.feed(stream) == [SSEEvent(t) for t in ("a", "", "中文", " b ", "[DONE]")]
    assert dec.close() == [SSEEvent("c")]


def test_a_line_more_in_the_stream_is_read_line_by_line():
    stream = b"data: a\n\ndata: b\ndata: c\n\n\ndata: d\n\n"
    assert SSEDecoder().feed(stream) == [SSEEvent("a"), SSEEvent("b\nc"), SSEEvent("d")]
