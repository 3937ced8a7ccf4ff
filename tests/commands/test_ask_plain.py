"""`glm ask` without tools does not enter the tool machinery; tools (flags or `tools:` in the config) wrap the
same turn. Checked in the installed glm's own process: which glm_cli.tools modules it imported."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SLOW, write_config

pytestmark = pytest.mark.slow
PY = sys.executable
# Runs `glm ARGS…` as the console script does, then prints the glm_cli.tools modules it imported (on stderr).
PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write("TOOLS-IMPORTED=" + json.dumps(sorted(
    m for m in sys.modules if m.startswith("glm_cli.tools"))) + "\\n"))
from glm_cli.cli import main
sys.argv[0] = "glm"
main()
"""


def glm(environ, *args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    out = subprocess.run(
        [PY, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=SLOW,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,  # `-c` puts the working directory first on sys.path: this repository's glm_cli
    )
    marker = [line for line in out.stderr.splitlines() if line.startswith("TOOLS-IMPORTED=")]
    assert marker, out.stderr
    return out, json.loads(marker[-1].split("=", 1)[1])


@pytest.fixture
def weather(tmp_path) -> str:
    path = tmp_path / "weather.yaml"
    path.write_text(
        json.dumps(
            {
                "name": "weather",
                "description": "Current weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                "command": [PY, "-c", "import json,sys; print(json.load(sys.stdin)['city'], '18 C')"],
                "timeout": 10,
            }
        )
    )
    return str(path)


@pytest.mark.parametrize("extra", [[], ["--no-stream"], ["--json"], ["--format", "json"]])
def test_plain_ask_never_imports_the_tool_loop(srv, environ, extra):
    srv.reply(content='{"answer": "hi"}')
    out, imported = glm(environ, "ask", *extra, "hello")
    assert out.returncode == 0, out.stderr
    assert "hi" in out.stdout
    assert not {"glm_cli.tools.loop", "glm_cli.tools.mcp", "glm_cli.tools.files"} & set(imported), imported
    [body] = srv.chat_requests()
    assert "tools" not in body


def test_a_tool_flag_still_runs_the_tool_loop(srv, environ, weather):
    srv.reply(content="", tool_calls=[{"name": "weather", "arguments": {"city": "Paris"}}])
    srv.reply(content="It is 18 C in Paris.")
    out, imported = glm(environ, "ask", "--tool", weather, "--yes", "Weather in Paris?")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "It is 18 C in Paris.\n" and "glm_cli.tools.loop" in imported
    first, second = srv.chat_requests()
    assert first["tools"][0]["function"]["name"] == "weather"
    assert second["messages"][-1]["content"] == "Paris 18 C"


def test_tools_from_the_config_still_wrap_a_plain_ask(srv, environ, weather, tmp_path):
    write_config({"XDG_CONFIG_HOME": environ["XDG_CONFIG_HOME"]}, f"tools: [{weather}]\n")
    srv.reply(content="No tool needed.")
    out, imported = glm(environ, "ask", "--yes", "hello")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "No tool needed.\n" and "glm_cli.tools.loop" in imported
    [body] = srv.chat_requests()
    assert [t["function"]["name"] for t in body["tools"]] == ["weather"]


def test_schema_still_checks_and_repairs(srv, environ):
    schema = '{"type": "object", "required": ["age"], "properties": {"age": {"type": "integer"}}}'
    srv.reply(content='{"name": "x"}')
    srv.reply(content='{"age": 3}')
    out, imported = glm(environ, "ask", "--schema", schema, "who?")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"age": 3} and len(srv.chat_requests()) == 2
    assert "'age' is a required property" in out.stderr
