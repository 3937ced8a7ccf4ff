"""End to end: the installed `glm` in a subprocess against tests/fake_server.py on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from tests.conftest import FAKE_KEY, SLOW, glm_env, glm_executable, run_glm, scratch_data_home
from tests.fake_server import Fault


def glm(srv, *args, stdin: str | None = None, env: dict | None = None, timeout: float = SLOW):
    given = {} if stdin is None else {"input": stdin}
    return run_glm(list(args), glm_env(srv, **(env or {})), timeout=timeout, **given)


def test_streamed_answer_piped(srv):
    srv.reply(content="Hello, 世界!", reasoning="Let me think")
    out = glm(srv, "ask", "hi")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Hello, 世界!\n" and out.stderr == ""
    body = srv.chat_requests()[-1]
    assert body["messages"] == [{"role": "user", "content": "hi"}] and body["stream"] is True


def test_stdin_joined_and_no_think(srv):
    out = glm(srv, "ask", "--no-think", "summarise", stdin="line one\nline two\n")
    assert out.returncode == 0, out.stderr
    body = srv.chat_requests()[-1]
    assert body["messages"][-1]["content"] == "summarise\n\nline one\nline two"
    assert body["thinking"] == {"type": "disabled"}


def test_utf8_split_across_chunks(srv):
    srv.split_bytes = 3
    srv.chunk_size = 1
    srv.reply(content="ünïcødé 漢字 🎉 done", reasoning="")
    out = glm(srv, "ask", "x")
    assert out.stdout == "ünïcødé 漢字 🎉 done\n"


def test_429_then_success(srv):
    srv.fault(Fault(status=429, code="1302", message="Rate limit reached for requests"))
    srv.reply(content="after retry")
    out = glm(srv, "ask", "x")
    assert out.returncode == 0 and out.stdout == "after retry\n"
    assert len(srv.chat_requests()) == 2


def test_1113_exit_5_with_hint_and_no_retry(srv):
    srv.fault(Fault(status=429, code="1113", message="Insufficient balance or no resource package."))
    out = glm(srv, "ask", "x")
    assert out.returncode == 5 and out.stdout == ""
    assert "GLM 1113" in out.stderr and "hint:" in out.stderr and "zai-coding" in out.stderr
    assert len(srv.chat_requests()) == 1


def test_bad_key_exit_4_and_key_not_shown(srv):
    out = glm(srv, "ask", "x", env={"GLM_API_KEY": "wrong-key.not-real"})
    assert out.returncode == 4 and "GLM 1000" in out.stderr
    assert "wrong-key.not-real" not in out.stderr + out.stdout


def test_stream_cut_before_done_exit_6_keeps_text(srv):
    srv.reply(content="a" * 40, reasoning="")
    srv.fault(Fault(kind="cut", after_events=3))
    out = glm(srv, "ask", "x")
    assert out.returncode == 6 and "ended before the answer was complete" in out.stderr
    assert out.stdout.startswith("aaaa")


def test_length_finish_exit_8(srv):
    srv.fault(Fault(kind="finish", finish_reason="length"))
    out = glm(srv, "ask", "x")
    assert out.returncode == 8 and "max_tokens" in out.stderr and out.stdout


def test_slow_first_byte_then_answer(srv):
    srv.first_byte_delay = 0.5
    srv.reply(content="late")
    out = glm(srv, "ask", "x")
    assert out.returncode == 0 and out.stdout == "late\n"


def test_output_json_usage_and_cached_tokens(srv):
    srv.cached_tokens = 3
    out = glm(srv, "ask", "--format", "json", "-u", "x")
    rec = json.loads(out.stdout)
    assert rec["usage"]["prompt_tokens_details"]["cached_tokens"] == 3
    assert "cached 3" in out.stderr


def test_unreachable_server_exit_6(srv):
    out = glm(srv, "ask", "x", env={"GLM_BASE_URL": "http://127.0.0.1:9/api/paas/v4"})
    assert out.returncode == 6 and "cannot reach" in out.stderr


def test_broken_pipe_exits_0_quietly(srv):
    srv.tokens = 5000
    env = {
        "PATH": os.environ["PATH"],
        "HOME": "/nonexistent",
        "XDG_DATA_HOME": scratch_data_home(),
        "GLM_API_KEY": srv.api_key,
        "GLM_BASE_URL": srv.base_url,
    }
    cmd = " ".join(glm_executable()) + " ask x | head -c 10"
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, env=env, timeout=SLOW)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "Broken pipe" not in out.stderr


@pytest.mark.slow
def test_sigint_mid_stream_exits_130_and_keeps_output(srv):
    srv.tokens = 100_000  # far longer than the test: only the SIGINT ends it
    srv.delay = 0.01
    env = {
        "PATH": os.environ["PATH"],
        "HOME": "/nonexistent",
        "XDG_DATA_HOME": scratch_data_home(),
        "GLM_API_KEY": srv.api_key,
        "GLM_BASE_URL": srv.base_url,
    }
    proc = subprocess.Popen(
        [*glm_executable(), "ask", "x"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    first = proc.stdout.read(8)  # the answer is streaming: interrupt it now
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=SLOW)
    assert proc.returncode == 130
    assert first and "Traceback" not in err and "interrupted" in err


def test_key_never_in_verbose_or_dry_run(srv):
    out = glm(srv, "ask", "-v", "x")
    assert out.returncode == 0 and FAKE_KEY not in out.stderr + out.stdout and "HTTP 200" in out.stderr
    out = glm(srv, "ask", "--dry-run=curl", "x")
    assert FAKE_KEY not in out.stdout and "$GLM_API_KEY" in out.stdout
