"""The installed `glm` against tests/hostile_server.py (issue 11 items 5, 6, 9, 14).

Each run is capped at 512 MiB of address space and 60 s: past either, the test fails. Each asserts
the exit code, the message, no traceback and no key text, and that the history stays small.
"""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest

from tests.conftest import glm_executable
from tests.hostile_server import Hostile, MiB

CANARY = "fake-canary-key-0000"
MEMORY = 512 * MiB  # before: a 200 MB JSON answer took 1.26 GB, a gzip bomb 3.2 GB
HANG = 60  # seconds: a did-not-hang bound only


def glm(srv: Hostile, tmp_path: Path, *args: str, config: str = "") -> subprocess.CompletedProcess:
    cfg = tmp_path / "cfg" / "glm" / "config.yaml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(config)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "GLM_API_KEY": CANARY,
        "GLM_BASE_URL": srv.base_url,
    }

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))

    out = subprocess.run([*glm_executable(), *args], capture_output=True, env=env, timeout=HANG, preexec_fn=cap_memory)
    return subprocess.CompletedProcess(
        out.args, out.returncode, out.stdout.decode("utf-8", "replace"), out.stderr.decode("utf-8", "replace")
    )


def history_size(tmp_path: Path) -> int:
    return sum(f.stat().st_size for f in (tmp_path / "data").rglob("*") if f.is_file())


def assert_fails_cleanly(out: subprocess.CompletedProcess, code: int, words: str) -> None:
    assert out.returncode == code, out.stderr[-2000:]
    assert out.stderr.startswith("glm: ") and words in out.stderr, out.stderr[-2000:]
    assert "Traceback" not in out.stderr + out.stdout
    assert CANARY not in out.stderr + out.stdout


def test_item5_one_huge_sse_line_is_a_protocol_error_at_8_mib(tmp_path):
    with Hostile("huge_line", size=200 * MiB) as srv:
        out = glm(srv, tmp_path, "ask", "hi")
    assert_fails_cleanly(out, 1, "the server sent a stream line longer than 8 MiB")
    assert out.stdout == "" and history_size(tmp_path) < MiB


def test_item6_a_huge_json_answer_stops_at_the_default_64_mib(tmp_path):
    with Hostile("huge_json", size=200 * MiB) as srv:
        out = glm(srv, tmp_path, "ask", "--no-stream", "hi")
    assert_fails_cleanly(out, 1, "the answer is larger than 64 MiB; glm stopped reading it")
    assert "hint: if it really is that large, raise `max_response_mb` in the config" in out.stderr
    assert out.stdout == "" and history_size(tmp_path) < MiB


def test_item6_a_gzip_bomb_is_unpacked_only_up_to_the_bound(tmp_path):
    with Hostile("gzip_bomb", size=1024 * MiB) as srv:
        out = glm(srv, tmp_path, "ask", "--no-stream", "hi")
    assert_fails_cleanly(out, 1, "the answer is larger than 64 MiB")
    assert out.stdout == "" and history_size(tmp_path) < MiB


def test_item6_a_streamed_gzip_bomb_prints_no_more_than_the_bound(tmp_path):
    with Hostile("gzip_bomb", size=1024 * MiB) as srv:
        out = glm(srv, tmp_path, "ask", "hi", config="max_response_mb: 2\n")
    assert_fails_cleanly(out, 1, "the answer is larger than 2 MiB")
    assert len(out.stdout) <= 2 * MiB and history_size(tmp_path) < MiB


def test_item9_endless_keepalives_end_at_the_deadline(tmp_path):
    with Hostile("keepalive", every=0.05) as srv:
        out = glm(srv, tmp_path, "ask", "hi", config="deadline: 1\n")
        assert len(srv.requests) == 1
    assert_fails_cleanly(out, 6, "timed out: no complete answer within the 1 s deadline")
    assert "hint: raise `deadline` in the config" in out.stderr


@pytest.mark.parametrize("behaviour", ["silent", "silent_headers"])
def test_item9_a_silent_server_costs_the_deadline_once_not_the_timeout_per_try(tmp_path, behaviour):
    with Hostile(behaviour) as srv:
        out = glm(srv, tmp_path, "ask", "hi", config="deadline: 1.5\ntimeout: 300\nmax_retries: 3\n")
        assert len(srv.requests) == 1
    assert_fails_cleanly(out, 6, "no complete answer within the 1.5 s deadline")


def test_item9_retries_stop_at_the_deadline(tmp_path):
    with Hostile("silent") as srv:
        out = glm(srv, tmp_path, "ask", "hi", config="deadline: 3\ntimeout: 1\nmax_retries: 20\n")
        assert 2 <= len(srv.requests) <= 4  # a try per second of the 3, not 21
    assert_fails_cleanly(out, 6, "within the 3 s deadline")


@pytest.mark.parametrize("args", [("ask", "hi"), ("ask", "--no-stream", "hi")])
def test_item14_a_gzip_answer_is_unpacked_streamed_or_whole(tmp_path, args):
    with Hostile("gzip_answer", text="Olá from a gzip stream") as srv:
        out = glm(srv, tmp_path, *args)
        assert srv.requests[0].headers["accept-encoding"] == "gzip"
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Olá", "from", "a", "gzip", "stream"] and out.stderr == ""


@pytest.mark.parametrize("args", [("ask", "hi"), ("ask", "--no-stream", "hi")])
def test_item14_a_redirect_is_named_not_followed(tmp_path, args):
    with Hostile("redirect", status=301, location="https://login.example/sso") as srv:
        out = glm(srv, tmp_path, *args)
        assert len(srv.requests) == 1
    assert_fails_cleanly(
        out, 1, "HTTP 301: the server redirects to https://login.example/sso; glm does not follow redirects"
    )
    assert "hint: check base_url / --endpoint" in out.stderr


@pytest.mark.parametrize(
    ("args", "wanted"), [(("ask", "hi"), "an event stream"), (("ask", "--no-stream", "hi"), "JSON")]
)
def test_item14_an_html_page_is_named_with_its_start_and_the_key_hidden(tmp_path, args, wanted):
    with Hostile("html") as srv:  # the page echoes the Authorization header it got
        out = glm(srv, tmp_path, *args)
    assert_fails_cleanly(
        out,
        1,
        f"the server answered HTTP 200 with text/html; charset=utf-8, not {wanted}: "
        '"<!DOCTYPE html> <html><head><title>Sign in</title></head> <body> [31m<p>Please '
        'sign in. You sent: Bearer ***</p></body></html>"',
    )


def test_item14_an_event_stream_without_events_says_what_it_held(tmp_path):
    raw = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
        b"<html><body>Service Unavailable</body></html>\n"
    )
    with Hostile("bytes", raw=raw) as srv:
        out = glm(srv, tmp_path, "ask", "hi")
    assert_fails_cleanly(
        out,
        6,
        "the stream ended before the answer was complete (no [DONE]); it held no answer, "
        'only: "<html><body>Service Unavailable</body></html>"',
    )
