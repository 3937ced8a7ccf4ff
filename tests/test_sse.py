"""The SSE parser: any split of the byte stream gives the same events and deltas."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.errors import APIError
from glm_cli.events import ContentDelta, Finish, ReasoningDelta, ReplyBuilder, ToolCallDelta
from glm_cli.sse import DeltaReader, SSEEvent, StreamCutError, iter_sse, read_deltas
from tests.conftest import USAGE, chunk, sse_body

BODY = sse_body(
    chunk(reasoning="思考"),
    chunk(reasoning=" more"),
    chunk(content="Héllo, "),
    chunk(content="世界 🌍"),
    chunk(content="", finish="stop", usage=USAGE),
)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


def reply_of(chunks: list[bytes]):
    rb = ReplyBuilder()
    for d in read_deltas(chunks, DeltaReader()):
        rb.add(d)
    return rb.build()


def test_whole_stream_gives_text_reasoning_usage():
    reply = reply_of([BODY])
    assert reply.content == "Héllo, 世界 🌍"
    assert reply.reasoning == "思考 more"
    assert reply.finish_reason == "stop"
    assert reply.usage.cached_tokens == 40 and reply.usage.reasoning_tokens == 20


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
def test_any_split_gives_same_events(cuts):
    assert list(iter_sse(split(BODY, cuts))) == list(iter_sse([BODY]))


def test_byte_by_byte_split_inside_utf8_and_data_prefix():
    pieces = [BODY[i : i + 1] for i in range(len(BODY))]
    assert reply_of(pieces).content == "Héllo, 世界 🌍"


def test_crlf_and_cr_line_endings_and_comments():
    raw = b': keep-alive\r\n\r\ndata: {"a":1}\r\n\r\ndata: x\rdata: y\r\r'
    assert list(iter_sse([raw])) == [SSEEvent('{"a":1}'), SSEEvent("x\ny")]
    # \r\n split between chunks must not produce an extra empty line
    assert list(iter_sse([b"data: 1\r", b"\n\r", b"\n"])) == [SSEEvent("1")]


def test_event_field_and_multiline_data():
    events = list(iter_sse([b"event: error\ndata: a\ndata: b\n\n"]))
    assert events == [SSEEvent("a\nb", event="error")]


def test_done_stops_and_nothing_after_is_read():
    body = sse_body(chunk(content="a", finish="stop")) + b"data: {not json\n\n"
    assert reply_of([body]).content == "a"


def test_error_payload_raises_api_error_with_code():
    body = b'data: {"error": {"code": "1234", "message": "internal network error"}}\n\n'
    with pytest.raises(APIError) as exc:
        list(read_deltas([body], DeltaReader()))
    assert exc.value.code == "1234" and "internal network error" in exc.value.message


def test_stream_cut_before_done_raises():
    body = sse_body(chunk(content="partial"), done=False)
    got = []
    with pytest.raises(StreamCutError):
        for d in read_deltas([body], DeltaReader()):
            got.append(d)
    assert got == [ContentDelta("partial")]


def test_finish_without_done_is_accepted():
    body = sse_body(chunk(content="x"), chunk(content="", finish="stop"), done=False)
    assert reply_of([body]).finish_reason == "stop"


def test_malformed_json_is_a_clear_error():
    with pytest.raises(APIError, match="malformed"):
        list(read_deltas([b"data: {oops\n\n"], DeltaReader()))


def test_whole_and_fragmented_tool_calls():
    whole = {
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "index": 0,
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                        }
                    ]
                },
            }
        ]
    }
    frag1 = {
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {"id": "call_2", "index": 1, "type": "function", "function": {"name": "f", "arguments": ""}}
                    ]
                },
            }
        ]
    }
    frag2 = {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": '{"a"'}}]}}]}
    frag3 = {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": ":1}"}}]}}]}
    end = {"choices": [{"index": 0, "finish_reason": "tool_calls", "delta": {}}]}
    deltas = list(read_deltas([sse_body(whole, frag1, frag2, frag3, end)], DeltaReader()))
    assert isinstance(deltas[0], ToolCallDelta) and deltas[0].name == "get_weather"
    rb = ReplyBuilder()
    for d in deltas:
        rb.add(d)
    reply = rb.build()
    assert [(c.id, c.name, c.arguments) for c in reply.tool_calls] == [
        ("call_1", "get_weather", '{"city":"Paris"}'),
        ("call_2", "f", '{"a":1}'),
    ]
    assert reply.finish_reason == "tool_calls"


def test_empty_strings_are_skipped():
    body = sse_body(
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "reasoning_content": ""}}]},
        chunk(content="ok", finish="stop"),
    )
    deltas = list(read_deltas([body], DeltaReader()))
    assert not any(isinstance(d, ReasoningDelta) for d in deltas)
    assert isinstance(deltas[-1], Finish)
