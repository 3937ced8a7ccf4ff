"""Start-up does only what the command needs: `glm --help` imports no command, `glm ask` only ask's, and
`glm ask --no-log` never imports the history store; every command is still there and works."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, glm_executable

# Run glm's main() in a fresh interpreter and print every module it imported (on stderr).
RUN_AND_LIST = """
import sys
from glm_cli.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
finally:
    sys.stderr.write("\\nMODULES " + " ".join(sorted(sys.modules)))
"""
OTHER_COMMANDS = ("chat", "completion", "config_cmd", "batch", "history", "mcp", "models", "tokens", "embed", "auth")


def modules_after(args: list[str], env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    out = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    head, _, mods = out.stderr.rpartition("\nMODULES ")
    return out.stdout + head, set(mods.split())


def commands_imported(mods: set[str]) -> set[str]:
    return {m.split(".")[2] for m in mods if m.startswith("glm_cli.commands.") and m.count(".") >= 2} - {
        "common",
        "options",
        "conversing",
        "tooling",
        "flags",
        "quick",
    }


def test_help_imports_no_command_module_and_lists_every_command():
    from glm_cli.cli import COMMANDS

    text, mods = modules_after(["--help"])
    mods -= {"glm_cli.commands.binding", "glm_cli.commands.clicks"}  # the root group itself
    assert commands_imported(mods) == set()
    listed = [line.split()[0] for line in text.split("Commands:\n", 1)[1].splitlines() if line.strip()]
    assert listed == list(COMMANDS)


def test_a_command_imports_only_its_own_module():
    text, mods = modules_after(["ask", "--help"])
    assert "Usage: glm ask" in text
    assert commands_imported(mods) - {"binding", "clicks"} == {"ask"}
    _, mods = modules_after(["history", "list", "--help"])
    assert commands_imported(mods) - {"binding", "clicks"} == {"history"}


def test_help_lines_are_the_start_of_each_commands_own_help():
    # `glm --help` shows a line per command without loading it: the line must be what the command says first.
    from glm_cli.cli import COMMANDS, build_command

    root = build_command()
    ctx = root.make_context("glm", [], resilient_parsing=True)
    for name, (_, line) in COMMANDS.items():
        command = root.get_command(ctx, name)
        assert command.name == name
        assert " ".join(command.help.split()).startswith(line.rstrip(".")), (name, line)


def test_every_command_and_subcommand_still_answers_help():
    from glm_cli.cli import build_command

    root = build_command()
    ctx = root.make_context("glm", [], resilient_parsing=True)
    paths = []
    for name in root.list_commands(ctx):
        cmd = root.get_command(ctx, name)
        paths.append([name])
        sub_ctx = cmd.make_context(name, [], parent=ctx, resilient_parsing=True)
        paths += [[name, sub] for sub in getattr(cmd, "list_commands", lambda c: [])(sub_ctx)]
    assert len(paths) > len(root.list_commands(ctx))  # the groups' subcommands are there too
    for path in paths:
        out = subprocess.run([*glm_executable(), *path, "--help"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and f"Usage: glm {' '.join(path)}" in out.stdout, (path, out.stderr)


def test_a_mistyped_command_is_still_named_with_a_suggestion():
    out = subprocess.run([*glm_executable(), "bach"], capture_output=True, text=True, timeout=60)
    # (before the root group: a single word close to a command is refused, never sent as a question)
    assert out.returncode == 2 and "unknown command `bach`; did you mean `batch`?" in out.stderr


def test_ask_no_log_never_imports_the_store(environ, tmp_path):
    env = environ
    text, mods = modules_after(["ask", "--no-log", "hi"], env)
    assert "Echo: hi" in text
    assert "glm_cli.store" not in mods and "sqlite3" not in mods
    assert commands_imported(mods) - {"binding", "clicks"} == {"ask"}
    assert not (tmp_path / "data" / "glm" / "history.db").exists()
    # Logged (the default): the store is imported and the turn is written.
    text, mods = modules_after(["ask", "hi again"], env)
    assert "Echo: hi again" in text and "glm_cli.store" in mods
    assert (tmp_path / "data" / "glm" / "history.db").exists()


def test_tab_completion_imports_only_what_it_reads(tmp_path):
    # TAB reads the shipped catalogue as a plain file (importlib.resources pulled in zipfile, tempfile, shutil).
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    text, mods = modules_after(["__complete", "models"], env)
    assert "glm-4.7\t" in text
    assert not mods & {"importlib.resources", "zipfile", "tempfile", "typer", "httpx", "rich", "yaml"}


def test_version_imports_no_dataclasses_typing_or_streams():
    # `glm --version` (aliases, prompts) answers with the interpreter's own start-up and little more:
    # dataclasses pulls in inspect, ast, dis and tokenize (~10 ms), typing ~3 ms.
    text, mods = modules_after(["--version"])
    assert text.startswith("glm ")
    assert not mods & {"dataclasses", "typing", "inspect", "glm_cli.iostreams", "typer"}, mods


def test_a_plain_ask_imports_no_tool_session(environ):
    # Tools are opt-in (--tool, --mcp, --web-search, --schema): a plain ask never loads their session.
    text, mods = modules_after(["ask", "--no-log", "hi"], environ)
    assert "Echo: hi" in text
    assert "glm_cli.tools.session" not in mods
    text, mods = modules_after(["ask", "--no-log", "--schema", '{"type": "object"}', "hi"], environ)
    assert "glm_cli.tools.session" in mods


def test_a_plain_ask_imports_no_attachment_code(environ, tmp_path):
    # Attachments (-a) are opt-in: a plain ask never loads their module (nor OpenSSL's hashes, for their digest).
    text, mods = modules_after(["ask", "--no-log", "hi"], environ)
    assert "Echo: hi" in text
    assert "glm_cli.attachments" not in mods
    # With one, it is loaded, and a model that cannot see is still refused before anything is sent.
    (tmp_path / "p.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + b"\0\0\0\x01\0\0\0\x01" + b"\0" * 40)
    text, mods = modules_after(["ask", "--no-log", "-m", "glm-4.7", "-a", str(tmp_path / "p.png"), "hi"], environ)
    assert "glm_cli.attachments" in mods
    assert "glm-4.7 cannot see images" in text, text
