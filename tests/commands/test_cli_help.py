"""Help a person can read: capital metavars, options under headings, as wide as the terminal, no rich."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from glm_cli.cli import build_command, main
from tests.conftest import ROOT

ROOT_CMD = build_command()
METAVAR = re.compile(r"[A-Z][A-Z|]*(=[A-Z]+)?(\.\.\.)?")  # KEY=VALUE: --param
OPTIONAL_VALUE = {"--dry-run": "[=curl]"}  # `--dry-run[=curl]`: the value is optional and written with `=`


def walk(cmd, path=()):
    """Yield (command path, click command) for every visible command."""
    yield " ".join(path), cmd
    for name in getattr(cmd, "list_commands", lambda ctx: [])(None):
        sub = cmd.get_command(None, name)
        if sub is not None and not sub.hidden:
            yield from walk(sub, (*path, name))


COMMANDS = dict(walk(ROOT_CMD))


def help_text(monkeypatch, capsys, *args: str, columns: int = 100) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    try:
        main([*args, "--help"])  # the root's help returns (root_help.py); a command's exits through click
    except SystemExit as exc:
        assert exc.code in (0, None)
    return capsys.readouterr().out


def test_every_command_is_reached():
    assert {
        "ask",
        "chat",
        "batch",
        "batch run",
        "batch fetch",
        "history export",
        "models show",
        "mcp tools",
        "config show",
        "completion",
    } <= set(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_value_has_a_capital_metavar(path):
    for param in COMMANDS[path].params:
        if getattr(param, "hidden", False) or (param.param_type_name == "option" and param.is_flag):
            continue
        name = param.opts[0] if param.param_type_name == "option" else param.name
        expected = OPTIONAL_VALUE.get(name)
        assert param.metavar is not None, f"glm {path} {name}: no metavar"
        assert param.metavar == expected or METAVAR.fullmatch(param.metavar), f"glm {path} {name}: {param.metavar}"


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_help_is_complete_and_readable(monkeypatch, capsys, path):
    text = help_text(monkeypatch, capsys, *path.split())
    assert not re.search(r"<(str|int|float)>", text), text
    usage = text.split("\n\n")[0]
    assert not re.search(r"\{|\[[a-z_]+\]\.\.\.", usage), usage  # not {ids}... nor [prompt]...
    assert not re.search(r"^  [{\[a-z]", text.split("Arguments:\n")[-1].split("\n\n")[0], re.M)
    for param in COMMANDS[path].params:
        if getattr(param, "hidden", False):
            continue
        shown = param.opts[0] if param.param_type_name == "option" else param.metavar
        assert shown in text, f"glm {path} --help does not show {shown}"


def test_ask_help_groups_options_under_headings(monkeypatch, capsys):
    text = help_text(monkeypatch, capsys, "ask")
    headings = [line[:-1] for line in text.splitlines() if re.fullmatch(r"[A-Z][a-z ]+:", line)]
    assert headings == [
        "Arguments",
        "Input",
        "Model",
        "Thinking",
        "Tools",
        "Web search",
        "Output",
        "History",
        "Connection",
        "Options",
    ]
    assert text.startswith("Usage: glm ask [OPTIONS] [PROMPT...]\n")
    section = text.split("\nTools:\n")[1].split("\n\n")[0]
    assert "--tool FILE" in section and "--mcp-server NAME" in section and "--model" not in section
    assert "-o, --output FILE" in text and "--format FORMAT" in text and "-f, --file FILE" in text


def test_help_follows_the_terminal_width(monkeypatch, capsys):
    wide = help_text(monkeypatch, capsys, "ask", columns=120)
    narrow = help_text(monkeypatch, capsys, "ask", columns=80)
    assert max(map(len, wide.splitlines())) > 100 and max(map(len, wide.splitlines())) <= 120
    assert max(map(len, narrow.splitlines())) <= 80
    assert len(wide.splitlines()) < len(narrow.splitlines())


def test_batch_help_shows_the_default_run_options(monkeypatch, capsys):
    text = help_text(monkeypatch, capsys, "batch")
    assert text.startswith("Usage: glm batch [run] [OPTIONS] FILE\n")
    assert "-j, --concurrency N" in text and "-n, --limit N" in text and "-o, --output FILE" in text
    assert "Commands:" in text and "fetch" in text


def test_models_show_json_help_is_about_one_model(monkeypatch, capsys):
    text = help_text(monkeypatch, capsys, "models", "show")
    assert "whole catalogue" not in text and "this model as JSON" in text
    assert "whole catalogue" in help_text(monkeypatch, capsys, "models")


def test_usage_errors_show_the_usage_with_metavars(monkeypatch, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["batch", "fetch"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Usage: glm batch fetch [OPTIONS] ID..." in err and "{" not in err


HELP_IMPORTS = """
import sys
from glm_cli.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("HEAVY", *sorted({m.split(".")[0] for m in sys.modules} & {"rich", "httpx", "yaml", "prompt_toolkit"}))
"""


@pytest.mark.parametrize("args", [["--help"], ["ask", "--help"], ["batch", "--help"]])
def test_help_imports_no_rich(args):
    out = subprocess.run(
        [sys.executable, "-c", HELP_IMPORTS, *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.stdout.splitlines()[-1] == "HEAVY", out.stdout[-300:]
