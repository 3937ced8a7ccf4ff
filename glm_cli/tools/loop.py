"""The tool loop: send, run the tool calls the model asks for (after approval), send the results back, repeat."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from glm_cli.errors import GlmError, UsageError
from glm_cli.events import Reply, ToolCall, Usage, usage_sum
from glm_cli.render import visible, write_diagnostic
from glm_cli.response import parse_json
from glm_cli.tools.files import ToolResult, ToolSpec, check_tools, load_tool_file, run_command_tool

if TYPE_CHECKING:
    from glm_cli.iostreams import IOStreams
    from glm_cli.mcp_config import McpServer
    from glm_cli.tools.mcp import McpHub

DEFAULT_MAX_STEPS = 8
SHOWN_ARGS = 300  # characters of a call's arguments on its one-line summary
PAGE_LINES, PAGE_CHARS = 40, 4000  # arguments shown before asking for approval; `v` shows the rest


@dataclass(frozen=True)
class ToolRun:
    """One tool call the model made, and what came of it."""

    call: ToolCall
    result: ToolResult
    approved: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.call.id,
            "name": self.call.name,
            "arguments": self.call.arguments,
            "approved": self.approved,
            "ok": self.result.ok,
            "result": self.result.content,
        }


@dataclass
class Toolbox:
    """The tools of one command: function tools, MCP tools and GLM built-ins, and how to run each."""

    tools: list[ToolSpec] = field(default_factory=list)
    builtins: list[dict[str, Any]] = field(default_factory=list)  # e.g. the web_search tool
    environ: dict[str, str] = field(default_factory=dict)  # for command tools: no API key in it
    hub: McpHub | None = None

    def __bool__(self) -> bool:
        return bool(self.tools or self.builtins)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tools]

    def api_tools(self) -> tuple[dict[str, Any], ...]:
        return tuple([t.to_api() for t in self.tools] + self.builtins)

    def get(self, name: str) -> ToolSpec | None:
        return next((t for t in self.tools if t.name == name), None)

    def run(self, tool: ToolSpec, arguments: str) -> ToolResult:
        """Run a tool with the model's arguments (a JSON object text); never raise for a tool's failure."""
        args = parse_arguments(arguments)
        if isinstance(args, ToolResult):
            return args
        if tool.server is not None and self.hub is not None:
            return self.hub.call(tool, args)
        return run_command_tool(tool, arguments or "{}", self.environ)


def parse_arguments(arguments: str) -> dict[str, Any] | ToolResult:
    """Return the model's arguments as a JSON object, or the failed result that goes back to the model."""
    try:
        args = parse_json(arguments or "{}")
    except ValueError as exc:
        return ToolResult(
            f"error: the arguments are not valid JSON ({exc}); nothing was run",
            ok=False,
            error="the model sent arguments that are not JSON",
        )
    if not isinstance(args, dict):
        return ToolResult(
            "error: the arguments must be a JSON object; nothing was run",
            ok=False,
            error="the model sent arguments that are not a JSON object",
        )
    return args


@contextmanager
def open_toolbox(
    files: list[str],
    *,
    environ: dict[str, str],
    servers: Sequence[McpServer] = (),
    builtins: Sequence[dict[str, Any]] = (),
    warn: Callable[[str], None] | None = None,
    verbose: bool = False,
    hub_options: dict[str, Any] | None = None,
) -> Iterator[Toolbox]:
    """Load tool files and start MCP servers (McpHub takes HUB_OPTIONS); stop the servers on exit."""
    specs = [spec for path in files for spec in load_tool_file(path)]
    box = Toolbox(tools=specs, builtins=list(builtins), environ=environ)
    if not servers:
        box.tools = check_tools(box.tools)
        yield box
        return
    from glm_cli.tools.mcp import McpHub, namespace

    with McpHub(list(servers), verbose=verbose, **(hub_options or {})) as hub:
        for text in hub.warnings:
            if warn:
                warn(text)
        box.hub = hub
        box.tools = check_tools(namespace(box.tools + hub.tools))  # clashing MCP tools become SERVER__NAME
        yield box


class Approver:
    """Decide whether a tool call may run: --yes, --allow NAME, or ask on the terminal."""

    def __init__(self, ios: IOStreams, *, yes: bool = False, allow: tuple[str, ...] = ()) -> None:
        self.ios, self.yes, self.allowed = ios, yes, set(allow)

    @property
    def interactive(self) -> bool:
        return self.ios.stdin_tty and self.ios.stderr_tty

    def check(self, toolbox: Toolbox) -> None:
        """Refuse before anything is sent when no call could ever be approved; catch --allow typos."""
        unknown = sorted(self.allowed - set(toolbox.names))
        if unknown:
            raise UsageError(f"--allow {unknown[0]}: no such tool", "tools: " + (", ".join(toolbox.names) or "none"))
        if toolbox.tools and not (self.yes or self.allowed or self.interactive):
            raise UsageError(
                "tool calls need approval, and there is no terminal to ask on",
                "pass --yes to run every tool call, or --allow NAME for the tools that may run unasked "
                f"(tools: {', '.join(toolbox.names)})",
            )

    def asks(self, call: ToolCall) -> bool:
        """Whether approving CALL takes a question on the terminal."""
        return not (self.yes or call.name in self.allowed) and self.interactive

    def approve(self, call: ToolCall, args: dict[str, Any]) -> bool:
        """Approve a call; a question shows every argument first (a page of them, and `v` for all)."""
        if self.yes or call.name in self.allowed:
            return True
        if not self.interactive:
            return False
        lines = argument_lines(args, call.arguments)
        page = _page(lines)
        self._show(call, page)
        more = " / [v]iew all" if page != lines else ""
        while True:
            self.ios.stderr.write(f"run tool {call.name}? [y]es / [n]o / [a]lways for {call.name}{more}: ")
            self.ios.stderr.flush()
            answer = self.ios.stdin.readline()
            if not answer:  # EOF: no
                self.ios.stderr.write("\n")
                return False
            answer = answer.strip().lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no", ""):
                return False
            if answer in ("a", "always"):
                self.allowed.add(call.name)
                return True
            if more and answer in ("v", "view"):
                self._show(call, lines)

    def _show(self, call: ToolCall, lines: list[str]) -> None:
        if len(lines) == 1:
            write_diagnostic(self.ios, f"tool: {call.name} {lines[0]}", "cyan")
            return
        write_diagnostic(self.ios, f"tool: {call.name}", "cyan")
        for line in lines:
            write_diagnostic(self.ios, f"  {line}")


def argument_lines(args: dict[str, Any], raw: str) -> list[str]:
    """Return a call's arguments as the user must see them before approving: whole, nothing hidden.

    One line when short, else pretty-printed JSON (the RAW text the model sent when nested too deeply
    for that); each character that could act on the terminal is shown as an escape.
    """
    try:
        text = json.dumps(args, ensure_ascii=False)
        if len(text) > SHOWN_ARGS:
            text = json.dumps(args, ensure_ascii=False, indent=2)
    except RecursionError:
        text = raw
    return visible(text).splitlines() or [""]


def _page(lines: list[str]) -> list[str]:
    """LINES, or as many as fit PAGE_LINES and PAGE_CHARS (the last one cut) and a line saying what is left."""
    shown: list[str] = []
    room = PAGE_CHARS
    for line in lines[:PAGE_LINES]:
        if room <= 0:
            break
        shown.append(line if len(line) <= room else line[:room] + "…")
        room -= len(line)
    if shown == lines:
        return lines
    left = len(lines) - sum(a == b for a, b in zip(shown, lines, strict=False))
    return [*shown, f"… {left:,} more line{'s' if left != 1 else ''} not shown: v shows them all"]


@dataclass
class TurnResult:
    """What one user turn produced: the last reply, every tool run, and the usage of every request.

    The usage is unknown (None) when any request's answer reported none: a sum of the others would understate it.
    """

    reply: Reply
    runs: list[ToolRun] = field(default_factory=list)
    usage: Usage | None = field(default_factory=Usage)
    web_search: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: TurnResult) -> TurnResult:
        return TurnResult(
            other.reply, self.runs + other.runs, usage_sum(self.usage, other.usage), self.web_search + other.web_search
        )

    def final_reply(self) -> Reply:
        """Return the last reply with the usage and web-search results of the whole turn."""
        extras = dict(self.reply.extras)
        if self.web_search:
            extras["web_search"] = self.web_search
        return replace(self.reply, usage=self.usage, extras=extras)


def run_tool_loop(
    step: Callable[[], Reply],
    add_result: Callable[[str, str], None],
    *,
    toolbox: Toolbox | None,
    approver: Approver | None,
    ios: IOStreams,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> TurnResult:
    """Ask the model, run the tool calls it makes, and ask again until it answers without tools.

    `step()` sends the conversation as it stands and appends the assistant's reply to it: that message
    must go back with its `reasoning_content` (interleaved thinking needs it) and its `tool_calls`.
    `add_result(tool_call_id, content)` appends one `tool` message per call.
    """
    result: TurnResult | None = None
    rounds = 0
    while True:
        reply = step()
        this = TurnResult(reply, usage=reply.usage, web_search=list(reply.extras.get("web_search") or []))
        result = this if result is None else result.add(this)
        calls = [c for c in reply.tool_calls if c.type == "function"]
        if not calls or toolbox is None:
            return result
        if reply.interrupted:  # every tool_call needs its answer, or the next request is refused
            for call in calls:
                add_result(call.id, "error: interrupted by the user; the tool was not run")
            return result
        if rounds >= max_steps:
            raise GlmError(
                f"the model still wants to call tools after {max_steps} rounds (--max-steps)",
                "raise --max-steps, or ask for less at once",
            )
        rounds += 1
        for call in calls:
            run = _run_call(call, toolbox, approver, ios)
            result.runs.append(run)
            add_result(call.id, run.result.content)


def _run_call(call: ToolCall, toolbox: Toolbox, approver: Approver | None, ios: IOStreams) -> ToolRun:
    tool = toolbox.get(call.name)
    args: dict[str, Any] | ToolResult | None = parse_arguments(call.arguments) if tool is not None else None
    if not (isinstance(args, dict) and approver is not None and approver.asks(call)):
        show_call(ios, call)  # else the question shows the arguments whole
    if tool is None:
        known = ", ".join(toolbox.names) or "none"
        res = ToolResult(
            f"error: there is no tool named {call.name!r} (tools: {known})",
            ok=False,
            error="the model called a tool that does not exist",
        )
        _show_failure(ios, call, res)
        return ToolRun(call, res, approved=False)
    if isinstance(args, ToolResult):  # not a JSON object: nothing would run, nothing to approve
        _show_failure(ios, call, args)
        return ToolRun(call, args, approved=False)
    assert args is not None  # a tool was found, so its arguments were read
    if approver is not None and not approver.approve(call, args):
        res = ToolResult(
            "error: the user did not allow this tool call; it was not run",
            ok=False,
            error="not approved"
            + ("" if approver.interactive else f" (no terminal: use --yes or --allow {call.name})"),
        )
        _show_failure(ios, call, res)
        return ToolRun(call, res, approved=False)
    res = toolbox.run(tool, call.arguments)
    if res.ok:
        show_result(ios, res)
    else:
        _show_failure(ios, call, res)
    return ToolRun(call, res)


def show_call(ios: IOStreams, call: ToolCall) -> None:
    """One line: the call and the start of its arguments, every character visible."""
    args = visible(re.sub(r"[ \t\n]+", " ", call.arguments or "{}"))
    if len(args) > SHOWN_ARGS:
        args = args[:SHOWN_ARGS] + "…"
    write_diagnostic(ios, f"tool: {call.name} {args}", "cyan")


def show_result(ios: IOStreams, res: ToolResult) -> None:
    if not ios.stderr_tty:
        return
    first = visible(res.content.strip().splitlines()[0]) if res.content.strip() else "(no output)"
    write_diagnostic(ios, f"  ↳ {first[:100]}{'…' if len(first) > 100 else ''} ({len(res.content):,} chars)", "dim")


def _show_failure(ios: IOStreams, call: ToolCall, res: ToolResult) -> None:
    write_diagnostic(ios, f"glm: tool {call.name} failed: {visible(res.error or '')}", "yellow")


def supports_tool_stream(model: str) -> bool:
    """Whether a model takes `tool_stream` (GLM-4.6 and later)."""
    m = re.match(r"glm-(\d+)\.(\d+)", model)
    if not m:
        return bool(re.match(r"glm-([5-9]|\d\d)", model))
    return (int(m.group(1)), int(m.group(2))) >= (4, 6)
