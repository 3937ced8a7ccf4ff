"""How long a TAB press takes: `glm __complete` on its own, and a whole completion request in each shell.

Run: .venv/bin/python bench/bench_completion.py [--runs N] [--glm PATH]
Each row: glm beside `python -c pass` (glm's venv interpreter), interleaved, medians. A shell's figure is per
TAB: (time for K+1 requests in one shell process - time for 1) / K, so shell start-up is not counted.
Target: a TAB under 0.1 s (issue 14), whatever the floor.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

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


def shell_command(shell: str, n: int) -> list[str] | None:
    """A command that runs N completion requests for LINE in one SHELL process."""
    path = shutil.which(shell)
    if path is None:
        return None
    if shell == "bash":
        script = (
            f"source {ROOT}/completions/glm.bash; for ((k=0; k<{n}; k++)); do "
            f"COMP_WORDS=({LINE}); COMP_CWORD=3; COMPREPLY=(); _glm; done"
        )
        return [path, "--norc", "--noprofile", "-c", script]
    if shell == "fish":
        script = f"source {ROOT}/completions/glm.fish; for k in (seq {n}); complete -C '{LINE}' >/dev/null; end"
        return [path, "--no-config", "-c", script]
    return [path, "-f", str(ROOT / "tests" / "zsh_capture.zsh"), str(ROOT / "completions" / "glm.zsh"), *[LINE] * n]


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--per-shell", type=int, default=10, help="completion requests per shell process")
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
            one, many = shell_command(shell, 1), shell_command(shell, args.per_shell + 1)
            if one is None or many is None:
                print(f"| {shell}: one TAB | not installed, skipped | | | |")
                continue
            runs = max(3, args.runs // 3)
            a, b = versus(many, one, runs, env)
            per_tab = Timing((a.wall - b.wall) / args.per_shell, (a.cpu - b.cpu) / args.per_shell)
            mine, base = versus([glm, "__complete", "models"], floor, runs, env)
            row(
                f"{shell}: one TAB on `{LINE}`",
                per_tab,
                base,
                f"({shell} running {args.per_shell + 1} completions − 1) / {args.per_shell}  vs  python -c pass",
                target="0.1 s",
            )


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
