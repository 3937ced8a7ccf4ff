"""Issue 11: well-formed JSON of an unexpected shape from the server ends in a clear error, never a traceback.

Every case goes through the real code paths (run_ask, the batch runner, the Batch API commands, `models
--remote`) with httpx.MockTransport serving the bytes, and a few through the installed `glm` against a
raw-bytes server on 127.0.0.1. Property tests feed arbitrary JSON where the server's answers go.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glm_cli.batch.remote import result_record
from glm_cli.batch.runner import collect
from glm_cli.client import GlmClient, RetryPolicy, error_from_response
from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.commands.batch.remote import (
    CancelOptions,
    FetchOptions,
    ListOptions,
    StatusOptions,
    run_cancel,
    run_fetch,
    run_list,
    run_status,
)
from glm_cli.commands.batch.run import BatchOptions, run_batch
from glm_cli.commands.common import run_command
from glm_cli.commands.models import ModelsOptions, run_models
from glm_cli.commands.tooling import ToolOptions
from glm_cli.errors import APIError, GlmError, InvalidOutputError, ProtocolError
from glm_cli.events import Usage
from glm_cli.response import MAX_DEPTH, parse_json
from glm_cli.tools.files import ToolResult, ToolSpec
from glm_cli.tools.loop import Toolbox
from glm_cli.tools.schema import check_json
from tests.conftest import FAKE_KEY, glm_executable

SHAPE = "the server's answer was not in the expected shape: "
EMPTY = "the server's answer was empty: no content, no tool calls and no finish_reason"
HINT = "hint: check base_url / --endpoint"
DEEP = "[" * 100_000 + "]" * 100_000
BIGINT = "1" * 5000


def doc(*choices: dict, **top) -> str:
    """A chunk (stream) or response (whole) as JSON text; the key DELTA becomes `delta` or `message`."""
    return json.dumps({"id": "x", "model": "glm-4.7", "choices": list(choices), **top})


def choice(body=None, finish: str | None = "stop", **extra) -> dict:
    out = {"index": 0, "DELTA": {"role": "assistant", "content": "hi"} if body is None else body, **extra}
    if finish is not None:
        out["finish_reason"] = finish
    return out


def call(**fields) -> dict:
    base = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    return {"DELTA": {"tool_calls": [{**base, **fields}]}, "finish_reason": "tool_calls"}


# (id, JSON text of the chunk or whole answer, what the message says: stream, whole). DELTA: delta or message.
CASES = [
    ("choices-string", '{"choices": "abc"}', SHAPE + "choices is a string, not a list"),
    ("choice-string", '{"choices": ["x"]}', SHAPE + "choices[0] is a string, not an object"),
    ("delta-list", doc(choice([1, 2])), SHAPE + "choices[0].DELTA is a list, not an object"),
    ("delta-string", doc(choice("hi")), SHAPE + "choices[0].DELTA is a string, not an object"),
    ("delta-number", doc(choice(7)), SHAPE + "choices[0].DELTA is the number 7, not an object"),
    ("top-list", "[1, 2]", SHAPE + "the answer is a list, not an object"),
    ("top-string", '"hi"', SHAPE + "the answer is a string, not an object"),
    ("top-number", "5", SHAPE + "the answer is the number 5, not an object"),
    ("top-null", "null", SHAPE + "the answer is null, not an object"),
    ("top-true", "true", SHAPE + "the answer is true, not an object"),
    ("tool-index-zz", doc(call(index="zz")), SHAPE + "choices[0].DELTA.tool_calls[0].index is a string, not a whole"),
    ("tool-index-bool", doc(call(index=True)), SHAPE + "choices[0].DELTA.tool_calls[0].index is true, not a whole"),
    ("tool-calls-string", doc({"DELTA": {"tool_calls": "x"}}), SHAPE + "choices[0].DELTA.tool_calls is a string"),
    ("tool-call-number", doc({"DELTA": {"tool_calls": [5]}}), SHAPE + "choices[0].DELTA.tool_calls[0] is the number"),
    (
        "function-string",
        doc(call(function="f")),
        SHAPE + "choices[0].DELTA.tool_calls[0].function is a string, not an object",
    ),
    (
        "tool-name-number",
        doc(call(function={"name": 5})),
        SHAPE + "choices[0].DELTA.tool_calls[0].function.name is the number 5",
    ),
    ("tool-id-number", doc(call(id=7)), SHAPE + "choices[0].DELTA.tool_calls[0].id is the number 7, not a string"),
    ("tool-type-object", doc(call(type={})), SHAPE + "choices[0].DELTA.tool_calls[0].type is an object, not a string"),
    (
        "tool-args-list",
        doc(call(function={"name": "f", "arguments": [1]})),
        SHAPE + "choices[0].DELTA.tool_calls[0].function.arguments is a list, not a string",
    ),
    ("tool-no-name", doc(call(function={"arguments": "{}"})), SHAPE + "tool call 0 has no function name"),
    ("tool-no-id", doc(call(id=None)), SHAPE + "tool call 0 has no id"),
    ("content-number", doc(choice({"content": 5})), SHAPE + "choices[0].DELTA.content is the number 5, not a string"),
    ("content-list", doc(choice({"content": ["a"]})), SHAPE + "choices[0].DELTA.content is a list, not a string"),
    (
        "reasoning-object",
        doc(choice({"reasoning_content": {"a": 1}, "content": "hi"})),
        SHAPE + "choices[0].DELTA.reasoning_content is an object, not a string",
    ),
    ("finish-list", doc(choice(finish=["stop"])), SHAPE + "choices[0].finish_reason is a list, not a string"),
    ("finish-number", doc(choice(finish=5)), SHAPE + "choices[0].finish_reason is the number 5, not a string"),
    ("usage-string", doc(choice(), usage="x"), SHAPE + "usage is a string, not an object"),
    (
        "usage-count-string",
        doc(choice(), usage={"prompt_tokens": "abc"}),
        SHAPE + "usage.prompt_tokens is a string, not a whole number ≥ 0",
    ),
    ("usage-count-list", doc(choice(), usage={"prompt_tokens": [1]}), SHAPE + "usage.prompt_tokens is a list"),
    ("usage-count-negative", doc(choice(), usage={"total_tokens": -1}), SHAPE + "usage.total_tokens is the number -1"),
    (
        "usage-count-fraction",
        doc(choice(), usage={"total_tokens": 1.5}),
        SHAPE + "usage.total_tokens is the number 1.5",
    ),
    ("usage-count-bool", doc(choice(), usage={"total_tokens": True}), SHAPE + "usage.total_tokens is true"),
    (
        "usage-count-inf",
        doc(choice())[:-1] + ', "usage": {"total_tokens": 1e999}}',
        SHAPE + "usage.total_tokens is the number inf, not a whole number ≥ 0",
    ),
    (
        "usage-details-string",
        doc(choice(), usage={"prompt_tokens_details": "x"}),
        SHAPE + "usage.prompt_tokens_details is a string, not an object",
    ),
    (
        "usage-cached-string",
        doc(choice(), usage={"prompt_tokens_details": {"cached_tokens": "4"}}),
        SHAPE + "usage.prompt_tokens_details.cached_tokens is a string",
    ),
    ("id-list", doc(choice(), id=[1]), SHAPE + "id is a list, not a string"),
    ("model-object", doc(choice(), model={"a": 1}), SHAPE + "model is an object, not a string"),
    ("web-search-number", doc(choice(), web_search=5), SHAPE + "web_search is the number 5, not a list"),
    ("web-search-string", doc(choice(), web_search="abc"), SHAPE + "web_search is a string, not a list"),
    ("nesting-100k", DEEP, f"nested deeper than {MAX_DEPTH} levels"),
    ("nesting-just-over", "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels"),
    (
        "integer-5000-digits",
        doc(choice())[:-1] + f', "created": {BIGINT}}}',
        "Exceeds the limit (4300 digits) for integer string conversion",
    ),
    (
        "deep-tool-arguments",
        doc(call(function={"name": "f", "arguments": json.loads("[" * 150 + "]" * 150)})),
        f"nested deeper than {MAX_DEPTH} levels",
    ),
    ("error-string", '{"error": "boom"}', "the server answered with an error: boom"),
    ("error-number", '{"error": 5}', "the server answered with an error: 5"),
    ("error-empty-object", '{"error": {}}', "the server answered with an error: no details"),
    (
        "error-odd-fields",
        '{"error": {"code": 1214, "message": {"x": [1]}}}',  # a code whose class exits 1 (others: test_stream_errors)
        'the server answered with an error (GLM 1214): {"x": [1]}',
    ),
    (
        "error-beside-choices",
        doc(choice(), error={"code": "1210", "message": "late"}),
        "the server answered with an error (GLM 1210): late",
    ),
    ("reasoning-only", doc(choice({"reasoning_content": "hmm"}, finish=None)), EMPTY),
]
# Where a stream and a whole answer differ: (id, JSON text, stream message, whole message).
SPLIT_CASES = [
    ("empty-object", "{}", EMPTY, SHAPE + "it has no choices"),
    ("choices-empty", '{"choices": []}', EMPTY, SHAPE + "it has no choices"),
    ("choices-null", '{"choices": null}', EMPTY, SHAPE + "it has no choices"),
    ("choice-without-body", doc({"index": 0}), EMPTY, SHAPE + "choices[0] has no message"),
    ("empty-body-no-finish", doc(choice({}, finish=None)), EMPTY, EMPTY),
]
ALL = [(name, text, msg, msg) for name, text, msg in CASES] + SPLIT_CASES


def stream_bytes(text: str) -> bytes:
    return f"data: {text}\n\ndata: [DONE]\n\n".encode()


def respond(status: int, body: bytes, ctype: str = "application/json") -> httpx.Response:
    """A response whose body is read as the client reads a real one (streamed or whole)."""
    return httpx.Response(status, stream=httpx.ByteStream(body), headers={"content-type": ctype})


def serve(body: bytes, status: int = 200, ctype: str | None = None) -> httpx.MockTransport:
    """Serve BODY, labelled as an event stream when it is one (glm refuses a stream labelled as JSON)."""
    if ctype is None:
        sse = body.lstrip().startswith((b"data:", b"event:", b":"))
        ctype = "text/event-stream" if sse else "application/json"
    return httpx.MockTransport(lambda request: respond(status, body, ctype))


def ask(make_app, transport, *, stream: bool = True, **opts) -> tuple[int, str, str]:
    """Run `glm ask hi` through run_command (errors -> exit codes); return (exit code, stdout, stderr)."""
    app = make_app(transport=transport)
    with pytest.raises(typer.Exit) as exc:
        run_command(run_ask, AskOptions(prompt=("hi",), no_stream=not stream, no_log=True, **opts), app)
    return exc.value.exit_code, app.ios.stdout.getvalue(), app.ios.stderr.getvalue()


def assert_one_clear_error(code: int, out: str, err: str, expected: str) -> None:
    assert code == 1, err
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith("glm: ") and expected in lines[0], err
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), err
    assert "Traceback" not in err and FAKE_KEY not in err


@pytest.mark.parametrize(("name", "text", "expected", "_"), ALL, ids=[c[0] for c in ALL])
def test_odd_stream_chunk_is_one_clear_error(make_app, name, text, expected, _):
    text = text.replace("DELTA", "delta")
    code, out, err = ask(make_app, serve(stream_bytes(text), ctype="text/event-stream"), stream=True)
    assert_one_clear_error(code, out, err, expected.replace("DELTA", "delta"))


@pytest.mark.parametrize(("name", "text", "_", "expected"), ALL, ids=[c[0] for c in ALL])
def test_odd_whole_answer_is_one_clear_error(make_app, name, text, _, expected):
    text = text.replace("DELTA", "message")
    code, out, err = ask(make_app, serve(text.encode()), stream=False)
    assert_one_clear_error(code, out, err, expected.replace("DELTA", "message"))


def test_a_shape_error_is_a_protocol_error_with_the_hint(make_app):
    code, _, err = ask(make_app, serve(b'{"choices": "abc"}'), stream=False)
    assert code == 1 and err.splitlines()[1].startswith(HINT)


def test_error_field_with_http_200_is_not_an_empty_success(make_app):
    # Before: exit 0 with nothing on stdout.
    for stream in (True, False):
        body = stream_bytes('{"error": "boom"}') if stream else b'{"error": "boom"}'
        code, out, err = ask(make_app, serve(body), stream=stream)
        assert (code, out, err) == (1, "", "glm: the server answered with an error: boom\n")


def test_a_bad_chunk_after_good_ones_stops_with_the_error(make_app):
    body = (
        b'data: {"choices": [{"delta": {"content": "par"}}]}\n\n'
        b'data: {"choices": [{"delta": {"content": 5}}]}\n\ndata: [DONE]\n\n'
    )
    code, out, err = ask(make_app, serve(body), stream=True)
    assert code == 1 and out.startswith("par") and "choices[0].delta.content is the number 5" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"data: [DONE]\n\n", EMPTY),
        (b"event: error\ndata: {not json\n\n", "stream error: {not json"),
        (b"data: {oops\n\n", "malformed JSON in a stream event from the server: Expecting property name"),
        (b'data: {"choices": [{"index": 0, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n', None),  # an empty answer
    ],
)
def test_stream_framing_cases(make_app, body, expected):
    code, out, err = ask(make_app, serve(body), stream=True)
    if expected is None:  # the model answered nothing and said stop: a real (empty) answer
        assert (code, err) == (0, "")
    else:
        assert code == 1 and expected in err and "Traceback" not in err


def test_lone_surrogate_escape_becomes_a_replacement_character(make_app, env):
    body = stream_bytes(doc(choice({"content": "LONE"})).replace("DELTA", "delta").replace("LONE", "a\\ud800b"))
    app = make_app(transport=serve(body))
    with pytest.raises(typer.Exit) as exc:
        run_command(run_ask, AskOptions(prompt=("hi",), format="json"), app)  # logged to the history too
    assert exc.value.exit_code == 0
    assert json.loads(app.ios.stdout.getvalue())["content"] == "a\ufffdb"


def test_output_json_keeps_web_search_results_that_are_lists(make_app):
    results = [{"title": "t", "link": "https://example.invalid/x"}, "odd item", {"deep": [[[1]]]}]
    body = doc(choice(), web_search=results).replace("DELTA", "message").encode()
    code, out, err = ask(make_app, serve(body), stream=False, format="json")
    assert code == 0 and json.loads(out)["web_search"] == results


# ------------------------------------------------------------------------------- HTTP error bodies


@pytest.mark.parametrize(
    ("status", "body", "exit_code", "expected"),
    [
        (500, DEEP.encode(), 1, "HTTP 500: error ([[[["),
        (400, b'{"error": "boom"}', 1, "HTTP 400: error (boom)"),
        (400, b'{"error": {"code": [1], "message": {"a": 1}}}', 1, 'HTTP 400: error ({"a": 1})'),
        (400, b'{"error": {"code": true, "message": "m"}}', 1, "HTTP 400: error (m)"),
        (429, b'{"error": {"code": 1302, "message": "slow down"}}', 5, "HTTP 429 GLM 1302: rate limit reached"),
        (400, ('{"error": {"code": ' + BIGINT + ', "message": "m"}}').encode(), 1, 'HTTP 400: error ({"error":'),
        (400, b"[1, 2, 3]", 1, "HTTP 400: error ([1, 2, 3])"),
        (400, b'{"error": null}', 1, 'HTTP 400: error ({"error": null})'),
        (400, b"", 1, "HTTP 400: error"),
        (
            400,
            b'{"error": {"code": "1214", "message": "' + b"x" * 100_000 + b'"}}',
            1,
            "GLM 1214: invalid field value (xxx",
        ),
        (
            401,
            b'{"error": {"code": "1002", "message": "\\ud800"}}',
            4,
            "GLM 1002: invalid authentication token (\ufffd)",
        ),
        (404, b'{"status": 404, "error": "Not Found", "path": "/api/x"}', 1, "HTTP 404: not found (Not Found /api/x)"),
        (404, b'{"status": 404, "error": ["odd"], "path": "/api/x"}', 1, 'HTTP 404: not found (["odd"] /api/x)'),
    ],
)
def test_odd_error_bodies_give_one_short_line(make_app, status, body, exit_code, expected):
    code, out, err = ask(make_app, serve(body, status=status), stream=False)
    err = "".join(line for line in err.splitlines(keepends=True) if "; retrying in " not in line)  # the waits
    assert code == exit_code and out == "" and expected in err.splitlines()[0], err
    assert len(err) < 1000 and "Traceback" not in err


# ------------------------------------------------------------------------------------------ batch


class Scripted:
    """An in-process server: the answer (status, bytes) for each prompt; a plain answer otherwise."""

    def __init__(self, answers: dict[str, bytes], stream: bool):
        self.answers, self.stream = answers, stream

    def __call__(self, request: httpx.Request) -> httpx.Response:
        prompt = json.loads(request.content)["messages"][-1]["content"]
        text = self.answers.get(prompt) or doc(choice({"content": f"answer to {prompt}"})).encode()
        if self.stream:
            return respond(200, stream_bytes(text.decode().replace("DELTA", "delta")), "text/event-stream")
        return respond(200, text.decode().replace("DELTA", "message").encode())


BATCH_ODD = {name: text.encode() for name, text, _ in CASES if name != "tool-no-name"}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_batch_turns_each_odd_answer_into_an_error_record_and_goes_on(make_app, tmp_path, stream):
    prompts = ["first", *BATCH_ODD, "last"]
    src, out = tmp_path / "in.txt", tmp_path / "out.jsonl"
    src.write_text("".join(p + "\n" for p in prompts), encoding="utf-8")
    app = make_app(transport=httpx.MockTransport(Scripted(BATCH_ODD, stream)))
    from glm_cli.commands.batch.common import RequestOptions

    code = run_batch(
        BatchOptions(
            file=str(src),
            request=RequestOptions(text=True),
            output=str(out),
            stream=stream,
            backoff=0.001,
            concurrency=4,
        ),
        app,
    )
    records = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert code == 1 and len(records) == len(prompts)
    by_prompt = {f"line-{n}": p for n, p in enumerate(prompts, 1)}
    for rid, rec in records.items():
        prompt = by_prompt[rid]
        if prompt in ("first", "last"):
            assert rec["status"] == "ok" and rec["content"] == f"answer to {prompt}"
            continue
        assert rec["status"] == "error", (prompt, rec)
        assert rec["error"]["code"] in ("protocol_error", "error", "1214", "1210"), (prompt, rec)
        if rec["error"]["code"] == "protocol_error":
            assert rec["attempts"] == 1  # a bad shape is not retried (an error the server names may be: 1302)
    assert "Traceback" not in app.ios.stderr.getvalue()


# ------------------------------------------------------------------------------ the Batch API


BASE = "https://glm.test/api/paas/v4"


class OddBatchAPI:
    """GET/POST of batches answer `batch`; the output file holds `lines`."""

    def __init__(self, batch: object, lines: list[str] | None = None):
        self.batch, self.lines = batch, lines or []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/paas/v4")
        if path.endswith("/content"):
            return httpx.Response(200, content="".join(x + "\n" for x in self.lines).encode())
        if path == "/batches":
            return httpx.Response(200, json={"data": [self.batch], "has_more": False})
        return httpx.Response(200, json=self.batch)


def batch_app(make_app, env, api):
    env["GLM_BASE_URL"] = BASE
    return make_app(transport=httpx.MockTransport(api))


GOOD_BATCH = {
    "id": "batch_1",
    "status": "completed",
    "output_file_id": "file-1",
    "created_at": 1773331260,
    "request_counts": {"total": 8, "completed": 8, "failed": 0},
}


@pytest.mark.parametrize(
    ("batch", "expected"),
    [
        ([1, 2], SHAPE + "batch is a list, not an object"),
        ({"status": "completed"}, SHAPE + "batch.id is null, not a non-empty string"),
        ({**GOOD_BATCH, "id": 5}, SHAPE + "batch.id is the number 5"),
        ({**GOOD_BATCH, "status": ["done"]}, SHAPE + "batch.status is a list, not a string"),
        ({**GOOD_BATCH, "request_counts": "8"}, SHAPE + "batch.request_counts is a string, not an object"),
        ({**GOOD_BATCH, "request_counts": {"total": "8"}}, SHAPE + "batch.request_counts.total is a string"),
        ({**GOOD_BATCH, "metadata": {"description": 5}}, SHAPE + "batch.metadata.description is the number 5"),
        ({**GOOD_BATCH, "output_file_id": {"id": 1}}, SHAPE + "batch.output_file_id is an object"),
    ],
)
@pytest.mark.parametrize("command", ["status", "cancel", "fetch"])
def test_odd_batch_objects_are_one_clear_error(make_app, env, tmp_path, batch, expected, command):
    app = batch_app(make_app, env, OddBatchAPI(batch))
    run = {"status": run_status, "cancel": run_cancel, "fetch": run_fetch}[command]
    opts = {
        "status": StatusOptions(batch_ids=("batch_1",)),
        "cancel": CancelOptions(batch_ids=("batch_1",)),
        "fetch": FetchOptions(batch_ids=("batch_1",), output=str(tmp_path / "out.jsonl")),
    }[command]
    with pytest.raises(typer.Exit) as exc:
        run_command(run, opts, app)
    err = app.ios.stderr.getvalue()
    assert exc.value.exit_code == 1 and err.startswith(f"glm: {expected}") and "Traceback" not in err


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ({"data": "x"}, SHAPE + "data is a string, not a list"),
        ({"data": [{"id": "b", "request_counts": {"failed": -2}}]}, SHAPE + "data[0].request_counts.failed is the"),
        ({"data": [], "last_id": 7}, SHAPE + "last_id is the number 7, not a string"),
        ("page", SHAPE + "the answer is a string, not an object"),
    ],
)
def test_odd_batch_list_is_one_clear_error(make_app, env, page, expected):
    app = batch_app(make_app, env, lambda request: httpx.Response(200, json=page))
    with pytest.raises(typer.Exit) as exc:
        run_command(run_list, ListOptions(), app)
    assert exc.value.exit_code == 1 and app.ios.stderr.getvalue().startswith(f"glm: {expected}")


def result_line(custom_id: object, body: object, status: object = 200) -> str:
    return json.dumps({"custom_id": custom_id, "response": {"status_code": status, "body": body}})


def test_fetch_turns_odd_result_lines_into_error_records_and_goes_on(make_app, env, tmp_path):
    good = {"choices": [{"index": 0, "finish_reason": "stop", "message": {"content": "fine"}}]}
    lines = [
        result_line("ok-1", good),
        result_line("choices-string", {"choices": "x"}),
        result_line("content-number", {"choices": [{"message": {"content": 5}}]}),
        result_line("no-message", {"choices": [{"finish_reason": "stop"}]}),
        result_line("usage-odd", {**good, "usage": {"total_tokens": "many"}}),
        result_line("error-string", {"error": "boom"}, status=500),
        result_line("status-string", {"error": {"code": [1], "message": ["m"]}}, status="500"),
        result_line("deep", json.loads("[" * 90 + "]" * 90)),
        result_line("bigint", {"created": 0}).replace('"created": 0', '"created": ' + BIGINT),
        result_line("too-deep", []).replace("[]", "[" * 200 + "]" * 200),
        "[1, 2, 3]",
        result_line({"odd": "id"}, good),
        result_line(True, good),
        "not json at all",
        result_line("ok-2", good),
        json.dumps({"custom_id": "no-answer"}),
    ]
    app = batch_app(make_app, env, OddBatchAPI(GOOD_BATCH, lines))
    out = tmp_path / "out.jsonl"
    with pytest.raises(typer.Exit) as exc:
        run_command(run_fetch, FetchOptions(batch_ids=("batch_1",), output=str(out)), app)
    records = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert exc.value.exit_code == 1 and "Traceback" not in app.ios.stderr.getvalue()
    assert {k for k, r in records.items() if r["status"] == "ok"} == {"ok-1", "ok-2"}
    assert set(records) == {
        "ok-1",
        "ok-2",
        "choices-string",
        "content-number",
        "no-message",
        "usage-odd",
        "error-string",
        "status-string",
        "deep",
        "no-answer",
    }
    assert records["choices-string"]["error"] == {
        "code": "protocol_error",
        "status": 200,
        "message": SHAPE + "choices is a string, not a list",
    }
    assert (
        records["content-number"]["error"]["message"]
        == SHAPE + "choices[0].message.content is the number 5, not a string"
    )
    assert records["no-message"]["error"]["message"] == SHAPE + "choices[0] has no message"
    assert records["usage-odd"]["error"]["message"].startswith(SHAPE + "usage.total_tokens is a string")
    assert records["error-string"]["error"] == {"code": "500", "message": "boom", "status": 500}
    assert records["status-string"]["error"] == {"code": "error", "message": '["m"]'}
    assert records["deep"]["error"]["message"] == SHAPE + "the answer is a list, not an object"
    assert records["no-answer"]["error"] == {"code": "error", "message": "no answer"}


# --------------------------------------------------------------------------------- models --remote


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"data": [{"id": None}]}, SHAPE + "data[0].id is null, not a model id"),
        ({"data": [{"id": "glm-4.7"}, {"id": "a b"}]}, SHAPE + "data[1].id is a string, not a model id"),
        ({"data": [{"id": "\x1b[31mred"}]}, SHAPE + "data[0].id is a string, not a model id"),
        ({"data": [{"id": {"x": 1}}]}, SHAPE + "data[0].id is an object, not a model id"),
        ({"data": ["glm-4.7"]}, SHAPE + "data[0] is a string, not an object"),
        ({"data": "glm-4.7"}, SHAPE + "data is a string, not a list"),
        ({"data": []}, "the server answered without a model list"),
        ([{"id": "glm-4.7"}], SHAPE + "the answer is a list, not an object"),
        (json.loads("[" * 99 + "]" * 99), SHAPE + "the answer is a list"),
    ],
)
def test_models_remote_with_an_odd_list_warns_and_shows_the_catalogue(make_app, answer, expected):
    app = make_app(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=answer)))
    assert run_models(ModelsOptions(remote=True), app) == 0
    err = app.ios.stderr.getvalue()
    assert err.startswith("glm: warning: could not list models from") and expected in err, err
    assert "glm-4.7\n" in app.ios.stdout.getvalue() and "Traceback" not in err


def test_models_remote_with_a_deeply_nested_answer_warns(make_app):
    app = make_app(transport=serve(DEEP.encode()))
    assert run_models(ModelsOptions(remote=True), app) == 0
    assert f"nested deeper than {MAX_DEPTH} levels; showing the shipped catalogue only" in app.ios.stderr.getvalue()


# ------------------------------------------------------------------------------------- tool calls


def test_deeply_nested_tool_arguments_become_a_tool_error_and_the_loop_goes_on(make_app, tmp_path):
    """The model's arguments nested 100k deep: the tool is not run, the model is told why, the answer comes."""
    tool = tmp_path / "t.yaml"
    marker = tmp_path / "ran"
    tool.write_text(f"name: f\ncommand: [touch, {marker}]\n", encoding="utf-8")
    sent: list[dict] = []
    deep_args = json.dumps(DEEP)  # a JSON string holding the 100k-deep text, as GLM sends arguments

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        if len(sent) == 1:
            return respond(
                200,
                (
                    '{"choices": [{"finish_reason": "tool_calls", "message": {"content": "", "tool_calls": '
                    '[{"id": "call_1", "index": 0, "type": "function", "function": {"name": "f", "arguments": '
                    + deep_args
                    + "}}]}}]}"
                ).encode(),
            )
        return respond(200, doc(choice({"content": "done"})).replace("DELTA", "message").encode())

    code, out, err = ask(
        make_app, httpx.MockTransport(server), stream=False, tools=ToolOptions(tools=(str(tool),), yes=True)
    )
    assert (code, out) == (0, "done\n") and "Traceback" not in err
    tool_msg = sent[1]["messages"][-1]
    assert tool_msg["role"] == "tool" and tool_msg["tool_call_id"] == "call_1"
    assert tool_msg["content"].startswith(f"error: the arguments are not valid JSON (nested deeper than {MAX_DEPTH}")
    assert not marker.exists()


class RecordingHub:
    """Stands in for the MCP hub (a collaborator of Toolbox.run): records the arguments it is given."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def call(self, tool: ToolSpec, args: dict) -> ToolResult:
        self.calls.append(args)
        return ToolResult("ok")


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        json_values.map(json.dumps),
        st.integers(0, 3000).map(lambda n: "[" * n + "]" * n),
        st.integers(0, 3000).map(lambda n: '{"a":' * n + "1" + "}" * n),
        st.integers(4000, 6000).map(lambda n: '{"n": ' + "9" * n + "}"),
    )
)
def test_tool_arguments_of_any_content_never_crash_the_tool_loop(arguments):
    hub = RecordingHub()
    box = Toolbox(tools=[ToolSpec(name="f", server="s")], hub=hub)
    result = box.run(box.tools[0], arguments)
    assert isinstance(result, ToolResult)
    try:
        parsed = json.loads(arguments or "{}")
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict) and result.ok:
        assert hub.calls == [parsed]
    else:
        assert not result.ok and not hub.calls and "nothing was run" in result.content


# ----------------------------------------------------------------------------------- properties


def reply_or_error(body: bytes, *, stream: bool):
    """Send one chat request to a server answering `body`; return the reply, or the GlmError it ended in."""
    client = GlmClient(
        base_url=BASE, api_key=FAKE_KEY, retry=RetryPolicy(max_retries=0), transport=serve(body), sleep=lambda s: None
    )
    try:
        return collect(client.chat({"model": "glm-4.7", "messages": [], "stream": stream}))
    except GlmError as err:
        return err
    finally:
        client.close()


VALID_CHUNK = {
    "id": "x",
    "model": "glm-4.7",
    "usage": {"prompt_tokens": 1, "prompt_tokens_details": {"cached_tokens": 0}},
    "web_search": [{"title": "t"}],
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "delta": {
                "content": "hi",
                "reasoning_content": "r",
                "tool_calls": [
                    {"index": 0, "id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
        }
    ],
}


def paths(value, prefix=()):
    """Every path (a tuple of keys/indexes) into a JSON value, the value's own first."""
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from paths(child, (*prefix, key))


VALID_PATHS = list(paths(VALID_CHUNK))


def replaced(value, path, new):
    if not path:
        return new
    out = dict(value) if isinstance(value, dict) else list(value)
    out[path[0]] = replaced(value[path[0]], path[1:], new)
    return out


def as_body(value, stream: bool) -> bytes:
    text = json.dumps(value)
    if stream:
        return stream_bytes(text)
    return text.replace('"delta"', '"message"').encode()


def check_outcome(outcome) -> None:
    from glm_cli.events import Reply

    assert isinstance(outcome, (Reply, GlmError)), outcome
    if isinstance(outcome, GlmError):
        assert outcome.exit_code != 0 and outcome.message and "\n" not in outcome.message


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, stream=st.booleans())
def test_any_json_value_as_the_answer_ends_in_a_reply_or_a_clear_error(value, stream):
    check_outcome(reply_or_error(as_body(value, stream), stream=stream))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(VALID_PATHS), new=json_values, stream=st.booleans())
def test_any_field_of_a_valid_answer_replaced_by_any_json_ends_in_a_reply_or_a_clear_error(path, new, stream):
    outcome = reply_or_error(as_body(replaced(VALID_CHUNK, path, new), stream), stream=stream)
    check_outcome(outcome)
    if path == ("choices", 0, "delta", "content") and isinstance(new, str) and new and "\\" not in json.dumps(new):
        assert not isinstance(outcome, GlmError) and outcome.content == new


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode), stream=st.booleans())
def test_any_bytes_as_the_answer_end_in_a_reply_or_a_clear_error(data, stream):
    body = b"data: " + data.replace(b"\n", b" ") + b"\n\n" if stream else data
    check_outcome(reply_or_error(body, stream=stream))


@settings(max_examples=200, deadline=None)
@given(
    status=st.integers(400, 599),
    body=st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        json_values.map(lambda v: json.dumps({"error": v}).encode()),
        st.integers(0, 3000).map(lambda n: b'{"error": ' * n + b"1" + b"}" * n),
    ),
)
def test_any_error_body_gives_a_short_api_error(status, body):
    err = error_from_response(status, body)
    assert isinstance(err, APIError) and err.message.startswith(f"HTTP {status}") and len(err.message) < 800


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_batch_result_line_is_a_record_or_skipped(value):
    for line in (
        value,
        {"custom_id": "a", "response": value},
        {"custom_id": "a", "response": {"status_code": 200, "body": value}},
    ):
        record = result_record(line)
        assert record is None or (record["id"] == "a" and record["status"] in ("ok", "error"))


def some_of(keys: tuple[str, ...], values) -> st.SearchStrategy:
    """Objects with some of `keys` (and now and then another key), each holding one of `values`."""
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=4), values, max_size=len(keys) + 1)


usage_values = st.recursive(
    json_scalars, lambda inner: some_of(("cached_tokens", "reasoning_tokens"), inner) | st.lists(inner, max_size=2)
)
usages = json_values | some_of(
    ("prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "completion_tokens_details"),
    usage_values,
)


@settings(max_examples=200, deadline=None)
@given(usages)
def test_usage_of_any_shape_is_usage_or_a_protocol_error(value):
    try:
        usage = Usage.from_api(value)
    except ProtocolError as err:
        assert err.message.startswith(SHAPE + "usage")
    else:
        assert usage is None or isinstance(usage, Usage)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=100),
        json_values.map(json.dumps),
        st.integers(0, 2000).map(lambda n: "[" * n + "]" * n),
        st.just("1" * 5000),
    )
)
def test_any_answer_checked_as_json_is_json_or_exit_9(content):
    try:
        assert check_json(content)
    except InvalidOutputError as err:
        assert err.exit_code == 9 and err.message.startswith("the answer is not valid JSON")


def test_parse_json_depth_bound_is_exact():
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    for text in (
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
        '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1),
    ):
        with pytest.raises(ValueError, match=f"nested deeper than {MAX_DEPTH} levels"):
            parse_json(text)


# --------------------------------------------------------------------- the installed glm, real sockets


class RawServer:
    """An HTTP server on 127.0.0.1 answering each request with the bytes `answer(request JSON)` returns."""

    def __init__(self, answer: Callable[[object], tuple[int, bytes]]):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    request = json.loads(raw)
                except ValueError:
                    request = None
                status, body = outer.answer(request)
                self.send_response(status)
                self.send_header(
                    "Content-Type", "text/event-stream" if body.startswith(b"data:") else "application/json"
                )
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

        self.answer = answer
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/paas/v4"

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_glm(args: list[str], base_url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "GLM_API_KEY": FAKE_KEY,
        "GLM_BASE_URL": base_url,
    }
    return subprocess.run([*glm_executable(), *args], env=env, capture_output=True, text=True, timeout=60)


E2E = [
    ("choices-string-stream", True, stream_bytes('{"choices": "abc"}'), SHAPE + "choices is a string, not a list"),
    (
        "delta-list-stream",
        True,
        stream_bytes(doc(choice([1])).replace("DELTA", "delta")),
        SHAPE + "choices[0].delta is a list, not an object",
    ),
    (
        "tool-index-whole",
        False,
        doc(call(index="zz")).replace("DELTA", "message").encode(),
        SHAPE + "choices[0].message.tool_calls[0].index is a string, not a whole number",
    ),
    ("nesting-100k-whole", False, DEEP.encode(), f"nested deeper than {MAX_DEPTH} levels"),
    ("integer-5000-stream", True, stream_bytes(f'{{"created": {BIGINT}}}'), "Exceeds the limit (4300 digits)"),
    ("error-boom-200", False, b'{"error": "boom"}', "the server answered with an error: boom"),
    (
        "usage-odd-stream",
        True,
        stream_bytes(doc(choice(), usage={"prompt_tokens": "x"}).replace("DELTA", "delta")),
        SHAPE + "usage.prompt_tokens is a string",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "stream", "body", "expected"), E2E, ids=[c[0] for c in E2E])
def test_installed_glm_says_what_is_wrong_with_the_answer(tmp_path, name, stream, body, expected):
    with RawServer(lambda request: (200, body)) as srv:
        out = run_glm(["ask", "hi"] + ([] if stream else ["--no-stream"]), srv.base_url, tmp_path)
    assert out.returncode == 1, out.stderr
    assert (
        out.stdout == "" and out.stderr.splitlines()[0] == f"glm: {expected}" or expected in out.stderr.splitlines()[0]
    ), out.stderr
    assert "Traceback" not in out.stderr and FAKE_KEY not in out.stderr


@pytest.mark.slow
def test_installed_glm_with_a_deeply_nested_error_body(tmp_path):
    with RawServer(lambda request: (400, DEEP.encode())) as srv:
        out = run_glm(["ask", "--no-stream", "hi"], srv.base_url, tmp_path)
    assert out.returncode == 1 and out.stderr.startswith("glm: HTTP 400: error ([[[") and len(out.stderr) < 600
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_installed_glm_batch_keeps_going_past_odd_answers(tmp_path):
    odd = {"two": DEEP.encode(), "three": b'{"choices": "abc"}', "four": b'{"error": "boom"}'}

    def answer(request: object) -> tuple[int, bytes]:
        prompt = request["messages"][-1]["content"]  # type: ignore[index]
        good = doc(choice({"content": f"answer to {prompt}"})).replace("DELTA", "message").encode()
        return 200, odd.get(prompt, good)

    src, dest = tmp_path / "in.txt", tmp_path / "out.jsonl"
    src.write_text("one\ntwo\nthree\nfour\nfive\n", encoding="utf-8")
    with RawServer(answer) as srv:
        out = run_glm(["batch", "--text", str(src), "-o", str(dest)], srv.base_url, tmp_path)
    records = {r["id"]: r for r in map(json.loads, dest.read_text(encoding="utf-8").splitlines())}
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert [records[f"line-{n}"]["status"] for n in range(1, 6)] == ["ok", "error", "error", "error", "ok"]
    assert records["line-2"]["error"]["code"] == "protocol_error"
    assert records["line-3"]["error"] == {
        "code": "protocol_error",
        "message": SHAPE + "choices is a string, not a list",
    }
    assert records["line-4"]["error"]["message"] == "the server answered with an error: boom"
    assert "3 ok" not in out.stderr and "2 ok, 3 failed" in out.stderr
