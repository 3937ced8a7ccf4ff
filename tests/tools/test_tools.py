"""Tool files, running command tools, the MCP config, web-search and schema helpers (no network)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from glm_cli.errors import ConfigError, InvalidOutputError, UsageError
from glm_cli.mcp_config import parse_servers
from glm_cli.tools.files import ToolSpec, check_tools, load_tool_file, run_command_tool, tool_environ
from glm_cli.tools.loop import supports_tool_stream
from glm_cli.tools.mcp import result_text, server_from_flag, tool_name
from glm_cli.tools.schema import load_schema, repair_message
from glm_cli.tools.web_search import source_lines, web_search_tool
from tests.conftest import FAKE_KEY, wait_until, write_config

PY = sys.executable
WEATHER = textwrap.dedent(f"""\
    name: weather
    description: Current weather for a city
    parameters:
      type: object
      properties:
        location: {{type: string}}
      required: [location]
    command: [{PY}, -c, "import json,sys; print('sunny in', json.load(sys.stdin)['location'])"]
    timeout: 5
""")


def tool_file(tmp_path, text: str, name: str = "t.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def py_tool(code: str, **kw) -> ToolSpec:
    return ToolSpec(name="t", command=(PY, "-c", code), **kw)


# ---------------------------------------------------------------------------------------------- tool files


def test_yaml_tool_file_becomes_the_api_declaration(tmp_path):
    [tool] = load_tool_file(tool_file(tmp_path, WEATHER))
    assert tool.to_api() == {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Current weather for a city",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
        },
    }
    assert tool.timeout == 5 and tool.command[0] == PY


def test_json_list_and_api_shape_and_tools_key(tmp_path):
    api = {
        "type": "function",
        "function": {"name": "a", "parameters": {"type": "object", "properties": {}}},
        "command": ["true"],
    }
    path = tool_file(tmp_path, json.dumps([api, {"name": "b", "command": ["true"]}]), "tools.json")
    assert [t.name for t in load_tool_file(path)] == ["a", "b"]
    path = tool_file(tmp_path, "tools:\n  - {name: c, command: [x]}\n  - {name: d, command: [y]}\n")
    assert [t.name for t in load_tool_file(path)] == ["c", "d"]


def test_relative_command_is_relative_to_the_tool_file(tmp_path):
    (tmp_path / "sub").mkdir()
    [tool] = load_tool_file(tool_file(tmp_path / "sub", "name: x\ncommand: [./run.sh, arg]\n"))
    assert tool.command == (str(tmp_path / "sub" / "run.sh"), "arg")
    [tool] = load_tool_file(tool_file(tmp_path, "name: x\ncommand: [python3]\n"))
    assert tool.command == ("python3",)  # a bare program name is looked up on PATH


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: 'bad name'\ncommand: [x]\n", "tool name 'bad name' is not allowed"),
        ("name: " + "x" * 65 + "\ncommand: [x]\n", "is not allowed"),
        ("name: x\ncommand: echo hi\n", "must be a list (argv, no shell)"),
        ("name: x\n", "`command` must be a non-empty list"),
        ("name: x\ncommand: [x]\nparameters: {type: string}\n", "must have type: object"),
        ("name: x\ncommand: [x]\nparameters: {type: object, properties: {a: {}}, required: [b]}\n", "names b"),
        ("name: x\ncommand: [x]\ntimeout: 0\n", "`timeout` must be a positive number"),
        ("name: x\ncommand: [x]\nrun: y\n", "unknown key(s) run"),
        ("[]\n", "declares no tool"),
        ("name: x\n  bad: [\n", "invalid YAML"),
    ],
)
def test_bad_tool_files_are_usage_errors(tmp_path, text, needle):
    with pytest.raises(UsageError) as err:
        load_tool_file(tool_file(tmp_path, text))
    assert needle in err.value.message


def test_missing_tool_file(tmp_path):
    with pytest.raises(UsageError, match="cannot read tool file"):
        load_tool_file(tmp_path / "nope.yaml")


def test_duplicate_names_and_the_128_limit():
    with pytest.raises(UsageError, match="two tools are named 'a'"):
        check_tools([ToolSpec("a", source="f1"), ToolSpec("a", source="f2")])
    with pytest.raises(UsageError, match="at most 128"):
        check_tools([ToolSpec(f"t{i}") for i in range(129)])
    assert len(check_tools([ToolSpec(f"t{i}") for i in range(128)])) == 128


# ------------------------------------------------------------------------------------------ running a tool


def test_arguments_on_stdin_and_stdout_is_the_result():
    res = run_command_tool(py_tool("import json,sys; a=json.load(sys.stdin); print(a['x'] * 2)"), '{"x": 21}', {})
    assert res.ok and res.content == "42"


def test_failure_is_a_result_with_stderr_not_a_crash():
    res = run_command_tool(py_tool("import sys; print('partial'); sys.exit('no such city')"), "{}", {})
    assert not res.ok and res.error == "exited with status 1: no such city"
    assert res.content.startswith("error: the tool exited with status 1") and "partial" in res.content


def test_timeout_kills_the_tool():
    res = run_command_tool(py_tool("import time; time.sleep(30)", timeout=0.3), "{}", {})
    assert not res.ok and res.error == "timed out after 0.3s" and "timed out" in res.content


def test_a_tool_that_never_reads_stdin_still_times_out():
    res = run_command_tool(py_tool("import time; time.sleep(30)", timeout=0.3), "x" * 1_000_000, {})
    assert not res.ok and "timed out" in res.error


def test_output_is_capped():
    res = run_command_tool(py_tool("print('y' * 100000)", max_output=1000), "{}", {})
    assert res.ok and res.content.startswith("y" * 1000)
    assert "[output truncated: 99,001 more bytes]" in res.content and len(res.content) < 1100


def test_missing_program():
    res = run_command_tool(ToolSpec("t", command=("/nonexistent/tool",)), "{}", {})
    assert not res.ok and "cannot run /nonexistent/tool" in res.error


def test_tool_environment_has_no_api_key(make_app, env):
    write_config(env, "api_key_env: MY_KEY_VAR\n")
    settings = make_app().settings()
    environ = {**env, "ZAI_API_KEY": "z", "ZHIPUAI_API_KEY": "q", "MY_KEY_VAR": "m", "OTHER": "kept"}
    clean = tool_environ(environ, settings)
    assert not {"GLM_API_KEY", "ZAI_API_KEY", "ZHIPUAI_API_KEY", "MY_KEY_VAR"} & set(clean)
    assert clean["OTHER"] == "kept" and clean["HOME"] == env["HOME"]
    code = "import os; print(sorted(k for k in os.environ if 'KEY' in k) or 'none', os.environ['OTHER'])"
    res = run_command_tool(py_tool(code), "{}", clean)
    assert res.content == "none kept" and FAKE_KEY not in res.content


def test_tool_stream_only_for_glm_46_and_later():
    assert supports_tool_stream("glm-4.7") and supports_tool_stream("glm-4.6v") and supports_tool_stream("glm-5")
    assert not supports_tool_stream("glm-4.5-air") and not supports_tool_stream("glm-4-32b-0414-128k")
    assert not supports_tool_stream("mystery")


# ---------------------------------------------------------------------------------------------------- MCP


def test_mcp_flag_is_split_like_a_shell():
    s = server_from_flag("npx -y '@modelcontextprotocol/server-filesystem' '/my dir'", 2)
    assert (s.name, s.command, s.args) == ("mcp2", "npx", ("-y", "@modelcontextprotocol/server-filesystem", "/my dir"))
    assert server_from_flag("http://127.0.0.1:9/mcp", 1).url == "http://127.0.0.1:9/mcp"
    with pytest.raises(UsageError):
        server_from_flag("  ", 1)


def test_mcp_servers_config_checked_at_load(make_app, env):
    write_config(
        env,
        "mcp_servers:\n  files:\n    command: [npx, -y, srv]\n    args: [.]\n"
        "    env: {TOKEN: abc}\n    tools: [read_file]\n    timeout: 5\n",
    )
    settings = make_app().settings()
    [srv] = parse_servers(settings.mcp_servers, "cfg").values()
    assert (srv.command, srv.args, srv.env, srv.tools, srv.timeout) == (
        "npx",
        ("-y", "srv", "."),
        {"TOKEN": "abc"},
        ("read_file",),
        5.0,
    )
    for bad, needle in [
        ("    comand: x\n", "`mcp_servers.files.comand` is not a known key"),
        ("    command: x\n    url: http://a\n", "exactly one of"),
        ("    command: x\n    tools: read_file\n", "`mcp_servers.files.tools` must be a list"),
        ("    command: x\n    timeout: -1\n", "timeout` must be a positive"),
    ]:
        write_config(env, "mcp_servers:\n  files:\n" + bad)
        with pytest.raises(ConfigError) as err:
            make_app().settings()
        assert needle in err.value.message and "config.yaml" in err.value.message


def test_tools_key_in_profile_and_preset(make_app, env):
    write_config(env, "tools: [a.yaml]\npresets:\n  w:\n    tools: [b.yaml]\n")
    assert make_app().settings().tools == ("a.yaml",)
    assert make_app().settings(preset="w").tools == ("b.yaml",)
    write_config(env, "tools: [1]\n")
    with pytest.raises(ConfigError, match="list of tool file paths"):
        make_app().settings()


def test_mcp_names_and_results():
    assert tool_name("read_file") == "read_file" and tool_name("fs.read file") == "fs_read_file"
    assert (
        result_text(
            {
                "content": [
                    {"type": "text", "text": "a"},
                    {"type": "image", "mimeType": "image/png"},
                    {"type": "resource", "resource": {"uri": "file:///x", "text": "body"}},
                ]
            }
        )
        == "a\n[image image/png]\nbody"
    )
    assert result_text({"content": [], "structuredContent": {"n": 1}}) == '{"n": 1}'


def test_missing_mcp_package_names_the_install_command(monkeypatch):
    from glm_cli.tools.mcp import require_mcp

    monkeypatch.setitem(sys.modules, "mcp", None)  # import mcp -> ImportError
    with pytest.raises(UsageError) as err:
        require_mcp()
    assert "optional `mcp` package" in err.value.message and "zhipu-glm-cli[mcp]" in err.value.hint


# --------------------------------------------------------------------------------------------- web search


def test_web_search_tool_options():
    tool = web_search_tool(family="zai", count=3, recency="oneWeek", domain="z.ai")
    assert tool == {
        "type": "web_search",
        "web_search": {
            "enable": True,
            "search_engine": "search-prime",
            "search_result": True,
            "count": 3,
            "search_recency_filter": "oneWeek",
            "search_domain_filter": "z.ai",
        },
    }
    mainland = web_search_tool(family="bigmodel", engine="search_pro")
    assert mainland["web_search"]["search_engine"] == "search_pro"
    with pytest.raises(UsageError, match="between 1 and 50"):
        web_search_tool(family="zai", count=0)
    with pytest.raises(UsageError, match="oneDay"):
        web_search_tool(family="zai", recency="yesterday")


def test_sources_are_numbered_by_refer_and_deduplicated():
    lines = source_lines(
        [
            {
                "title": "GLM-4.7 released",
                "link": "https://z.ai/blog/glm-4.7",
                "media": "Z.ai",
                "refer": "ref_1",
                "publish_date": "2025-12-22",
            },
            {"title": "Dup", "link": "https://z.ai/blog/glm-4.7", "refer": "ref_2"},
            {"title": "Other", "link": "https://example.com", "refer": "ref_3"},
        ]
    )
    assert lines == [
        "Sources:",
        "  [1] GLM-4.7 released — https://z.ai/blog/glm-4.7 (Z.ai, 2025-12-22)",
        "  [3] Other — https://example.com",
    ]
    assert source_lines([]) == []


# ------------------------------------------------------------------------------------------------- schema

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_schema_inline_or_file_and_errors(tmp_path):
    inline = load_schema(json.dumps(PERSON))
    path = tmp_path / "p.yaml"
    path.write_text("type: object\nrequired: [name]\n")
    assert load_schema(str(path)).schema == {"type": "object", "required": ["name"]}
    assert inline.check('{"name": "Ada", "age": 36}') == '{"name": "Ada", "age": 36}'
    assert inline.errors('{"name": 1, "age": -1, "x": 0}') == [
        "$: Additional properties are not allowed ('x' was unexpected)",
        "$.age: -1 is less than the minimum of 0",
        "$.name: 1 is not of type 'string'",
    ]
    with pytest.raises(InvalidOutputError) as err:
        inline.check('{"name": "Ada"}')
    assert err.value.exit_code == 9 and "'age' is a required property" in err.value.message
    assert "Your answer was rejected" in repair_message("x")["content"]
    assert '"required"' in inline.instruction() and inline.system_prompt("Be brief.").startswith("Be brief.\n\n")


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ('{"type": "object", "properties": 3}', "not a valid JSON Schema"),
        ("{not json", "invalid JSON"),
        ("/nonexistent/schema.json", "cannot read --schema"),
        ("[1]", "must be a JSON Schema object, got list"),
    ],
)
def test_bad_schemas(value, needle):
    with pytest.raises(UsageError) as err:
        load_schema(value)
    assert needle in err.value.message


def test_streamed_tool_arguments_show_in_the_spinner_line_and_leave_no_residue():
    from glm_cli.events import ToolCallDelta
    from glm_cli.iostreams import IOStreams
    from glm_cli.render import Pace, render_stream

    def deltas():
        yield ToolCallDelta(0, id="c1", type="function", name="weather")
        for piece in ['{"ci', 'ty": ', '"Flor', 'ence"}']:
            yield ToolCallDelta(0, arguments=piece)
        wait_until(lambda: 'weather {"city": "Florence"}' in ios.stderr.getvalue(), "the spinner line")

    ios = IOStreams.for_test(stderr_tty=True)
    reply = render_stream(deltas(), ios, show_reasoning=False, pace=Pace(spinner=0.001))
    err = ios.stderr.getvalue()
    assert 'weather {"city": "Florence"}' in err
    assert err.rsplit("\r", 2)[-2].strip() == "" and err.endswith("\r")  # erased with spaces
    assert reply.tool_calls[0].arguments == '{"city": "Florence"}' and ios.stdout.getvalue() == ""


@pytest.mark.parametrize("verbose", [False, True])
def test_mcp_server_stderr_quoted_on_failure_or_shown_with_verbose(capfd, verbose):
    from glm_cli.errors import GlmError
    from glm_cli.tools.mcp import McpHub, McpServer

    server = McpServer(name="bad", command=PY, args=("-c", "import sys; sys.exit('no config file')"))
    with pytest.raises(GlmError) as err:
        McpHub([server], verbose=verbose).__enter__()
    assert "MCP server bad" in err.value.message and "failed to start" in err.value.message
    if verbose:
        assert "no config file" in capfd.readouterr().err and "no config file" not in (err.value.hint or "")
    else:
        assert "no config file" in err.value.hint and "no config file" not in capfd.readouterr().err


def test_ctrl_c_during_a_tool_kills_it(tmp_path):
    import signal
    import threading

    pid_file = tmp_path / "pid"
    code = f"import os, time, pathlib; pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid())); time.sleep(300)"

    def interrupt_once_started() -> None:
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), "the tool to start", timeout=120)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_once_started, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_command_tool(py_tool(code, timeout=150), "{}", dict(os.environ))
    assert not Path(f"/proc/{pid_file.read_text()}").exists()  # killed and reaped, not left sleeping
