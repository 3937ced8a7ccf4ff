"""What the bench scripts share: which glm, runs timed beside their floor, the fake server, one printed row.

Every figure is printed as one row: work | glm | floor | ratio | command, where glm and the floor ran
interleaved (glm, floor, glm, floor, …) in the same run and each figure is the median. Wall clock and
CPU (user + system of the child, from wait4) are both taken; each row says which one it shows.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
GLM = str(Path(sys.executable).parent / "glm")
FAKE_KEY = "fake-key-id.fake-secret-0000"


def parser(doc: str | None) -> argparse.ArgumentParser:
    """Return an argument parser with the options every bench takes (--runs, --glm)."""
    ap = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=11, help="runs of each side (median shown)")
    ap.add_argument("--glm", default=GLM, help="the glm executable to measure (e.g. another checkout's venv)")
    ap.add_argument(
        "--installed",
        nargs=0,
        action=_Installed,
        help="measure a regular (not editable) `pip install` of this checkout, made in a throw-away venv: what a"
        " user installs (an editable install's import finder costs every interpreter of its venv ~10 ms)",
    )
    return ap


class _Installed(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, *_: object) -> None:
        namespace.glm = regular_install()


def regular_install() -> str:
    """Install this checkout, not editable, into a throw-away venv; return its glm (removed at exit)."""
    import atexit
    import shutil

    tmp = Path(tempfile.mkdtemp(prefix="glm-bench-venv-"))
    atexit.register(shutil.rmtree, tmp, True)
    src = tmp / "src"  # a copy: pip builds in the source tree, which would leave build/ in the checkout
    shutil.copytree(ROOT / "glm_cli", src / "glm_cli", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    venv = tmp / "venv"
    print(f"# installing {ROOT} (not editable) into {venv} ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(src)], check=True, stderr=subprocess.DEVNULL)
    return str(venv / "bin" / "glm")


def venv_python(glm: str) -> str:
    """Return the interpreter of GLM's own venv (the floor for start-up figures)."""
    return str(Path(glm).parent / "python")


def bench_env(glm: str, **extra: str) -> dict[str, str]:
    """Return an environment with a fake key, no user config and a throw-away history directory."""
    import atexit
    import shutil

    data = tempfile.mkdtemp(prefix="glm-bench-data-")
    atexit.register(shutil.rmtree, data, True)
    # PYTHONDONTWRITEBYTECODE would make glm compile its own source on every run: an installed glm has its
    # byte code (pip writes it), so the bench lets the warm-up run write it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLM_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        GLM_API_KEY=FAKE_KEY,
        XDG_CONFIG_HOME="/nonexistent-glm-bench",
        XDG_DATA_HOME=data,
        PATH=f"{Path(glm).parent}:{env['PATH']}",
    )
    env.update(extra)
    return env


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def timed(
    cmd: Sequence[str],
    env: dict[str, str],
    *,
    stdout: int | None = subprocess.DEVNULL,
    stdin: int | None = subprocess.DEVNULL,
    terminal: bool = False,
    check: bool = True,
) -> Timing:
    """Run CMD once; return its wall-clock and CPU seconds. terminal: stdout and stderr on a 100×40 pty."""
    if terminal:
        return _on_pty(cmd, env)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.DEVNULL, stdin=stdin)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if check and code != 0:
        raise RuntimeError(f"exit {code}: {' '.join(cmd)}")
    return Timing(wall, usage.ru_utime + usage.ru_stime)


def _on_pty(cmd: Sequence[str], env: dict[str, str]) -> Timing:
    import pty

    leader, follower = pty.openpty()
    _set_size(follower, 40, 100)
    env = {**env, "COLUMNS": "100", "LINES": "40", "TERM": "xterm-256color"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    while True:  # drain the terminal so the child never blocks on a full pty buffer
        try:
            if not os.read(leader, 1 << 16):
                break
        except OSError:
            break
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    os.close(leader)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"exit {os.waitstatus_to_exitcode(status)}: {' '.join(cmd)}")
    return Timing(wall, usage.ru_utime + usage.ru_stime)


def _set_size(fd: int, rows: int, cols: int) -> None:
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def versus(
    glm_cmd: Sequence[str],
    floor_cmd: Sequence[str],
    runs: int,
    env: dict[str, str],
    floor_env: dict[str, str] | None = None,
    **kw: object,
) -> tuple[Timing, Timing]:
    """Run glm and its floor interleaved RUNS times each, after one untimed warm-up of each (byte code written,
    files in the page cache); return their median timings."""
    timed(glm_cmd, env, **kw)  # type: ignore[arg-type]
    timed(floor_cmd, floor_env or env, **kw)  # type: ignore[arg-type]
    mine, floor = [], []
    for _ in range(runs):
        mine.append(timed(glm_cmd, env, **kw))  # type: ignore[arg-type]
        floor.append(timed(floor_cmd, floor_env or env, **kw))  # type: ignore[arg-type]
    return _median(mine), _median(floor)


def _median(ts: list[Timing]) -> Timing:
    return Timing(statistics.median(t.wall for t in ts), statistics.median(t.cpu for t in ts))


def header(title: str, runs: int, glm: str) -> None:
    print(f"# {title}: median of {runs} interleaved runs; python {sys.version.split()[0]}; glm {glm}")
    print(f"# load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("| work | glm | floor | ratio | command |")
    print("| --- | --- | --- | --- | --- |")


def row(
    work: str, glm: Timing, floor: Timing, cmd: str, *, target: str = "", on: str = "wall", cpu_unit: str = "s CPU"
) -> None:
    """Print one table row: work | glm | floor | ratios (the target applies to ON: wall or CPU) | command."""

    def ratio(a: float, b: float) -> str:
        if math.isnan(a) or math.isnan(b):
            return "n/a"
        return f"{a / b:.2f}×" if b > 0 else "∞"

    def cpu(t: Timing) -> str:
        return "CPU not measured" if math.isnan(t.cpu) else f"{t.cpu:.3f} {cpu_unit}"

    aim = f" (target {on} ≤ {target})" if target else ""
    mine, base = f"{glm.wall:.3f} s wall, {cpu(glm)}", f"{floor.wall:.3f} s wall, {cpu(floor)}"
    print(
        f"| {work} | {mine} | {base} | wall {ratio(glm.wall, floor.wall)}, CPU {ratio(glm.cpu, floor.cpu)}{aim} "
        f"| `{cmd}` |",
        flush=True,
    )


@dataclass
class Server:
    """A running bench/_server.py: its base URL, and what it tells about itself."""

    url: str
    proc: subprocess.Popen

    def first_request(self) -> float:
        """Wait for the first chat request; return when it arrived (time.monotonic(), this process's clock too)."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        return float(line.split()[1])

    def cpu(self) -> float:
        """Return the CPU seconds the server has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def fake_server(*args: str) -> Iterator[Server]:
    """Run bench/_server.py (tests/fake_server.py with realistic answers) in its own process."""
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "_server.py"), "--port", "0", *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield Server(proc.stdout.readline().strip(), proc)
    finally:
        proc.terminate()
        proc.wait()
