"""The tool flags of a command (ask, chat): --tool, --mcp, --web-search, --schema… -> ToolOptions.

The session they open (tool files, MCP servers, the loop) is glm_cli/tools/session.py: not Typer code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from glm_cli.commands import options as o
from glm_cli.commands.flags import Complete, Option
from glm_cli.commands.options import SEARCH, TOOLS
from glm_cli.tools.web_search import RECENCY

if TYPE_CHECKING:
    from glm_cli.config import Settings


@dataclass(frozen=True)
class ToolOptions:
    """The tool flags of ask and chat (one field each: its declaration is the flag)."""

    tools: Annotated[
        tuple[str, ...],
        Option(
            "--tool",
            metavar="FILE",
            rich_help_panel=TOOLS,
            help="A tool file (YAML/JSON: name, description, parameters, command); repeatable.",
        ),
    ] = ()
    mcp: Annotated[
        tuple[str, ...],
        Option(
            "--mcp",
            metavar="COMMAND",
            rich_help_panel=TOOLS,
            help='Start an MCP server and offer its tools: --mcp "CMD ARGS" (repeatable).',
        ),
    ] = ()
    mcp_servers: Annotated[
        tuple[str, ...],
        Option(
            "--mcp-server",
            metavar="NAME",
            rich_help_panel=TOOLS,
            help="Use an MCP server named under mcp_servers: in the config (repeatable).",
        ),
        o.MCP_SERVERS,
    ] = ()
    yes: Annotated[bool, Option("--yes", "-y", help="Run every tool call without asking.", rich_help_panel=TOOLS)] = (
        False
    )
    allow: Annotated[
        tuple[str, ...],
        Option(
            "--allow",
            metavar="TOOL",
            rich_help_panel=TOOLS,
            help="Run this tool without asking (repeatable); others are asked on a terminal, else refused.",
        ),
    ] = ()
    max_steps: Annotated[
        int | None,
        Option(
            "--max-steps",
            metavar="N",
            help="Rounds of tool calls before glm gives up (default 8).",
            rich_help_panel=TOOLS,
        ),
    ] = None
    web_search: Annotated[
        bool,
        Option(
            "--web-search",
            help="Let GLM search the web (built-in web_search tool, billed per search).",
            rich_help_panel=SEARCH,
        ),
    ] = False
    search_engine: Annotated[
        str | None,
        Option(
            "--search-engine",
            metavar="NAME",
            rich_help_panel=SEARCH,
            help="web_search engine (default search-prime on z.ai, search_std on bigmodel).",
        ),
    ] = None
    search_count: Annotated[
        int | None,
        Option("--search-count", metavar="N", help="web_search results, 1-50.", rich_help_panel=SEARCH),
    ] = None
    search_recency: Annotated[
        str | None,
        Option(
            "--search-recency",
            metavar="WHEN",
            help="oneDay, oneWeek, oneMonth, oneYear or noLimit.",
            rich_help_panel=SEARCH,
        ),
        Complete.one_of(*RECENCY),
    ] = None
    search_domain: Annotated[
        str | None,
        Option("--search-domain", metavar="DOMAIN", help="Only search this domain.", rich_help_panel=SEARCH),
    ] = None
    schema: o.Schema = None

    @property
    def searching(self) -> bool:
        """--web-search, or any of its options (they imply it)."""
        return self.web_search or any(
            v is not None for v in (self.search_engine, self.search_count, self.search_recency, self.search_domain)
        )

    def wanted(self, settings: Settings) -> bool:
        """Whether the command runs with a tool session: any tool flag given, or `tools:` in the config."""
        return self != ToolOptions() or bool(settings.tools)
