"""The tool flags of a command (ask, chat): --tool, --mcp, --web-search, --schema… -> ToolOptions.

What they do (a ToolSession: tool files, MCP servers, the tool loop) is glm_cli/tools/session.py.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from glm_cli.tools.session import ToolOptions

Tool = Annotated[list[str] | None, typer.Option(
    "--tool", help="A tool file (YAML/JSON: name, description, parameters, command); repeatable.")]
Mcp = Annotated[list[str] | None, typer.Option(
    "--mcp", help='Start an MCP server and offer its tools: --mcp "CMD ARGS" (repeatable).')]
McpServer = Annotated[list[str] | None, typer.Option(
    "--mcp-server", help="Use an MCP server named under mcp_servers: in the config (repeatable).")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Run every tool call without asking.")]
Allow = Annotated[list[str] | None, typer.Option(
    "--allow", help="Run this tool without asking (repeatable); others are asked on a terminal, else refused.")]
MaxSteps = Annotated[int | None, typer.Option(
    "--max-steps", help="Rounds of tool calls before glm gives up (default 8).")]
WebSearch = Annotated[bool, typer.Option(
    "--web-search", help="Let GLM search the web (built-in web_search tool, billed per search).")]
SearchEngine = Annotated[str | None, typer.Option(
    "--search-engine", help="web_search engine (default search-prime on z.ai, search_std on bigmodel).")]
SearchCount = Annotated[int | None, typer.Option("--search-count", help="web_search results, 1-50.")]
SearchRecency = Annotated[str | None, typer.Option(
    "--search-recency", help="oneDay, oneWeek, oneMonth, oneYear or noLimit.")]
SearchDomain = Annotated[str | None, typer.Option("--search-domain", help="Only search this domain.")]
SchemaOpt = Annotated[str | None, typer.Option(
    "--schema", help="JSON Schema (file or inline JSON) the answer must match; exit 9 when it does not.")]


def tool_options(**kw: Any) -> ToolOptions:
    """Build ToolOptions from Typer parameters of the same names (lists become tuples)."""
    fields: dict[str, Any] = {k: tuple(v or ()) if k in ("tools", "mcp", "mcp_servers", "allow") else v
                              for k, v in kw.items()}
    return ToolOptions(**fields)
