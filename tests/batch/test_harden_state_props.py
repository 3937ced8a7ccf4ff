"""Property tests for the two parsers of batch state: input lines, and the output file read back on resume.

Any input ends in a result or a clear error -- never an uncaught exception -- and compaction never loses a
line it should keep.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from functools import lru_cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glm_cli.batch.input import _scan_ids, build_body, iter_items, parse_line
from glm_cli.batch.output import RecordWriter, foreign_line, load_state, read_record
from glm_cli.errors import GlmError
from tests.conftest import FAKE_KEY

EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FILE_EXAMPLES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=1)
def run_settings():
    from glm_cli.config import load_settings

    return load_settings({"HOME": "/nonexistent", "XDG_CONFIG_HOME": "/nonexistent/cfg", "GLM_API_KEY": FAKE_KEY})


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["", " ", "line-1", "ok", "error", "\ud800", "a\udfffb", "\ud83d\ude00"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
KEYS = ["id", "custom_id", "prompt", "messages", "body", "url", "model", "system", "temperature", "top_p",
        "max_tokens", "thinking", "stop", "json", "role", "content", "method"]  # fmt: skip
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "system", "assistant", "tool", 5])},
    optional={"content": values},
)
shaped = st.dictionaries(
    st.sampled_from(KEYS),
    st.one_of(
        values, st.lists(message, max_size=3), st.fixed_dictionaries({}, optional={"messages": st.lists(message)})
    ),
    max_size=6,
)


def dumped(value) -> st.SearchStrategy[str]:
    return st.sampled_from([json.dumps(value), json.dumps(value, ensure_ascii=False, allow_nan=True)])


hostile = st.one_of(
    st.integers(990, 3000).map(lambda d: "[" * d + "]" * d),
    st.integers(4290, 4400).map(lambda n: '{"id": "n", "prompt": "x", "n": ' + "9" * n + "}"),
    st.sampled_from(["NaN", '{"prompt": "x", "temperature": Infinity}', '{"prompt": 1e999}', '"\\ud800"',
                     '{"id": "\\udc00", "prompt": "x"}', '{"prompt": "\\ud83d\\ude00"}', "{", "\x00", "\ufeff\"x\""]),
)  # fmt: skip
lines = st.one_of(st.text(max_size=60), values.flatmap(dumped), shaped.flatmap(dumped), hostile)


def raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a raw surrogate becomes bytes that are not UTF-8


def split(data: bytes) -> list[bytes]:
    """Lines as a binary file yields them: split at b"\\n" only, each keeping it."""
    return [line + b"\n" for line in data.split(b"\n")[:-1]]


@EXAMPLES
@given(text=lines.map(lambda t: raw(t).decode("utf-8", "replace")), number=st.integers(1, 10**6))
def test_any_input_line_is_an_item_and_its_request_can_be_sent_or_is_a_clear_error(text, number):
    item = parse_line(text, number)  # the text as the reader decodes it (invalid UTF-8 becomes U+FFFD)
    assert isinstance(item.id, str) and item.id.encode("utf-8")  # an id that can be written
    if item.error is not None:
        assert item.error.startswith(f"line {number}: ")
        return
    try:
        body = build_body(item, run_settings(), None)
    except GlmError:
        return  # a clear, typed error: the line's record says why
    json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")  # what the client sends


@FILE_EXAMPLES
@given(data=st.lists(st.one_of(lines.map(raw), st.binary(max_size=40)), max_size=8).map(b"\n".join))
def test_any_input_bytes_give_items_and_the_scan_agrees_on_every_id(data):
    items = list(iter_items(io.BytesIO(data)))
    assert [(i.line, i.id) for i in items] == list(_scan_ids(io.BytesIO(data), False))
    text_items = list(iter_items(io.BytesIO(data), text_mode=True))
    assert all(i.error is None and i.id == f"line-{i.line}" for i in text_items)


ids = st.sampled_from(["a", "b", "c", "7", "line-1"])
record_lines = st.one_of(
    st.builds(lambda i, s: json.dumps({"id": i, "status": s}), ids, st.sampled_from(["ok", "error", 5, None])),
    st.builds(lambda i, c, f: json.dumps({"custom_id": i, "response": {"status_code": c, "body": {
        "choices": [{"finish_reason": f}]}}}), ids, st.sampled_from([200, 429, "200"]),
        st.sampled_from(["stop", "length", "sensitive", None, [], {}])),
    values.map(lambda v: json.dumps({"id": v, "status": "ok"})),
    values.map(lambda v: json.dumps({"custom_id": "a", "response": {"status_code": 200, "body": v}})),
).map(raw)  # fmt: skip
file_lines = st.one_of(record_lines, lines.map(raw), st.binary(max_size=30).filter(lambda b: b"\n" not in b))
output_files = st.builds(
    lambda rows, torn: b"".join(r + b"\n" for r in rows) + torn,
    st.lists(file_lines.map(lambda b: b.replace(b"\n", b" ")), max_size=10),
    st.one_of(st.just(b""), st.binary(min_size=1, max_size=20).filter(lambda b: b"\n" not in b)),
)


def kept_by_compaction(rows: list[bytes]) -> list[bytes]:
    """What compaction must keep: everything but error records of ids that are ok or fail again later."""
    states = [read_record(r) for r in rows]
    ok = {s[0] for s in states if s is not None and s[1]}
    last_error = {s[0]: n for n, s in enumerate(states) if s is not None and not s[1]}
    return [r for n, (r, s) in enumerate(zip(rows, states, strict=True))
            if s is None or s[1] or (s[0] not in ok and last_error[s[0]] == n)]  # fmt: skip


@FILE_EXAMPLES
@given(data=output_files)
def test_any_output_file_resumes_and_compacts_without_losing_a_line(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out.jsonl")
        with open(path, "wb") as fh:
            fh.write(data)
        first = foreign_line(path)
        assert first is None or isinstance(first, str)
        writer = RecordWriter(path)  # cuts a torn last line
        try:
            whole = data[: len(data) - writer.repaired]
            assert whole == b"" or whole.endswith(b"\n")
            state = load_state(path)
            rows = split(whole)
            assert state.records + state.unreadable == len(rows)
            dropped = writer.compact()
        finally:
            writer.close()
        with open(path, "rb") as fh:
            after = split(fh.read())
        assert after == kept_by_compaction(rows) and dropped == len(rows) - len(after)
