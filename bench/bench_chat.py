"""Benchmarks for `glm chat`: start-up and the cost of each next request.

Run: .venv/bin/python bench/bench_chat.py [--runs N]
Prints each figure with the command that produced it:
- start of `glm chat` to the first prompt, on a pseudo-terminal (target ≤ 0.35 s);
- the time to build each next request over a 200-turn conversation (must stay flat), next to the
  time json takes to encode that body (which grows with the conversation, as it must);
History at scale is bench_history.py.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import GLM, ROOT

sys.path.insert(0, str(ROOT))


def show(label: str, value: str, target: str, cmd: str) -> None:
    print(f"{label:<48} {value:>12}   (target {target})   $ {cmd}")


def time_to_prompt(env: dict[str, str]) -> float:
    """Start `glm chat` on a pty; return the seconds until the prompt is drawn."""
    master, slave = pty.openpty()
    started = time.perf_counter()
    proc = subprocess.Popen([GLM, "chat", "--no-log"], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    try:
        while b"glm>" not in seen:
            ready, _, _ = select.select([master], [], [], 5)
            if not ready:
                raise RuntimeError(f"no prompt within 5 s: {seen[-300:]!r}")
            seen += os.read(master, 65536)
        return time.perf_counter() - started
    finally:
        os.write(master, b"\x04")  # Ctrl-D: leave
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(master)


def request_build_times(turns: int = 200, preserve: bool = True) -> list[tuple[int, float, float]]:
    """Grow a conversation turn by turn; return (turn, build seconds, json-encode seconds) at some turns."""
    import json

    from glm_cli.app import App
    from glm_cli.conversation import Conversation, Message
    from glm_cli.iostreams import IOStreams
    from glm_cli.turn import build_turn_request, with_preserve

    app = App(ios=IOStreams.for_test(), environ={"HOME": "/nonexistent", "XDG_CONFIG_HOME": "/nonexistent"})
    settings = with_preserve(app.settings(), preserve)
    catalogue = app.catalogue(settings)
    conv = Conversation(system="You are a careful reviewer.")
    marks = {1, 25, 50, 100, 150, 200}
    out = []
    for turn in range(1, turns + 1):
        conv.add_user(f"question {turn}: " + "words " * 60)
        samples = []
        for _ in range(15):
            t0 = time.perf_counter()
            body = build_turn_request(conv, settings, catalogue=catalogue)
            samples.append(time.perf_counter() - t0)
        if turn in marks:
            t0 = time.perf_counter()
            json.dumps(body, ensure_ascii=False)
            out.append((turn, statistics.median(samples), time.perf_counter() - t0))
        conv.add(Message(role="assistant", content="answer " * 300, reasoning="thinking " * 150))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="glm-bench-chat-"))
    try:
        run_all(tmp, args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_all(tmp: Path, runs: int) -> None:
    env = {
        **os.environ,
        "GLM_API_KEY": "fake-key-id.fake-secret-0000",
        "XDG_CONFIG_HOME": str(tmp / "cfg"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "TERM": "xterm-256color",
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    env.pop("GLM_CONFIG", None)
    print(f"# median of {runs} runs, python {sys.version.split()[0]}")

    time_to_prompt(env)  # warm the disk cache
    secs = statistics.median(time_to_prompt(env) for _ in range(runs))
    show("glm chat: start to first prompt (pty)", f"{secs:.3f} s", "≤ 0.35 s", f"{GLM} chat --no-log")

    for preserve in (True, False):
        build = request_build_times(preserve=preserve)
        mode = "preserved thinking" if preserve else "reasoning dropped"
        for turn, seconds, encode in build:
            show(
                f"request build, turn {turn:>3} of 200 ({mode})",
                f"{seconds * 1e6:.1f} µs",
                "flat",
                f"build_turn_request(...)  (json.dumps of that body: {encode * 1e3:.2f} ms)",
            )
        print(
            f"{'':<48} turn 200 / turn 1 = {build[-1][1] / build[0][1]:.1f}x for the build, "
            f"{build[-1][2] / build[0][2]:.0f}x for encoding the body"
        )


if __name__ == "__main__":
    main()
