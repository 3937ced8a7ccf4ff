"""The streaming hot path's shortcuts give exactly what the general code gives, for any input.

SSEDecoder reads the usual `data: ...` line inline and chunk_to_deltas reads the usual chunk (one choice,
text only) without building a path name per field: both are checked here against the general reading.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glm_cli.response as response
from glm_cli.errors import GlmError
from glm_cli.response import chunk_to_deltas
from glm_cli.sse import SSEDecoder, SSEEvent, iter_sse

# ------------------------------------------------------------------------------------------- SSE lines


def reference_events(data: bytes) -> list[SSEEvent]:
    """The SSE specification's reading of a whole stream, line by line (no bounds)."""
    text = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines = text.split(b"\n")
    events: list[SSEEvent] = []
    buf: list[bytes] = []
    event = b""
    for n, line in enumerate(lines):
        last = n == len(lines) - 1
        if not line:
            if buf and not last:
                events.append(
                    SSEEvent(b"\n".join(buf).decode("utf-8", "replace"), event.decode("utf-8", "replace") or "message")
                )
                buf, event = [], b""
            continue
        name, _, value = line.partition(b":")
        value = value[1:] if value[:1] == b" " else value
        if name == b"data":
            buf.append(value)
        elif name == b"event":
            event = value
    if buf:
        events.append(
            SSEEvent(b"\n".join(buf).decode("utf-8", "replace"), event.decode("utf-8", "replace") or "message")
        )
    return events


BITS = st.sampled_from(
    [b"data: ", b"data:", b"data:  ", b"event: e", b": c", b"\n", b"\r\n", b"\r", b"x", b"\xe4\xb8\xad"]
)
STREAMS = st.lists(st.one_of(BITS, st.binary(max_size=6)), max_size=40).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(STREAMS, st.integers(min_value=1, max_value=64))
def test_decoder_matches_the_specification_reading(data: bytes, size: int) -> None:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    assert list(iter_sse(pieces)) == reference_events(data)


def test_a_long_first_data_line_still_hits_the_bound() -> None:
    dec = SSEDecoder(max_event=100)
    with pytest.raises(GlmError, match="stream line longer"):
        dec.feed(b"data: " + b"x" * 200 + b"\n\n")


def test_the_usual_line_counts_towards_the_event_bound() -> None:
    dec = SSEDecoder(max_event=100)
    dec.feed(b"data: " + b"x" * 60 + b"\n")  # the inline path: 61 bytes of the event
    with pytest.raises(GlmError, match="stream event longer"):
        dec.feed(b"data: " + b"y" * 60 + b"\n")


# ------------------------------------------------------------------------------------------- chunks

TEXT = st.one_of(st.none(), st.text(max_size=5), st.just("\ud800"), st.integers(), st.just([]))
DELTA = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "role": st.just("assistant"),
            "content": TEXT,
            "reasoning_content": TEXT,
            "tool_calls": st.one_of(st.none(), st.just([]), st.just([{"index": 0, "function": {"name": "f"}}])),
        },
    ),
    st.none(),
    st.just([]),
    st.just("x"),
)
CHOICE = st.one_of(
    st.fixed_dictionaries(
        {"index": st.just(0)},
        optional={"delta": DELTA, "finish_reason": st.one_of(st.none(), st.just("stop"), st.just(""), st.just(3))},
    ),
    st.just("not a choice"),
)
CHUNK = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "id": TEXT,
            "model": TEXT,
            "choices": st.one_of(st.lists(CHOICE, max_size=2), st.none(), st.just({})),
            "usage": st.one_of(st.none(), st.just({"completion_tokens": 3}), st.just("x")),
            "error": st.one_of(st.none(), st.just({"code": "1301", "message": "no"})),
            "web_search": st.one_of(st.none(), st.just([])),
            "content_filter": st.just([{"role": "assistant", "level": 1}]),
        },
    ),
    st.just([]),
    st.none(),
)


def reading(chunk: Any) -> tuple[str, Any]:
    try:
        return "deltas", chunk_to_deltas(chunk)
    except GlmError as exc:
        return "error", (type(exc), exc.message)


@settings(max_examples=400, deadline=None)
@given(CHUNK)
def test_the_usual_chunk_reads_as_the_general_code_reads_it(chunk: Any) -> None:
    fast = reading(chunk)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(response, "_plain_chunk", lambda doc: None)  # the general, field-by-field reading only
        general = reading(chunk)
    assert fast == general


def test_the_usual_chunk_takes_the_short_way() -> None:
    chunk = {"id": "c1", "model": "glm-4.7", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}}]}
    assert response._plain_chunk(chunk) == chunk_to_deltas(chunk)
    assert response._plain_chunk({**chunk, "usage": {"total_tokens": 1}}) is None  # a Finish: the general code


# ------------------------------------------------------------------------------------------- JSON

JSON_TEXT = st.one_of(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=8,
    ).map(json.dumps),
    st.text(alphabet='{}[]":,0123456789.eE+- \n\ufeffatrufsnl\\', max_size=30),
)


@settings(max_examples=400, deadline=None)
@given(JSON_TEXT, st.sampled_from(["", " ", "\n", " x"]), st.sampled_from(["", " ", "\t"]))
def test_parse_json_reads_what_json_loads_reads(text: str, after: str, before: str) -> None:
    text = before + text + after
    try:
        expected: Any = ("value", json.loads(text))
    except RecursionError:
        expected = ("error",)
    except ValueError:
        expected = ("error",)
    try:
        got: Any = ("value", response.parse_json(text))
    except ValueError:
        got = ("error",)
    if expected[0] == "value" and got[0] == "value":
        assert json.dumps(got[1]) == json.dumps(expected[1])
    else:
        assert got == expected


def test_parse_json_keeps_its_bounds() -> None:
    with pytest.raises(ValueError, match="4300"):
        response.parse_json("1" * 5000)
    with pytest.raises(ValueError, match="nested deeper"):
        response.parse_json("[" * 200 + "]" * 200)
    with pytest.raises(ValueError, match="nested deeper"):
        response.parse_json("[" * 100_000)
