"""Batch workers share clients in groups (one connection pool for 64 workers cost a third of the CPU):
every worker still has a request in flight, and every client the run opened is closed."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import httpx
import pytest

from glm_cli.batch.output import RecordWriter
from glm_cli.batch.runner import BatchRunner, RunConfig
from glm_cli.client import GlmClient
from glm_cli.commands.batch.common import RequestOptions
from glm_cli.commands.batch.run import BatchOptions, run_batch
from glm_cli.config import load_settings


class Gate(httpx.MockTransport):
    """Answer each request once `width` requests are in flight together (bounded wait); count closes."""

    def __init__(self, width: int) -> None:
        super().__init__(self.handle)
        self.width, self.in_flight, self.peak, self.closed = width, 0, 0, 0
        self.cond = threading.Condition()

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.cond:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.peak >= self.width, timeout=30)  # bound only matters on failure
            self.in_flight -= 1
        prompt = json.loads(request.content)["messages"][-1]["content"]
        message = {"role": "assistant", "content": f"answer to {prompt}"}
        return httpx.Response(
            200,
            json={
                "id": "r",
                "model": "glm-4.7",
                "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
            },
        )

    def close(self) -> None:
        self.closed += 1


@pytest.mark.parametrize("concurrency", [1, 8, 64, 256])
def test_every_worker_has_a_client_of_its_own(env, concurrency: int):
    own = GlmClient(base_url="http://127.0.0.1:9/api/paas/v4", api_key="fake-canary-key-0000", pool_size=concurrency)
    runner = BatchRunner(
        RunConfig(concurrency=concurrency), own, load_settings(env), None, RecordWriter(None, io.StringIO())
    )
    got = runner._clients()
    assert got[0] is own and len({id(c) for c in got}) == len(got) == concurrency
    assert all(c.pool_size == 1 and c.base_url == own.base_url for c in got[1:])


def test_every_worker_has_a_request_in_flight_and_every_client_is_closed(make_app, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"p{i}"}) + "\n" for i in range(200)))
    gate = Gate(64)
    app = make_app(transport=gate)
    code = run_batch(BatchOptions(file=str(src), request=RequestOptions(), output=str(out), concurrency=64), app)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0 and len(records) == 200 and {r["status"] for r in records} == {"ok"}
    assert gate.peak == 64  # all 64 workers in flight at once, a client each
    assert gate.closed == 64  # the run's client and its 63 copies


def test_a_64_worker_batch_stays_small(srv, environ, tmp_path):
    # The clients' TLS contexts are built by the main thread: built by 8 workers they took 5 MB more each.
    import subprocess

    from tests.conftest import glm_executable

    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"p{i}"}) + "\n" for i in range(640)))
    proc = subprocess.Popen(
        [*glm_executable(), "batch", str(src), "-o", str(out), "-j", "64"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0  # VmHWM, glm's own high-water mark (ru_maxrss would count pytest's memory, copied at fork)
    while proc.poll() is None:
        try:
            status = (Path("/proc") / str(proc.pid) / "status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]) // 1024)
        except (OSError, IndexError):
            pass
        try:
            proc.wait(timeout=0.005)
        except subprocess.TimeoutExpired:
            pass
    assert proc.returncode == 0 and len(out.read_text().splitlines()) == 640
    assert 0 < peak < 52, f"peak RSS {peak} MB"  # ~38 MB; the copies built by workers: ~65
