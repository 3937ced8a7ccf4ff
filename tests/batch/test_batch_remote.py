"""Zhipu Batch API mode: conversion, splitting, upload/create, status/list/cancel, fetch and reconciliation."""

from __future__ import annotations

import io
import json
import re

import httpx
import pytest

from glm_cli.batch.input import iter_items
from glm_cli.batch.remote import parse_time, request_lines, result_record, split_parts
from glm_cli.commands.batch.common import RequestOptions
from glm_cli.commands.batch.remote import (
    CancelOptions,
    FetchOptions,
    ListOptions,
    StatusOptions,
    SubmitOptions,
    run_cancel,
    run_fetch,
    run_list,
    run_status,
    run_submit,
)
from glm_cli.config import load_settings
from glm_cli.errors import GlmError, UsageError

BASE = "/api/paas/v4"


def multipart(request: httpx.Request) -> dict[str, bytes]:
    boundary = re.search(r"boundary=([^;]+)", request.headers["content-type"]).group(1).encode()
    fields = {}
    for part in request.read().split(b"--" + boundary)[1:-1]:
        head, _, body = part.partition(b"\r\n\r\n")
        fields[re.search(rb'name="([^"]+)"', head).group(1).decode()] = body[:-2]
    return fields


class FakeBatchAPI:
    """Files and batches: each GET of a batch moves it one status on; results follow the prompts."""

    STEPS = ("validating", "in_progress", "finalizing", "completed")

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.calls: list[tuple[str, str]] = []
        self.answers: dict[str, str] = {}  # prompt -> the answer's content (default "answer to PROMPT")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(BASE)
        self.calls.append((request.method, path))
        if request.method == "POST" and path == "/files":
            fields = multipart(request)
            assert fields["purpose"] == b"batch"
            fid = f"file-{len(self.files)}"
            self.files[fid] = fields["file"]
            return httpx.Response(200, json={"id": fid, "object": "file", "bytes": len(fields["file"])})
        if request.method == "POST" and path == "/batches":
            body = json.loads(request.content)
            bid = f"batch_{len(self.batches)}"
            self.batches[bid] = {
                "id": bid,
                "object": "batch",
                "status": "validating",
                "step": 0,
                "input_file_id": body["input_file_id"],
                "endpoint": body["endpoint"],
                "metadata": body["metadata"],
                "created_at": 1773331260000,
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
            }
            return httpx.Response(200, json=self.public(bid))
        if m := re.fullmatch(r"/batches/([^/]+)", path):
            return self.advance(m.group(1))
        if m := re.fullmatch(r"/batches/([^/]+)/cancel", path):
            self.batches[m.group(1)]["status"] = "cancelling"
            return httpx.Response(200, json=self.public(m.group(1)))
        if path == "/batches":
            data = [self.public(b) for b in reversed(self.batches)][: int(request.url.params["limit"])]
            return httpx.Response(200, json={"object": "list", "data": data, "has_more": False})
        if m := re.fullmatch(r"/files/([^/]+)/content", path):
            return httpx.Response(200, content=self.files[m.group(1)])
        return httpx.Response(404, json={"status": 404, "error": "Not Found", "path": path})

    def public(self, bid: str) -> dict:
        return {k: v for k, v in self.batches[bid].items() if k != "step"}

    def advance(self, bid: str) -> httpx.Response:
        b = self.batches[bid]
        b["step"] = min(b["step"] + 1, len(self.STEPS) - 1)
        b["status"] = self.STEPS[b["step"]]
        if b["status"] == "completed" and "output_file_id" not in b:
            self.finish(b)
        return httpx.Response(200, json=self.public(bid))

    def finish(self, b: dict) -> None:
        out, errs = [], []
        lines = [json.loads(x) for x in self.files[b["input_file_id"]].splitlines()]
        for line in lines:
            prompt = line["body"]["messages"][-1]["content"]
            if prompt == "drop":
                continue
            if prompt == "fail":
                errs.append(
                    {
                        "custom_id": line["custom_id"],
                        "response": {"status_code": 400, "body": {"error": {"code": "1301", "message": "unsafe"}}},
                    }
                )
                continue
            out.append(
                {
                    "custom_id": line["custom_id"],
                    "id": b["id"],
                    "response": {
                        "status_code": 200,
                        "body": {
                            "id": "r",
                            "model": line["body"]["model"],
                            "request_id": line["custom_id"],
                            "choices": [
                                {
                                    "index": 0,
                                    "finish_reason": "stop",
                                    "message": {
                                        "role": "assistant",
                                        "content": self.answers.get(prompt, f"answer to {prompt}"),
                                    },
                                }
                            ],
                            "usage": {"prompt_tokens": 1000, "completion_tokens": 1000, "total_tokens": 2000},
                        },
                    },
                }
            )
        for key, rows in (("output_file_id", out), ("error_file_id", errs)):
            fid = f"file-{len(self.files)}"
            self.files[fid] = "".join(json.dumps(r) + "\n" for r in rows).encode()
            b[key] = fid
        b["request_counts"] = {"total": len(lines), "completed": len(out), "failed": len(errs)}


@pytest.fixture
def api():
    return FakeBatchAPI()


@pytest.fixture
def app(make_app, env, api):
    env["GLM_BASE_URL"] = f"https://glm.test{BASE}"
    return make_app(transport=httpx.MockTransport(api))


def write(tmp_path, rows) -> str:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_request_lines_use_the_one_builder(env):
    settings = load_settings(env, {"thinking": False, "max_tokens": 64})
    items = iter_items(io.BytesIO(b'{"id": "a", "prompt": "hi", "model": "glm-4.7-flash"}\nbroken\n'))
    (item, line), (bad, none) = list(request_lines(items, settings, None, json_mode=True))
    assert line == {
        "custom_id": "a",
        "method": "POST",
        "url": "/v4/chat/completions",
        "body": {
            "model": "glm-4.7-flash",
            "messages": [{"role": "user", "content": "hi"}],
            "thinking": {"type": "disabled"},
            "max_tokens": 64,
            "response_format": {"type": "json_object"},
        },
    }
    assert none is None and bad.error.startswith("line 2:")


def test_split_by_lines_bytes_and_model(env):
    settings = load_settings(env)
    rows = [{"id": f"i{n}", "prompt": "x" * 50, "model": "glm-4.7" if n != 3 else "glm-4.7-flash"} for n in range(7)]
    items = iter_items(io.BytesIO("".join(json.dumps(r) + "\n" for r in rows).encode()))
    parts = split_parts(request_lines(items, settings, None), max_lines=4)
    assert [(p.model, p.lines, p.first_line) for p in parts] == [
        ("glm-4.7", 4, 1),
        ("glm-4.7-flash", 1, 4),
        ("glm-4.7", 2, 6),
    ]
    ids = [json.loads(x)["custom_id"] for x in parts[0].fh.read().splitlines()]
    assert ids == ["i0", "i1", "i2", "i4"]
    items = iter_items(io.BytesIO("".join(json.dumps(r) + "\n" for r in rows[:3]).encode()))
    by_size = split_parts(request_lines(items, settings, None), max_bytes=300)
    assert [p.lines for p in by_size] == [1, 1, 1] and all(p.size <= 300 for p in by_size)


def test_result_record_conversions():
    ok = result_record(
        {
            "custom_id": "a",
            "response": {
                "status_code": 200,
                "body": {
                    "model": "glm-4.7",
                    "request_id": "rq",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": "hello", "reasoning_content": "think"},
                        }
                    ],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
                },
            },
        }
    )
    assert (ok["id"], ok["status"], ok["content"], ok["reasoning"]) == ("a", "ok", "hello", "think")
    assert ok["request_id"] == "rq"
    assert ok["usage"]["total_tokens"] == 5
    err = result_record(
        {"custom_id": "b", "response": {"status_code": 400, "body": {"error": {"code": "1214", "message": "bad"}}}}
    )
    assert (err["status"], err["error"]) == ("error", {"code": "1214", "message": "bad", "status": 400})
    cut = result_record(
        {
            "custom_id": "c",
            "response": {
                "status_code": 200,
                "body": {
                    "choices": [
                        {"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "par"}}
                    ]
                },
            },
        }
    )
    assert cut["status"] == "error" and cut["error"]["code"] == "length" and cut["content"] == "par"
    assert result_record({"response": {}}) is None


def test_parse_time_seconds_and_milliseconds():
    assert parse_time(1773331260) == parse_time(1773331260000) == 1773331260.0
    assert parse_time(None) is None and parse_time(0) is None


def test_submit_uploads_creates_and_remembers(app, api, tmp_path, env):
    src = write(tmp_path, [{"id": "a", "prompt": "one"}, "two", {"id": "c", "prompt": 5}])
    code = run_submit(SubmitOptions(file=src, request=RequestOptions(think=False), description="nightly"), app)
    assert code == 1  # a line could not be sent
    assert app.ios.stdout.getvalue() == "batch_0\n"
    err = app.ios.stderr.getvalue()
    assert "line 3: `prompt` must be a string, got 5 (not submitted)" in err and "submitted batch_0: 2 requests" in err
    uploaded = [json.loads(x) for x in api.files["file-0"].splitlines()]
    assert [u["custom_id"] for u in uploaded] == ["a", "line-2"]
    assert uploaded[0]["body"]["thinking"] == {"type": "disabled"}
    batch = api.batches["batch_0"]
    assert batch["endpoint"] == "/v4/chat/completions" and batch["metadata"]["description"] == "nightly"
    manifest = json.loads((tmp_path / "data" / "glm" / "batches" / "batch_0.json").read_text())
    assert manifest["input"] == src and manifest["batches"] == ["batch_0"]


def test_submit_splits_into_several_batches(app, api, tmp_path):
    src = write(tmp_path, [f"p{n}" for n in range(5)])
    assert run_submit(SubmitOptions(file=src, max_lines=2), app) == 0
    assert app.ios.stdout.getvalue().split() == ["batch_0", "batch_1", "batch_2"]
    assert [len(api.files[f"file-{n}"].splitlines()) for n in range(3)] == [2, 2, 1]


def test_submit_wait_and_fetch_end_to_end(app, api, tmp_path):
    src = write(tmp_path, [{"id": "a", "prompt": "one"}, {"id": "b", "prompt": "fail"}, {"id": "c", "prompt": "drop"}])
    out = tmp_path / "answers.jsonl"
    code = run_submit(SubmitOptions(file=src, output=str(out), wait=True, poll=1), app)
    records = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert code == 1
    assert records["a"]["content"] == "answer to one" and records["a"]["status"] == "ok"
    assert records["b"]["error"] == {"code": "1301", "message": "unsafe", "status": 400}
    assert "c" not in records
    err = app.ios.stderr.getvalue()
    assert "batch_0  completed" in err and "1 line(s) of" in err and ": c" in err
    assert "est. $0.0014" in err  # 1000 in + 1000 out at $0.60/$2.20 per M, Batch API half price


def test_fetch_refuses_unfinished_and_skips_done(app, api, tmp_path):
    src = write(tmp_path, ["x", "y"])
    run_submit(SubmitOptions(file=src), app)
    with pytest.raises(GlmError, match="batch_0 is in_progress"):
        run_fetch(FetchOptions(("batch_0",)), app)
    out = tmp_path / "o.jsonl"
    opts = FetchOptions(("batch_0",), output=str(out), wait=True, poll=1)
    assert run_fetch(opts, app) == 0
    assert run_fetch(opts, app) == 0  # a second fetch adds nothing
    assert len(out.read_text().splitlines()) == 2 and "skipped 2 already ok" in app.ios.stderr.getvalue()


def test_fetch_without_input_compares_counts(app, api, tmp_path, env):
    src = write(tmp_path, ["x", "drop"])
    run_submit(SubmitOptions(file=src), app)
    (tmp_path / "data" / "glm" / "batches" / "batch_0.json").unlink()
    code = run_fetch(FetchOptions(("batch_0",), wait=True, poll=1, format="batch-api"), app)
    assert code == 1 and "1 request(s) have no result (expected 2)" in app.ios.stderr.getvalue()
    (line,) = [json.loads(x) for x in app.ios.stdout.getvalue().splitlines()[1:]]
    assert line["custom_id"] == "line-1" and line["response"]["status_code"] == 200


PERSON = '{"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}'


def test_submit_schema_and_fetch_checks_answers(app, api, tmp_path):
    src = write(
        tmp_path,
        [
            {"id": "a", "prompt": "good"},
            {"id": "b", "prompt": "wrong", "system": "Be brief."},
            {"id": "c", "prompt": "prose"},
            {"id": "d", "prompt": "fail"},
        ],
    )
    api.answers.update({"good": '{"age": 7}', "wrong": '{"age": "seven"}', "prose": "Seven years."})
    assert run_submit(SubmitOptions(file=src, request=RequestOptions(schema=PERSON)), app) == 0
    uploaded = {u["custom_id"]: u["body"] for u in map(json.loads, api.files["file-0"].splitlines())}
    assert all(b["response_format"] == {"type": "json_object"} for b in uploaded.values())
    assert uploaded["a"]["messages"][0]["content"].startswith("Answer with one JSON value that is valid against")
    assert uploaded["b"]["messages"][0]["content"].startswith("Be brief.\n\nAnswer with one JSON value")
    assert '"required": [' in uploaded["b"]["messages"][0]["content"]
    out = tmp_path / "answers.jsonl"
    code = run_fetch(FetchOptions(("batch_0",), output=str(out), wait=True, poll=1, schema=PERSON), app)
    records = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert code == 1
    assert (records["a"]["status"], records["a"]["content"]) == ("ok", '{"age": 7}')
    assert (records["b"]["status"], records["b"]["error"]["code"], records["b"]["content"]) == (
        "error",
        "schema_mismatch",
        '{"age": "seven"}',
    )
    assert "$.age: 'seven' is not of type 'integer'" in records["b"]["error"]["message"]
    assert (records["c"]["status"], records["c"]["error"]["code"]) == ("error", "invalid_json")
    assert records["d"]["error"]["code"] == "1301"  # an API error stays what it was
    err = app.ios.stderr.getvalue()
    assert "cannot be asked to correct an answer" in err and "--retry-failed --schema" in err
    assert [m for m, _ in api.calls].count("POST") == 2  # upload and create: nothing asked again remotely


def test_fetch_without_schema_keeps_answers_and_bad_schema_is_refused(app, api, tmp_path):
    src = write(tmp_path, [{"id": "a", "prompt": "prose"}])
    run_submit(SubmitOptions(file=src), app)
    out = tmp_path / "o.jsonl"
    with pytest.raises(UsageError, match="not a valid JSON Schema"):
        run_fetch(FetchOptions(("batch_0",), output=str(out), wait=True, poll=1, schema='{"type": 5}'), app)
    assert not out.exists()
    assert run_fetch(FetchOptions(("batch_0",), output=str(out), wait=True, poll=1), app) == 0
    assert json.loads(out.read_text())["status"] == "ok"


def test_submit_wait_fetch_uses_the_submitted_schema(app, api, tmp_path):
    src = write(tmp_path, [{"id": "a", "prompt": "prose"}])
    api.answers["prose"] = "not JSON"
    out = tmp_path / "o.jsonl"
    code = run_submit(
        SubmitOptions(file=src, request=RequestOptions(schema=PERSON), output=str(out), wait=True, poll=1), app
    )
    assert code == 1 and json.loads(out.read_text())["error"]["code"] == "invalid_json"


def test_status_list_cancel(app, api, tmp_path):
    run_submit(SubmitOptions(file=write(tmp_path, ["x"]), description="nightly eval"), app)
    app.ios.stdout.truncate(0)
    app.ios.stdout.seek(0)
    run_status(StatusOptions(("batch_0",)), app)
    assert re.match(
        r"batch_0  in_progress +0/0 done, 0 failed  created 2026-\d\d-\d\d \d\d:\d\d  nightly eval\n",
        app.ios.stdout.getvalue(),
    )
    run_list(ListOptions(as_json=True, limit=5), app)
    assert json.loads(app.ios.stdout.getvalue().splitlines()[-1])["id"] == "batch_0"
    run_cancel(CancelOptions(("batch_0",)), app)
    assert "cancelling" in app.ios.stdout.getvalue().splitlines()[-1]
    assert ("POST", "/batches/batch_0/cancel") in api.calls
