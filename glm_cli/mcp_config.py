"""The `mcp_servers:` config: each server's keys, checked when the config loads, as McpServer values.

Stdlib only: the config (a pipeline module) checks these without importing the MCP feature (glm_cli/tools/mcp.py,
which starts the servers).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from glm_cli.errors import ConfigError
from glm_cli.redact import redact_url

SERVER_KEYS = {
    "command": "the program to start (a string; or a list: argv)",
    "args": "its arguments (a list)",
    "env": "variables added to its environment (a mapping; ${VAR} is expanded)",
    "env_withhold": "variables of yours it must not get (a list), besides the key variables and `env_withhold`",
    "url": "a streamable-HTTP server URL instead of a command (a legacy HTTP+SSE one works too)",
    "headers": "HTTP headers for a `url` server (a mapping; ${VAR} is expanded when sent, never shown)",
    "tools": "the only tools of this server offered to the model (a list; default all)",
    "timeout": "seconds a tool call may take (default 60)",
    "start_timeout": "seconds it may take to start: the handshake, then listing its tools "
    "(default `mcp_start_timeout`, else 30)",
    "description": "one line shown by `glm mcp list`",
}
DEFAULT_CALL_TIMEOUT = 60.0
START_TIMEOUT = 30.0  # for `initialize`, then again for tools/list (all pages); `start_timeout:` per server


@dataclass(frozen=True)
class McpServer:
    """How to reach one MCP server, and which of its tools to offer."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    tools: tuple[str, ...] | None = None
    timeout: float = DEFAULT_CALL_TIMEOUT
    start_timeout: float | None = None  # None: the hub's (`mcp_start_timeout`), else START_TIMEOUT
    description: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # as written: each ${VAR} is expanded only when sent
    env_withhold: tuple[str, ...] = ()
    builtin: bool = False  # one of Zhipu's hosted servers (glm_cli/tools/hosted.py)
    # The GLM key, set only by hosted.py for Zhipu's own servers; sent only to Zhipu's hosts, never shown.
    secret_headers: dict[str, str] = field(default_factory=dict, repr=False)
    secret_env: dict[str, str] = field(default_factory=dict, repr=False)

    def start_bound(self, default: float | None = None) -> float:
        """Return the seconds it may take to start: its own `start_timeout`, else DEFAULT, else START_TIMEOUT."""
        return self.start_timeout or default or START_TIMEOUT

    def display(self) -> str:
        """Return the command line (or URL) that starts it."""
        return redact_url(self.url) if self.url else shlex.join([self.command or "", *self.args])

    def shown_headers(self) -> dict[str, str]:
        """Return its headers for showing: each ${VAR} as written, any other value (or part of one) as ***."""
        return {name: _shown_header(value) for name, value in self.headers.items()}


VAR_REF = re.compile(r"(\$\{[A-Za-z_][A-Za-z0-9_]*\})")
AUTH_SCHEME = re.compile(r"(?i)(bearer|basic|token|bot) ")  # shown as written before a ${VAR}


def _shown_header(value: str) -> str:
    parts = VAR_REF.split(value)  # literal, ${VAR}, literal, ...
    return "".join(
        part if i % 2 or not part or (i == 0 and AUTH_SCHEME.fullmatch(part)) else "***" for i, part in enumerate(parts)
    )


def parse_servers(raw: Any, path: str, key: str = "mcp_servers") -> dict[str, McpServer]:
    """Check the `mcp_servers:` mapping of a config file; raise ConfigError naming the file and the bad key."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: `{key}` must be a mapping of server name to settings")
    return {str(name): _server(str(name), body, path, f"{key}.{name}") for name, body in raw.items()}


def _server(name: str, body: Any, path: str, key: str) -> McpServer:
    def bad(field_name: str | None, what: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{path}: `{key}" + (f".{field_name}" if field_name else "") + f"` {what}", hint)

    if not isinstance(body, dict):
        raise bad(None, "must be a mapping with `command` (or `url`)")
    unknown = sorted(set(map(str, body)) - set(SERVER_KEYS))
    if unknown:
        raise bad(unknown[0], "is not a known key", "known keys: " + ", ".join(SERVER_KEYS))
    command, args, url = body.get("command"), body.get("args") or [], body.get("url")
    if isinstance(command, list) and command and all(isinstance(a, str) for a in command):
        command, args = command[0], [*command[1:], *args]
    if (command is None) == (url is None):
        raise bad(None, "needs exactly one of `command` or `url`")
    if command is not None and not (isinstance(command, str) and command):
        raise bad("command", "must be a string or a list of strings")
    if url is not None and not (isinstance(url, str) and re.match(r"https?://", url)):
        raise bad("url", "must be an http(s) URL")
    if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) for a in args):
        raise bad("args", "must be a list of strings")
    env = body.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(v, (str, int, float)) for v in env.values()):
        raise bad("env", "must map variable names to strings")
    headers = body.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, (str, int, float)) for v in headers.values()):
        raise bad("headers", "must map header names to strings", 'e.g. headers: {Authorization: "Bearer ${TOKEN}"}')
    if headers and url is None:
        raise bad("headers", "only apply to a `url` server", "a command server gets `env:` instead")
    withhold = body.get("env_withhold") or []
    if not isinstance(withhold, list) or not all(isinstance(v, str) and v for v in withhold):
        raise bad("env_withhold", "must be a list of environment variable names")
    tools = body.get("tools")
    if tools is not None and (not isinstance(tools, list) or not all(isinstance(t, str) for t in tools)):
        raise bad("tools", "must be a list of tool names")
    bounds = {}
    for field_name in ("timeout", "start_timeout"):
        value = body.get(field_name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            raise bad(field_name, "must be a positive number of seconds")
        bounds[field_name] = None if value is None else float(value)
    return McpServer(
        name=name,
        command=command,
        args=tuple(str(a) for a in args),
        env={str(k): str(v) for k, v in env.items()},
        url=url,
        tools=tuple(tools) if tools is not None else None,
        timeout=bounds["timeout"] or DEFAULT_CALL_TIMEOUT,
        start_timeout=bounds["start_timeout"],
        description=str(body.get("description") or ""),
        headers={str(k): str(v) for k, v in headers.items()},
        env_withhold=tuple(withhold),
    )
