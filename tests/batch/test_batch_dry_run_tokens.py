"""`glm batch --dry-run [--count-tokens]`: the input tokens, estimated or counted by the tokenizer endpoint."""

from __future__ import annotations

import json
import subprocess
import threading

import httpx
import pytest

from glm_cli.commands.batch.common import RequestOptions
from glm_cli.commands.batch.run import BatchOptions, run_batch
from glm_cli.errors import UsageError
from tests.conftest import glm_executable


def write(tmp_path, n: int, model: str = "glm-4.6") -> str:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"q{i}", "prompt": "x" * 30, "model": model}) + "\n" for i in range(n)))
    return str(src)


class Tokenizer:
    """POST /tokenizer: 10 tokens a request (glm-4.7 refused as the real endpoint may); in-flight requests counted."""

    def __init__(self, status: int = 200, concurrency: int = 1, total: int = 0, tokens: int = 10):
        self.status, self.concurrency, self.total, self.tokens = status, concurrency, total, tokens
        self.bodies: list[dict] = []
        self.in_flight = self.most = self.done = 0
        self.cond = threading.Condition()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/tokenizer")
        body = json.loads(request.content)
        with self.cond:
            self.bodies.append(body)
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.cond.notify_all()
            # hold each request until `concurrency` are in flight (or all that are left): the bound is reached
            self.cond.wait_for(
                lambda: self.in_flight >= self.concurrency or self.done + self.in_flight >= self.total, timeout=30
            )
            self.in_flight -= 1
            self.done += 1
            self.cond.notify_all()
        if self.status != 200:
            return httpx.Response(self.status, json={"status": 404, "error": "Not Found", "path": "/tokenizer"})
        if body["model"] == "glm-4.7":
            return httpx.Response(400, json={"error": {"code": "1211", "message": "model not found"}})
        n = self.tokens
        usage = {"prompt_tokens": n, "image_tokens": 0, "video_tokens": 0, "total_tokens": n}
        return httpx.Response(200, json={"id": "t", "created": 1, "usage": usage})


def test_dry_run_shows_an_estimate_by_default(make_app, tmp_path):
    app = make_app(transport=httpx.MockTransport(lambda r: pytest.fail("dry-run sent a request")))
    assert run_batch(BatchOptions(file=write(tmp_path, 4), dry_run=True), app) == 0
    assert len(app.ios.stdout.getvalue().splitlines()) == 4
    assert (
        "glm batch --dry-run: 4 request(s) · about 40 input tokens (estimated from the characters; "
        "--count-tokens counts them with Zhipu's tokenizer)"
    ) in app.ios.stderr.getvalue()


def test_count_tokens_counts_every_line_with_bounded_concurrency(make_app, tmp_path):
    tok = Tokenizer(concurrency=3, total=9)
    app = make_app(transport=httpx.MockTransport(tok))
    opts = BatchOptions(file=write(tmp_path, 9), dry_run=True, count_tokens=True, concurrency=3)
    assert run_batch(opts, app) == 0
    assert len(tok.bodies) == 9 and tok.most == 3
    assert tok.bodies[0] == {"model": "glm-4.6", "messages": [{"role": "user", "content": "x" * 30}]}
    err = app.ios.stderr.getvalue()
    assert "glm batch --dry-run: 9 request(s) · 90 input tokens (counted by Zhipu's tokenizer)" in err
    assert "estimated" not in err


def test_count_tokens_honours_limit_and_names_the_fallback_tokenizer(make_app, tmp_path):
    tok = Tokenizer()
    app = make_app(transport=httpx.MockTransport(tok))
    opts = BatchOptions(
        file=write(tmp_path, 50, model="glm-4.7"), dry_run=True, count_tokens=True, limit=2, concurrency=1
    )
    assert run_batch(opts, app) == 0
    assert [b["model"] for b in tok.bodies] == ["glm-4.7", "glm-4.6", "glm-4.7", "glm-4.6"]
    err = app.ios.stderr.getvalue()
    assert "the tokenizer does not take glm-4.7; counted with glm-4.6's tokenizer" in err
    assert "2 request(s) · 20 input tokens (counted by Zhipu's tokenizer)" in err


def test_an_unavailable_tokenizer_falls_back_to_the_estimate_and_stops_asking(make_app, tmp_path):
    tok = Tokenizer(status=404, concurrency=1)
    app = make_app(transport=httpx.MockTransport(tok))
    opts = BatchOptions(file=write(tmp_path, 50), dry_run=True, count_tokens=True, concurrency=3)
    assert run_batch(opts, app) == 0
    assert len(app.ios.stdout.getvalue().splitlines()) == 50  # the requests are still all shown
    assert len(tok.bodies) <= 3  # at most the requests already in flight
    err = app.ios.stderr.getvalue()
    assert "glm: warning: the tokenizer could not count: HTTP 404" in err and "the figure below is an estimate" in err
    assert "50 request(s) · about 500 input tokens (estimated from the characters)" in err


def test_count_tokens_without_a_key_estimates(make_app, env, tmp_path):
    del env["GLM_API_KEY"]
    app = make_app(transport=httpx.MockTransport(lambda r: pytest.fail("sent without a key")))
    opts = BatchOptions(file=write(tmp_path, 2), dry_run=True, count_tokens=True, request=RequestOptions())
    assert run_batch(opts, app) == 0
    err = app.ios.stderr.getvalue()
    assert "cannot count tokens with the tokenizer" in err and "estimating instead" in err
    assert "about 20 input tokens (estimated from the characters)" in err


def test_count_tokens_needs_dry_run(make_app, tmp_path, env):
    with pytest.raises(UsageError, match="--count-tokens counts what --dry-run shows"):
        run_batch(BatchOptions(file=write(tmp_path, 1), count_tokens=True), make_app())
    res = subprocess.run(
        [*glm_executable(), "batch", write(tmp_path, 1), "--count-tokens"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and "--count-tokens counts what --dry-run shows" in res.stderr


def test_count_tokens_end_to_end_against_the_fake(environ, srv, tmp_path):
    res = subprocess.run(
        [*glm_executable(), "batch", write(tmp_path, 5), "--dry-run", "--count-tokens", "-n", "3"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.splitlines()) == 3
    assert len([r for r in srv.requests if r.path.endswith("/tokenizer")]) == 3
    assert "3 request(s) · " in res.stderr and "(counted by Zhipu's tokenizer)" in res.stderr


def test_count_tokens_names_a_request_past_its_context_window(make_app, tmp_path):
    app = make_app(transport=httpx.MockTransport(Tokenizer(tokens=10_000_000)))
    assert run_batch(BatchOptions(file=write(tmp_path, 2), dry_run=True, count_tokens=True, concurrency=1), app) == 0
    err = app.ios.stderr.getvalue()
    assert "line 1 (q0): 10,000,000 input tokens, more than glm-4.6's 200K context window" in err
    assert "20,000,000 input tokens (counted by Zhipu's tokenizer)" in err
