"""`python -m glm_cli.completion`: regenerate completions/glm.{bash,zsh,fish} (an entry point, above cli)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from glm_cli.cli import build_command
from glm_cli.completion.gen import OUT_DIR, REGENERATE, SHELLS, command_specs, generate


def main(argv: list[str] | None = None) -> int:
    """Write completions/glm.{bash,zsh,fish}; with --check only report the ones out of date (exit 1)."""
    parser = argparse.ArgumentParser(prog=REGENERATE, description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="Change nothing; exit 1 when a file is out of date.")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"Directory to write (default {OUT_DIR}).")
    args = parser.parse_args(argv)
    specs = command_specs(build_command())
    stale = []
    for shell in SHELLS:
        path = args.out / f"glm.{shell}"
        text = generate(shell, specs=specs)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if args.check and stale:
        print(f"out of date: {', '.join(map(str, stale))}; run `{REGENERATE}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
