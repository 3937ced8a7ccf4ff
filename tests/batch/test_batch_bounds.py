"""Bounds of a local batch run: `deadline` bounds every try of a line, --limit is the progress bar's total."""

from __future__ import annotations

import json

import httpx
import pytest

from glm_cli.commands.batch.common import RequestOptions
from glm_cli.commands.batch.run import BatchOptions, run_batch
from tests.conftest import write_config

TRY = 4.0  # seconds each try takes, on the injected clock


def answer(content: str) -> httpx.Response:
    choice = {"index": 0, "finish_reason": "stop", "message": {"content": content}}
    return httpx.Response(200, json={"choices": [choice]})


@pytest.mark.parametrize("stream", [False, True])
def test_the_deadline_bounds_all_tries_of_a_line(make_app, env, tmp_path, stream):
    """A server that fails slowly: the line gives up when `deadline` is spent, not after 9 tries of it each."""
    write_config(env, "deadline: 10\n")
    now = [0.0]
    sent = []

    def slow_failure(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        now[0] += TRY  # the try takes TRY seconds
        return httpx.Response(500, json={"error": {"code": "500", "message": "busy"}})

    app = make_app(transport=httpx.MockTransport(slow_failure))
    app.clock = lambda: now[0]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('"p1"\n', encoding="utf-8")
    opts = BatchOptions(file=str(src), output=str(out), backoff=0.001, stream=stream)
    assert run_batch(opts, app) == 1
    (rec,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(sent) == 3  # 4 s + 4 s + 4 s: the third try ran out of the 10 s (was 9 tries: 36 s)
    assert rec["attempts"] == 3 and rec["error"]["code"] == "500"
    assert "gave up after 3 attempts within the 10 s deadline" in rec["error"]["message"]


def test_a_fast_retry_is_not_cut_by_the_deadline(make_app, env, tmp_path):
    write_config(env, "deadline: 10\n")
    now = [0.0]
    sent = []

    def flaky(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        now[0] += 1.0
        if len(sent) < 5:
            return httpx.Response(500, json={"error": {"code": "500", "message": "busy"}})
        return answer("ok")

    app = make_app(transport=httpx.MockTransport(flaky))
    app.clock = lambda: now[0]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('"p1"\n', encoding="utf-8")
    assert run_batch(BatchOptions(file=str(src), output=str(out), backoff=0.001), app) == 0
    assert len(sent) == 5 and json.loads(out.read_text(encoding="utf-8"))["attempts"] == 5


def test_the_progress_total_is_the_limit(make_app, tmp_path):
    def server(request: httpx.Request) -> httpx.Response:
        return answer("a")

    app = make_app(stderr_tty=True, transport=httpx.MockTransport(server))
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(f'"p{i}"\n' for i in range(50)), encoding="utf-8")
    opts = BatchOptions(file=str(src), output=str(out), limit=3, progress=True, request=RequestOptions())
    assert run_batch(opts, app) == 0
    err = app.ios.stderr.getvalue()
    assert "3/3" in err and "/50" not in err  # was `3/50`, with an ETA for 50 lines
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
