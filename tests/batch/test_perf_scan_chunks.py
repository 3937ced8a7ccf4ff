"""The duplicate-id scan reads the input a block at a time and takes a short way for plain `{"id": ...}`
lines: every line still gets the id parse_line gives it, wherever the blocks are cut, whatever the bytes."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.batch.input import _scan_ids, iter_items

IDS = st.one_of(
    st.text(max_size=4),
    st.sampled_from(["q1", "\\ud800", "é", "a\u2028b", "7"]),
    st.integers(-3, 3),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.lists(st.integers(), max_size=1),
)
OBJECTS = st.fixed_dictionaries(
    {}, optional={"id": IDS, "custom_id": IDS, "body": st.just({}), "prompt": st.text(max_size=5)}
)
ENDS = st.sampled_from(["", " ", "\r", "\r\r", "\u00a0", "\x1c", "\u2028", "\x85", " x", ",", "}"])
LINES = st.one_of(
    st.builds(lambda o, a, b: a + json.dumps(o, ensure_ascii=False) + b, OBJECTS, ENDS, ENDS),
    st.builds(lambda o: json.dumps(o), OBJECTS),
    st.builds(lambda o: json.dumps(o)[:-1], OBJECTS),
    st.text(max_size=12),
    st.sampled_from(['{"id": "a", "id": "b"}', '{"id": "\\ud800"}', '{"id": 1e999}', '{"id": "x", "body": 1}', ""]),
)
RAW = st.sampled_from([b"", b"\xff", b"\xe4\xb8", b"\xef\xbb\xbf", b"\r"])  # bad UTF-8, a cut character, a BOM


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(LINES, RAW), max_size=12), st.integers(1, 64), st.booleans())
def test_every_line_gets_the_parsed_id_wherever_the_blocks_are_cut(lines, chunk: int, final_newline: bool):
    data = b"\n".join(raw + text.encode("utf-8", "surrogatepass") for text, raw in lines)
    data += b"\n" if final_newline and data else b""
    expected = [(i.line, i.id) for i in iter_items(io.BytesIO(data))]
    assert list(_scan_ids(io.BytesIO(data), False, chunk)) == expected


def test_a_leading_byte_order_mark_is_ignored_on_the_first_line_only():
    data = '\ufeff{"id": "a"}\n\ufeff{"id": "b"}\n'.encode()
    assert list(_scan_ids(io.BytesIO(data), False, 4)) == [(i.line, i.id) for i in iter_items(io.BytesIO(data))]
    assert [i for _, i in _scan_ids(io.BytesIO(data), False, 4)] == ["a", "line-2"]
