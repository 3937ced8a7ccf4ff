"""`glm batch` against its floors: latency-bound, CPU-bound, at scale, and a million-line input.

Run: .venv/bin/python bench/bench_batch.py [--runs N] [--glm PATH] [--only latency,cpu,scale,million]
The fake server (bench/_server.py) runs in its own process; its CPU is reported apart from glm's.
- latency: 10,000 prompts at -j 64, 200 ms before each answer: glm's wall time beside the latency floor
  (ceil(N / j) × 200 ms: what 64 requests in flight at all times would take) and beside floor_batch.py.
- cpu: 3,000 prompts at -j 64, 20 ms: glm is CPU-bound; its CPU per record and wall time beside
  floor_batch.py (64 threads, one sync httpx.Client each, one JSON record per answer), interleaved.
- scale: 100,000 prompts at -j 256, 50 ms: wall, peak RSS, and where the CPU went (glm, the server).
- million: a 1,000,000-line input, stopped after 30 s: when the first request left, RSS over time
  (the duplicate-id scan included), then a rerun that resumes over the output.
"""

from __future__ import annotations

import functools
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import BENCH, Server, Timing, bench_env, fake_server, parser, row, venv_python, versus


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


def watched(cmd: list[str], env: dict[str, str], stop_after: float | None = None, pids: list | None = None) -> dict:
    """Run CMD; return wall, CPU, peak RSS (MB), exit code and RSS samples. SIGINT it after STOP_AFTER s."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if pids is not None:
        pids.append(proc.pid)
    samples, next_sample, signalled = [], 0.5, False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)  # reaps it: ru_maxrss is this child's
        if pid:
            break
        now = time.monotonic() - started
        if stop_after is not None and now >= stop_after and not signalled:
            proc.send_signal(signal.SIGINT)
            signalled = True
        if now >= next_sample:
            samples.append((now, rss_mb(proc.pid)))
            next_sample += 0.5 if now < 5 else 5.0
        time.sleep(0.02)
    return dict(
        wall=time.monotonic() - started,
        started=started,
        cpu=usage.ru_utime + usage.ru_stime,
        sys=usage.ru_stime,
        rss=usage.ru_maxrss / 1024,
        code=os.waitstatus_to_exitcode(status),
        samples=samples,
    )


def records(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


def latency(glm: str, tmp: Path, _runs: int) -> None:
    n, j, delay = 10_000, 64, 0.2
    src = tmp / "latency.jsonl"
    write_prompts(src, n)
    with fake_server("--first-byte-delay", str(delay)) as srv:
        env = bench_env(glm, GLM_BASE_URL=srv.url)
        out = tmp / "latency-out.jsonl"
        cmd = [glm, "batch", str(src), "-o", str(out), "-j", str(j)]
        mine = watched(cmd, env)
        assert mine["code"] == 0 and records(out) == n, mine
        ideal = math.ceil(n / j) * delay
        row(
            f"{n:,} prompts, -j {j}, {delay * 1000:.0f} ms latency; glm peak RSS {mine['rss']:.0f} MB",
            Timing(mine["wall"], mine["cpu"]),
            Timing(ideal, 0.0),
            f"glm batch FILE -j {j}  vs  ceil({n:,}/{j}) × {delay} s (the latency floor)",
            target="1.1×",
        )
        floor_out = tmp / "latency-floor.jsonl"
        floor = watched([venv_python(glm), str(BENCH / "floor_batch.py"), str(src), str(floor_out), str(j)], env)
        row(
            f"{n:,} prompts, -j {j}, {delay * 1000:.0f} ms latency; floor peak RSS {floor['rss']:.0f} MB",
            Timing(mine["wall"], mine["cpu"]),
            Timing(floor["wall"], floor["cpu"]),
            f"glm batch FILE -j {j}  vs  floor_batch.py FILE OUT {j}",
        )


def cpu_bound(glm: str, tmp: Path, runs: int) -> None:
    n, j, delay = 3_000, 64, 0.02
    src = tmp / "cpu.jsonl"
    write_prompts(src, n)
    with fake_server("--first-byte-delay", str(delay)) as srv:
        env = bench_env(glm, GLM_BASE_URL=srv.url)
        out, floor_out = tmp / "cpu-out.jsonl", tmp / "cpu-floor.jsonl"
        glm_cmd = ["sh", "-c", f'rm -f "{out}"; exec {glm} batch "{src}" -o "{out}" -j {j}']
        floor_cmd = [venv_python(glm), str(BENCH / "floor_batch.py"), str(src), str(floor_out), str(j)]
        server_before = srv.cpu()
        mine, base = versus(glm_cmd, floor_cmd, runs, env)
        server = (srv.cpu() - server_before) / (2 * runs)
        assert records(out) == n and records(floor_out) == n
        per = Timing(mine.wall, mine.cpu / n * 1000)
        floor_per = Timing(base.wall, base.cpu / n * 1000)
        row(
            f"{n:,} prompts, -j {j}, {delay * 1000:.0f} ms: wall, and CPU per record; the server used {server:.2f} s "
            "CPU a run",
            per,
            floor_per,
            f"glm batch FILE -j {j}  vs  floor_batch.py FILE OUT {j}",
            target="1.25×",
            cpu_unit="ms CPU/record",
        )


def scale(glm: str, tmp: Path, _runs: int, n: int = 100_000) -> None:
    j, delay = 256, 0.05
    src = tmp / "scale.jsonl"
    write_prompts(src, n)
    with fake_server("--first-byte-delay", str(delay)) as srv:
        env = bench_env(glm, GLM_BASE_URL=srv.url)
        out = tmp / "scale-out.jsonl"
        server_before = srv.cpu()
        mine = watched([glm, "batch", str(src), "-o", str(out), "-j", str(j)], env)
        server = srv.cpu() - server_before
        assert mine["code"] == 0 and records(out) == n, mine
        ideal = math.ceil(n / j) * delay
        row(
            f"{n:,} prompts, -j {j}, {delay * 1000:.0f} ms latency; glm peak RSS {mine['rss']:.0f} MB, "
            f"glm CPU {mine['cpu']:.0f} s ({mine['sys']:.0f} s of it in the kernel), server CPU {server:.0f} s",
            Timing(mine["wall"], mine["cpu"]),
            Timing(ideal, 0.0),
            f"glm batch FILE -j {j}  vs  ceil({n:,}/{j}) × {delay} s",
        )
        print(f"    RSS over time: {rss_curve(mine['samples'])}")


def million(glm: str, tmp: Path, _runs: int) -> None:
    src, out = tmp / "million.jsonl", tmp / "million-out.jsonl"
    write_prompts(src, 1_000_000)
    for label in ("1,000,000-line input", "  … rerun, resuming over its output"):
        with fake_server("--first-byte-delay", "0.2") as srv:
            env = bench_env(glm, GLM_BASE_URL=srv.url)
            pids: list[int] = []
            first = _first_request_in_background(srv, pids)
            result = watched([glm, "batch", str(src), "-o", str(out), "-j", "64"], env, stop_after=30.0, pids=pids)
            when, cpu = first()
            print(
                f"| {label}: first request after {when - result['started']:.2f} s ({cpu:.2f} s of glm's CPU; "
                f"target ≤ 2 s), peak RSS "
                f"{result['rss']:.0f} MB (target < 100 MB), {records(out):,} records after 30 s, glm CPU "
                f"{result['cpu']:.1f} s | | | | `glm batch FILE -o OUT -j 64` |"
            )
            print(f"    RSS over time: {rss_curve(result['samples'])}")


def _first_request_in_background(srv: Server, pids: list[int]):  # noqa: ANN202
    """Wait for the first request in a thread; the returned function gives (when it came, glm's CPU by then)."""
    import threading

    seen: list[tuple[float, float]] = []

    def read() -> None:
        try:
            when = srv.first_request()
            fields = Path(f"/proc/{pids[0]}/stat").read_text().rsplit(")", 1)[1].split()
            seen.append((when, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")))
        except (IndexError, ValueError, OSError):  # the server or glm stopped first
            pass

    thread = threading.Thread(target=read, daemon=True)
    thread.start()

    def wait() -> tuple[float, float]:
        thread.join(60)
        return seen[0] if seen else (float("nan"), float("nan"))

    return wait


def rss_curve(samples: list) -> str:
    return ", ".join(f"{t:.1f} s {mb:.0f} MB" for t, mb in samples if mb)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--only", default="latency,cpu,scale,million")
    ap.add_argument("--scale", type=int, default=100_000, help="prompts of the -j 256 run")
    args = ap.parse_args()
    print(
        f"# bench_batch: python {sys.version.split()[0]}; glm {args.glm}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print("| work | glm | floor | ratio | command |\n| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="glm-bench-batch-") as tmp:
        scaled = functools.partial(scale, n=args.scale)
        for name, fn in (("latency", latency), ("cpu", cpu_bound), ("scale", scaled), ("million", million)):
            if name in args.only.split(","):
                fn(args.glm, Path(tmp), max(1, args.runs // 4))


if __name__ == "__main__":
    main()
