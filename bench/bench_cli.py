"""glm against the floor: start-up, a one-shot answer, streaming into a file, markdown on a terminal.

Run: .venv/bin/python bench/bench_cli.py [--runs N] [--glm PATH] [--only startup,oneshot,piped,pty]
Each row: glm and its floor run interleaved in this run, against the same fake server (bench/_server.py,
tests/fake_server.py answering with bench/content.py's realistic answers); medians; the ratio; the command.
Floors: `python -c pass` with glm's own venv interpreter (start-up); bench/floor_client.py, a 30-line
stdlib client (one-shot and piped); bench/floor_render.py, rich rendering the final document once (pty), after
writing a thinking model's reasoning to stderr in one piece.
"""

from __future__ import annotations

import os
import tempfile

from _common import BENCH, bench_env, fake_server, header, parser, row, venv_python, versus

PROMPT = "bench"


def startup(glm: str, runs: int) -> None:
    env = bench_env(glm)
    py = venv_python(glm)
    floor = [py, "-c", "pass"]
    for args, target in ((["--version"], "2×"), (["--help"], "4×")):
        mine, base = versus([glm, *args], floor, runs, env)
        row(f"`glm {args[0]}`", mine, base, f"glm {args[0]}  vs  {py} -c pass", target=target)


def oneshot(glm: str, runs: int) -> None:
    with fake_server("--tokens", "20") as srv:
        env = bench_env(glm, GLM_BASE_URL=srv.url)
        floor = [venv_python(glm), str(BENCH / "floor_client.py"), "--no-think", PROMPT]  # glm's interpreter
        for extra, what in (([], "logged to the history"), (["--no-log"], "--no-log")):
            cmd = [glm, "ask", "--no-think", *extra, PROMPT]
            mine, base = versus(cmd, floor, runs, env)
            row(
                f"one-shot, 20-token answer, {what}",
                mine,
                base,
                f"{' '.join(cmd[1:])}  vs  floor_client.py",
                target="3×",
            )


def piped(glm: str, runs: int) -> None:
    cases = (
        ("markdown", 20_000, 0, "20,000 tokens of markdown"),
        ("chinese", 20_000, 0, "20,000 tokens of Chinese"),
        ("markdown", 2_000, 20_000, "20,000 tokens of reasoning + 2,000 of markdown"),
    )
    for kind, tokens, reasoning, label in cases:
        think = [] if reasoning else ["--no-think"]
        with (
            fake_server("--kind", kind, "--tokens", str(tokens), "--reasoning-tokens", str(reasoning)) as srv,
            tempfile.TemporaryFile() as sink,
        ):
            env = bench_env(glm, GLM_BASE_URL=srv.url)
            cmd = [glm, "ask", *think, PROMPT]
            floor = [venv_python(glm), str(BENCH / "floor_client.py"), *think, PROMPT]
            mine, base = versus(cmd, floor, runs, env, stdout=sink.fileno())
            row(
                f"{label}, streamed into a file",
                mine,
                base,
                f"{' '.join(cmd[1:])} > FILE  vs  floor_client.py > FILE",
                target="1.3×",
            )


def terminal(glm: str, runs: int) -> None:
    cases = (
        ("markdown", 5_000, 0, "5,000 tokens of markdown"),
        ("markdown", 10_000, 0, "10,000 tokens of markdown"),
        ("markdown", 20_000, 0, "20,000 tokens of markdown"),
        ("chinese", 20_000, 0, "20,000 tokens of Chinese"),
        ("markdown", 10_000, 10_000, "a thinking model: 10,000 tokens of reasoning (shown), then 10,000 of markdown"),
    )
    for kind, tokens, reasoning, label in cases:
        with fake_server("--kind", kind, "--tokens", str(tokens), "--reasoning-tokens", str(reasoning)) as srv:
            env = bench_env(glm, GLM_BASE_URL=srv.url)
            cmd = [glm, "ask", *([] if reasoning else ["--no-think"]), PROMPT]
            floor = [venv_python(glm), str(BENCH / "floor_render.py"), kind, str(tokens), str(reasoning)]
            mine, base = versus(cmd, floor, runs, env, terminal=True)
            row(
                f"{label} on a 100×40 pty",
                mine,
                base,
                f"{' '.join(cmd[1:])}  vs  floor_render.py {' '.join(floor[2:])} (rich, once)",
                target="2×",
                on="CPU",
            )


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--only", default="startup,oneshot,piped,pty")
    args = ap.parse_args()
    header("bench_cli", args.runs, args.glm)
    only = args.only.split(",")
    slow = max(3, args.runs // 2)
    if "startup" in only:
        startup(args.glm, args.runs)
    if "oneshot" in only:
        oneshot(args.glm, args.runs)
    if "piped" in only:
        piped(args.glm, slow)
    if "pty" in only:
        terminal(args.glm, slow)


if __name__ == "__main__":
    os.chdir(BENCH)
    main()
