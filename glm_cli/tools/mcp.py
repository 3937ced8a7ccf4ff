"""MCP servers as tool sources: a client (the optional `mcp` SDK, imported lazily) in a side thread.

Their config (`mcp_servers:`, McpServer) is glm_cli/mcp_config.py.
"""

from __future__ import annotations

import json
import re
import shlex
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glm_cli import children
from glm_cli.errors import GlmError, UsageError
from glm_cli.mcp_config import START_TIMEOUT, McpServer, parse_servers
from glm_cli.tools.files import DEFAULT_MAX_OUTPUT, TOOL_NAME, ToolResult, ToolSpec, check_parameters

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

INSTALL_HINT = "pip install 'zhipu-glm-cli[mcp]'  (pipx: pipx inject zhipu-glm-cli mcp)"
SHUTDOWN_TIMEOUT = 5.0  # for closing a session; then its process group is killed


def server_from_flag(spec: str, index: int) -> McpServer:
    """Build a server from `--mcp "CMD ARGS"` (split like a shell would; no shell runs it)."""
    try:
        argv = shlex.split(spec)
    except ValueError as exc:
        raise UsageError(f"--mcp {spec!r}: {exc}") from None
    if not argv:
        raise UsageError('--mcp needs a command, e.g. --mcp "npx -y @modelcontextprotocol/server-filesystem ."')
    if re.match(r"https?://", argv[0]) and len(argv) == 1:
        return McpServer(name=f"mcp{index}", url=argv[0])
    return McpServer(name=f"mcp{index}", command=argv[0], args=tuple(argv[1:]))


def require_mcp() -> None:
    """Import the MCP SDK, or say how to install it."""
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise UsageError("MCP support needs the optional `mcp` package, which is not installed", INSTALL_HINT) from None


def tool_name(remote: str) -> str:
    """Return a GLM-acceptable function name for an MCP tool name."""
    if TOOL_NAME.fullmatch(remote):
        return remote
    return (re.sub(r"[^a-zA-Z0-9_-]", "_", remote) or "tool")[:64]


def result_text(result: dict[str, Any]) -> str:
    """Flatten a CallToolResult (wire shape) into the text sent back to the model."""
    parts: list[str] = []
    for block in result.get("content") or []:
        kind = block.get("type")
        if kind == "text":
            parts.append(block.get("text", ""))
        elif kind == "resource":
            res = block.get("resource") or {}
            parts.append(res.get("text") or f"[resource {res.get('uri', '')}]")
        elif kind == "resource_link":
            parts.append(f"[resource {block.get('uri', '')}]")
        else:
            parts.append(f"[{kind} {block.get('mimeType', '')}]".replace(" ]", "]"))
    structured = result.get("structuredContent")
    if structured is not None and not parts:
        parts.append(json.dumps(structured, ensure_ascii=False))
    text = "\n".join(parts)
    if len(text) > DEFAULT_MAX_OUTPUT:
        text = text[:DEFAULT_MAX_OUTPUT] + f"\n[output truncated: {len(text) - DEFAULT_MAX_OUTPUT:,} more characters]"
    return text


def _wire(obj: Any) -> dict[str, Any]:
    """Return an SDK model as its JSON wire shape (camelCase keys in SDK v1 and v2 alike)."""
    return obj.model_dump(mode="json", by_alias=True, exclude_none=True)


class McpHub:
    """Open sessions to MCP servers for the length of a command; call their tools from sync code."""

    def __init__(self, servers: list[McpServer], *, verbose: bool = False) -> None:
        self.servers, self.verbose = servers, verbose
        self.tools: list[ToolSpec] = []
        self.warnings: list[str] = []
        self._stack = ExitStack()
        self._sessions: dict[str, Any] = {}
        self._portal: Any = None
        self._groups: set[int] = set()  # the process groups of its stdio servers

    def __enter__(self) -> McpHub:
        require_mcp()
        if not self.verbose:  # the SDK logs a server's bad output with a traceback: the error below says it
            import logging

            logging.getLogger("mcp").addHandler(logging.NullHandler())
            logging.getLogger("mcp").propagate = False
        from anyio.from_thread import start_blocking_portal

        _track_stdio_servers()
        try:
            self._portal = self._stack.enter_context(start_blocking_portal())
            # Closed sessions first (LIFO), then calls still running (a tool call Ctrl-C left behind) cancelled.
            self._stack.callback(self._portal.call, self._portal.stop, True)
            for server in self.servers:
                self._connect(server)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every session (each within SHUTDOWN_TIMEOUT), then kill what is left of the servers."""
        try:
            self._stack.close()
        except Exception:  # noqa: BLE001 - a server that dies on shutdown must not mask the answer
            pass
        finally:
            for pid in self._groups:
                children.kill(pid)

    def _connect(self, server: McpServer) -> None:
        import sys
        import tempfile

        # The server's stderr: shown with --verbose, else kept aside and quoted only if it fails to start.
        errlog = (
            sys.stderr
            if self.verbose
            else self._stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace"))
        )

        def failed(exc: BaseException, timeout: str) -> GlmError:
            exc, tail = _unwrap(exc), None if self.verbose else _stderr_tail(errlog)
            if isinstance(exc, TimeoutError):
                hint = "\n".join(
                    filter(
                        None,
                        [
                            f"if it is only slow, give it longer: `start_timeout:` (seconds, now {bound:g}) "
                            "in its entry under `mcp_servers:` in the config",
                            tail,
                        ],
                    )
                )
            else:
                hint = tail or (
                    "check that the URL serves MCP over streamable HTTP"
                    if server.url
                    else "run the command by hand to see why"
                )
            return GlmError(
                f"MCP server {server.name} ({server.display()}) failed to start: " + _describe(exc, timeout), hint
            )

        bound = server.start_bound
        before = children.tracked()
        try:
            session = self._stack.enter_context(self._portal.wrap_async_context_manager(_session(server, errlog)))
        except GlmError:
            raise
        except Exception as exc:  # noqa: BLE001 - every way a server can fail to start reads the same
            raise failed(exc, f"no answer to the MCP handshake within {bound:g}s (is it an MCP server?)") from None
        finally:
            self._groups |= children.tracked() - before
        try:
            listed = self._portal.call(_list_tools, session, bound)
        except Exception as exc:  # noqa: BLE001
            raise failed(exc, f"no answer to tools/list within {bound:g}s") from None
        self._sessions[server.name] = session
        names = {t["name"] for t in listed}
        for missing in sorted(set(server.tools or ()) - names):
            self.warnings.append(
                f"MCP server {server.name} has no tool {missing!r} (it has: {', '.join(sorted(names))})"
            )
        for tool in listed:
            if server.tools is not None and tool["name"] not in server.tools:
                continue
            where = f"MCP server {server.name}, tool {tool['name']}"
            try:
                params = check_parameters(tool.get("inputSchema"), where)
            except UsageError as err:
                self.warnings.append(f"{err.message}; the tool is left out")
                continue
            self.tools.append(
                ToolSpec(
                    name=tool_name(tool["name"]),
                    description=tool.get("description") or "",
                    parameters=params,
                    timeout=server.timeout,
                    source=where,
                    server=server.name,
                    remote_name=tool["name"],
                )
            )

    def call(self, tool: ToolSpec, arguments: dict[str, Any]) -> ToolResult:
        """Call an MCP tool; failures and timeouts come back as a failed ToolResult."""
        session = self._sessions[tool.server or ""]
        try:
            result = self._portal.call(_call_tool, session, tool.remote_name or tool.name, arguments, tool.timeout)
        except TimeoutError:
            msg = f"MCP server {tool.server} did not answer tools/call within {tool.timeout:g}s (timeout)"
            return ToolResult(f"error: {msg}", ok=False, error=msg)
        except Exception as exc:  # noqa: BLE001 - protocol errors go back to the model, not a crash
            msg = _describe(exc)
            return ToolResult(f"error: {msg}", ok=False, error=msg)
        text = result_text(result)
        if result.get("isError"):
            first = text.strip().splitlines()[0] if text.strip() else "the tool reported an error"
            return ToolResult(text or "error", ok=False, error=first)
        return ToolResult(text)


@asynccontextmanager
async def _session(server: McpServer, errlog: Any) -> AsyncIterator[Any]:
    import anyio
    from mcp import ClientSession

    with anyio.CancelScope() as scope:
        async with _transport(server, errlog) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                with anyio.fail_after(server.start_bound):
                    await session.initialize()
                try:
                    yield session
                finally:  # closing (the HTTP DELETE, the stdio server's exit) gets a bound too
                    scope.deadline = anyio.current_time() + SHUTDOWN_TIMEOUT


def _transport(server: McpServer, errlog: Any) -> Any:
    if server.url:
        try:  # SDK v2 name first, then v1's
            from mcp.client.streamable_http import streamable_http_client as http_client  # type: ignore[attr-defined]
        except ImportError:
            from mcp.client.streamable_http import (  # type: ignore[no-redef, attr-defined]
                streamablehttp_client as http_client,
            )
        return http_client(server.url)
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    # The SDK passes only a safe set of variables (PATH, HOME, …) plus `env`: never the API key.
    params = StdioServerParameters(command=server.command or "", args=list(server.args), env=server.env or None)
    return stdio_client(params, errlog=errlog)


async def _list_tools(session: Any, timeout: float = START_TIMEOUT) -> list[dict[str, Any]]:
    """Return every tool of a server, following `nextCursor` through all pages, all within TIMEOUT."""
    import anyio

    tools: list[dict[str, Any]] = []
    cursor: str | None = None
    with anyio.fail_after(timeout):
        for _ in range(1000):  # a server that keeps sending cursors must not loop forever
            page = await _list_page(session, cursor)
            tools += [_wire(t) for t in page.tools]
            cursor = getattr(page, "next_cursor", None) or getattr(page, "nextCursor", None)
            if not cursor:
                break
    return tools


async def _list_page(session: Any, cursor: str | None) -> Any:
    if cursor is None:
        return await session.list_tools()
    try:  # SDK v2 and late v1: params=; early v1: cursor=
        from mcp.types import PaginatedRequestParams

        return await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
    except (ImportError, TypeError):
        return await session.list_tools(cursor=cursor)


async def _call_tool(session: Any, name: str, arguments: dict[str, Any], timeout: float) -> dict[str, Any]:
    import anyio

    with anyio.fail_after(timeout):
        return _wire(await session.call_tool(name, arguments))


def _track_stdio_servers() -> None:
    """Have each stdio server the SDK starts tracked by `children`: its process group dies with glm.

    The SDK (1.x since mid-2025, and 2.x) starts it in a session of its own, but kills that group only when
    the server outlives its stdin; what the server started, and any server when glm is killed, would be left.
    """
    import os

    from mcp.client import stdio

    spawn = getattr(stdio, "_create_platform_compatible_process", None)
    if spawn is None or getattr(spawn, "glm_tracked", False) or os.name != "posix":
        return

    async def tracked(*args: Any, **kwargs: Any) -> Any:
        process = await spawn(*args, **kwargs)
        if os.getpgid(process.pid) == process.pid:  # its own group (older SDKs: glm's own; left alone)
            children.track(process.pid)
        return process

    tracked.glm_tracked = True  # type: ignore[attr-defined]
    stdio._create_platform_compatible_process = tracked


def _unwrap(exc: BaseException) -> BaseException:
    """Return the first exception of an exception group (a backport on 3.10), or EXC itself."""
    while getattr(exc, "exceptions", None):
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    return exc


def _describe(exc: BaseException, timeout: str = "") -> str:
    """Return one readable line for an exception (exception groups unwrapped); `timeout` for a bare timeout."""
    exc = _unwrap(exc)
    if timeout and isinstance(exc, TimeoutError) and not str(exc).strip():
        return timeout
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]


def _stderr_tail(errlog: Any, lines: int = 5) -> str | None:
    try:
        errlog.seek(0)
        tail = [line.rstrip() for line in errlog.read().splitlines() if line.strip()][-lines:]
    except (OSError, ValueError):
        return None
    return ("its stderr ended with:\n  " + "\n  ".join(tail)) if tail else None


def config_servers(settings: Any) -> dict[str, McpServer]:
    """Return the servers named in the config (already checked when the config was loaded)."""
    path = settings.config_path or Path("config")
    return parse_servers(settings.mcp_servers, str(path))
