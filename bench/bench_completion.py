"""How long a TAB press takes: `glm __complete` on its own, and a whole completion request in each shell.

Run: .venv/bin/python bench/bench_completion.py [--runs N]
Prints each figure with the command that produced it (median of N runs, wall clock). A shell's figure is
per TAB: (time for K+1 requests in one shell process - time for 1) / K, so shell start-up is not counted.
Target: ≤ 0.15 s per TAB (issue 5).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from _common import GLM, ROOT, median_time, show

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
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--per-shell", type=int, default=10, help="completion requests per shell process")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/config",
            "PATH": f"{Path(GLM).parent}:/usr/bin:/bin",
            "TERM": "dumb",
        }
        print(f"# median of {args.runs} runs, python {sys.version.split()[0]}; HOME={home}")
        for kind in ("models", "presets"):
            show(
                f"glm __complete {kind} (no config file)",
                median_time([GLM, "__complete", kind], args.runs, env),
                "≤ 0.15 s",
                f"{GLM} __complete {kind}",
            )
        Path(f"{home}/config/glm").mkdir(parents=True)
        Path(f"{home}/config/glm/config.yaml").write_text(CONFIG)
        for kind in ("models", "presets"):
            show(
                f"glm __complete {kind} (config file, yaml)",
                median_time([GLM, "__complete", kind], args.runs, env),
                "≤ 0.15 s",
                f"XDG_CONFIG_HOME={home}/config {GLM} __complete {kind}",
            )
        for shell in ("bash", "zsh", "fish"):
            one, many = shell_command(shell, 1), shell_command(shell, args.per_shell + 1)
            if one is None or many is None:
                print(f"{shell}: not installed, skipped")
                continue
            runs = max(3, args.runs // 3)
            per_tab = (median_time(many, runs, env) - median_time(one, runs, env)) / args.per_shell
            show(
                f"{shell}: one TAB on `{LINE}`",
                per_tab,
                "≤ 0.15 s",
                f"({' '.join(many[:2])} … {args.per_shell + 1} requests − 1 request) / {args.per_shell}",
            )


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
