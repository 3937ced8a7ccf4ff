"""The batch output file as the run's state: races, symlinks and modes, bad lines, any readable input stream.

End to end: the installed `glm batch` against tests/fake_server.py. A race between two real processes is made
deterministic with tests/race_hook (on PYTHONPATH of one process): it stops that process at a named call
(os.replace of -o, or the lock), announces it with a file, and goes on when the test creates another file.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from glm_cli.batch.output import RecordWriter, compact, load_state
from tests.conftest import glm_executable
from tests.fake_server import Fault

HOOK = str(Path(__file__).resolve().parent.parent / "race_hook")
BOUND = 30.0  # seconds; matters only when something is broken


def glm(environ, *args, stdin: str | None = None):
    return subprocess.run(
        [*glm_executable(), *args], input=stdin, capture_output=True, text=True, env=environ, timeout=BOUND
    )


def paused(environ, pause: str, where: Path, *args) -> subprocess.Popen:
    """Start `glm ARGS` that stops at PAUSE (see tests/race_hook) until WHERE/go exists."""
    where.mkdir()
    env = {**environ, "PYTHONPATH": HOOK, "GLM_TEST_PAUSE": pause, "GLM_TEST_PAUSE_DIR": str(where)}
    proc = subprocess.Popen(
        [*glm_executable(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_for(lambda: (where / "paused").exists() or proc.poll() is not None)
    assert (where / "paused").exists(), proc.communicate()[1]
    return proc


def wait_for(condition, bound: float = BOUND) -> None:
    end = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < end, "the state waited for never came"
        time.sleep(0.005)


def prompts(path: Path, ids: list[str]) -> Path:
    path.write_text("".join(json.dumps({"id": i, "prompt": f"question {i}"}) + "\n" for i in ids), encoding="utf-8")
    return path


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def one_ok_record_each(path: Path, ids: list[str]) -> None:
    recs = records(path)
    assert sorted(r["id"] for r in recs) == sorted(ids), "every id has exactly one record"
    assert all(r["status"] == "ok" for r in recs)


A_IDS = [f"a{i:02d}" for i in range(20)]
B_IDS = [f"b{i:02d}" for i in range(20)]


@pytest.fixture
def failed_once(srv, environ, tmp_path):
    """An output with an error record for each of A_IDS: what --retry-failed will run again and compact."""
    src, out = prompts(tmp_path / "a.jsonl", A_IDS), tmp_path / "out.jsonl"
    srv.faults_always(Fault(status=400, code="1214"))
    res = glm(environ, "batch", str(src), "-o", str(out), "--max-retries", "0")
    srv.faults_always(None)
    assert res.returncode == 1 and len(records(out)) == 20, res.stderr
    return src, out


# -- item 1: the --retry-failed clean-up runs under the run's lock


def test_second_run_during_the_retry_failed_swap_is_refused_and_nothing_is_lost(environ, tmp_path, failed_once):
    src, out = failed_once
    b_src = prompts(tmp_path / "b.jsonl", B_IDS)
    first = paused(environ, f"replace:{out}", tmp_path / "pause", "batch", str(src), "-o", str(out), "--retry-failed")
    try:
        second = glm(environ, "batch", str(b_src), "-o", str(out))  # while the first swaps the file
    finally:
        (tmp_path / "pause" / "go").touch()
    _, err = first.communicate(timeout=BOUND)
    assert first.returncode == 0 and "removed 20 error record(s)" in err, err
    if second.returncode != 0:  # refused, with a clear message (the old code said "20 ok" and lost them)
        assert second.returncode == 2 and "Traceback" not in second.stderr, second.stderr
        assert f"glm: another `glm batch` is writing to {out}" in second.stderr
        again = glm(environ, "batch", str(b_src), "-o", str(out))  # what the user does next
        assert again.returncode == 0, again.stderr
    one_ok_record_each(out, A_IDS + B_IDS)


def test_run_that_opened_the_file_before_the_swap_writes_into_the_new_file(environ, tmp_path, failed_once):
    src, out = failed_once
    b_src = prompts(tmp_path / "b.jsonl", B_IDS)
    # The second run has opened -o (the old file) and stops just before taking the lock ...
    second = paused(environ, "flock", tmp_path / "pause", "batch", str(b_src), "-o", str(out))
    try:  # ... while the first runs, retries, and swaps in the compacted file.
        first = glm(environ, "batch", str(src), "-o", str(out), "--retry-failed")
    finally:
        (tmp_path / "pause" / "go").touch()
    assert first.returncode == 0 and "removed 20 error record(s)" in first.stderr, first.stderr
    _, err = second.communicate(timeout=BOUND)
    assert second.returncode == 0, err
    one_ok_record_each(out, A_IDS + B_IDS)


# -- item 2: the clean-up writes through a symlink and keeps the mode


def test_retry_failed_writes_through_a_symlinked_output_and_keeps_its_mode(environ, tmp_path, failed_once):
    src, real = failed_once
    real.chmod(0o600)
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    res = glm(environ, "batch", str(src), "-o", str(link), "--retry-failed")
    assert res.returncode == 0 and "removed 20 error record(s)" in res.stderr, res.stderr
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    one_ok_record_each(real, A_IDS)
    assert [p.name for p in tmp_path.iterdir() if "compact" in p.name] == []  # no temporary file left behind


def test_compact_keeps_a_hard_linked_file_whole(tmp_path):
    path, twin = tmp_path / "o.jsonl", tmp_path / "twin.jsonl"
    path.write_text('{"id": "a", "status": "error"}\n{"id": "a", "status": "ok"}\n', encoding="utf-8")
    os.link(path, twin)
    writer = RecordWriter(str(path))
    try:
        assert writer.compact() == 0  # a rename would split the two names; the superseded record stays
    finally:
        writer.close()
    assert os.path.samefile(path, twin) and len(records(twin)) == 2


# -- item 12: one bad input line is one invalid_line record; a bad record in -o never stops a resume

BAD_LINES = {
    "big": '{"id": "big", "prompt": "x", "n": ' + "9" * 5000 + "}",
    "deep": '{"id": "deep", "prompt": "x", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "sur": '{"id": "sur", "prompt": "\\ud800 alone"}',
    "surid": '{"id": "\\udc00", "prompt": "x"}',
    "inf": '{"custom_id": "inf", "body": {"messages": [{"role": "user", "content": "x"}], "top_k": Infinity}}',
}


def test_each_bad_line_is_one_invalid_line_record_and_the_run_goes_on(srv, environ, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    good = [json.dumps({"id": f"g{i}", "prompt": f"good {i}"}) for i in range(3)]
    src.write_text("\n".join([good[0], *BAD_LINES.values(), good[1], good[2]]) + "\n", encoding="utf-8")
    res = glm(environ, "batch", str(src), "-o", str(out))
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    recs = {r["id"]: r for r in records(out)}
    assert {k for k, r in recs.items() if r["status"] == "ok"} == {"g0", "g1", "g2"}
    bad = {k: r["error"] for k, r in recs.items() if r["status"] != "ok"}
    assert {e["code"] for e in bad.values()} == {"invalid_line"}
    assert bad["line-2"]["message"] == "line 2: a number has more than 4,300 digits"
    assert bad["line-3"]["message"] == "line 3: nested too deeply to read"
    assert "lone surrogate" in bad["sur"]["message"] and "lone surrogate" in bad["line-5"]["message"]
    assert bad["line-6"]["message"] == "line 6: not valid JSON (Infinity is not a JSON number)"
    assert len(srv.chat_requests()) == 3  # no bad line was sent
    assert "3 ok, 5 failed (5× invalid_line)" in res.stderr
    again = glm(environ, "batch", str(src), "-o", str(out))  # the rerun neither crashes nor sends anything
    assert again.returncode == 1 and "skipped 3 already ok and 5 that failed before" in again.stderr, again.stderr
    assert len(srv.chat_requests()) == 3 and len(records(out)) == 8


def test_bad_records_in_the_output_are_ignored_with_a_warning_and_kept(srv, environ, tmp_path):
    src, out = prompts(tmp_path / "in.jsonl", ["r0", "r1", "r2"]), tmp_path / "out.jsonl"
    assert glm(environ, "batch", str(src), "-o", str(out)).returncode == 0
    unreadable = [
        b'{"id": "x", "status": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # nested too deeply to read
        b'{"id": ' + b"7" * 5000 + b', "status": "ok"}',  # an id too long to read
        b'{"id": "r0", "status": "error", "note": "\xff is not UTF-8"}',
    ]
    odd = [  # records of shapes glm never writes: read as not done
        b'{"custom_id": "r1", "response": {"status_code": 200, "body": [1]}}',
        b'{"custom_id": "q", "response": {"status_code": 200, "body": {"choices": [{"finish_reason": []}]}}}',
    ]
    good = out.read_bytes()
    with out.open("ab") as fh:
        fh.write(b"".join(line + b"\n" for line in unreadable + odd))
    res = glm(environ, "batch", str(src), "-o", str(out), "--retry-failed")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert f"{out}: 3 line(s) are not records and were ignored" in res.stderr
    assert "skipped 3 already ok" in res.stderr and len(srv.chat_requests()) == 3  # nothing sent again
    assert "removed 1 error record(s)" in res.stderr  # r1's odd record: r1 is done
    after = out.read_bytes()
    assert after == good + b"".join(line + b"\n" for line in unreadable + odd[1:])  # nothing else touched


def test_a_first_line_that_cannot_be_read_is_a_clear_refusal(environ, tmp_path):
    src, out = prompts(tmp_path / "in.jsonl", ["r0"]), tmp_path / "out.jsonl"
    out.write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    res = glm(environ, "batch", str(src), "-o", str(out))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "is not the output of a glm batch run: its first line is not a record" in res.stderr
    assert out.read_text(encoding="utf-8") == "[" * 100_000 + "]" * 100_000 + "\n"


def test_a_lone_surrogate_in_an_answer_is_written_as_its_escape(tmp_path):
    from glm_cli.batch.output import error_record

    path = tmp_path / "o.jsonl"
    writer = RecordWriter(str(path))
    try:
        assert writer.write(error_record("s", 1, "x", "bad \ud800 text"))
    finally:
        writer.close()
    assert b"\\ud800" in path.read_bytes()  # valid UTF-8 and valid JSON: it reads back as it came
    assert json.loads(path.read_bytes())["error"]["message"] == "bad \ud800 text"


# -- item 15: any readable stream is valid input


def test_a_named_fifo_is_valid_input(srv, environ, tmp_path):
    fifo, out = tmp_path / "in.fifo", tmp_path / "out.jsonl"
    os.mkfifo(fifo)
    text = "".join(json.dumps({"id": f"f{i}", "prompt": f"p{i}"}) + "\n" for i in range(5))

    def feed():
        with fifo.open("w", encoding="utf-8") as fh:
            fh.write(text)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    res = glm(environ, "batch", str(fifo), "-o", str(out))
    writer.join(BOUND)
    assert res.returncode == 0, res.stderr
    one_ok_record_each(out, [f"f{i}" for i in range(5)])


@pytest.mark.parametrize("text_mode", [False, True])
def test_process_substitution_is_valid_input(srv, environ, tmp_path, text_mode):
    out, src = tmp_path / "out.jsonl", prompts(tmp_path / "in.jsonl", ["p0", "p1", "p2"])
    argv = [*glm_executable(), "batch", *(["--text"] if text_mode else []), "<(cat SRC)", "-o", str(out)]
    command = " ".join(argv).replace("SRC", str(src))
    res = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=environ, timeout=BOUND)
    assert res.returncode == 0, res.stderr
    expected = ["line-1", "line-2", "line-3"] if text_mode else ["p0", "p1", "p2"]
    one_ok_record_each(out, expected)


def test_duplicate_ids_in_a_fifo_are_still_refused_before_anything_is_sent(srv, environ, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}\n', encoding="utf-8")
    res = subprocess.run(
        ["bash", "-c", f"{' '.join(glm_executable())} batch <(cat {src}) -o {tmp_path}/o.jsonl"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=BOUND,
    )
    assert res.returncode == 2 and "'a' on lines 1, 2" in res.stderr and srv.chat_requests() == []


@pytest.mark.parametrize("how", ["stdin", "fifo"])
def test_a_stopped_run_from_a_stream_says_resume_needs_the_same_input(srv, environ, tmp_path, how):
    srv.faults_always(Fault(status=429, code="1113"))  # no balance: the run stops early
    out, text = tmp_path / "out.jsonl", '{"id": "s0", "prompt": "x"}\n'
    if how == "stdin":
        res = glm(environ, "batch", "-", "-o", str(out), stdin=text)
    else:
        src = tmp_path / "in.jsonl"
        src.write_text(text, encoding="utf-8")
        res = subprocess.run(
            ["bash", "-c", f"{' '.join(glm_executable())} batch <(cat {src}) -o {out}"],
            capture_output=True,
            text=True,
            env=environ,
            timeout=BOUND,
        )
    assert res.returncode == 5, res.stderr
    assert "run the same command again, with the same input, to continue" in res.stderr


def test_a_stopped_run_from_a_file_keeps_the_short_hint(srv, environ, tmp_path):
    srv.faults_always(Fault(status=429, code="1113"))
    res = glm(environ, "batch", str(prompts(tmp_path / "in.jsonl", ["s0"])), "-o", str(tmp_path / "o.jsonl"))
    assert res.returncode == 5 and "run the same command again to continue" in res.stderr


def test_compact_unit_drops_only_superseded_errors(tmp_path):
    path = tmp_path / "o.jsonl"
    lines = [
        '{"id": "a", "status": "error"}',
        '{"id": "b", "status": "error"}',
        "not a record",
        '{"id": "a", "status": "ok"}',
        '{"id": "b", "status": "error", "n": 2}',
        '{"id": "c", "status": "error"}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o640)
    assert compact(str(path)) == 2
    assert path.read_text(encoding="utf-8").splitlines() == lines[2:]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    state = load_state(str(path))
    assert "a" in state.ok and "b" in state.failed and "c" in state.failed and state.unreadable == 1
