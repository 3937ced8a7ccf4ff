"""How long a TAB press takes: `glm __complete` on its own, and a whole completion request in each shell.

Run: .venv/bin/python bench/bench_completion.py [--runs N] [--glm PATH] [--conversations N]
Each row: glm beside `python -c pass` (glm's venv interpreter), interleaved, medians. A shell's figure is per
TAB: (time for K+1 requests in one shell process - time for 1) / K, so shell start-up is not counted.
Target: a TAB under 0.1 s (issue 14), whatever the floor.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ROOT, Timing, header, parser, row, venv_python, versus

CONFIG = """\
aliases: {quick: glm-4.7-flashx}
presets:
  commit: {description: commit message}
  translate: {system: Translate.}
profiles:
  work: {endpoint: zai}
"""
LINE = "glm ask --model gl"
CONVERSATION_LINES = ("glm history show ", "glm chat --resume topic-12", "glm history show 4242")


def fill(path: Path, conversations: int) -> None:
    """Write N conversations (every tenth named topic-N) through glm's own schema, newest last."""
    sys.path.insert(0, str(ROOT))
    from glm_cli.store import Store

    Store.open(path).close()
    now = time.time()
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO conversations (id, name, title, source, created, updated) VALUES (?, ?, ?, 'chat', ?, ?)",
            (
                (i, f"topic-{i}" if i % 10 == 0 else None, f"How do I configure step {i}?", now + i, now + i)
                for i in range(1, conversations + 1)
            ),
        )
    db.close()


def shell_command(shell: str, n: int, line: str = LINE) -> list[str] | None:
    """A command that runs N completion requests for LINE in one SHELL process."""
    path = shutil.which(shell)
    if path is None:
        return None
    if shell == "bash":
        words = line.split() + ([""] if line.endswith(" ") else [])
        script = (
            f"source {ROOT}/completions/glm.bash; for ((k=0; k<{n}; k++)); do "
            f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; COMPREPLY=(); _glm; done"
        )
        return [path, "--norc", "--noprofile", "-c", script]
    if shell == "fish":
        script = f"source {ROOT}/completions/glm.fish; for k in (seq {n}); complete -C '{line}' >/dev/null; end"
        return [path, "--no-config", "-c", script]
    return [path, "-f", str(ROOT / "tests" / "zsh_capture.zsh"), str(ROOT / "completions" / "glm.zsh"), *[line] * n]


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--per-shell", type=int, default=10, help="completion requests per shell process")
    ap.add_argument("--conversations", type=int, default=100_000, help="conversations in the history store")
    args = ap.parse_args()
    glm, floor = args.glm, [venv_python(args.glm), "-c", "pass"]
    header("bench_completion", args.runs, glm)
    with tempfile.TemporaryDirectory() as home:
        env = {
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/config",
            "PATH": f"{Path(glm).parent}:/usr/bin:/bin",
            "TERM": "dumb",
        }
        for kind in ("models", "presets"):
            mine, base = versus([glm, "__complete", kind], floor, args.runs, env)
            row(
                f"`glm __complete {kind}`, no config file",
                mine,
                base,
                f"glm __complete {kind}  vs  python -c pass",
                target="0.1 s",
            )
        Path(f"{home}/config/glm").mkdir(parents=True)
        Path(f"{home}/config/glm/config.yaml").write_text(CONFIG)
        for kind in ("models", "presets"):
            mine, base = versus([glm, "__complete", kind], floor, args.runs, env)
            row(
                f"`glm __complete {kind}`, a YAML config",
                mine,
                base,
                f"glm __complete {kind}  vs  python -c pass",
                target="0.1 s",
            )
        for shell in ("bash", "zsh", "fish"):
            shell_row(shell, LINE, args, env, floor)
        fill(Path(home) / "data" / "glm" / "history.db", args.conversations)
        env["XDG_DATA_HOME"] = f"{home}/data"
        n = f"{args.conversations:,} conversations"
        for line in CONVERSATION_LINES:
            words = [*line.split(), *([""] if line.endswith(" ") else [])]
            mine, base = versus([glm, "__complete", "conversations", *words], floor, args.runs, env)
            row(f"`{line}<TAB>` values, {n}", mine, base, f"glm __complete conversations {line!r}", target="0.1 s")
        for shell in ("bash", "zsh", "fish"):
            shell_row(shell, CONVERSATION_LINES[0], args, env, floor, f", {n}")


def shell_row(shell: str, line: str, args: Any, env: dict[str, str], floor: list[str], note: str = "") -> None:
    """One row: a TAB on LINE in SHELL, shell start-up not counted."""
    one, many = shell_command(shell, 1, line), shell_command(shell, args.per_shell + 1, line)
    if one is None or many is None:
        print(f"| {shell}: one TAB | not installed, skipped | | | |")
        return
    runs = max(3, args.runs // 3)
    a, b = versus(many, one, runs, env)
    # zsh completes inside a zpty that the measured zsh does not wait for: its CPU is not counted, only the wall.
    cpu = float("nan") if shell == "zsh" else (a.cpu - b.cpu) / args.per_shell
    per_tab = Timing((a.wall - b.wall) / args.per_shell, cpu)
    mine, base = versus([args.glm, "__complete", "models"], floor, runs, env)
    row(
        f"{shell}: one TAB on `{line}`{note}",
        per_tab,
        base,
        f"({shell} running {args.per_shell + 1} completions − 1) / {args.per_shell}  vs  python -c pass",
        target="0.1 s",
    )


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
