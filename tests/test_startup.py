"""Start-up stays light: importing the CLI pulls in no httpx, rich, yaml or prompt_toolkit."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, glm_executable

HEAVY = ("httpx", "rich", "yaml", "prompt_toolkit", "mcp", "jsonschema")


def imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    return set(out.split())


def test_import_cli_is_light():
    mods = imported_after("import glm_cli.cli")
    assert not [m for m in HEAVY if m in mods]


def test_building_the_app_is_light():
    # `glm --help` builds every command: still none of the heavy modules.
    mods = imported_after(
        "import glm_cli.cli as c\nroot = c.build_command()\n"
        "[root.get_command(None, name) for name in root.list_commands(None)]"
    )
    assert "glm_cli.commands.batch.remote" in mods and not [m for m in HEAVY if m in mods]


def test_one_command_loads_only_its_own_module():
    # `glm ask` imports the ask command, not batch, history or mcp (cli.COMMANDS: loaded when used).
    mods = imported_after("import glm_cli.cli as c\nc.build_command().get_command(None, 'ask')")
    assert "glm_cli.commands.ask" in mods
    assert not {"glm_cli.commands.batch", "glm_cli.commands.history", "glm_cli.commands.mcp"} & mods


def test_version_and_help_via_executable():
    out = subprocess.run([*glm_executable(), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("glm ")
    out = subprocess.run([*glm_executable(), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "Exit codes" in out.stdout and "ask" in out.stdout


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "glm_cli", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.startswith("glm ")


def test_usage_error_exit_2():
    out = subprocess.run([*glm_executable(), "ask", "--no-such-flag"], capture_output=True, text=True)
    assert out.returncode == 2 and "No such option" in out.stderr
