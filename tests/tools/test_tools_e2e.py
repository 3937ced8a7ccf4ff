"""End to end: the installed `glm` with tools, MCP (tests/mcp_server.py), web search and --schema
against tests/fake_server.py."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FAKE_KEY, ROOT, SLOW, glm_executable
from tests.ptyio import read_pty

pytestmark = pytest.mark.slow
PY = sys.executable
MCP_SERVER = f"{PY} {ROOT / 'tests' / 'mcp_server.py'}"
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


def glm(environ, *args, stdin: str = "", timeout: float = SLOW):
    return subprocess.run(
        [*glm_executable(), *args], input=stdin, capture_output=True, text=True, env=environ, timeout=timeout
    )


@pytest.fixture
def weather(tmp_path) -> str:
    path = tmp_path / "weather.yaml"
    path.write_text(
        json.dumps(
            {
                "name": "weather",
                "description": "Current weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                "command": [
                    PY,
                    "-c",
                    "import json,os,sys; a=json.load(sys.stdin); "
                    "print(a['city'], '18 C', os.environ.get('GLM_API_KEY', 'no key'))",
                ],
                "timeout": 10,
            }
        )
    )
    return str(path)


@pytest.mark.parametrize("stream", [True, False])
def test_two_step_loop_carries_reasoning_result_and_call_id(srv, environ, weather, stream):
    srv.chunk_size = 3  # with tool_stream the arguments arrive in 3-character fragments
    srv.reply(
        content="",
        reasoning="The user wants Paris weather; call the tool.",
        tool_calls=[{"name": "weather", "arguments": {"city": "Paris"}}],
    )
    srv.reply(content="It is 18 C in Paris.", reasoning="Answer now.")
    out = glm(environ, "ask", "--tool", weather, "--yes", *([] if stream else ["--no-stream"]), "Weather in Paris?")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "It is 18 C in Paris.\n"
    assert 'tool: weather {"city":"Paris"}' in out.stderr
    first, second = srv.chat_requests()
    assert first.get("tool_stream") is (True if stream else None)
    assistant, result = second["messages"][1], second["messages"][2]
    assert assistant["reasoning_content"] == "The user wants Paris weather; call the tool."
    call = assistant["tool_calls"][0]
    assert call["function"] == {"name": "weather", "arguments": '{"city":"Paris"}'}
    assert result == {"role": "tool", "tool_call_id": call["id"], "content": "Paris 18 C no key"}  # no API key
    assert FAKE_KEY not in json.dumps(second)


def test_refused_without_a_terminal(srv, environ, weather):
    out = glm(environ, "ask", "--tool", weather, "q")
    assert out.returncode == 2 and out.stdout == ""
    assert "no terminal to ask on" in out.stderr and "--yes" in out.stderr and srv.chat_requests() == []


def test_tool_timeout_goes_back_to_the_model(srv, environ, tmp_path):
    slow = tmp_path / "slow.yaml"
    slow.write_text(f"name: slow\ncommand: [{PY}, -c, 'import time; time.sleep(60)']\ntimeout: 0.5\n")
    srv.reply(content="", tool_calls=[{"name": "slow", "arguments": {}}])
    srv.reply(content="The tool timed out.")
    started = time.monotonic()
    out = glm(environ, "ask", "--tool", str(slow), "--allow", "slow", "q")
    assert out.returncode == 0 and out.stdout == "The tool timed out.\n"
    assert "glm: tool slow failed: timed out after 0.5s" in out.stderr
    assert srv.chat_requests()[1]["messages"][-1]["content"] == "error: the tool timed out after 0.5s"
    assert time.monotonic() - started < 30  # the sleeping tool was killed, not waited for


def test_mcp_loop_with_a_real_server(srv, environ):
    srv.reply(
        content="",
        reasoning="use both",
        tool_calls=[{"name": "add", "arguments": {"a": 2, "b": 3}}, {"name": "secrets_seen", "arguments": {}}],
    )
    srv.reply(content="2 + 3 = 5")
    out = glm(environ, "ask", "--mcp", MCP_SERVER, "--yes", "add 2 and 3")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "2 + 3 = 5\n"
    first, second = srv.chat_requests()
    names = [t["function"]["name"] for t in first["tools"]]
    assert {"add", "dotted_name", "sleep", "explode"} <= set(names)
    assert [m["content"] for m in second["messages"] if m["role"] == "tool"] == ["5", "none"]  # no key leaked


def test_mcp_server_from_config_with_env_allowlist_and_errors(srv, environ):
    cfg = Path(environ["XDG_CONFIG_HOME"]) / "glm" / "config.yaml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(
        json.dumps(
            {
                "mcp_servers": {
                    "t": {
                        "command": PY,
                        "args": [str(ROOT / "tests" / "mcp_server.py")],
                        "env": {"GREETING": "hello"},
                        "tools": ["env_value", "explode", "dotted.name"],
                        "description": "the test server",
                    }
                }
            }
        )
    )
    srv.reply(
        content="",
        tool_calls=[
            {"name": "env_value", "arguments": {"name": "GREETING"}},
            {"name": "explode", "arguments": {"reason": "boom"}},
            {"name": "dotted_name", "arguments": {"text": "hi"}},
        ],
    )
    srv.reply(content="done")
    out = glm(environ, "ask", "--mcp-server", "t", "--yes", "go")
    assert out.returncode == 0, out.stderr
    first, second = srv.chat_requests()
    assert sorted(t["function"]["name"] for t in first["tools"]) == ["dotted_name", "env_value", "explode"]
    results = [m["content"] for m in second["messages"] if m["role"] == "tool"]
    assert results[0] == "hello" and "explode" in results[1] and results[2] == "HI"
    assert "glm: tool explode failed" in out.stderr

    listed = glm(environ, "mcp", "list")
    assert listed.returncode == 0 and listed.stdout.startswith("t  ") and "the test server" in listed.stdout
    tools = glm(environ, "mcp", "tools", "t")
    assert tools.returncode == 0, tools.stderr
    assert "env_value(name)\n    Return one environment variable" in tools.stdout
    assert "dotted_name(text)  (MCP name: dotted.name)" in tools.stdout and "add(" not in tools.stdout
    as_json = json.loads(glm(environ, "mcp", "tools", MCP_SERVER, "--json").stdout)
    assert {"name": "add", "mcp_name": "add"}.items() <= as_json[0].items()
    bad = glm(environ, "ask", "--mcp-server", "nope", "q")
    assert bad.returncode == 2 and "no such server" in bad.stderr and "servers: t" in bad.stderr


def test_mcp_server_that_fails_to_start(srv, environ):
    out = glm(environ, "ask", "--mcp", f"{PY} -c \"import sys; sys.exit('cannot start: no config')\"", "--yes", "q")
    assert out.returncode == 1 and "failed to start" in out.stderr and "cannot start: no config" in out.stderr
    assert srv.chat_requests() == []


def test_missing_mcp_package(srv, environ, tmp_path):
    (tmp_path / "shadow" / "mcp").mkdir(parents=True)
    (tmp_path / "shadow" / "mcp" / "__init__.py").write_text("raise ImportError('not installed')\n")
    out = glm({**environ, "PYTHONPATH": str(tmp_path / "shadow")}, "ask", "--mcp", "anything", "--yes", "q")
    assert out.returncode == 2 and "optional `mcp` package" in out.stderr and "zhipu-glm-cli[mcp]" in out.stderr


def test_web_search(srv, environ):
    srv.reply(
        content="GLM-4.7 came out in December [ref_1].",
        web_search=[{"title": "GLM-4.7", "link": "https://z.ai/blog/glm-4.7", "media": "Z.ai", "refer": "ref_1"}],
    )
    out = glm(environ, "ask", "--web-search", "--search-engine", "search_pro", "What changed in GLM-4.7?")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "GLM-4.7 came out in December [ref_1].\n"
    assert "Sources:\n  [1] GLM-4.7 — https://z.ai/blog/glm-4.7 (Z.ai)" in out.stderr
    [tool] = srv.chat_requests()[0]["tools"]
    assert tool["type"] == "web_search" and tool["web_search"]["search_engine"] == "search_pro"


def test_schema_success_repair_and_failure(srv, environ, tmp_path):
    schema = tmp_path / "person.schema.json"
    schema.write_text(json.dumps(SCHEMA))
    srv.reply(content='{"name": "Ada", "age": 36}', reasoning="")
    out = glm(environ, "ask", "--schema", str(schema), "Extract: Ada, 36")
    assert out.returncode == 0 and json.loads(out.stdout) == {"name": "Ada", "age": 36}
    assert srv.chat_requests()[0]["response_format"] == {"type": "json_object"}

    srv.clear()
    srv.reply(content='{"name": "Ada", "age": "36"}', reasoning="")
    srv.reply(content='{"name": "Ada", "age": 36}', reasoning="")
    out = glm(environ, "ask", "--schema", str(schema), "Extract: Ada, 36")
    assert out.returncode == 0 and json.loads(out.stdout) == {"name": "Ada", "age": 36}
    assert "$.age: '36' is not of type 'integer'" in srv.chat_requests()[1]["messages"][-1]["content"]

    srv.clear()
    srv.reply(content='{"name": "Ada"}', reasoning="")
    srv.reply(content="Ada is 36.", reasoning="")
    out = glm(environ, "ask", "--schema", str(schema), "Extract: Ada, 36")
    assert out.returncode == 9 and out.stdout == "" and "not valid JSON" in out.stderr
    assert len(srv.chat_requests()) == 2


def test_batch_schema_error_records(srv, environ, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a", "prompt": "Ada, 36"}\n{"id": "b", "prompt": "Bob"}\n')
    out_file = tmp_path / "out.jsonl"
    good, bad = '{"name": "Ada", "age": 36}', '{"name": "Bob"}'
    out = glm(
        environ, "batch", str(rows), "-o", str(out_file), "--schema", json.dumps(SCHEMA), "-j", "1", "--backoff", "0"
    )
    # without scripted replies the fake echoes the prompt: neither line matches the schema
    records = {r["id"]: r for r in map(json.loads, out_file.read_text().splitlines())}
    assert out.returncode == 1
    assert records["a"]["status"] == "error" and records["a"]["error"]["code"] == "invalid_json"
    assert records["a"]["attempts"] == 2  # one automatic second try
    body = srv.chat_requests()[0]
    assert body["response_format"] == {"type": "json_object"} and "JSON Schema" in body["messages"][0]["content"]

    srv.clear()
    out_file.unlink()
    srv.reply(content=good, reasoning="")
    srv.reply(content=bad, reasoning="")
    srv.reply(content=bad, reasoning="")
    out = glm(
        environ, "batch", str(rows), "-o", str(out_file), "--schema", json.dumps(SCHEMA), "-j", "1", "--backoff", "0"
    )
    records = {r["id"]: r for r in map(json.loads, out_file.read_text().splitlines())}
    assert out.returncode == 1
    assert records["a"]["status"] == "ok" and json.loads(records["a"]["content"]) == {"name": "Ada", "age": 36}
    assert records["b"]["status"] == "error" and records["b"]["error"]["code"] == "schema_mismatch"
    assert "'age' is a required property" in records["b"]["error"]["message"]


def test_approval_on_a_terminal(srv, environ, weather):
    srv.reply(content="", tool_calls=[{"name": "weather", "arguments": {"city": "Oslo"}}])
    srv.reply(content="Cold.")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*glm_executable(), "ask", "--tool", weather, "--raw", "weather?"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**environ, "TERM": "dumb"},
    )
    os.close(slave)
    answered = False

    def answer(seen: bytes) -> None:
        nonlocal answered
        if not answered and b"[a]lways for weather: " in seen:
            os.write(master, b"y\n")
            answered = True

    seen = read_pty(master, proc, 30, answer)
    assert proc.wait(timeout=5) == 0, seen
    assert answered and b"Cold." in seen
    assert srv.chat_requests()[1]["messages"][-1]["content"].startswith("Oslo 18 C")


def test_mcp_over_streamable_http(srv, environ):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [PY, str(ROOT / "tests" / "mcp_server.py"), "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/mcp"
        srv.reply(content="", tool_calls=[{"name": "add", "arguments": {"a": 20, "b": 22}}])
        srv.reply(content="42")
        out = glm(environ, "ask", "--mcp", url, "--allow", "add", "q")
        assert out.returncode == 0, out.stderr
        assert out.stdout == "42\n" and srv.chat_requests()[1]["messages"][-1]["content"] == "42"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_chat_with_an_mcp_server_from_the_config(srv, environ):
    pexpect = pytest.importorskip("pexpect")
    cfg = Path(environ["XDG_CONFIG_HOME"]) / "glm" / "config.yaml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(
        json.dumps(
            {
                "mcp_servers": {
                    "calc": {"command": PY, "args": [str(ROOT / "tests" / "mcp_server.py")], "tools": ["add"]}
                }
            }
        )
    )
    srv.reply(content="", reasoning="add", tool_calls=[{"name": "add", "arguments": {"a": 2, "b": 3}}])
    srv.reply(content="2 + 3 = 5")
    srv.reply(content="", tool_calls=[{"name": "add", "arguments": {"a": 1, "b": 1}}])
    srv.reply(content="1 + 1 = 2")
    exe, *pre = glm_executable()
    child = pexpect.spawn(
        exe,
        [*pre, "chat", "--mcp-server", "calc"],
        encoding="utf-8",
        timeout=SLOW,
        dimensions=(40, 100),
        env={**environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"},
    )
    child.delaybeforesend = None
    child.expect("glm>")
    child.send("add 2 and 3\r")
    child.expect(r"run tool add\? \[y\]es / \[n\]o / \[a\]lways for add: ")
    child.send("a\r")
    child.expect("2 \\+ 3 = 5")
    child.expect("glm>")
    child.send("and 1 and 1\r")
    child.expect("1 \\+ 1 = 2")  # "always": not asked again
    child.expect("glm>")
    child.send("\x04")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "run tool add?" not in child.before
    requests = srv.chat_requests()
    assert [m["content"] for m in requests[1]["messages"] if m["role"] == "tool"] == ["5"]
    assert [m["content"] for m in requests[3]["messages"] if m["role"] == "tool"] == ["5", "2"]
