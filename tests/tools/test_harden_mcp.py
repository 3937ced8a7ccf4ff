"""Hardening of MCP servers and command tools (issue 11, item 10): every MCP call has a bound, and glm
leaves no child process behind however it ends (exit, error, SIGINT, SIGTERM, SIGHUP).

tests/mcp_rogue.py is the misbehaving server: it writes its pid, its grandchild's pid and each request it
gets to a state file, so the tests wait for a state, never for a time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT, glm_executable

pytestmark = pytest.mark.slow
pytest.importorskip("mcp")
PY = sys.executable
ROGUE = ROOT / "tests" / "mcp_rogue.py"
BOUND = 30.0  # seconds; only ever reached when a test fails


# ---------------------------------------------------------------------------------------------- helpers


def alive(pid: int) -> bool:
    """Whether PID runs (a zombie, dead but not yet reaped by whoever inherited it, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def still_alive(pids: list[int]) -> list[int]:
    """Wait (up to BOUND) for every pid to be gone; return those still running."""
    deadline = time.monotonic() + BOUND
    while (left := [p for p in pids if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


class State:
    """The state file a rogue server or a tool writes: `pid N`, `child N`, then one line per request."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> list[str]:
        try:
            return self.path.read_text().splitlines()
        except FileNotFoundError:
            return []

    def wait_for(self, line: str, proc: subprocess.Popen | None = None) -> None:
        deadline = time.monotonic() + BOUND
        while line not in self.lines():
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"glm exited ({proc.returncode}) before {line!r}: {proc.stderr.read()}")
            assert time.monotonic() < deadline, f"no {line!r} in {self.lines()}"
            time.sleep(0.02)

    def pids(self) -> list[int]:
        return [int(x.split()[1]) for x in self.lines() if x.split()[0] in ("pid", "child")]


@pytest.fixture
def state(tmp_path):
    st = State(tmp_path / "state")
    yield st
    for pid in st.pids():  # a failed test must not leave its processes running
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def rogue(mode: str, state: State) -> str:
    return f"{PY} {ROGUE} {mode} {state.path}"


def config(environ: dict[str, str], servers: dict) -> None:
    cfg = Path(environ["XDG_CONFIG_HOME"]) / "glm" / "config.yaml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(json.dumps({"mcp_servers": servers}))


def start(environ, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [*glm_executable(), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )


def run(environ, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*glm_executable(), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, env=environ, timeout=BOUND
    )


# ------------------------------------------------------------------------------------------- the bounds


def test_a_server_that_never_lists_its_tools_is_a_clear_error_within_start_timeout(srv, environ, state):
    config(
        environ, {"rogue": {"command": PY, "args": [str(ROGUE), "silent+child", str(state.path)], "start_timeout": 0.5}}
    )
    out = run(environ, "ask", "--mcp-server", "rogue", "--yes", "--no-log", "q")
    assert out.returncode == 1, out.stderr
    assert "glm: MCP server rogue" in out.stderr and "no answer to tools/list within 0.5s" in out.stderr
    assert "start_timeout" in out.stderr  # the hint says how to give it longer
    assert "Traceback" not in out.stderr and srv.chat_requests() == []
    assert still_alive(state.pids()) == []


def test_start_timeout_is_checked_in_the_config_and_listed(make_app, env):
    from glm_cli.commands.mcp import ListOptions, run_list
    from glm_cli.errors import ConfigError
    from tests.conftest import write_config

    write_config(env, "mcp_servers:\n  s:\n    command: x\n    start_timeout: 0\n")
    with pytest.raises(ConfigError, match="start_timeout` must be a positive number of seconds"):
        make_app().settings()
    write_config(env, "mcp_servers:\n  s:\n    command: x\n    start_timeout: 90\n  t:\n    command: y\n")
    app = make_app()
    assert run_list(ListOptions(format="json"), app) == 0
    listed = json.loads(app.ios.stdout.getvalue())
    assert [(s["name"], s["start_timeout"], s["timeout"]) for s in listed if not s["builtin"]] == [
        ("s", 90.0, 60.0),
        ("t", 30.0, 60.0),
    ]


def test_a_tool_call_that_never_returns_times_out_naming_the_server(srv, environ, state):
    config(environ, {"rogue": {"command": PY, "args": [str(ROGUE), "hang-call", str(state.path)], "timeout": 0.5}})
    srv.reply(content="", tool_calls=[{"name": "hang", "arguments": {}}])
    srv.reply(content="It hung.")
    out = run(environ, "ask", "--mcp-server", "rogue", "--yes", "--no-log", "q")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "It hung.\n"
    sent = srv.chat_requests()[1]["messages"][-1]["content"]
    assert sent == "error: MCP server rogue did not answer tools/call within 0.5s (timeout)"
    assert "glm: tool hang failed: MCP server rogue did not answer tools/call within 0.5s" in out.stderr
    assert still_alive(state.pids()) == []


class SilentHttpMcp(ThreadingHTTPServer):
    """Streamable HTTP on 127.0.0.1 that answers `initialize`, then never answers tools/list (nor DELETE,
    the end of the session, when `hang_delete`)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.release = threading.Event()
        self.hang_delete = False
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _SilentHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/mcp"

    def close(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


class _SilentHandler(BaseHTTPRequestHandler):
    server: SilentHttpMcp

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Mcp-Session-Id", "s1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - no server-sent stream
        self._send(405)

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.seen.append("DELETE")
        if self.server.hang_delete:
            self.server.release.wait(BOUND)
        self._send(200)

    def do_POST(self) -> None:  # noqa: N802
        msg = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seen.append(msg.get("method", ""))
        if msg.get("method") == "initialize":
            self._send(
                200,
                {
                    "jsonrpc": "2.0",
                    "id": msg["id"],
                    "result": {
                        "protocolVersion": msg["params"]["protocolVersion"],
                        "capabilities": {"tools": {}},
                        "serverInfo": {"name": "silent", "version": "0"},
                    },
                },
            )
        elif "id" not in msg:
            self._send(202)
        else:
            self.server.release.wait(BOUND)


@pytest.fixture
def silent_http():
    server = SilentHttpMcp()
    yield server
    server.close()


def test_a_streamable_http_server_that_never_lists_its_tools(srv, environ, silent_http):
    config(environ, {"web": {"url": silent_http.url, "start_timeout": 0.5}})
    out = run(environ, "ask", "--mcp-server", "web", "--yes", "--no-log", "q")
    assert out.returncode == 1, out.stderr
    assert f"glm: MCP server web ({silent_http.url})" in out.stderr
    assert "no answer to tools/list within 0.5s" in out.stderr and "Traceback" not in out.stderr
    assert "tools/list" in silent_http.seen and srv.chat_requests() == []


def test_shutdown_of_a_server_that_never_answers_is_bounded(silent_http, monkeypatch):
    """The session's DELETE (HTTP) or exit gets SHUTDOWN_TIMEOUT; the SDK's own HTTP timeout is 30 s."""
    from glm_cli.errors import GlmError
    from glm_cli.tools import mcp as mcp_client

    monkeypatch.setattr(mcp_client, "SHUTDOWN_TIMEOUT", 0.5)
    silent_http.hang_delete = True
    server = mcp_client.McpServer(name="web", url=silent_http.url, start_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(GlmError, match="no answer to tools/list within 0.5s"), mcp_client.McpHub([server]):
        pass
    assert time.monotonic() - started < 20  # it did not wait for the 30 s HTTP timeout
    assert "DELETE" in silent_http.seen


# ------------------------------------------------------------------------------ no process left behind


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_a_signal_while_waiting_for_tools_list_stops_the_server_and_its_children(srv, environ, state, signum, code):
    glm = start(environ, "ask", "--mcp", rogue("silent+child", state), "--yes", "--no-log", "q")
    state.wait_for("tools/list", glm)
    pids = state.pids()
    assert len(pids) == 2 and all(alive(p) for p in pids)
    glm.send_signal(signum)
    _, err = glm.communicate(timeout=BOUND)
    assert glm.returncode == code, err
    assert "Traceback" not in err
    assert still_alive(pids) == []


@pytest.mark.parametrize(("signum", "mode"), [(signal.SIGTERM, "stubborn+child"), (signal.SIGHUP, "hang-call+child")])
def test_a_signal_during_an_mcp_tool_call_stops_the_server(srv, environ, state, signum, mode):
    """`stubborn` ignores SIGTERM and the end of its stdin: only a SIGKILL of its group ends it."""
    srv.reply(content="", tool_calls=[{"name": "hang", "arguments": {}}])
    glm = start(environ, "ask", "--mcp", rogue(mode, state), "--yes", "--no-log", "q")
    state.wait_for("tools/call", glm)
    pids = state.pids()
    glm.send_signal(signum)
    _, err = glm.communicate(timeout=BOUND)
    assert glm.returncode == 128 + signum, err
    assert "glm: stopped by SIG" in err and "Traceback" not in err
    assert still_alive(pids) == []


def test_a_normal_exit_stops_what_a_server_left_running(srv, environ, state):
    """hang-call exits when its stdin closes, but its grandchild would run on."""
    srv.reply(content="fine")
    out = run(environ, "ask", "--mcp", rogue("hang-call+child", state), "--yes", "--no-log", "q")
    assert out.returncode == 0 and out.stdout == "fine\n", out.stderr
    assert still_alive(state.pids()) == []


def test_mcp_tools_command_leaves_no_process(environ, state):
    out = run(environ, "mcp", "tools", rogue("hang-call+child", state))
    assert out.returncode == 0 and out.stdout.startswith("hang()"), out.stderr
    assert still_alive(state.pids()) == []


# A command tool that starts a grandchild, writes `pid`, `child` and `started` to the state file, then:
# exit (at once), hang (for ever), or wait (until STATE.go exists).
GRANDCHILD_TOOL = (
    "import json, os, subprocess, sys, time\n"
    "state = json.load(sys.stdin)['state']\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(3600)'],"
    " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "open(state, 'a').write(f'pid {os.getpid()}\\nchild {child.pid}\\nstarted\\n')\n"
    "while sys.argv[1] == 'hang' or sys.argv[1] == 'wait' and not os.path.exists(state + '.go'):\n"
    "    time.sleep(0.01)\n"
    "print('done')\n"
)


def test_a_command_tool_that_leaves_a_grandchild_running(state):
    from glm_cli.tools.files import ToolSpec, run_command_tool

    tool = ToolSpec("t", command=(PY, "-c", GRANDCHILD_TOOL, "exit"), timeout=BOUND)
    res = run_command_tool(tool, json.dumps({"state": str(state.path)}), dict(os.environ))
    assert res.ok and res.content == "done"
    assert len(state.pids()) == 2 and still_alive(state.pids()) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_a_command_tool_stops_it_and_its_children(srv, environ, state, tmp_path, signum):
    tool = tmp_path / "t.yaml"
    tool.write_text(json.dumps({"name": "t", "command": [PY, "-c", GRANDCHILD_TOOL, "hang"], "timeout": 600}))
    srv.reply(content="", tool_calls=[{"name": "t", "arguments": {"state": str(state.path)}}])
    glm = start(environ, "ask", "--tool", str(tool), "--yes", "--no-log", "q")
    state.wait_for("started", glm)
    pids = state.pids()
    glm.send_signal(signum)
    _, err = glm.communicate(timeout=BOUND)
    assert glm.returncode == 128 + signum, err
    assert "Traceback" not in err
    assert still_alive(pids) == []


def test_closing_the_terminal_of_a_chat_stops_its_mcp_server(srv, environ, state):
    """SIGHUP (the terminal went away) at the chat prompt: glm ends, and so does the server it started."""
    pexpect = pytest.importorskip("pexpect")
    exe, *pre = glm_executable()
    child = pexpect.spawn(
        exe,
        [*pre, "chat", "--mcp", rogue("hang-call+child", state)],
        encoding="utf-8",
        timeout=BOUND,
        env={**environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"},
    )
    child.expect("glm>")
    pids = state.pids()
    assert len(pids) == 2
    child.kill(signal.SIGHUP)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 129 and "glm: stopped by SIGHUP" in child.before
    assert still_alive(pids) == []


def test_nohup_keeps_glm_running_on_sighup(srv, environ, state, tmp_path):
    """A SIGHUP glm was started ignoring (nohup) stays ignored: the run goes on to its answer."""
    tool = tmp_path / "t.yaml"
    tool.write_text(json.dumps({"name": "t", "command": [PY, "-c", GRANDCHILD_TOOL, "wait"], "timeout": 600}))
    srv.reply(content="", tool_calls=[{"name": "t", "arguments": {"state": str(state.path)}}])
    srv.reply(content="finished")
    glm = subprocess.Popen(
        [*glm_executable(), "ask", "--tool", str(tool), "--yes", "--no-log", "q"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    state.wait_for("started", glm)
    glm.send_signal(signal.SIGHUP)  # handled, it would end glm before the tool could finish
    Path(f"{state.path}.go").touch()
    out, err = glm.communicate(timeout=BOUND)
    assert glm.returncode == 0, err
    assert out == "finished\n" and srv.chat_requests()[1]["messages"][-1]["content"] == "done"
    assert still_alive(state.pids()) == []
