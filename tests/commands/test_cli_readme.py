"""Every `glm …` command line in the README parses as printed (no unknown option, no missing value)."""

from __future__ import annotations

import re
import shlex

import pytest
from typer.core import TyperGroup

from glm_cli.cli import build_command, default_to_ask, with_flag_defaults
from tests.conftest import ROOT

ROOT_CMD = build_command()
STOP = {"|", "||", "&&", ";", "<", ">", "2>usage.log", "#"}  # the shell's business, not glm's


def readme_command_lines() -> list[str]:
    """The `glm …` invocations in the README's code blocks (synopsis lines with [OPTIONS] or … left out)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = re.sub(r"^alias \w+='([^']*)'.*", r"\1", line)  # alias gc='git diff | glm ask -p commit'
            for part in re.split(r" · |\| |; do ", line):
                part = part.strip()
                if part.startswith("glm ") and not re.search(r"\[|…|^glm batch:", part):
                    found.append(part)
    return found


LINES = readme_command_lines()


def parse(argv: list[str]) -> None:
    """Parse ARGV as `glm` would, down to the command that runs, and apply what it refuses before running
    (`-o json`, retired spellings); raise click's or glm's UsageError if it would not run."""
    cmd, ctx, name, args = ROOT_CMD, None, "glm", with_flag_defaults(default_to_ask(argv))
    while True:
        ctx = cmd.make_context(name, list(args), parent=ctx)
        if hasattr(cmd, "refusals"):
            cmd.refusals.check(ctx.params)
        rest = [*ctx._protected_args, *ctx.args]
        if not isinstance(cmd, TyperGroup) or not rest:
            return
        name, cmd, args = cmd.resolve_command(ctx, rest)


def test_the_readme_has_examples_of_every_command():
    assert len(LINES) > 40
    assert {line.split()[1] for line in LINES} >= {"ask", "chat", "batch", "models", "history", "config", "completion"}


@pytest.mark.parametrize("line", LINES)
def test_readme_command_line_parses(line):
    words = shlex.split(line, comments=True)
    argv = []
    for word in words[1:]:
        if word in STOP or word.startswith((">", "2>")):
            break
        argv.append(word)
    parse(argv)
