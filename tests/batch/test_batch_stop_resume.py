"""An error that stops the whole run is no verdict on the line that met it: a plain rerun retries it (issue 13 #13)."""

from __future__ import annotations

import json

import httpx
import pytest

from glm_cli.commands.batch.run import BatchOptions, run_batch
from tests.batch.test_batch_e2e import glm, prompts, records
from tests.fake_server import Fault

K = 6  # the line whose request meets the run-stopping error


def test_a_rerun_after_no_balance_finishes_the_run(srv, environ, tmp_path):
    for _ in range(K - 1):  # answered normally ("hang" for no time): the first K-1 lines succeed
        srv.fault(Fault(kind="hang", seconds=0))
    srv.fault(Fault(status=429, code="1113"))  # line K: the balance ran out
    src, out = prompts(tmp_path / "in.jsonl", 12), tmp_path / "out.jsonl"
    first = glm(environ, "batch", str(src), "-o", str(out), "-j", "1")
    assert first.returncode == 5, first.stderr
    assert "GLM 1113" in first.stderr and "run the same command again to continue" in first.stderr
    assert [r["id"] for r in records(out)] == [f"q{i:04d}" for i in range(K - 1)]  # no record for line K
    srv.clear()  # the balance is topped up
    again = glm(environ, "batch", str(src), "-o", str(out), "-j", "1")
    assert again.returncode == 0, again.stderr
    assert f"skipped {K - 1} already ok" in again.stderr and "failed before" not in again.stderr
    recs = records(out)
    assert sorted(r["id"] for r in recs) == [f"q{i:04d}" for i in range(12)]  # each id exactly once
    assert all(r["status"] == "ok" for r in recs)


STOPPERS = [
    (429, "1113"),  # no balance
    (429, "1304"),  # daily call limit
    (429, "1308"),  # usage limit
    (401, "1000"),  # authentication failed
    (401, "1309"),  # Coding Plan expired
    (401, "invalid_api_key"),  # another server's 401: its status says auth
]


@pytest.mark.parametrize(("status", "code"), STOPPERS)
def test_no_run_stopping_error_leaves_a_record(make_app, tmp_path, status, code):
    """Whatever stops the run, the lines it met run again on a plain rerun; lines in flight alongside are kept."""
    stopped = {"p3"}

    def server(request: httpx.Request) -> httpx.Response:
        prompt = json.loads(request.content)["messages"][-1]["content"]
        if prompt in stopped:
            return httpx.Response(status, json={"error": {"code": code, "message": "stop"}})
        return httpx.Response(
            200, json={"choices": [{"index": 0, "finish_reason": "stop", "message": {"content": f"re: {prompt}"}}]}
        )

    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(f"p{i}") + "\n" for i in range(8)), encoding="utf-8")
    opts = BatchOptions(file=str(src), output=str(out), concurrency=1, backoff=0.001)
    assert run_batch(opts, make_app(transport=httpx.MockTransport(server))) in (4, 5)
    done = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in done] == ["line-1", "line-2", "line-3"] and all(r["status"] == "ok" for r in done)
    stopped.clear()
    app = make_app(transport=httpx.MockTransport(server))
    assert run_batch(opts, app) == 0, app.ios.stderr.getvalue()
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in recs) == sorted(f"line-{i}" for i in range(1, 9))
    assert all(r["status"] == "ok" for r in recs)
