"""A real MCP server for the tests, built with the official `mcp` SDK (v2 MCPServer, or v1 FastMCP).

Run: python tests/mcp_server.py              (speaks MCP on stdin/stdout)
     python tests/mcp_server.py --http PORT  (streamable HTTP at http://127.0.0.1:PORT/mcp)
     python tests/mcp_server.py --sse PORT   (the legacy HTTP+SSE transport at http://127.0.0.1:PORT/sse)
"""

from __future__ import annotations

import os
import sys
import time

try:
    from mcp.server.mcpserver import MCPServer
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef]

server = MCPServer("glm-test")


@server.tool()
def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


@server.tool(name="dotted.name")
def dotted(text: str) -> str:
    """A tool whose name GLM would not accept as is."""
    return text.upper()


@server.tool()
def secrets_seen() -> str:
    """Say which API key variables this process can see."""
    names = [k for k in ("GLM_API_KEY", "ZAI_API_KEY", "ZHIPUAI_API_KEY", "MY_KEY_VAR") if k in os.environ]
    return ",".join(names) or "none"


@server.tool()
def env_value(name: str) -> str:
    """Return one environment variable (to check `env:` from the config)."""
    return os.environ.get(name, "<unset>")


@server.tool()
def sleep(seconds: float) -> str:
    """Sleep, then answer."""
    time.sleep(seconds)
    return "awake"


@server.tool()
def explode(reason: str) -> str:
    """Always fail."""
    raise ValueError(f"exploded: {reason}")


if __name__ == "__main__":
    if sys.argv[1:2] in (["--http"], ["--sse"]):
        transport = "streamable-http" if sys.argv[1] == "--http" else "sse"
        try:
            server.run(transport, host="127.0.0.1", port=int(sys.argv[2]))
        except TypeError:  # mcp 1.x takes them from its settings
            server.settings.host, server.settings.port = "127.0.0.1", int(sys.argv[2])
            server.run(transport)
    else:
        server.run()
