"""Batch input: line shapes, ids, templates, bad lines, duplicate scan, and the body each line gets."""

from __future__ import annotations

import io
import json

import pytest

from glm_cli.batch.input import (
    apply_template,
    build_body,
    iter_items,
    open_input,
    parse_line,
    scan_input,
)
from glm_cli.config import load_settings
from glm_cli.errors import UsageError


@pytest.fixture
def settings(env):
    return load_settings(env)


def items(text: str, **kw):
    return list(iter_items(io.BytesIO(text.encode()), **kw))


def test_string_line_gets_line_number_id(settings):
    (item,) = items('\n\n"hello there"\n')
    assert (item.id, item.line, item.prompt, item.error) == ("line-3", 3, "hello there", None)
    body = build_body(item, settings, None)
    assert body["messages"] == [{"role": "user", "content": "hello there"}]
    assert body["stream"] is False and body["model"] == "glm-4.7"


def test_object_line_with_overrides(settings):
    line = {
        "id": 7,
        "prompt": "hi",
        "system": "be brief",
        "model": "glm-4.7-flash",
        "temperature": 0.2,
        "max_tokens": 50,
        "thinking": False,
        "json": True,
        "stop": "END",
    }
    item = parse_line(json.dumps(line), 1)
    assert item.id == "7"
    body = build_body(item, settings, None, request_id="r1")
    assert body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("glm-4.7-flash", 0.2, 50)
    assert body["thinking"] == {"type": "disabled"}
    assert body["response_format"] == {"type": "json_object"}
    assert body["stop"] == ["END"] and body["request_id"] == "r1"


def test_messages_line_keeps_its_system_message(settings):
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    item = parse_line(json.dumps({"id": "m", "messages": msgs}), 1)
    assert build_body(item, settings, None)["messages"] == msgs
    flagged = load_settings({**settings.environ}, {"system": "flag system"})
    item2 = parse_line(json.dumps({"messages": [{"role": "user", "content": "U"}]}), 2)
    assert build_body(item2, flagged, None)["messages"][0] == {"role": "system", "content": "flag system"}


def test_batch_api_line_runs_locally(settings):
    line = {
        "custom_id": "req-1",
        "method": "POST",
        "url": "/v4/chat/completions",
        "body": {
            "model": "glm-4.7",
            "messages": [{"role": "user", "content": "x"}],
            "max_tokens": 9,
            "thinking": {"type": "disabled"},
            "do_sample": False,
            "stream": True,
        },
    }
    item = parse_line(json.dumps(line), 4)
    assert item.id == "req-1" and item.error is None
    body = build_body(item, settings, None)
    assert body["max_tokens"] == 9 and body["do_sample"] is False
    assert body["thinking"] == {"type": "disabled"} and body["stream"] is False


def test_text_mode_and_template():
    got = items("first\n\nsecond\n", text_mode=True, template="Summarise: {input}")
    assert [(i.id, i.prompt) for i in got] == [("line-1", "Summarise: first"), ("line-3", "Summarise: second")]


def test_template_fields_from_json_line():
    item = parse_line(json.dumps({"id": "x", "title": "T", "n": 3}), 1, template="Title {title}, n={n}")
    assert item.prompt == "Title T, n=3"
    bad = parse_line(json.dumps({"id": "y", "title": "T"}), 2, template="{title} {body}")
    assert bad.id == "y" and "template field {body} is missing" in bad.error and bad.error.startswith("line 2:")


def test_template_without_fields_prefixes_input():
    assert apply_template("Translate to French.", {"input": "hello"}) == "Translate to French.\n\nhello"
    assert apply_template('keep {"json": 1} braces {input}', {"input": "x"}) == 'keep {"json": 1} braces x'


@pytest.mark.parametrize(
    "text, why",
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON string or object, got list"),
        ("42", "got int"),
        ('{"id": "a"}', "no `prompt` or `messages`"),
        ('{"prompt": 5}', "`prompt` must be a string"),
        ('{"prompt": "x", "temperature": "hot"}', "`temperature` must be a number"),
        ('{"prompt": "x", "max_tokens": true}', "`max_tokens` must be an integer"),
        ('{"messages": "hi"}', "`messages` must be a non-empty list"),
        ('{"messages": [{"content": "no role"}]}', "every message must be an object with a `role`"),
        ('{"custom_id": "c", "url": "/v4/embeddings", "body": {}}', "only /v4/chat/completions"),
        ('{"id": true, "prompt": "x"}', "`id` must be a string or an integer"),
        ('"   "', "the prompt is empty"),
    ],
)
def test_bad_lines_name_the_line(text, why):
    item = parse_line(text, 12)
    assert item.error is not None and item.error.startswith("line 12:") and why in item.error


def test_bad_line_keeps_its_id_when_it_has_one():
    assert parse_line('{"id": "keep", "prompt": 1}', 3).id == "keep"


def test_bad_line_body_raises(settings):
    with pytest.raises(UsageError):
        build_body(parse_line("nope", 1), settings, None)


def test_line_override_out_of_range_is_a_usage_error(settings):
    item = parse_line('{"prompt": "x", "temperature": 3}', 1)
    with pytest.raises(UsageError, match="temperature"):
        build_body(item, settings, None)


def test_bom_and_crlf():
    (item,) = items('\ufeff"hi"\r\n')
    assert item.prompt == "hi" and item.error is None


def test_scan_counts_and_names_duplicates():
    text = '{"id": "a", "prompt": "1"}\n{"id": "b", "prompt": "2"}\n\n{"id": "a", "prompt": "3"}\n"x"\n'
    scan = scan_input(io.BytesIO(text.encode()))
    assert scan.total == 4 and scan.duplicates == {"a": [1, 4]}
    assert scan_input(io.BytesIO(b'"x"\n"y"\n')).duplicates == {}


def test_scan_of_text_never_has_duplicates():
    scan = scan_input(io.BytesIO(b"same\nsame\n"), text_mode=True)
    assert scan.total == 2 and scan.duplicates == {}


def test_reading_is_lazy():
    consumed = []

    class Lines(io.BytesIO):
        def __iter__(self):
            for n in range(1_000_000):
                consumed.append(n)
                yield b'"p"\n'

    it = iter_items(Lines())
    assert [next(it).line for _ in range(3)] == [1, 2, 3]
    assert len(consumed) == 3


def test_open_input_spools_stdin_text_stream():
    fh = open_input("-", io.StringIO('"a"\n"b"\n'), spool=True)
    assert fh.read() == b'"a"\n"b"\n'
    fh.seek(0)
    assert fh.read(3) == b'"a"'


def test_open_input_missing_file():
    with pytest.raises(UsageError, match="cannot read /nonexistent/x.jsonl"):
        open_input("/nonexistent/x.jsonl", None, spool=False)


def test_scan_ids_match_parsed_ids():
    from glm_cli.batch.input import _scan_ids

    text = "\n".join(
        [
            '"s"',
            '{"id": 3, "prompt": "x"}',
            '{"id": "", "prompt": "x"}',
            '{"id": true, "prompt": "x"}',
            '{"custom_id": "c", "body": 1}',
            '{"body": {}, "id": "not-this"}',
            "bad json",
            '{"id": "k", "prompt": 1}',
            '{"id": ["x"], "prompt": "y"}',
        ]
    ).encode()
    parsed = [(i.line, i.id) for i in iter_items(io.BytesIO(text))]
    assert parsed == list(_scan_ids(io.BytesIO(text), False))
    assert [i for _, i in parsed] == ["line-1", "3", "line-3", "line-4", "c", "line-6", "line-7", "k", "line-9"]
