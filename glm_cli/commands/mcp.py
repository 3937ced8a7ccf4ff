"""`glm mcp list` / `glm mcp tools NAME`: inspect the MCP servers glm can offer to the model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from glm_cli.commands import options as o
from glm_cli.commands.common import run_command
from glm_cli.errors import UsageError
from glm_cli.redact import redact_url

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.tools.mcp import McpServer

Output = Annotated[str, typer.Option("--output", "-o", help="text (default) or json.")]


@dataclass(frozen=True)
class McpOptions:
    server: str | None = None
    profile: str | None = None
    output: str = "text"
    verbose: bool = False


def _check_output(output: str) -> None:
    if output not in ("text", "json"):
        raise UsageError(f"--output must be text or json, got {output!r}")


def run_list(opts: McpOptions, app: App) -> int:
    """Print the servers a name can pick: Zhipu's built-in ones and those named in the config."""
    from glm_cli.tools.mcp import known_servers

    _check_output(opts.output)
    settings = app.settings(profile=opts.profile)
    servers = known_servers(settings)
    out = app.ios.stdout
    if opts.output == "json":
        rows = [_server_json(s, settings.values.get("mcp_start_timeout")) for s in servers.values()]
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
        app.ios.stderr.write(f"glm: no MCP servers of yours in {settings.config_path}\n"
                             "hint: add some under `mcp_servers:` (see README, Tools), or use --mcp \"CMD ARGS\"\n")
    return 0


def run_tools(opts: McpOptions, app: App) -> int:
    """Start one server and print the tools it offers (as the model would see them)."""
    from glm_cli.tools.mcp import McpHub, hub_options, resolve

    _check_output(opts.output)
    settings = app.settings(profile=opts.profile)
    server = resolve(opts.server or "", settings)  # a name (built-in or configured), a command line or a URL
    with McpHub([server], verbose=opts.verbose, **hub_options(settings)) as hub:
        for text in hub.warnings:
            app.warn(text)
        tools = list(hub.tools)
    out = app.ios.stdout
    if opts.output == "json":
        rows = [{"name": t.name, "mcp_name": t.remote_name, "description": t.description,
                 "parameters": t.parameters} for t in tools]
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
    return {"name": server.name, "command": server.command, "args": list(server.args),
            "url": server.url and redact_url(server.url), "headers": server.shown_headers(),
            "env": sorted(server.env), "env_withhold": list(server.env_withhold),
            "tools": list(server.tools) if server.tools is not None else None,
            "timeout": server.timeout, "start_timeout": server.start_bound(start_timeout),
            "description": server.description or None, "builtin": server.builtin}


def register(app: Any) -> None:
    """Add `glm mcp` (list, tools) to the Typer app."""
    group = typer.Typer(help="Inspect MCP servers (tools for `glm ask --mcp/--mcp-server`).", no_args_is_help=True,
                        rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]})

    @group.command("list")
    def list_(profile: o.Profile = None, output: Output = "text") -> None:
        """List the MCP servers named under `mcp_servers:` in the config."""
        run_command(run_list, McpOptions(profile=profile, output=output))

    @group.command("tools")
    def tools(
        server: Annotated[str, typer.Argument(help="A server name from the config, or a command line.")],
        profile: o.Profile = None, output: Output = "text", verbose: o.Verbose = False,
    ) -> None:
        """Start a server and list its tools."""
        run_command(run_tools, McpOptions(server=server, profile=profile, output=output, verbose=verbose))

    app.add_typer(group, name="mcp")
