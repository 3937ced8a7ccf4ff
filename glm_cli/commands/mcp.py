"""`glm mcp list` / `glm mcp tools NAME`: inspect the MCP servers glm can offer to the model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.common import writing_to
from glm_cli.commands.flags import Argument, Help
from glm_cli.errors import UsageError
from glm_cli.redact import redact_url

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.mcp_config import McpServer

Format = Annotated[Literal["text", "json"] | None, o.format_flag("text (default) or json.")]
Json = Annotated[o.AsJson, Help("Print JSON (same as --format json).")]
Output = Annotated[o.Output, Help("Write the listing to FILE instead of stdout (-).")]


@dataclass(frozen=True)
class ListOptions:
    profile: o.Profile = None
    output: Output = None
    format: Format = None
    as_json: Json = False


@dataclass(frozen=True)
class ToolsOptions:
    server: Annotated[
        str,
        Argument(metavar="SERVER", help="A server name (built-in or configured), or a command line."),
        o.MCP_SERVERS,
    ]
    profile: o.Profile = None
    output: Output = None
    format: Format = None
    as_json: Json = False
    verbose: o.Verbose = False


def _format(opts: ListOptions | ToolsOptions) -> str:
    fmt = o.output_format(opts.format, opts.as_json, "text")
    if fmt not in ("text", "json"):
        raise UsageError(f"--format must be text or json, got {fmt!r}")
    return fmt


def run_list(opts: ListOptions, app: App) -> int:
    """Print the servers a name can pick: Zhipu's built-in ones and those named in the config."""
    fmt = _format(opts)
    with writing_to(app, opts.output) as app:
        return _list(app, opts, fmt)


def _list(app: App, opts: ListOptions, fmt: str) -> int:
    from glm_cli.tools.mcp import known_servers

    settings = app.settings(profile=opts.profile)
    servers = known_servers(settings)
    out = app.ios.stdout
    if fmt == "json":
        rows = [_server_json(s, settings.mcp_start_timeout) for s in servers.values()]
        out.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return 0
    width = max(len(name) for name in servers)
    for name, server in servers.items():
        tools = f"  [tools: {', '.join(server.tools)}]" if server.tools is not None else ""
        builtin = "  (built-in)" if server.builtin else ""
        out.write(f"{name:<{width}}  {server.display()}{tools}{builtin}\n")
        if server.description:
            out.write(f"{'':<{width}}  {server.description}\n")
    if all(server.builtin for server in servers.values()):
        app.ios.stderr.write(
            f"glm: no MCP servers of yours in {settings.config_path}\n"
            'hint: add some under `mcp_servers:` (see README, Tools), or use --mcp "CMD ARGS"\n'
        )
    return 0


def run_tools(opts: ToolsOptions, app: App) -> int:
    """Start one server and print the tools it offers (as the model would see them)."""
    fmt = _format(opts)
    with writing_to(app, opts.output) as app:
        return _tools(app, opts, fmt)


def _tools(app: App, opts: ToolsOptions, fmt: str) -> int:
    from glm_cli.tools.mcp import McpHub, hub_options, resolve

    settings = app.settings(profile=opts.profile)
    server = resolve(opts.server or "", settings)  # a name (built-in or configured), a command line or a URL
    with McpHub([server], verbose=opts.verbose, **hub_options(settings)) as hub:
        for text in hub.warnings:
            app.warn(text)
        tools = list(hub.tools)
    out = app.ios.stdout
    if fmt == "json":
        rows = [
            {"name": t.name, "mcp_name": t.remote_name, "description": t.description, "parameters": t.parameters}
            for t in tools
        ]
        out.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return 0
    for tool in tools:
        props = tool.parameters.get("properties") or {}
        required = set(tool.parameters.get("required") or ())
        args = ", ".join(f"{p}{'' if p in required else '?'}" for p in props)
        renamed = f"  (MCP name: {tool.remote_name})" if tool.remote_name != tool.name else ""
        out.write(f"{tool.name}({args}){renamed}\n")
        desc = (tool.description or "").strip().splitlines()
        if desc:
            out.write(f"    {desc[0]}\n")
    if not tools:
        app.ios.stderr.write(f"glm: MCP server {server.name} offers no tools\n")
    return 0


def _server_json(server: McpServer, start_timeout: float | None = None) -> dict[str, Any]:
    # headers: each ${VAR} as written, other values *** (McpServer.shown_headers); never the key
    return {
        "name": server.name,
        "command": server.command,
        "args": list(server.args),
        "url": server.url and redact_url(server.url),
        "headers": server.shown_headers(),
        "env": sorted(server.env),
        "env_withhold": list(server.env_withhold),
        "tools": list(server.tools) if server.tools is not None else None,
        "timeout": server.timeout,
        "start_timeout": server.start_bound(start_timeout),
        "description": server.description or None,
        "builtin": server.builtin,
    }


def command() -> Any:
    """The `glm mcp` group."""
    return binding.group(
        "mcp",
        "Inspect MCP servers (tools for `glm ask --mcp/--mcp-server`).",
        [
            binding.command(
                ListOptions,
                run_list,
                name="list",
                help="List the MCP servers: Zhipu's built-in ones and those under `mcp_servers:`.",
            ),
            binding.command(ToolsOptions, run_tools, name="tools", help="Start a server and list its tools."),
        ],
    )
