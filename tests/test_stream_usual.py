"""A stream's usual chunk, read by its text alone, gives exactly what the field-by-field reading gives (issue 14).

DeltaReader learns the shape of the stream's own chunks (all but the delta's text the same) and then reads
such a chunk by its one JSON string; every other event takes the general reading. DeltaReader with `learn = 0`
never learns: that is the general reading, and both must end the same for any stream: same deltas, same
error, same end. The SSE decoder likewise cuts the usual `data:` event out of a chunk whole; any split of
the bytes must give the same events.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.errors import GlmError
from glm_cli.events import ContentDelta, ReasoningDelta
from glm_cli.response import usual_chunk
from glm_cli.sse import DeltaReader, SSEEvent, iter_sse, read_deltas
from tests.conftest import USAGE, chunk, sse_body


def data(obj: dict, ascii_only: bool = False) -> str:
    return json.dumps(obj, ensure_ascii=ascii_only, separators=(",", ":"))


GLM = data(chunk(content="Hel"))  # as GLM writes a chunk: no spaces
HEAD, TAIL = GLM.split('"Hel"')


def outcome(events: list[SSEEvent], learn: bool, joined: bool = False) -> list[Any]:
    """What a reader makes of EVENTS: its deltas, then how it ended (the error, [DONE], or the cut).

    JOINED: runs of usual chunks come as one delta."""
    reader = DeltaReader()
    if not learn:
        reader.learn = 0
    seen: list[Any] = []
    try:
        for delta in reader.deltas(events, joined):
            seen.append(delta)
        reader.end()
        seen.append(("end", reader.done, reader.started, reader.answered))
    except GlmError as exc:
        seen.append(("error", type(exc).__name__, exc.message, reader.started))
    return seen


TEXTS = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["", "x", "y", "\ud800", "中文", '"', "\\", "\t", "\x00", "\u2028", "🌍"]),
)
# What may stand where the usual chunk has its string: a JSON string (any escapes), or anything at all.
MIDDLES = st.one_of(
    TEXTS.map(json.dumps),
    TEXTS.map(lambda t: json.dumps(t, ensure_ascii=False)),
    st.text(alphabet='"\\ux0d8{}[],: \t\x01ab', max_size=8),
    st.sampled_from(['"a" ', ' "a"', '"a","content":"b"', '"a\\"', '"\\ud800"', '"a"}]}{"x":"', "null", "1"]),
)
EVENT_DATA = st.one_of(
    MIDDLES.map(lambda m: HEAD + m + TAIL),  # the usual shape, whatever its middle
    MIDDLES.map(lambda m: HEAD.replace('"content":', '"reasoning_content":') + m + TAIL),
    TEXTS.map(lambda t: data(chunk(content=t))),
    TEXTS.map(lambda t: data(chunk(reasoning=t), ascii_only=True)),
    TEXTS.map(lambda t: data(chunk(content=t, reasoning="r"))),
    TEXTS.map(lambda t: data(chunk(content=t, finish="stop", usage=USAGE))),
    TEXTS.map(lambda t: data({**chunk(content=t), "id": "other"})),
    TEXTS.map(lambda t: " " + data(chunk(content=t)) + " "),
    TEXTS.map(lambda t: data({"choices": [{"delta": {"content": "a"}}], "x": {"content": t}})),
    TEXTS.map(lambda t: data({"choices": [{"delta": {"content": t, "tool_calls": [{"index": 0}]}}]})),
    TEXTS.map(lambda t: data({**chunk(content=t), "error": {"code": "1301", "message": "no"}})),
    st.sampled_from(["[DONE]", "", " ", "{oops", "[" * 150 + "]" * 150, data(chunk(content="", finish="stop"))]),
)
EVENTS = st.lists(
    st.tuples(EVENT_DATA, st.sampled_from(["message", "message", "message", "error"])).map(
        lambda pair: SSEEvent(pair[0], pair[1])
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(EVENTS)
def test_the_usual_chunk_reads_as_the_general_reading_reads_it(events: list[SSEEvent]) -> None:
    assert outcome(events, learn=True) == outcome(events, learn=False)


def test_a_stream_of_usual_chunks_is_read_by_its_text():
    events = [SSEEvent(data(chunk(content=t))) for t in ("Hel", "lo ", "wor", "ld")]
    reader = DeltaReader()
    assert list(reader.deltas(events)) == [ContentDelta(t) for t in ("Hel", "lo ", "wor", "ld")]
    assert reader.usual is not None and reader.usual.head == HEAD + '"' and reader.usual.tail == TAIL


def test_the_usual_chunk_is_learned_only_where_its_string_is_the_delta():
    # The last "content" string is another object's: the delta's text is not there.
    text = data({"choices": [{"delta": {"content": "a"}}], "x": {"content": "b"}})
    assert usual_chunk(text, ContentDelta("a")) is None
    # The same text in both places proves nothing by itself: the probe is another text.
    text = data({"choices": [{"delta": {"content": "x"}}], "x": {"content": "x"}})
    assert usual_chunk(text, ContentDelta("x")) is None
    # A chunk that also finishes is not the usual one.
    assert usual_chunk(data(chunk(content="a", finish="stop")), ContentDelta("a")) is None
    reasoning = usual_chunk(data(chunk(reasoning="r")), ReasoningDelta("r"))
    assert reasoning is not None and reasoning.kind is ReasoningDelta


def test_a_usual_chunk_with_a_bad_string_says_what_the_general_reading_says():
    events = [SSEEvent(data(chunk(content="a"))), SSEEvent(HEAD + '"b\x01"' + TAIL)]
    assert outcome(events, learn=True)[-1][:2] == ("error", "ProtocolError")
    assert outcome(events, learn=True) == outcome(events, learn=False)


# ------------------------------------------------------------------------------------------- bytes to deltas

STREAM = sse_body(
    chunk(reasoning="思考"),
    *[chunk(reasoning=t) for t in ("a", "\\", '"', "🌍 ")],
    *[chunk(content=t) for t in ("Héllo", ", ", "世界 🌍", "\n\n", "a\\b", '"q"')],
    chunk(content="", finish="stop", usage=USAGE),
)


def coalesced(seen: list[Any]) -> list[Any]:
    """SEEN with each run of text deltas of one kind as one delta."""
    out: list[Any] = []
    for item in seen:
        if type(item) in (ContentDelta, ReasoningDelta) and out and type(out[-1]) is type(item):
            out[-1] = type(item)(out[-1].text + item.text)
        else:
            out.append(item)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=20), st.booleans())
def test_any_split_of_a_stream_gives_the_same_deltas(cuts: list[int], joined: bool) -> None:
    # joined: runs of usual chunks of one network read come as one delta (the same text, in the same order)
    points = sorted(set(cuts))
    pieces = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    whole_events = list(iter_sse([STREAM]))
    assert list(iter_sse(pieces)) == whole_events
    whole = outcome(whole_events, learn=False)[:-1]
    seen = list(read_deltas(pieces, DeltaReader(), joined=joined))
    assert (coalesced(seen) == coalesced(whole)) if joined else (seen == whole)


def test_a_stream_cut_short_is_still_a_cut():
    from glm_cli.sse import StreamCutError

    with pytest.raises(StreamCutError):
        list(read_deltas([sse_body(chunk(content="a"), chunk(content="b"), done=False)], DeltaReader()))


def test_a_lone_surrogate_in_a_usual_chunk_becomes_a_replacement_character():
    events = [SSEEvent(data(chunk(content="a"))), SSEEvent(HEAD + '"\\ud800b"' + TAIL)]
    assert outcome(events, learn=True)[:2] == [ContentDelta("a"), ContentDelta("\ufffdb")]
    assert outcome(events, learn=True) == outcome(events, learn=False)


def test_a_usual_chunk_that_changes_is_learned_again():
    # Some servers change `created` (or the id) during a stream: each new shape is learned, however many.
    events = [SSEEvent(data({**chunk(content=f"t{n}"), "created": n // 2})) for n in range(2 * DeltaReader.LEARN + 4)]
    reader = DeltaReader()
    assert list(reader.deltas(events)) == [ContentDelta(f"t{n}") for n in range(len(events))]
    assert reader.usual is not None and f'"created":{len(events) // 2 - 1},' in reader.usual.head


def test_chunks_that_have_no_usual_shape_stop_the_tries():
    odd = [SSEEvent(data({"choices": [{"delta": {"content": f"a{n}"}}], "x": {"content": "b"}})) for n in range(40)]
    reader = DeltaReader()
    assert list(reader.deltas(odd)) == [ContentDelta(f"a{n}") for n in range(40)]
    assert reader.usual is None and reader.learn == 0
