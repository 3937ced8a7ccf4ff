"""Benchmarks for `glm batch`: wall time and peak memory against the fake server with 200 ms latency.

Run: .venv/bin/python bench/bench_batch.py [--quick]
Prints each figure with the command that produced it, next to the issue's targets and the peers'
figures measured for the issue (xargs -P 16 over 200 prompts at 200 ms: llm 98 s, shell_gpt 36 s,
curl 2.85 s). --quick runs only the 200-prompt figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GLM = str(Path(sys.executable).parent / "glm")
PEERS = "peers (issue 4, xargs -P 16): llm 98 s · shell_gpt 36 s · curl 2.85 s"


def write_prompts(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"q{i:07d}", "prompt": f"Question number {i}: say hi"}) + "\n")


def rss_mb(pid: int) -> float | None:
    """Return a process's resident memory now (Linux /proc), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run(cmd: list[str], env: dict[str, str], stop_after: float | None = None) -> tuple[float, float, int, list]:
    """Run cmd; return (wall s, peak RSS MB, exit code, RSS samples). SIGINT it after `stop_after` s."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples, next_sample, signalled = [], 1.0, False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)  # reaps it: ru_maxrss is this child's
        if pid:
            break
        now = time.perf_counter() - started
        if stop_after is not None and now >= stop_after and not signalled:
            proc.send_signal(signal.SIGINT)
            signalled = True
        if now >= next_sample:
            samples.append((round(now), rss_mb(proc.pid)))
            next_sample += 5.0
        time.sleep(0.05)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode, samples


def show(label: str, wall: float, rss: float, target: str, cmd: list[str]) -> None:
    print(f"{label:<34} {wall:7.2f} s  peak RSS {rss:6.1f} MB   (target {target})")
    print(f"    $ {' '.join(cmd)}")


def main() -> None:
    from tests.fake_server import FakeGLM

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="glm-bench-"))
    try:
        with FakeGLM() as srv:
            srv.first_byte_delay = 0.2
            env = {
                **os.environ,
                "GLM_API_KEY": srv.api_key,
                "GLM_BASE_URL": srv.base_url,
                "XDG_CONFIG_HOME": str(tmp / "cfg"),
                "XDG_DATA_HOME": str(tmp / "data"),
            }
            print(f"# fake server {srv.base_url}, 200 ms before the first byte; python {sys.version.split()[0]}")
            print(f"# {PEERS}")
            bench_small(tmp, env, quick=args.quick)
            if not args.quick:
                bench_million(tmp, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_small(tmp: Path, env: dict[str, str], quick: bool) -> None:
    """200 prompts at -j 16 and 10,000 at -j 64, to completion."""
    cases = [(200, 16, "≤ 3.5 s (floor 2.5 s)")]
    if not quick:
        cases.append((10_000, 64, "≤ 40 s (floor 31 s), RSS ≤ 150 MB"))
    for n, j, target in cases:
        src, out = tmp / f"p{n}.jsonl", tmp / f"o{n}.jsonl"
        write_prompts(src, n)
        cmd = [GLM, "batch", str(src), "-o", str(out), "-j", str(j)]
        wall, rss, code, _ = run(cmd, env)
        assert code == 0, f"exit {code}"
        show(f"{n:,} prompts, -j {j}", wall, rss, target, cmd)


def bench_million(tmp: Path, env: dict[str, str]) -> None:
    """A 1,000,000-line input: memory while it runs, and again when a rerun resumes over the output."""
    src, out = tmp / "p1m.jsonl", tmp / "o1m.jsonl"
    write_prompts(src, 1_000_000)
    cmd = [GLM, "batch", str(src), "-o", str(out), "-j", "64"]
    for label in ("1,000,000-line input, stopped at 30 s", "  … rerun: resumes over its output, 30 s"):
        wall, rss, _, samples = run(cmd, env, stop_after=30.0)
        show(label, wall, rss, "RSS flat, ≤ 150 MB", cmd)
        print("    RSS over time: " + ", ".join(f"{t} s {mb:.0f} MB" for t, mb in samples if mb))
        print(f"    records in the output: {sum(1 for _ in out.open('rb')):,}")


if __name__ == "__main__":
    main()
