"""TAB on --mcp-server NAME and `glm mcp tools SERVER`: the built-in servers and those named in the config
(those of the chosen profile too), never file names."""

from __future__ import annotations

import pytest

from glm_cli.cli import build_command
from glm_cli.completion.gen import command_specs
from glm_cli.completion.values import values
from glm_cli.tools.hosted import builtin_names
from tests.completion.test_completion_kinds import NOTE, RUN
from tests.completion.test_completion_shells import BIN
from tests.conftest import write_config

CONFIG = """\
mcp_servers:
  files: {command: [npx, -y, "@modelcontextprotocol/server-filesystem", /tmp], description: my files}
  remote: {url: "https://mcp.example.invalid/mcp"}
profiles:
  work:
    mcp_servers:
      jira: {url: "https://jira.example.invalid/mcp"}
"""
BUILT_IN = {"web-search", "web-reader", "zread", "vision"}


def test_the_built_in_names_are_the_servers_glm_ships():
    assert set(builtin_names()) == BUILT_IN


def test_mcp_server_values(env):
    write_config(env, CONFIG)
    found = dict(values("mcp-servers", ["glm", "ask", "--mcp-server", ""], env))
    assert set(found) == BUILT_IN | {"files", "remote"} and found["files"] == "my files"
    assert found["remote"] == "https://mcp.example.invalid/mcp"
    assert "jira" in dict(values("mcp-servers", ["glm", "ask", "-P", "work", "--mcp-server", ""], env))
    write_config(env, "mcp_servers: [oops\n")
    assert set(dict(values("mcp-servers", [], env))) == BUILT_IN  # a broken config still offers the built-ins


def test_the_options_that_name_a_server():
    specs = {c.path: c for c in command_specs(build_command())}
    for path in ("ask", "chat"):
        assert next(o.kind for o in specs[path].opts if "--mcp-server" in o.names) == "mcp-servers"
    assert specs["mcp tools"].args == ("mcp-servers",)


LINES = {"glm ask --mcp-server ": BUILT_IN | {"files", "remote"}, "glm mcp tools we": {"web-search", "web-reader"}}


@pytest.mark.slow
@pytest.mark.parametrize("shell", list(RUN))
def test_every_shell_offers_the_servers(shell, env, tmp_path):
    write_config(env, CONFIG)
    (tmp_path / NOTE).write_text("")
    shell_env = {**env, "PATH": f"{BIN}:/usr/bin:/bin", "TERM": "dumb", "LANG": "C.UTF-8"}
    found = RUN[shell](shell_env, tmp_path, list(LINES))
    for line, wanted in LINES.items():
        assert found[line] == wanted, f"{shell}: {line!r}"
