"""`glm embed --batch`: the first Ctrl-C says at once that it waits for the requests in flight, whose vectors
are kept; nothing received is lost and a rerun finishes the rest."""

from __future__ import annotations

import json
import signal
import subprocess
import threading

from tests.conftest import SLOW, glm_executable, run_glm, wait_until


def test_ctrl_c_says_what_it_waits_for_and_keeps_the_vectors(srv, environ, tmp_path):
    src, out = tmp_path / "in.txt", tmp_path / "out.jsonl"
    src.write_text("".join(f"text number {i}\n" for i in range(200)))
    srv.embed_gate = gate = threading.Event()
    proc = subprocess.Popen(
        [*glm_executable(), "embed", "--batch", str(src), "--text", "-o", str(out), "-j", "2"],
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        wait_until(lambda: sum(r.path.endswith("/embeddings") for r in srv.requests) >= 2, "two packs in flight")
        proc.send_signal(signal.SIGINT)
        wait_until(lambda: any("stopping" in line for line in err), "the stop message, while answers are held")
        assert not out.exists() or out.read_text() == ""  # said before any held answer was written
        gate.set()
        assert proc.wait(timeout=SLOW) == 130
    finally:
        gate.set()
        proc.kill()
        proc.wait()
    reader.join(SLOW)
    stopping = next(line for line in err if "stopping" in line)
    assert stopping.startswith("glm: stopping: waiting for 2 requests in flight") and "kept" in stopping
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 128 and all(r["status"] == "ok" for r in records)  # two packs of 64: kept
    srv.embed_gate = None
    again = run_glm(["embed", "--batch", str(src), "--text", "-o", str(out)], environ)
    assert again.returncode == 0, again.stderr
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert len(ids) == 200 and len(set(ids)) == 200
