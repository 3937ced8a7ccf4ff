"""The Typer layer of `glm batch`: the local run (the default subcommand) and the Batch API subcommands."""

from __future__ import annotations

from typing import Any

from glm_cli.commands import binding
from glm_cli.commands.batch import remote, run
from glm_cli.commands.clicks import DefaultGroup

HELP = """Run many prompts: locally (concurrent, resumable) or on Zhipu's Batch API.

`glm batch FILE …` is short for `glm batch run FILE …` (a file literally named like a
subcommand needs the long form). Exit codes: 0 every line has an ok record · 1 some line's
record is an error · 2 usage (bad flags, duplicate ids) · 4/5 stopped early on auth or
balance/quota (the rest was not sent) · 130 interrupted. Rerun the same command to resume.
"""


def command() -> Any:
    """The `glm batch` group: run (the default), submit, status, list, cancel, fetch."""
    return binding.group("batch", HELP, [run.command(), *remote.commands()], cls=DefaultGroup)
