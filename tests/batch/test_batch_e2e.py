"""End to end: the installed `glm batch` in subprocesses against tests/fake_server.py on 127.0.0.1."""

from __future__ import annotations

import json
import random
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SLOW, glm_executable, wait_until
from tests.fake_server import Fault


def glm(environ, *args, stdin: str | None = None, timeout: float = SLOW):
    return subprocess.run(
        [*glm_executable(), *args], input=stdin, capture_output=True, text=True, env=environ, timeout=timeout
    )


def start(environ, *args):
    return subprocess.Popen(
        [*glm_executable(), *args], env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def prompts(path: Path, n: int) -> Path:
    path.write_text(
        "".join(json.dumps({"id": f"q{i:04d}", "prompt": f"question {i}"}) + "\n" for i in range(n)), encoding="utf-8"
    )
    return path


def lines(path: Path) -> int:
    """Complete lines in the output so far (a torn last line is not counted)."""
    return path.read_bytes().count(b"\n") if path.exists() else 0


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_each_id_once_ok(path: Path, n: int) -> None:
    recs = records(path)  # every line parses: nothing torn, nothing partial
    ok = [r["id"] for r in recs if r["status"] == "ok"]
    assert sorted(ok) == [f"q{i:04d}" for i in range(n)], "every id exactly once ok"


def sent_prompts(srv) -> list[str]:
    return [b["messages"][-1]["content"] for b in srv.chat_requests()]


def test_every_input_shape_and_a_bad_line(srv, environ, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(
            [
                '"a plain string"',
                json.dumps({"id": "obj", "prompt": "an object", "max_tokens": 33, "system": "be brief"}),
                json.dumps({"id": "msgs", "messages": [{"role": "user", "content": "from messages"}]}),
                json.dumps(
                    {
                        "custom_id": "api",
                        "method": "POST",
                        "url": "/v4/chat/completions",
                        "body": {"model": "glm-4.7", "messages": [{"role": "user", "content": "batch api shape"}]},
                    }
                ),
                "{not json",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    res = glm(environ, "batch", str(src), "-o", str(out), "--no-think")
    assert res.returncode == 1, res.stderr  # one line failed
    recs = {r["id"]: r for r in records(out)}
    assert set(recs) == {"line-1", "obj", "msgs", "api", "line-5"}
    assert all(recs[i]["status"] == "ok" and recs[i]["content"] for i in ("line-1", "obj", "msgs", "api"))
    assert recs["line-5"]["error"]["code"] == "invalid_line" and "line 5" in recs["line-5"]["error"]["message"]
    bodies = {b["messages"][-1]["content"]: b for b in srv.chat_requests()}
    assert set(bodies) == {"a plain string", "an object", "from messages", "batch api shape"}
    assert bodies["an object"]["max_tokens"] == 33 and bodies["an object"]["messages"][0]["role"] == "system"
    assert all(b["stream"] is False and b["thinking"] == {"type": "disabled"} for b in bodies.values())
    assert bodies["an object"]["request_id"] == recs["obj"]["request_id"]
    assert "4 ok, 1 failed (1× invalid_line)" in res.stderr and res.stdout == ""


def test_text_on_stdin_with_a_template(srv, environ, tmp_path):
    out = tmp_path / "out.jsonl"
    res = glm(
        environ, "batch", "--text", "-", "-o", str(out), "--template", "Summarise: {input}", stdin="first\n\nsecond\n"
    )
    assert res.returncode == 0, res.stderr
    assert sorted(sent_prompts(srv)) == ["Summarise: first", "Summarise: second"]
    assert sorted(r["id"] for r in records(out)) == ["line-1", "line-3"]


def test_429_at_30_percent_everything_completes(srv, environ, tmp_path):
    srv.fault_rate(status=429, code="1302", rate=0.3, seed=1)
    out = tmp_path / "out.jsonl"
    res = glm(
        environ, "batch", str(prompts(tmp_path / "in.jsonl", 200)), "-o", str(out), "-j", "16", "--backoff", "0.02"
    )
    assert res.returncode == 0, res.stderr
    assert_each_id_once_ok(out, 200)
    assert len(srv.chat_requests()) > 230  # the 429s happened and were retried
    assert "200 ok, 0 failed" in res.stderr and "retries" in res.stderr


def test_balance_exhausted_stops_at_once(srv, environ, tmp_path):
    srv.faults_always(Fault(status=429, code="1113"))
    out = tmp_path / "out.jsonl"
    res = glm(environ, "batch", str(prompts(tmp_path / "in.jsonl", 100)), "-o", str(out), "-j", "4")
    assert res.returncode == 5, res.stderr
    assert len(srv.chat_requests()) <= 4  # the ones already in flight; no retry storm, nothing after
    assert "GLM 1113" in res.stderr and "stopped early" in res.stderr and "hint:" in res.stderr
    assert all(r["error"]["code"] == "1113" for r in records(out))


@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume(srv, environ, tmp_path):
    srv.first_byte_delay = 0.03
    src, out = prompts(tmp_path / "in.jsonl", 300), tmp_path / "out.jsonl"
    rng = random.Random(4)
    progress = []
    for target in sorted(rng.sample(range(5, 280), 5)):  # kill once the output holds `target` records
        proc = start(environ, "batch", str(src), "-o", str(out), "-j", "8")
        wait_until(lambda p=proc, n=target: lines(out) >= n or p.poll() is not None, f"{target} records")
        proc.kill()  # SIGKILL: no handler runs
        proc.communicate()
        progress.append(lines(out))
    assert sum(0 < n < 300 for n in progress) >= 4, progress  # killed mid-run, every time but perhaps one
    res = glm(environ, "batch", str(src), "-o", str(out), "-j", "8")
    assert res.returncode == 0, res.stderr
    assert_each_id_once_ok(out, 300)
    assert len(records(out)) == 300  # none duplicated


@pytest.mark.slow
def test_sigint_prints_the_summary_exits_130_and_resumes(srv, environ, tmp_path):
    srv.first_byte_delay = 0.05
    src, out = prompts(tmp_path / "in.jsonl", 200), tmp_path / "out.jsonl"
    proc = start(environ, "batch", str(src), "-o", str(out), "-j", "4")
    wait_until(lambda: lines(out) >= 10, "10 records")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=SLOW)
    assert proc.returncode == 130, err
    assert " ok, 0 failed" in err and "interrupted; run the same command again" in err
    first = len(records(out))
    assert 0 < first < 200
    res = glm(environ, "batch", str(src), "-o", str(out), "-j", "16")
    assert res.returncode == 0 and f"skipped {first} already ok" in res.stderr
    assert_each_id_once_ok(out, 200)


def test_ordered(srv, environ, tmp_path):
    srv.fault(Fault(kind="hang", until_requests=60, seconds=30))  # the first request is answered last
    src, out = prompts(tmp_path / "in.jsonl", 60), tmp_path / "out.jsonl"
    res = glm(environ, "batch", str(src), "-o", str(out), "-j", "8", "--ordered")
    assert res.returncode == 0, res.stderr
    assert [r["id"] for r in records(out)] == [f"q{i:04d}" for i in range(60)]
    srv.clear()
    hold = Fault(kind="hang", until_requests=60, seconds=30)
    srv.fault(hold)
    out2 = tmp_path / "out2.jsonl"
    res = glm(environ, "batch", str(src), "-o", str(out2), "-j", "8")
    ids = [r["request_id"] for r in records(out2)]  # without --ordered: completion order
    # the held line is answered once all 60 requests arrived: by then at least 60 - 8 records were written
    assert res.returncode == 0 and len(ids) == 60 and hold.held and ids.index(hold.held["request_id"]) >= 52


def test_remote_flow_end_to_end(srv, environ, tmp_path):
    src = prompts(tmp_path / "in.jsonl", 5)
    sub = glm(environ, "batch", "submit", str(src), "-d", "e2e run")
    assert sub.returncode == 0, sub.stderr
    (batch_id,) = sub.stdout.split()
    assert "submitted" in sub.stderr and "5 requests" in sub.stderr
    status = glm(environ, "batch", "status", batch_id)
    assert status.returncode == 0 and status.stdout.startswith(batch_id)
    listed = glm(environ, "batch", "list", "--json")
    assert batch_id in [json.loads(x)["id"] for x in listed.stdout.splitlines()]
    out = tmp_path / "answers.jsonl"
    fetch = glm(environ, "batch", "fetch", batch_id, "-o", str(out), "--wait", "--poll", "0.05")
    assert fetch.returncode == 0, fetch.stderr
    assert_each_id_once_ok(out, 5)
    again = glm(environ, "batch", "fetch", batch_id, "-o", str(out))
    assert again.returncode == 0 and len(records(out)) == 5  # fetching twice adds nothing
    other = glm(environ, "batch", "submit", str(src)).stdout.strip()
    cancel = glm(environ, "batch", "cancel", other)
    assert cancel.returncode == 0 and "cancel" in cancel.stdout
