"""Stopping a local batch by a signal: said at once, answers paid for kept, a second signal abandons (issue 13 #12).

The installed `glm batch` against tests/fake_server.py, with answers held back by the server ("hang" faults that
answer once enough chat requests have arrived): the test decides when they finish, nothing depends on timing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.batch.test_batch_e2e import glm, lines, prompts, records
from tests.conftest import SLOW, glm_executable, wait_until
from tests.fake_server import Fault

TOTAL, HELD = 20, 4
NEVER = 10_000  # requests: a held answer that only the test releases (or the server's stop)


def start(environ, out: Path, err: Path, *args: str) -> subprocess.Popen:
    with err.open("w") as fh:  # stderr in a file: the test reads what was said so far without blocking
        return subprocess.Popen(
            [*glm_executable(), "batch", *args, "-o", str(out), "-j", "8"],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=fh,
        )


def held_run(srv, environ, tmp_path: Path, *args: str, release_at: int = NEVER):
    """Start a run of TOTAL lines whose first HELD requests are held; return once all the others are written."""
    for _ in range(HELD):
        srv.fault(Fault(kind="hang", until_requests=release_at, seconds=SLOW))
    src, out, err = prompts(tmp_path / "in.jsonl", TOTAL), tmp_path / "out.jsonl", tmp_path / "err.txt"
    proc = start(environ, out, err, str(src), *args)
    wait_until(lambda: lines(out) == TOTAL - HELD and len(srv.chat_requests()) == TOTAL, "all but the held answers")
    return proc, src, out, err


def said(err: Path) -> str:
    return err.read_text(encoding="utf-8")


def release(srv) -> None:
    """Send one chat request of the test's own: the server's request count reaches `release_at`."""
    req = urllib.request.Request(
        srv.base_url + "/chat/completions",
        data=json.dumps({"model": "glm-4.7", "messages": [{"role": "user", "content": "release"}]}).encode(),
        headers={"Authorization": f"Bearer {srv.api_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=SLOW) as resp:
        assert resp.status == 200


def assert_each_id_once(out: Path, ids: int) -> list[dict]:
    recs = records(out)  # every line parses: nothing torn
    got = [r["id"] for r in recs]
    assert len(got) == len(set(got)) == ids and all(r["status"] == "ok" for r in recs)
    return recs


def test_first_ctrl_c_says_at_once_what_happens_and_a_second_abandons(srv, environ, tmp_path):
    proc, src, out, err = held_run(srv, environ, tmp_path)
    proc.send_signal(signal.SIGINT)
    wait_until(lambda: "stopping" in said(err), "the stop to be announced")
    text = said(err)
    assert f"waiting up to 10 s for {HELD} requests in flight" in text
    assert "answers already paid for are kept" in text and "press Ctrl-C again to abandon them" in text
    assert proc.poll() is None and lines(out) == TOTAL - HELD  # said while the held answers are still held
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=SLOW) == 130
    text = said(err)
    assert f"{TOTAL - HELD} ok, 0 failed" in text  # the summary
    assert f"{HELD} requests were in flight and abandoned" in text and "run the same command again" in text
    assert_each_id_once(out, TOTAL - HELD)  # every answer received is there, once
    srv.clear()
    res = glm(environ, "batch", str(src), "-o", str(out), "-j", "8")
    assert res.returncode == 0, res.stderr
    assert f"skipped {TOTAL - HELD} already ok" in res.stderr
    assert_each_id_once(out, TOTAL)


def test_one_ctrl_c_keeps_the_answers_in_flight(srv, environ, tmp_path):
    proc, src, out, err = held_run(srv, environ, tmp_path, release_at=TOTAL + 1)
    proc.send_signal(signal.SIGINT)
    wait_until(lambda: "stopping" in said(err), "the stop to be announced")
    assert lines(out) == TOTAL - HELD
    release(srv)  # the held answers arrive now
    assert proc.wait(timeout=SLOW) == 130
    assert f"{TOTAL} ok, 0 failed" in said(err) and "abandoned" not in said(err)
    assert_each_id_once(out, TOTAL)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_the_same_way(srv, environ, tmp_path, sig):
    proc, src, out, err = held_run(srv, environ, tmp_path, release_at=TOTAL + 1)
    proc.send_signal(sig)
    wait_until(lambda: "stopping" in said(err), "the stop to be announced")
    assert f"{HELD} requests in flight" in said(err) and lines(out) == TOTAL - HELD
    release(srv)
    assert proc.wait(timeout=SLOW) == 128 + sig
    assert f"{TOTAL} ok, 0 failed" in said(err) and "interrupted; run the same command again" in said(err)
    assert_each_id_once(out, TOTAL)


def test_a_second_sigterm_abandons(srv, environ, tmp_path):
    proc, src, out, err = held_run(srv, environ, tmp_path)
    proc.send_signal(signal.SIGTERM)
    wait_until(lambda: "stopping" in said(err), "the stop to be announced")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=SLOW) == 128 + signal.SIGTERM
    assert f"{HELD} requests were in flight and abandoned" in said(err)
    assert_each_id_once(out, TOTAL - HELD)


def test_a_terminal_that_hangs_up_still_gets_exit_129_and_every_answer(srv, environ, tmp_path):
    """The real SIGHUP: glm's terminal goes away (progress bar on it); what stderr can no longer take is dropped,
    the records are whole and the exit code is 129, not an I/O error (1) or a failed flush at exit (120)."""
    import fcntl
    import os
    import pty
    import select
    import termios
    import threading

    for _ in range(HELD):
        srv.fault(Fault(kind="hang", until_requests=NEVER, seconds=SLOW))
    src, out = prompts(tmp_path / "in.jsonl", TOTAL), tmp_path / "out.jsonl"
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*glm_executable(), "batch", str(src), "-o", str(out), "-j", "8"],
        env={**environ, "COLUMNS": "100"},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # the pty is its controlling terminal
    )
    os.close(slave)
    screen, hang_up = bytearray(), threading.Event()

    def read_the_terminal() -> None:  # drained all along: a full pty would block glm's progress bar
        while not hang_up.is_set():
            if select.select([master], [], [], 0.05)[0]:
                try:
                    screen.extend(os.read(master, 65536))
                except OSError:
                    break
        os.close(master)  # the terminal goes away: the kernel sends glm SIGHUP

    reader = threading.Thread(target=read_the_terminal, daemon=True)
    reader.start()
    wait_until(lambda: lines(out) == TOTAL - HELD and len(srv.chat_requests()) == TOTAL, "all but the held answers")
    proc.send_signal(signal.SIGHUP)
    wait_until(lambda: b"stopping (SIGHUP)" in screen, "the stop to be announced on the terminal")
    hang_up.set()  # then the terminal itself hangs up: a second SIGHUP, the held requests are abandoned
    assert proc.wait(timeout=SLOW) == 129
    reader.join(timeout=SLOW)
    assert_each_id_once(out, TOTAL - HELD)
    srv.clear()
    res = glm(environ, "batch", str(src), "-o", str(out), "-j", "8")
    assert res.returncode == 0, res.stderr
    assert_each_id_once(out, TOTAL)
