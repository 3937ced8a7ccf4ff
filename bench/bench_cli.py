"""Benchmarks for glm's figures: start-up, one-shot latency and streaming throughput.

Run: .venv/bin/python bench/bench_cli.py [--runs N]
Prints each figure with the exact command that produced it (median of N runs, wall clock).
Against tests/fake_server.py on 127.0.0.1, as the issue's figures are.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GLM = str(Path(sys.executable).parent / "glm")


def start_server(tokens: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_server.py"), "--port", "0",
                             "--tokens", str(tokens)], stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def median_time(cmd: list[str], runs: int, env: dict[str, str], stdout=subprocess.DEVNULL) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=stdout, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def show(label: str, seconds: float, target: str, cmd: str) -> None:
    print(f"{label:<44} {seconds:7.3f} s   (target {target})   $ {cmd}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    env = {**os.environ, "GLM_API_KEY": "fake-key-id.fake-secret-0000", "GLM_CONFIG": os.devnull + ".none"}
    env.pop("GLM_CONFIG")
    env["XDG_CONFIG_HOME"] = "/nonexistent-glm-bench"
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


if __name__ == "__main__":
    main()
