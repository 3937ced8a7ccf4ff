"""Benchmarks for glm's figures: start-up, one-shot latency and streaming throughput.

Run: .venv/bin/python bench/bench_cli.py [--runs N]
Prints each figure with the exact command that produced it (median of N runs, wall clock).
Against tests/fake_server.py on 127.0.0.1, as the issue's figures are.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _common import GLM, ROOT, median_time, show


def start_server(tokens: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_server.py"), "--port", "0",
                             "--tokens", str(tokens)], stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def pty_run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run CMD with stdout and stderr on a pseudo-terminal; return (wall, child CPU) seconds."""
    import pty

    leader, follower = pty.openpty()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**env, "COLUMNS": "100", "LINES": "40", "TERM": "xterm-256color"},
                            stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    while True:  # drain the terminal so the child never blocks on a full pty buffer
        try:
            if not os.read(leader, 65536):
                break
        except OSError:
            break
    _, _, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    os.close(leader)
    return wall, rusage.ru_utime + rusage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    env = {**os.environ, "GLM_API_KEY": "fake-key-id.fake-secret-0000"}
    env.pop("GLM_CONFIG", None)
    env["XDG_CONFIG_HOME"] = "/nonexistent-glm-bench"
    env["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="glm-bench-data-")  # ask logs its turns: not into yours
    atexit.register(shutil.rmtree, env["XDG_DATA_HOME"], True)
    print(f"# median of {args.runs} runs, python {sys.version.split()[0]}")
    show("glm --version", median_time([GLM, "--version"], args.runs, env), "≤ 0.10 s", f"{GLM} --version")
    show("glm --help", median_time([GLM, "--help"], args.runs, env), "≤ 0.15 s", f"{GLM} --help")

    for tokens, target, label in ((20, "≤ 0.25 s", "ask, 20 streamed tokens, piped"),
                                  (20_000, "≤ 0.6 s", "ask, 20,000 streamed tokens, piped to a file")):
        proc, base = start_server(tokens)
        try:
            benv = {**env, "GLM_BASE_URL": base}
            cmd = [GLM, "ask", "--no-think", "bench"]
            with open(os.devnull, "w") as sink:
                secs = median_time(cmd, args.runs if tokens < 1000 else max(3, args.runs // 2), benv, stdout=sink)
            show(label, secs, target, f"GLM_BASE_URL={base} {' '.join(cmd)} > /dev/null")
        finally:
            proc.terminate()
            proc.wait()

    for tokens in (5_000, 10_000, 20_000):
        proc, base = start_server(tokens)
        try:
            benv = {**env, "GLM_BASE_URL": base}
            cmd = [GLM, "ask", "--no-think", "bench"]
            runs = [pty_run(cmd, benv) for _ in range(max(3, args.runs // 3))]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            target = "≤ 1.5 s" if tokens == 20_000 else "linear"
            show(f"ask, {tokens:,} tokens, markdown on a pty", wall, target,
                 f"GLM_BASE_URL={base} {' '.join(cmd)}  (on a pty; CPU {cpu:.3f} s)")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
