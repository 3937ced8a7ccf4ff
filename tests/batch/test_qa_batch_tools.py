"""QA of `glm batch` and the tools features: the defects a demanding user found, each pinned by a test."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from glm_cli.tools.files import load_tool_file
from tests.batch.test_batch_run import answer, fail, fake, run  # noqa: F401 - fake and run are fixtures
from tests.conftest import ROOT, SLOW, glm_executable
from tests.fake_server import Fault


def glm(environ, *args, stdin: str | None = None, timeout: float = SLOW):
    return subprocess.run(
        [*glm_executable(), *args], input=stdin, capture_output=True, text=True, env=environ, timeout=timeout
    )


# --- glm batch -------------------------------------------------------------------------------------------------


def test_output_to_dev_stdout_is_written_not_read_back(environ, tmp_path):
    """`-o /dev/stdout | …` used to hang for ever: the output was read back as resume state (a pipe never ends)."""
    src = tmp_path / "in.jsonl"
    src.write_text('"a"\n"b"\n', encoding="utf-8")
    p = glm(environ, "batch", str(src), "-o", "/dev/stdout", "--retry-failed")
    assert p.returncode == 0, p.stderr
    assert sorted(json.loads(line)["content"] for line in p.stdout.splitlines()) == ["Echo: a", "Echo: b"]


def test_output_to_dev_null_is_fine(environ, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('"a"\n', encoding="utf-8")
    p = glm(environ, "batch", str(src), "-o", "/dev/null")
    assert p.returncode == 0 and "1 ok" in p.stderr


def test_retry_failed_keeps_one_record_per_id_when_a_line_fails_again(srv, environ, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"id": "bad", "prompt": "p"}\n', encoding="utf-8")
    for _ in range(3):
        srv.fault(Fault(status=400, code="1214"))
    assert glm(environ, "batch", str(src), "-o", str(out)).returncode == 1
    for _ in range(2):
        p = glm(environ, "batch", str(src), "-o", str(out), "--retry-failed")
        assert p.returncode == 1
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["bad"] and records[0]["status"] == "error"
    assert "removed 1 error record" in p.stderr
    assert glm(environ, "batch", str(src), "-o", str(out), "--retry-failed").returncode == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["status"]) for r in records] == [("bad", "ok")]


# --- tool files ------------------------------------------------------------------------------------------------


def test_dot_slash_arguments_are_relative_to_the_tool_file(tmp_path):
    """The README's own example, `command: [python3, ./weather.py]`, must work from any directory."""
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "t.yaml"
    path.write_text("name: x\ncommand: [python3, ./w.py, ../data.txt, plain, -c, /abs/p]\n", encoding="utf-8")
    [tool] = load_tool_file(path)
    assert tool.command == (
        "python3",
        str(tmp_path / "sub" / "w.py"),
        str(tmp_path / "data.txt"),
        "plain",
        "-c",
        "/abs/p",
    )


# --- MCP -------------------------------------------------------------------------------------------------------


def test_mcp_tools_of_every_page_are_listed():
    """list_tools is paginated (nextCursor): the tools of later pages must not be lost."""
    pytest.importorskip("mcp")
    import anyio
    from mcp import types

    from glm_cli.tools.mcp import _list_tools

    pages = {None: (["a", "b"], "p2"), "p2": (["c"], "p3"), "p3": (["d"], None)}
    seen: list[str | None] = []

    class Session:
        async def list_tools(self, *, params=None, cursor=None):
            cur = params.cursor if params is not None else cursor
            seen.append(cur)
            names, nxt = pages[cur]
            return types.ListToolsResult(
                tools=[types.Tool(name=n, inputSchema={"type": "object", "properties": {}}) for n in names],
                nextCursor=nxt,
            )

    tools = anyio.run(_list_tools, Session())
    assert [t["name"] for t in tools] == ["a", "b", "c", "d"]
    assert seen == [None, "p2", "p3"]


@pytest.mark.slow
def test_a_command_that_is_not_an_mcp_server_fails_without_a_traceback(environ):
    pytest.importorskip("mcp")
    p = glm(environ, "ask", "--no-log", "--yes", "--mcp", f"{sys.executable} -c \"print('hello')\"", "hi")
    assert p.returncode == 1 and "failed to start" in p.stderr
    assert "Traceback" not in p.stderr and "pydantic" not in p.stderr


def test_output_that_is_not_a_batch_output_is_refused_and_left_alone(environ, tmp_path):
    """`-o other-input.jsonl` (a typo) used to append records to it, and cut its last line if unterminated."""
    src, other, notes = tmp_path / "in.jsonl", tmp_path / "other.jsonl", tmp_path / "notes.md"
    src.write_text('"a"\n', encoding="utf-8")
    other.write_text('{"id": "x", "prompt": "keep me"}\n"and me"\n', encoding="utf-8")
    notes.write_text("my notes\nlast line without a newline", encoding="utf-8")
    one_line = tmp_path / "one.txt"
    one_line.write_text("a single line without a newline", encoding="utf-8")  # used to be cut to nothing
    for victim in (other, notes, one_line):
        before = victim.read_bytes()
        p = glm(environ, "batch", str(src), "-o", str(victim))
        assert p.returncode == 2 and "is not the output of a glm batch run" in p.stderr
        assert victim.read_bytes() == before


def test_a_torn_first_record_is_still_repaired(environ, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('"a"\n', encoding="utf-8")
    out.write_text('{"id": "line-1", "status": "ok", "cont', encoding="utf-8")  # killed mid-write
    p = glm(environ, "batch", str(src), "-o", str(out))
    assert p.returncode == 0 and "torn last line" in p.stderr
    assert [json.loads(x)["status"] for x in out.read_text(encoding="utf-8").splitlines()] == ["ok"]


def test_an_out_of_range_line_override_names_the_line_not_a_flag(environ, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "prompt": "p", "temperature": 5}\n', encoding="utf-8")
    p = glm(environ, "batch", str(src), "--dry-run")
    assert p.returncode == 1
    assert "temperature (input line 1) must be between 0.0 and 1.0, got 5" in p.stderr
    assert "--temperature" not in p.stderr


@pytest.mark.slow
def test_a_silent_command_as_mcp_server_says_it_never_answered(monkeypatch):
    pytest.importorskip("mcp")
    from glm_cli.errors import GlmError
    from glm_cli.tools import mcp as mcp_client

    monkeypatch.setattr("glm_cli.mcp_config.START_TIMEOUT", 0.5)
    server = mcp_client.McpServer(name="s", command=sys.executable, args=("-c", "import time; time.sleep(30)"))
    with pytest.raises(GlmError) as err, mcp_client.McpHub([server]):
        pass
    assert "no answer to the MCP handshake (initialize) within 0.5s" in err.value.message


def test_a_throttled_repair_still_gets_its_retries(run, fake):  # noqa: F811 - fixtures
    """README: the repair is on top of --max-retries, so a 429 on the repair request is retried like any other."""
    fake.script["p"] = [answer("not json"), fail(429, "1302"), answer('{"a": 1}')]
    code, records, _ = run([{"id": "x", "prompt": "p"}], json_object=True, max_retries=1)
    assert code == 0 and (records[0]["status"], records[0]["content"], records[0]["attempts"]) == ("ok", '{"a": 1}', 3)


def test_the_same_tool_file_twice_is_loaded_once(environ, tmp_path):
    """`tools:` in the config plus --tool of the same file used to be refused as 'two tools are named …'."""
    tool = tmp_path / "t.yaml"
    tool.write_text("name: weather\ncommand: [true]\n", encoding="utf-8")
    (tmp_path / "cfg" / "glm").mkdir(parents=True)
    (tmp_path / "cfg" / "glm" / "config.yaml").write_text(f"tools: [{tool}]\n", encoding="utf-8")
    p = subprocess.run(
        [*glm_executable(), "ask", "--tool", "t.yaml", "--tool", str(tool), "--no-log", "--dry-run", "hi"],
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        timeout=SLOW,
    )
    assert p.returncode == 0, p.stderr
    assert [t["function"]["name"] for t in json.loads(p.stdout)["tools"]] == ["weather"]


@pytest.mark.slow
def test_the_same_mcp_server_named_twice_starts_once(environ, tmp_path):
    pytest.importorskip("mcp")
    (tmp_path / "cfg" / "glm").mkdir(parents=True)
    (tmp_path / "cfg" / "glm" / "config.yaml").write_text(
        f"mcp_servers:\n  t:\n    command: {sys.executable}\n    args: [{ROOT / 'tests' / 'mcp_server.py'}]\n"
        "    tools: [add]\n",
        encoding="utf-8",
    )
    p = glm(environ, "ask", "--mcp-server", "t", "--mcp-server", "t", "--no-log", "--dry-run", "hi")
    assert p.returncode == 0, p.stderr
    assert [t["function"]["name"] for t in json.loads(p.stdout)["tools"]] == ["add"]


def test_submit_wait_prints_each_status_change_once(environ, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('"a"\n"b"\n', encoding="utf-8")
    p = glm(environ, "batch", "submit", str(src), "--wait", "--poll", "0.01", "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert [line.split()[3] for line in p.stderr.splitlines() if line.startswith("glm batch: batch_")].count(
        "completed"
    ) == 1
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


def test_ask_schema_failure_with_output_json_shows_the_raw_answer(srv, environ):
    """The exit-9 hint says `use --json to see the raw answer`: with --schema it printed nothing."""
    srv.reply(content='{"age": "x"}')
    srv.reply(content='{"age": "y"}')
    schema = '{"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}'
    p = glm(environ, "ask", "--no-log", "--schema", schema, "--json", "how old?")
    assert p.returncode == 9 and "$.age: 'y' is not of type 'integer'" in p.stderr
    assert json.loads(p.stdout)["content"] == '{"age": "y"}'
    assert len(srv.chat_requests()) == 2  # one repair, as before


def test_an_unreachable_mcp_url_is_not_told_to_run_a_command():
    pytest.importorskip("mcp")
    from glm_cli.errors import GlmError
    from glm_cli.tools import mcp as mcp_client

    with (
        pytest.raises(GlmError) as err,
        mcp_client.McpHub([mcp_client.McpServer(name="u", url="http://127.0.0.1:1/mcp")]),
    ):
        pass
    assert "failed to start" in err.value.message and "URL" in (err.value.hint or "")


def test_an_inline_schema_that_is_a_list_is_named_as_such(tmp_path):
    from glm_cli.errors import UsageError
    from glm_cli.tools.schema import load_schema

    with pytest.raises(UsageError, match="must be a JSON Schema object, got list"):
        load_schema('[{"type": "object"}]')
