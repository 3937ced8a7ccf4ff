"""A plain `glm ask` runs without importing Typer or click (commands/quick.py); help, a bad flag and every
other command line still go the Typer way, with the same messages and exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, glm_env, run_glm

# Run glm's console entry (main() with no argv: start-up's GC pause included) in a fresh interpreter; report
# which of Typer/click it imported and whether the collector runs again, on stderr.
RUN_AND_REPORT = """
import gc, sys
from glm_cli.cli import main
sys.argv = ["glm", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
finally:
    mods = sorted(m for m in sys.modules if m.split(".")[0] in ("typer", "click"))
    sys.stderr.write(f"\\nREPORT {code} {gc.isenabled()} {gc.get_freeze_count() > 0} {' '.join(mods)}")
"""


def report(args: list[str], env: dict[str, str]) -> tuple[str, str, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    head, _, tail = out.stderr.rpartition("\nREPORT ")
    return out.stdout, head, tail.split()


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "--no-log", "hi"],
        ["what", "is", "an", "inode", "--no-log"],  # `glm "question"` is ask
        ["ask", "-m", "glm-4.5", "--no-log", "--dry-run", "hi"],
        ["ask", "--dry-run", "curl", "hi"],  # cli.with_flag_defaults: --dry-run=curl
    ],
)
def test_a_plain_ask_imports_no_typer_and_still_collects_garbage(srv, args):
    out, err, (code, gc_on, frozen, *mods) = report(args, glm_env(srv))
    assert code == "0", err
    assert mods == []
    assert (gc_on, frozen) == ("True", "True")  # start-up's GC pause ends when the command runs
    assert out.strip()


def test_help_and_a_bad_flag_go_the_typer_way(srv):
    out, err, (code, *_, last) = report(["ask", "--help"], glm_env(srv))
    assert code == "0" and out.startswith("Usage: glm ask [OPTIONS] [PROMPT...]") and last.startswith("typer")
    out, err, (code, *_) = report(["ask", "--nope", "hi"], glm_env(srv))
    assert code == "2" and out == ""
    assert err == (
        "Usage: glm ask [OPTIONS] [PROMPT...]\nTry 'glm ask -h' for help.\n\n"
        "Error: No such option: --nope (Possible options: --model, --stop, --top-p)\n"
    )
    assert srv.chat_requests() == []


def test_quick_ask_sends_what_it_was_asked_and_writes_where_it_was_told(srv, tmp_path):
    srv.reply(content="Hello!")
    out = run_glm(
        ["ask", "-m", "glm-4.5", "--max-tokens=7", "--stop", "x", "-o", str(tmp_path / "a.md"), "--no-log", "q"],
        glm_env(srv),
        input="piped",
        stdin=None,
    )
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    assert (tmp_path / "a.md").read_text() == "Hello!\n"
    (body,) = srv.chat_requests()
    assert (body["model"], body["max_tokens"], body["stop"]) == ("glm-4.5", 7, ["x"])
    assert body["messages"][-1]["content"] == "q\n\npiped"


def test_quick_ask_errors_keep_their_message_and_exit_code(srv, tmp_path):
    out = run_glm(["ask", "-o", "json", "q"], glm_env(srv))
    assert out.returncode == 2 and out.stderr.startswith("glm: -o is the output file; use --format json")
    out = run_glm(["ask", "--no-log", "-m", "no-such-model", "q"], glm_env(srv))
    assert out.returncode != 0 and out.stderr.startswith("glm: ") and "Traceback" not in out.stderr
    out = run_glm(["ask", "--max-tokens", "x", "q"], glm_env(srv))  # declined: click's own message
    assert out.returncode == 2 and "Error: Invalid value for '--max-tokens': 'x' is not a valid int." in out.stderr
