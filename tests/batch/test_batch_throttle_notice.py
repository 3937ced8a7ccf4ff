"""Batch says a shared rate-limit slow-down once: a pause the server named, or fewer requests in flight.

Thousands of lines hitting one 429 storm must not print thousands of lines: one per pause, one per cut.
Clocks are injected; nothing here waits.
"""

from __future__ import annotations

import json

import httpx
import pytest

from glm_cli.batch.limits import AdaptiveLimiter
from glm_cli.batch.output import RecordWriter
from glm_cli.batch.runner import BatchRunner, Budget, RunConfig
from glm_cli.client import GlmClient, error_from_response
from glm_cli.commands.batch.common import RequestOptions
from glm_cli.commands.batch.run import BatchOptions, run_batch
from tests.conftest import FAKE_KEY

LIMITED = b'{"error": {"code": "1302", "message": "Rate limit reached"}}'
SAID = "glm batch: HTTP 429 GLM 1302: rate limit reached (concurrency); "


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_tells_a_new_pause_and_a_cut_apart():
    clock = Clock()
    lim = AdaptiveLimiter(8, clock=clock)
    assert lim.on_throttle(60.0) == (True, True) and lim.limit == 4
    assert lim.on_throttle(60.0) == (False, False)  # the same pause, the same cooldown: nothing new
    clock.now += 2
    assert lim.on_throttle(0.0) == (False, True) and lim.limit == 2  # a cut, within the pause
    clock.now += 60
    assert lim.on_throttle(30.0) == (True, True)  # the pause was over: a new one
    lim.limit = 1
    clock.now += 60
    assert lim.on_throttle(0.0) == (False, False)  # one in flight already: nothing to cut


def test_a_shared_pause_is_said_once_however_many_lines_hit_it():
    clock = Clock()
    client = GlmClient(base_url="http://127.0.0.1:9/v4", api_key=FAKE_KEY)  # never sends
    runner = BatchRunner(
        RunConfig(concurrency=8),
        client,
        settings=None,
        catalogue=None,
        writer=RecordWriter(None, stream=None),
        clock=clock,
    )
    said: list[str] = []
    runner.note = said.append
    runner.stop()  # each line's own wait then returns at once: no real waiting
    err = error_from_response(429, LIMITED, {"retry-after": "60"})
    for _ in range(500):  # 500 lines hit the same 429 storm
        runner._should_retry(err, 1, Budget(None))
    assert said == [SAID + "every request waits 60 s, as the server asked; then at most 4 in flight"]
    clock.now += 61
    runner._should_retry(err, 1, Budget(None))
    assert len(said) == 2 and said[1].endswith("then at most 2 in flight")


@pytest.mark.parametrize("progress", [False, True], ids=["plain", "above-the-bar"])
def test_a_run_says_a_cut_once_on_stderr(make_app, tmp_path, progress):
    # Before: a run slowed by the server printed nothing until its summary.
    answered: set[str] = set()

    def handler(request: httpx.Request) -> httpx.Response:
        prompt = json.loads(request.content)["messages"][-1]["content"]
        if prompt not in answered:  # every line's first try is refused
            answered.add(prompt)
            return httpx.Response(429, content=LIMITED)
        return httpx.Response(
            200, json={"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}], "usage": None}
        )

    src, out = tmp_path / "in.txt", tmp_path / "out.jsonl"
    src.write_text("".join(f"line {n}\n" for n in range(40)), encoding="utf-8")
    app = make_app(transport=httpx.MockTransport(handler))
    app.clock = Clock()  # time stands still: the cooldown between two cuts never passes
    opts = BatchOptions(file=str(src), request=RequestOptions(text=True), output=str(out), backoff=0.001, concurrency=8)
    assert run_batch(opts, app) == 0
    err = app.ios.stderr.getvalue()
    assert err.count("glm batch: HTTP 429") == 1, err  # 40 refusals, one line
    assert SAID + "at most 4 requests in flight now, each retried after a backoff\n" in err
    assert "40 retries" in err
