"""glm's start-up runs with the cyclic garbage collector paused: imports and building the command make only
objects that live as long as the process. The command runs with the collector on, those objects frozen (never
scanned again); glm called in a test's own process (main(ARGV)) leaves the collector alone."""

from __future__ import annotations

import gc
import subprocess
import sys

from glm_cli.cli import main
from tests.conftest import ROOT

# glm as the process runs it (main() reads sys.argv), counting the collector's runs during main().
AS_THE_PROCESS = """
import gc, sys
from glm_cli.cli import main
runs = []
gc.callbacks.append(lambda phase, info: runs.append(info["generation"]) if phase == "start" else None)
try:
    main()
except SystemExit:
    pass
counted = len(runs)
sys.stderr.write(f"\\nCOLLECTIONS {counted} ON {gc.isenabled()} FROZEN {gc.get_freeze_count() > 10_000}")
"""


def as_the_process(args: list[str], env: dict[str, str] | None = None) -> tuple[str, str]:
    out = subprocess.run(
        [sys.executable, "-c", AS_THE_PROCESS, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    return out.stdout, out.stderr.rpartition("\n")[2]


def test_help_builds_every_command_line_with_no_collection():
    text, gc_state = as_the_process(["--help"])
    assert "Usage: glm" in text
    assert gc_state.startswith("COLLECTIONS 0 "), gc_state  # dozens of runs before


def test_a_command_runs_with_the_collector_on_and_start_up_frozen(environ):
    text, gc_state = as_the_process(["ask", "--no-log", "hi"], environ)
    assert "Echo: hi" in text
    assert gc_state.endswith("ON True FROZEN True"), gc_state


def test_main_called_with_arguments_leaves_the_collector_alone(capsys):
    main(["--version"])
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert capsys.readouterr().out == "glm 0.1.0\n"
