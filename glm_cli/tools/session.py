"""Tools around a turn: a command's tool options -> a ToolSession (tool files, MCP servers, web search, --schema).

Only a command given tools (or a config with `tools:`) opens one; a plain `glm ask` never imports the tool loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from glm_cli.errors import GlmError, UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.catalogue import Catalogue
    from glm_cli.config import Settings
    from glm_cli.conversation import Conversation
    from glm_cli.events import Reply
    from glm_cli.mcp_config import McpServer
    from glm_cli.request import Knobs
    from glm_cli.tools.loop import Approver, Toolbox, TurnResult
    from glm_cli.tools.schema import Schema


class ToolOptions(Protocol):
    """The tool flags a command was given (read-only; commands/tooling.py declares them)."""

    @property
    def tools(self) -> tuple[str, ...]: ...

    @property
    def mcp(self) -> tuple[str, ...]: ...

    @property
    def mcp_servers(self) -> tuple[str, ...]: ...

    @property
    def yes(self) -> bool: ...

    @property
    def allow(self) -> tuple[str, ...]: ...

    @property
    def max_steps(self) -> int | None: ...

    @property
    def search_engine(self) -> str | None: ...

    @property
    def search_count(self) -> int | None: ...

    @property
    def search_recency(self) -> str | None: ...

    @property
    def search_domain(self) -> str | None: ...

    @property
    def schema(self) -> str | None: ...

    @property
    def searching(self) -> bool: ...


@dataclass
class ToolSession:
    """What a command needs to offer tools and check structured answers."""

    app: App
    toolbox: Toolbox
    approver: Approver
    schema: Schema | None = None
    max_steps: int = 8

    def knobs(self, knobs: Knobs, model: str, catalogue: Catalogue | None = None) -> Knobs:
        """Return the knobs with the tools (and tool_stream when streaming to GLM-4.6+)."""
        from glm_cli.tools.loop import supports_tool_stream

        if self.schema is not None:
            knobs = replace(knobs, json_mode=True)
        if not self.toolbox:
            return knobs
        info = catalogue.get(model) if catalogue is not None else None
        if info is not None and not info.tools:
            self.app.warn(f"{model} is not known to support tools; they are sent anyway")
        return replace(
            knobs, tools=self.toolbox.api_tools(), tool_stream=bool(self.toolbox.tools) and supports_tool_stream(model)
        )

    def system(self, system: str | None) -> str | None:
        """Return the system prompt, with the schema instruction when --schema was given."""
        return self.schema.system_prompt(system) if self.schema is not None else system

    def converse(
        self,
        step: Callable[[], Reply],
        add_result: Callable[[str, str], None],
        add_user: Callable[[str], None],
        *,
        check_last: bool = True,
    ) -> TurnResult:
        """Run the turn (tool calls included); with --schema, check the answer and ask once to repair it.

        check_last=False returns a repaired answer that still fails unchecked: the caller checks it
        (`problem`) after showing it (ask --output json prints the raw answer, then exits 9).
        """
        from glm_cli.tools.loop import run_tool_loop

        box = self.toolbox if self.toolbox.tools else None
        if box is not None:
            self.approver.check(box)

        def once() -> TurnResult:
            return run_tool_loop(
                step, add_result, toolbox=box, approver=self.approver, ios=self.app.ios, max_steps=self.max_steps
            )

        result = once()
        problem = self.problem(result.reply)
        if problem is None:
            return result
        from glm_cli.render import write_diagnostic
        from glm_cli.tools.schema import repair_message

        write_diagnostic(self.app.ios, f"glm: {problem.message}; asking the model to correct it", "yellow")
        add_user(repair_message(problem.message)["content"])
        result = result.add(once())
        problem = self.problem(result.reply)
        if problem is not None and check_last:
            raise problem
        return result

    def problem(self, reply: Reply) -> GlmError | None:
        """Return why a finished answer does not satisfy --schema (None when it does, or is not whole)."""
        if self.schema is None or reply.interrupted or reply.finish_reason not in (None, "stop"):
            return None
        from glm_cli.tools.schema import check_json

        try:
            self.schema.check(check_json(reply.content))
        except GlmError as err:
            return err
        return None

    def show_sources(self, reply: Reply) -> None:
        """Print the web-search results behind an answer on stderr, numbered."""
        from glm_cli.tools.web_search import source_lines

        lines = source_lines(list(reply.extras.get("web_search") or []))
        if lines:
            self.app.ios.stderr.write("\n".join(lines) + "\n")
            self.app.ios.stderr.flush()


@contextmanager
def tool_session(opts: ToolOptions, settings: Settings, app: App, *, verbose: bool = False) -> Iterator[ToolSession]:
    """Load tool files, start MCP servers and read the schema; stop the servers on exit."""
    from glm_cli.tools.files import tool_environ
    from glm_cli.tools.loop import DEFAULT_MAX_STEPS, Approver, open_toolbox

    max_steps = DEFAULT_MAX_STEPS if opts.max_steps is None else opts.max_steps
    if max_steps < 1:
        raise UsageError(f"--max-steps must be at least 1, got {max_steps}")
    schema = None
    if opts.schema:
        from glm_cli.tools.schema import load_schema

        schema = load_schema(opts.schema)
    builtins = []
    if opts.searching:
        from glm_cli.tools.web_search import web_search_tool

        builtins.append(
            web_search_tool(
                family=settings.family,
                engine=opts.search_engine,
                count=opts.search_count,
                recency=opts.search_recency,
                domain=opts.search_domain,
            )
        )
    from glm_cli.tools.mcp import hub_options

    with open_toolbox(
        tool_files(opts, settings),
        environ=tool_environ(app.environ, settings),
        servers=mcp_servers(opts, settings),
        builtins=builtins,
        warn=app.warn,
        verbose=verbose,
        hub_options=hub_options(settings),
    ) as box:
        yield ToolSession(app, box, Approver(app.ios, yes=opts.yes, allow=opts.allow), schema, max_steps)


def tool_files(opts: ToolOptions, settings: Settings) -> list[str]:
    """Return the tool files: `tools:` from the config (relative to it), then each --tool."""
    base = settings.config_path.parent if settings.config_path else Path.cwd()
    configured = [str(p if (p := Path(f).expanduser()).is_absolute() else base / p) for f in settings.tools or ()]
    # The same file from the config and a --tool (or given twice) is loaded once, not refused as a name clash.
    return list({str(Path(f).expanduser().resolve()): f for f in [*configured, *opts.tools]}.values())


def mcp_servers(opts: ToolOptions, settings: Settings) -> list[McpServer]:
    """Return the MCP servers to start: each --mcp-server NAME (built-in or configured), then each --mcp command."""
    if not (opts.mcp or opts.mcp_servers):
        return []
    from glm_cli.tools.mcp import looks_like_command, named_server, server_from_flag, servers_hint

    out = []
    for name in dict.fromkeys(opts.mcp_servers):  # a name given twice starts its server once
        server = named_server(name, settings)  # a built-in one (Zhipu's) or from the config
        if server is None:
            import shlex

            hint = (
                f"{name} looks like a command: start it with --mcp {shlex.quote(name)}"
                if looks_like_command(name, settings.environ)
                else servers_hint(settings)
            )
            raise UsageError(f"--mcp-server {name}: no such server (built-in or in {settings.config_path})", hint)
        out.append(server)
    out += [server_from_flag(spec, i) for i, spec in enumerate(opts.mcp, 1)]
    return out


def conversation_hooks(conv: Conversation) -> tuple[Callable[[str, str], None], Callable[[str], None]]:
    """Return (add_result, add_user) that append `tool` and `user` messages to a Conversation."""
    from glm_cli.conversation import Message

    def add_result(call_id: str, content: str) -> None:
        conv.add(Message(role="tool", content=content, tool_call_id=call_id))

    def add_user(text: str) -> None:
        conv.add_user(text)

    return add_result, add_user
