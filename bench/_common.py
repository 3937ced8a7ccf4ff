"""What the bench scripts share: where glm is, a median wall-clock time, one printed figure."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GLM = str(Path(sys.executable).parent / "glm")


def median_time(cmd: list[str], runs: int, env: dict[str, str], stdout=subprocess.DEVNULL) -> float:
    """Run CMD RUNS times (stdin and stderr on /dev/null); return the median wall-clock seconds."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=stdout, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def show(label: str, seconds: float, target: str, cmd: str) -> None:
    print(f"{label:<44} {seconds:7.3f} s   (target {target})   $ {cmd}")
