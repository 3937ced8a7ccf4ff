"""MCP as it is really used (issue 13, items 6-9) and argv typed as written (item 15): the installed `glm`
against tests/mcp_others.py (a raw stdio server that reports what it got), an in-process streamable-HTTP
fake that records every request's headers, the SDK's own legacy HTTP+SSE server, and tests/fake_server.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import FAKE_KEY, ROOT, SLOW, glm_executable

pytestmark = pytest.mark.slow
pytest.importorskip("mcp")
PY = sys.executable
OTHERS = ROOT / "tests" / "mcp_others.py"
TOKEN = "tok-canary-0000-fake"  # noqa: S105 - an obviously fake bearer token


def glm(environ, *args, stdin: str = ""):
    return subprocess.run(
        [*glm_executable(), *args], input=stdin, capture_output=True, text=True, env=environ, timeout=SLOW
    )


def config(environ: dict[str, str], body: dict) -> Path:
    cfg = Path(environ["XDG_CONFIG_HOME"]) / "glm" / "config.yaml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(json.dumps(body))
    return cfg


def others(state: Path, label: str = "others") -> dict:
    return {"command": PY, "args": [str(OTHERS), str(state), label]}


def tool_results(srv) -> list[str]:
    return [m["content"] for m in srv.chat_requests()[-1]["messages"] if m["role"] == "tool"]


# ------------------------------------------------------------------ an in-process streamable-HTTP MCP fake


class FakeHttpMcp:
    """Streamable HTTP (JSON answers), one tool `webSearchPrime`; records (method, path, headers) per request.

    require: the Authorization header it demands (401 otherwise); status: answer every request with it.
    """

    def __init__(self, require: str | None = None, status: int | None = None) -> None:
        self.require, self.status, self.seen = require, status, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, code: int, body: dict | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(code)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                fake.seen.append(("GET", self.path, dict(self.headers)))
                self._answer(fake.status or 405)

            def do_DELETE(self) -> None:  # noqa: N802
                fake.seen.append(("DELETE", self.path, dict(self.headers)))
                self._answer(fake.status or 200)

            def do_POST(self) -> None:  # noqa: N802
                msg = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                fake.seen.append(("POST", self.path, dict(self.headers)))
                if fake.status:
                    return self._answer(fake.status)
                if fake.require is not None and self.headers.get("Authorization") != fake.require:
                    return self._answer(401, {"error": "unauthorized"})
                if "id" not in msg:
                    return self._answer(202)
                method = msg.get("method")
                if method == "initialize":
                    result = {
                        "protocolVersion": msg["params"]["protocolVersion"],
                        "capabilities": {"tools": {}},
                        "serverInfo": {"name": "fake-hosted", "version": "0"},
                    }
                elif method == "tools/list":
                    result = {
                        "tools": [
                            {
                                "name": "webSearchPrime",
                                "description": "Search the web.",
                                "inputSchema": {
                                    "type": "object",
                                    "properties": {"search_query": {"type": "string"}},
                                    "required": ["search_query"],
                                },
                            }
                        ]
                    }
                else:
                    query = msg["params"]["arguments"].get("search_query")
                    result = {"content": [{"type": "text", "text": f"results for {query}"}]}
                return self._answer(200, {"jsonrpc": "2.0", "id": msg["id"], "result": result})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.url = self.origin + "/mcp"

    def headers_seen(self) -> list[dict[str, str]]:
        return [{k.lower(): v for k, v in h.items()} for _, _, h in self.seen]

    def __enter__(self) -> FakeHttpMcp:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------ 6. the servers' environment


def test_stdio_servers_get_the_users_environment_without_the_keys(srv, environ, tmp_path):
    state = tmp_path / "state"
    config(
        environ,
        {
            "api_key_env": "MY_GLM_KEY",
            "env_withhold": ["EVERYWHERE_SECRET"],
            "mcp_servers": {
                "o": {
                    **others(state),
                    "env_withhold": ["ONLY_HERE_SECRET"],
                    "env": {"MEMORY_FILE_PATH": "/data/memory.json", "DERIVED": "${CUSTOM_TOKEN}-x", "DEBUG": "yes"},
                }
            },
        },
    )
    env = {
        **environ,
        "HTTPS_PROXY": "http://proxy.example:3128",
        "NO_PROXY": "localhost",
        "LANG": "de_DE.UTF-8",
        "npm_config_registry": "https://npm.example",
        "CUSTOM_TOKEN": "custom-fake-token",
        "ZAI_API_KEY": "fake-zai-key-0000",
        "ZHIPUAI_API_KEY": "fake-zhipuai-key-0000",
        "MY_GLM_KEY": "fake-my-key-0000",
        "EVERYWHERE_SECRET": "s1",
        "ONLY_HERE_SECRET": "s2",
    }
    for flags in (["--mcp-server", "o"], ["--mcp", f"{PY} {OTHERS} {state}"]):
        srv.clear()
        srv.reply(content="", tool_calls=[{"name": "env", "arguments": {}}])
        srv.reply(content="ok")
        out = glm(env, "ask", *flags, "--allow", "env", "--no-log", "q")
        assert out.returncode == 0, out.stderr
        seen = json.loads(tool_results(srv)[0])
        for var in ("HTTPS_PROXY", "NO_PROXY", "LANG", "npm_config_registry", "CUSTOM_TOKEN"):
            assert seen[var] == env[var]
        for var in ("GLM_API_KEY", "ZAI_API_KEY", "ZHIPUAI_API_KEY", "MY_GLM_KEY", "EVERYWHERE_SECRET"):
            assert var not in seen
        if flags[0] == "--mcp-server":  # its own entry: withheld, and added (expanded, typed as written)
            assert "ONLY_HERE_SECRET" not in seen
            assert (seen["MEMORY_FILE_PATH"], seen["DERIVED"], seen["DEBUG"]) == (
                "/data/memory.json",
                "custom-fake-token-x",
                "yes",
            )
        else:
            assert seen["ONLY_HERE_SECRET"] == "s2" and "DERIVED" not in seen


def test_env_naming_an_unset_variable_is_a_config_error(srv, environ, tmp_path):
    config(environ, {"mcp_servers": {"o": {**others(tmp_path / "state"), "env": {"A": "${NOT_SET_ANYWHERE}"}}}})
    out = glm(environ, "mcp", "tools", "o")
    assert out.returncode == 3, out.stderr
    assert "NOT_SET_ANYWHERE" in out.stderr and "Traceback" not in out.stderr


# ------------------------------------------------------------------------- 7. headers for remote servers


def test_remote_server_gets_headers_expanded_at_use_and_never_shown(srv, environ):
    with FakeHttpMcp(require=f"Bearer {TOKEN}") as fake:
        cfg = config(
            environ,
            {
                "mcp_servers": {
                    "remote": {
                        "url": fake.url,
                        "headers": {"Authorization": "Bearer ${MCP_TOKEN}", "X-Literal": "plain-secret-value"},
                    }
                }
            },
        )
        env = {**environ, "MCP_TOKEN": TOKEN}
        out = glm(env, "mcp", "tools", "remote", "-v")
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("webSearchPrime(search_query)")
        assert any(
            h.get("authorization") == f"Bearer {TOKEN}" and h.get("x-literal") == "plain-secret-value"
            for h in fake.headers_seen()
        )
        assert "${MCP_TOKEN}" in cfg.read_text()  # never written back
        assert TOKEN not in out.stderr  # not even with -v
        for args in (["mcp", "list"], ["mcp", "list", "--json"]):
            shown = glm(env, *args)
            assert shown.returncode == 0, shown.stderr
            assert TOKEN not in shown.stdout + shown.stderr and "plain-secret-value" not in shown.stdout
        listed = {r["name"]: r for r in json.loads(shown.stdout)}
        assert listed["remote"]["headers"] == {"Authorization": "Bearer ${MCP_TOKEN}", "X-Literal": "***"}


def test_a_401_says_so_and_an_unset_header_variable_is_a_config_error(srv, environ):
    with FakeHttpMcp(require=f"Bearer {TOKEN}") as fake:
        config(
            environ, {"mcp_servers": {"remote": {"url": fake.url, "headers": {"Authorization": "Bearer ${MCP_TOKEN}"}}}}
        )
        wrong = glm({**environ, "MCP_TOKEN": "tok-wrong-0000-fake"}, "mcp", "tools", "remote", "-v")
        assert wrong.returncode == 4, wrong.stderr
        assert "401 Unauthorized" in wrong.stderr and "check that the URL serves MCP" not in wrong.stderr
        assert "tok-wrong-0000-fake" not in wrong.stderr and "Traceback" not in wrong.stderr
        unset = glm(environ, "mcp", "tools", "remote")
        assert unset.returncode == 3 and "MCP_TOKEN" in unset.stderr, unset.stderr


def test_a_403_is_named_too(srv, environ):
    with FakeHttpMcp(status=403) as fake:
        out = glm(environ, "mcp", "tools", fake.url)
    assert out.returncode == 4 and "403 Forbidden" in out.stderr, out.stderr


# --------------------------------------------------------------------------- 8. Zhipu's hosted servers


def test_builtin_servers_are_listed_for_the_chosen_endpoint(environ):
    out = glm(environ, "mcp", "list")
    assert out.returncode == 0, out.stderr
    for name in ("web-search", "web-reader", "zread", "vision"):
        assert name in out.stdout
    assert "https://api.z.ai/api/mcp/web_search_prime/mcp" in out.stdout and "built-in" in out.stdout
    env = {k: v for k, v in environ.items() if k != "GLM_BASE_URL"}
    big = glm({**env, "GLM_ENDPOINT": "bigmodel-coding"}, "mcp", "list", "--json")
    rows = {r["name"]: r for r in json.loads(big.stdout)}
    assert rows["zread"]["url"] == "https://open.bigmodel.cn/api/mcp/zread/mcp" and rows["zread"]["builtin"]
    assert rows["vision"]["args"] == ["-y", "@z_ai/mcp-server"] and rows["vision"]["env"] == ["Z_AI_MODE"]
    assert FAKE_KEY not in big.stdout


def test_builtin_web_search_end_to_end_and_a_non_zhipu_host_never_gets_the_key(srv, environ):
    with FakeHttpMcp() as fake:
        env = {**environ, "GLM_HOSTED_MCP_BASE": fake.origin}  # the internal override: a non-Zhipu host
        srv.reply(content="", tool_calls=[{"name": "webSearchPrime", "arguments": {"search_query": "glm"}}])
        srv.reply(content="found it")
        out = glm(env, "ask", "--mcp-server", "web-search", "--allow", "webSearchPrime", "--no-log", "q")
        assert out.returncode == 0, out.stderr
        assert out.stdout == "found it\n" and tool_results(srv) == ["results for glm"]
        assert [p for m, p, _ in fake.seen if m == "POST"][0] == "/api/mcp/web_search_prime/mcp"
        assert fake.seen and all("authorization" not in h for h in fake.headers_seen())
        assert FAKE_KEY not in json.dumps(fake.seen)


def test_a_user_defined_server_of_the_same_name_wins_and_never_gets_the_key(srv, environ):
    with FakeHttpMcp() as fake:
        config(environ, {"mcp_servers": {"web-search": {"url": fake.url}}})
        out = glm(environ, "mcp", "tools", "web-search")
        assert out.returncode == 0, out.stderr
        assert [p for m, p, _ in fake.seen if m == "POST"][0] == "/mcp"
        assert FAKE_KEY not in json.dumps(fake.seen)
        listed = glm(environ, "mcp", "list")
        assert listed.stdout.count("web-search") == 1 and fake.url in listed.stdout
        rows = {r["name"]: r for r in json.loads(glm(environ, "mcp", "list", "--json").stdout)}
        assert rows["web-search"]["builtin"] is False and rows["web-reader"]["builtin"] is True


def test_the_key_is_attached_only_for_zhipus_own_hosts():
    from glm_cli.config import load_settings
    from glm_cli.tools.mcp import builtin_servers, with_key

    def servers(**env: str) -> dict:
        settings = load_settings({"HOME": "/nonexistent", "GLM_API_KEY": FAKE_KEY, **env})
        return {name: with_key(server, settings) for name, server in builtin_servers(settings).items()}

    for endpoint, host in [
        ("zai", "api.z.ai"),
        ("zai-coding", "api.z.ai"),
        ("bigmodel", "open.bigmodel.cn"),
        ("bigmodel-coding", "open.bigmodel.cn"),
    ]:
        got = servers(GLM_ENDPOINT=endpoint)
        assert got["web-search"].url == f"https://{host}/api/mcp/web_search_prime/mcp"
        assert got["web-search"].secret_headers == {"Authorization": f"Bearer {FAKE_KEY}"}
        assert got["vision"].secret_env == {"Z_AI_API_KEY": FAKE_KEY}
        assert got["vision"].env["Z_AI_MODE"] == ("ZHIPU" if host == "open.bigmodel.cn" else "ZAI")
        assert FAKE_KEY not in repr(got)
    # the key of another server (a proxy's) is never sent to Zhipu, nor to a host the override names
    proxied = servers(GLM_BASE_URL="https://proxy.example/v1")
    assert not proxied["web-search"].secret_headers and not proxied["vision"].secret_env
    for base in (
        "http://127.0.0.1:9",
        "https://api.z.ai.evil.example",
        "http://api.z.ai",
        "https://api.z.ai:8443",
        "https://user@api.z.ai",
    ):
        got = servers(GLM_HOSTED_MCP_BASE=base)
        assert not got["web-search"].secret_headers, base


def test_the_transport_drops_secret_headers_for_any_other_host():
    from glm_cli.tools.mcp import McpHub, McpServer

    with FakeHttpMcp() as fake:
        server = McpServer(name="x", url=fake.url, secret_headers={"Authorization": "Bearer fake-canary-key-0000"})
        with McpHub([server], environ={}) as hub:
            assert [t.name for t in hub.tools] == ["webSearchPrime"]
        assert fake.seen and "fake-canary-key-0000" not in json.dumps(fake.seen)


# ------------------------------------------------------------------------ 9. MCP as servers really are


@pytest.fixture
def bin_dir(tmp_path, environ) -> Path:
    """A directory on PATH for commands the tests make (a bare `mcp-others`, a slow `npx`)."""
    path = tmp_path / "bin"
    path.mkdir()
    environ["PATH"] = f"{path}:{environ['PATH']}"
    return path


def script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def test_a_bare_command_is_a_server_everywhere_a_command_line_is(srv, environ, bin_dir, tmp_path):
    state = tmp_path / "state"
    script(bin_dir / "mcp-others", f'exec "{PY}" "{OTHERS}" "{state}"')
    out = glm(environ, "mcp", "tools", "mcp-others", "-v")
    assert out.returncode == 0, out.stderr
    listed = [line.split("(")[0] for line in out.stdout.splitlines() if not line.startswith(" ")]
    assert listed == ["env", "same", "progress"]  # needs_task is left out, and -v says why
    assert "needs_task" in out.stderr and "task" in out.stderr
    quiet = glm(environ, "mcp", "tools", "mcp-others")
    assert quiet.returncode == 0 and "needs_task" not in quiet.stderr
    wrong = glm(environ, "ask", "--mcp-server", "mcp-others", "--yes", "q")
    assert wrong.returncode == 2 and "--mcp mcp-others" in wrong.stderr, wrong.stderr
    nothing = glm(environ, "mcp", "tools", "no-such-thing-at-all")
    assert nothing.returncode == 2 and "no MCP server or command named 'no-such-thing-at-all'" in nothing.stderr


def test_client_info_is_glms_name_and_version(srv, environ, tmp_path):
    from glm_cli import __version__

    state = tmp_path / "state"
    out = glm(environ, "mcp", "tools", f"{PY} {OTHERS} {state}")
    assert out.returncode == 0, out.stderr
    init = json.loads(state.read_text().splitlines()[0].removeprefix("initialize "))
    assert init["clientInfo"]["name"] == "glm" and init["clientInfo"]["version"] == __version__


def test_handshake_timeout_says_what_timed_out_and_is_configurable_globally(srv, environ, bin_dir):
    script(bin_dir / "npx", f'exec "{PY}" -c "import time; time.sleep(120)"')
    config(environ, {"mcp_start_timeout": 0.5})
    out = glm(environ, "ask", "--mcp", "npx -y @example/slow-server", "--yes", "q")
    assert out.returncode == 1, out.stderr
    assert "no answer to the MCP handshake (initialize) within 0.5s" in out.stderr
    assert "is it an MCP server?" not in out.stderr
    assert "npx -y" in out.stderr and "download" in out.stderr and "mcp_start_timeout" in out.stderr
    assert srv.chat_requests() == []


def test_clashing_tool_names_are_namespaced_by_server(srv, environ, tmp_path):
    config(environ, {"mcp_servers": {"alpha": others(tmp_path / "a", "A"), "beta": others(tmp_path / "b", "B")}})
    srv.reply(
        content="", tool_calls=[{"name": "beta__same", "arguments": {}}, {"name": "alpha__same", "arguments": {}}]
    )
    srv.reply(content="ok")
    out = glm(environ, "ask", "--mcp-server", "alpha", "--mcp-server", "beta", "--yes", "--no-log", "q")
    assert out.returncode == 0, out.stderr
    names = sorted(t["function"]["name"] for t in srv.chat_requests()[0]["tools"])
    assert names == ["alpha__env", "alpha__progress", "alpha__same", "beta__env", "beta__progress", "beta__same"]
    assert tool_results(srv) == ["B", "A"]


def test_progress_and_server_log_messages_are_shown_with_verbose(srv, environ, tmp_path):
    for verbose in (True, False):
        srv.clear()
        srv.reply(content="", tool_calls=[{"name": "progress", "arguments": {}}])
        srv.reply(content="ok")
        out = glm(
            environ,
            "ask",
            *(["-v"] if verbose else []),
            "--mcp",
            f"{PY} {OTHERS} {tmp_path / 's'}",
            "--yes",
            "--no-log",
            "q",
        )
        assert out.returncode == 0, out.stderr
        assert tool_results(srv) == ["done"]
        shown = "progress 1/2: step 1" in out.stderr and "indexing the files" in out.stderr
        assert shown is verbose, out.stderr


def test_a_legacy_http_sse_server_is_reached_through_the_old_transport(srv, environ):
    port = free_port()
    server = subprocess.Popen(
        [PY, str(ROOT / "tests" / "mcp_server.py"), "--sse", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + SLOW
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the SSE server did not start"
                time.sleep(0.05)
        out = glm(environ, "mcp", "tools", f"http://127.0.0.1:{port}/sse", "-v")
        assert out.returncode == 0, out.stderr
        assert "add(a, b)" in out.stdout and "legacy HTTP+SSE" in out.stderr
    finally:
        server.terminate()
        server.wait(timeout=SLOW)


def test_a_url_that_serves_neither_transport_names_the_status(srv, environ):
    with FakeHttpMcp(status=404) as fake:
        out = glm(environ, "mcp", "tools", fake.url)
    assert out.returncode == 1, out.stderr
    assert "404 Not Found" in out.stderr and "legacy HTTP+SSE" in out.stderr


# ------------------------------------------------------------------------ 15. argv elements as written


def test_tool_file_command_elements_are_strings_as_written(srv, environ, tmp_path):
    (tmp_path / "echo.yaml").write_text(
        "name: echo\ncommand: [echo, yes, no, on, 1.0, 010, null, ~, 0x1F, 2001-12-14, '7']\ntimeout: 10\n"
    )
    (tmp_path / "false.yaml").write_text("name: nope\ncommand: [false]\n")
    srv.reply(content="", tool_calls=[{"name": "echo", "arguments": {}}, {"name": "nope", "arguments": {}}])
    srv.reply(content="ok")
    out = glm(
        environ,
        "ask",
        "--tool",
        str(tmp_path / "echo.yaml"),
        "--tool",
        str(tmp_path / "false.yaml"),
        "--yes",
        "--no-log",
        "q",
    )
    assert out.returncode == 0, out.stderr
    echoed, failed = tool_results(srv)
    assert echoed == "yes no on 1.0 010 null ~ 0x1F 2001-12-14 7"
    assert "exited with status 1" in failed and "cannot run" not in failed


def test_json_tool_file_with_a_non_string_argv_element_is_refused_clearly(environ, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"name": "t", "command": ["echo", True]}))
    out = glm(environ, "ask", "--tool", str(path), "--yes", "q")
    assert out.returncode == 2 and "`command`" in out.stderr and "true" in out.stderr, out.stderr


def test_mcp_server_argv_and_env_from_the_config_are_strings_as_written(environ):
    cfg = Path(environ["XDG_CONFIG_HOME"]) / "glm" / "config.yaml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(
        "mcp_servers:\n  s:\n    command: [srv, on]\n    args: [--flag, yes, 010, 1.0]\n"
        "    env: {DEBUG: no, PORT: 0800}\n"
    )
    out = glm(environ, "mcp", "list", "--json")
    assert out.returncode == 0, out.stderr
    row = next(r for r in json.loads(out.stdout) if r["name"] == "s")
    assert row["command"] == "srv" and row["args"] == ["on", "--flag", "yes", "010", "1.0"]


def test_load_yaml_keeps_argv_scalars_as_written():
    from glm_cli.safe_yaml import load_yaml

    doc = load_yaml(
        "command: [a, yes, 010]\nenv: {X: off}\ntimeout: 010\nother: [yes]\n", as_written=("command", "env")
    )
    assert doc == {"command": ["a", "yes", "010"], "env": {"X": "off"}, "timeout": 8, "other": [True]}


def test_a_header_variable_with_a_line_break_is_refused_without_showing_it(environ):
    config(environ, {"mcp_servers": {"remote": {"url": "http://127.0.0.1:9/mcp", "headers": {"X-Key": "${BAD}"}}}})
    out = glm({**environ, "BAD": "line-one-secret\nline-two"}, "mcp", "tools", "remote")
    assert out.returncode == 3 and "line break" in out.stderr, out.stderr
    assert "line-one-secret" not in out.stderr
