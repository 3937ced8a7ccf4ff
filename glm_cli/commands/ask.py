"""`glm ask`: one prompt, one answer, made for shell pipelines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.binding import Help
from glm_cli.commands.common import writing_to
from glm_cli.commands.tooling import ToolOptions
from glm_cli.errors import InvalidOutputError, UsageError, finish_problem
from glm_cli.tools.schema import check_json
from glm_cli.tools.session import conversation_hooks

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.config import Settings
    from glm_cli.events import Reply
    from glm_cli.tools.session import ToolSession

STDIN_HINT_AFTER = 3.0


@dataclass(frozen=True)
class AskOptions:
    prompt: Annotated[tuple[str, ...], typer.Argument(
        metavar="PROMPT...", help="The prompt (joined with spaces); piped stdin follows it.")] = ()
    model: o.Model = None
    system: o.System = None
    preset: o.Preset = None
    profile: o.Profile = None
    endpoint: o.Endpoint = None
    think: o.Think = None
    show_thinking: o.ShowThinking = None
    temperature: o.Temperature = None
    top_p: o.TopP = None
    max_tokens: o.MaxTokens = None
    stop: o.Stop = ()
    json_object: o.JsonObject = None
    no_stream: Annotated[bool, typer.Option(
        "--no-stream", help="Wait for the whole answer (one non-streamed request).", rich_help_panel=o.MODEL)] = False
    output: Annotated[o.Output, Help("Write the answer to FILE instead of stdout (-).")] = None
    format: Annotated[Literal["text", "json"] | None, o.format_flag(
        "text (default): the answer; json: one object with content, reasoning, usage…")] = None
    as_json: Annotated[o.AsJson, Help("Print glm's JSON record (same as --format json).")] = False
    usage: Annotated[bool, typer.Option(
        "--usage", "-u", help="Print tokens and cost on stderr.", rich_help_panel=o.OUTPUT)] = False
    dry_run: Annotated[str | None, typer.Option(
        "--dry-run", metavar="[=curl]", rich_help_panel=o.OUTPUT,
        help="Print the request (JSON), or a curl line with --dry-run=curl; send nothing.")] = None
    files: Annotated[tuple[str, ...], typer.Option(
        "--file", "-f", metavar="FILE", help="Attach a text file, fenced and named (repeatable).",
        rich_help_panel=o.INPUT)] = ()
    request_id: Annotated[str | None, typer.Option(
        "--request-id", metavar="ID", help="Send this request_id.", rich_help_panel=o.CONNECTION)] = None
    verbose: o.Verbose = False
    no_stdin: Annotated[bool, typer.Option("--no-stdin", help="Ignore stdin.", rich_help_panel=o.INPUT)] = False
    raw: Annotated[bool, typer.Option(
        "--raw", help="No markdown rendering, even on a terminal.", rich_help_panel=o.OUTPUT)] = False
    continue_: o.Continue = False
    no_log: o.NoLog = False
    tools: ToolOptions = field(default_factory=ToolOptions)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InputBound:
    """The most characters read from one input (stdin, each --file), and why that many."""

    chars: int
    why: str

    def check(self, what: str, text: str) -> str:
        """Return TEXT (read with at most chars + 1 characters), or refuse it as more than the bound."""
        if len(text) > self.chars:
            raise UsageError(f"{what} is more than {self.chars:,} characters: {self.why}",
                             "send less (split the input, or use glm batch for many pieces)")
        return text


def input_bound(app: App, settings: Settings) -> InputBound:
    """Bound the input by the model's context window (catalogue.input_limit): what is cut off could not be sent."""
    from glm_cli.catalogue import input_limit

    catalogue = app.catalogue(settings)
    model = catalogue.resolve(settings.model)
    info = catalogue.get(model)
    if info is not None and info.context:
        return InputBound(input_limit(info), f"more than {model}'s context window of {info.context:,} tokens")
    return InputBound(input_limit(None), f"the most glm reads for {model}, whose context window it does not know")


def read_stdin(opts: AskOptions, app: App, bound: InputBound) -> str | None:
    """Read piped stdin to EOF or past BOUND; never touch a terminal stdin."""
    ios = app.ios
    if opts.no_stdin or ios.stdin_tty:
        return None
    timer = None
    if ios.stderr_tty:
        import threading

        def hint() -> None:
            ios.stderr.write("glm: waiting for stdin to close (use --no-stdin to skip it)\n")
            ios.stderr.flush()

        timer = threading.Timer(STDIN_HINT_AFTER, hint)
        timer.daemon = True
        timer.start()
    try:
        data = ios.stdin.read(bound.chars + 1)
    finally:
        if timer:
            timer.cancel()
    return bound.check("stdin", data)


def attach_file(path: str, bound: InputBound) -> str:
    """Return a file's text fenced and named, for the prompt."""
    try:  # text, newlines as they are, undecodable bytes as U+FFFD; at most one character past the bound
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            text = fh.read(bound.chars + 1)
    except OSError as exc:
        raise UsageError(f"cannot read --file {path}: {exc.strerror or exc}") from None
    if "\0" in text[:8192]:
        raise UsageError(f"--file {path} looks binary; only text files can be attached")
    bound.check(f"--file {path}", text)
    fence = "```"
    while fence in text:
        fence += "`"
    return f"File: {path}\n{fence}\n{text.rstrip(chr(10))}\n{fence}"


def compose_prompt(opts: AskOptions, stdin: str | None, template: str | None, bound: InputBound) -> str:
    """Join prompt, stdin and files by the one documented rule.

    input = PROMPT, a blank line, STDIN (either may be absent); then each --file, fenced,
    after a blank line. A preset template gets it in place of `{input}`.
    """
    prompt = " ".join(opts.prompt).strip()
    parts = [p for p in (prompt, (stdin or "").strip("\n")) if p.strip()]
    parts += [attach_file(f, bound) for f in opts.files]
    text = "\n\n".join(parts)
    if template:
        text = template.replace("{input}", text) if "{input}" in template else f"{template}\n\n{text}"
    if not text.strip():
        raise UsageError("no prompt: give one as an argument or on stdin",
                         'glm ask "question"  or  cat file | glm ask "instruction"')
    return text


def run_ask(opts: AskOptions, app: App) -> int:
    """Send one prompt and print the answer; return the exit code."""
    from glm_cli.commands.conversing import conversation_settings

    prior = None
    if opts.continue_:  # the store (sqlite3) is imported only when it is used: -c, or logging the turn
        from glm_cli.store import load_conversation

        prior = load_conversation(app.environ)
    settings = conversation_settings(app, opts, prior, preset=opts.preset)  # -c: preserved thinking as chat left it
    preset = settings.preset
    json_mode = opts.json_object if opts.json_object is not None else bool(preset.json)
    fmt = o.output_format(opts.format, opts.as_json, preset.output or "text")
    if fmt not in ("text", "json"):
        raise UsageError(f"--format must be text or json, got {fmt!r}")
    if opts.dry_run not in (None, "json", "curl"):
        raise UsageError(f"--dry-run takes json or curl, got {opts.dry_run!r}")

    bound = input_bound(app, settings)
    text = compose_prompt(opts, read_stdin(opts, app, bound), preset.template, bound)
    with writing_to(app, opts.output) as app:  # the same app, its stdout the -o file
        if not opts.tools.wanted(settings):  # the plain path: no tool session, no tool loop
            return _ask(opts, app, settings, prior, text, json_mode, fmt, None)
        from glm_cli.tools.session import tool_session

        with tool_session(opts.tools, settings, app, verbose=opts.verbose) as tools:  # tools wrap the same turn
            return _ask(opts, app, settings, prior, text, json_mode, fmt, tools)


def _ask(opts: AskOptions, app: App, settings: Settings, prior: Any, text: str, json_mode: bool, fmt: str,
         tools: ToolSession | None) -> int:
    from glm_cli.commands.conversing import continue_or_start, show_reasoning
    from glm_cli.request import Knobs
    from glm_cli.turn import build_turn_request

    catalogue = app.catalogue(settings)
    conv = continue_or_start(prior, settings, opts.system, source="ask")
    if tools is not None:
        conv.system = tools.system(conv.system)
    conv.add_user(text)
    knobs = Knobs(stream=not opts.no_stream, json_mode=json_mode, stop=opts.stop, request_id=opts.request_id,
                  extra=opts.extra)
    if tools is not None:
        knobs = tools.knobs(knobs, catalogue.resolve(settings.model), catalogue)  # --schema: json_mode too
    json_mode = knobs.json_mode
    body = build_turn_request(conv, settings, knobs, catalogue)
    conv.model = body["model"]
    _warn_thinking_flags(opts, app, catalogue, body["model"])

    if opts.dry_run:
        app.ios.stdout.write(dry_run_text(settings, body, opts.dry_run) + "\n")
        return 0

    client = app.make_client(settings, verbose=opts.verbose)

    def send(first: dict[str, Any] | None) -> Reply:  # FIRST: the request built above (for --dry-run)
        return _send(app, settings, client, conv, first, knobs, catalogue,
                     quiet_stdout=json_mode or fmt == "json", show=show_reasoning(settings, app.ios), raw=opts.raw)

    runs: list[Any] = []
    try:
        if tools is None:
            reply = send(body)
        else:  # the tool loop sends the conversation again after each round of tool calls
            bodies = [body]
            result = tools.converse(lambda: send(bodies.pop() if bodies else None), *conversation_hooks(conv),
                                    check_last=False)  # checked below
            reply, runs = result.final_reply(), result.runs
    finally:
        client.close()
    if not opts.no_log and settings.log:
        _log(app, conv)
    if reply.interrupted:
        raise KeyboardInterrupt

    content = reply.content
    if json_mode:
        try:
            content = check_json(content)
            if tools is not None and (problem := tools.problem(reply)) is not None:  # --schema, after its repair
                raise problem
        except InvalidOutputError as err:
            if fmt == "json":  # what the hint promises: the raw answer, in the record (still exit 9)
                app.ios.stdout.write(json.dumps(reply_record(reply), ensure_ascii=False) + "\n")
            raise finish_problem(reply.finish_reason) or err from None  # cut at max_tokens: why it is not JSON
    if fmt == "json":
        record = reply_record(reply, content)
        if runs:
            record["tool_runs"] = [run.to_json() for run in runs]
        app.ios.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif json_mode:
        app.ios.stdout.write(content + "\n")
    app.ios.stdout.flush()
    if tools is not None:
        tools.show_sources(reply)
    if opts.usage:
        app.ios.stderr.write(usage_text(app, settings, reply) + "\n")
    return _finish_check(reply)


def _send(app: App, settings: Settings, client: Any, conv: Any, body: dict[str, Any] | None, knobs: Any,
          catalogue: Any, *, quiet_stdout: bool, show: bool, raw: bool) -> Reply:
    import io

    from glm_cli.turn import run_turn

    ios = app.ios
    if quiet_stdout:
        ios = replace(ios, stdout=io.StringIO(), stdout_tty=False)
    return run_turn(conv, settings, app, client, knobs=knobs, catalogue=catalogue, body=body, ios=ios,
                    show_reasoning=show, markdown=False if raw else None)


def _log(app: App, conv: Any) -> None:
    """Log the turn to the history store; a store problem is a warning, never a lost answer."""
    from glm_cli.store import StoreError, save_conversation

    try:
        save_conversation(app.environ, conv)
    except StoreError as err:
        app.warn(f"this conversation was not logged: {err.message}")


def _warn_thinking_flags(opts: AskOptions, app: App, catalogue: Any, model: str) -> None:
    info = catalogue.get(model)
    if opts.think is not None and info is not None and info.thinking == "none":
        app.warn(f"{model} has no thinking mode; --think/--no-think has no effect")


def reply_record(reply: Reply, content: str | None = None) -> dict[str, Any]:
    """Return the `--format json` (`--json`) record of a reply."""
    rec: dict[str, Any] = {
        "id": reply.id,
        "model": reply.model,
        "content": reply.content if content is None else content,
        "reasoning": reply.reasoning or None,
        "finish_reason": reply.finish_reason,
        "usage": reply.usage.to_api() if reply.usage else None,
    }
    if reply.tool_calls:
        rec["tool_calls"] = [c.to_api() for c in reply.tool_calls]
    rec.update({k: v for k, v in reply.extras.items() if k == "web_search"})
    return rec


def usage_text(app: App, settings: Settings, reply: Reply) -> str:
    """Return the one-line token and cost summary for a reply."""
    from glm_cli.catalogue import cost_text
    from glm_cli.events import Usage
    from glm_cli.render import format_usage_line

    usage = reply.usage or Usage()
    model = reply.model or settings.model
    return format_usage_line(usage, cost_text(app.catalogue(settings), settings.base_url, {model: usage}))


def _finish_check(reply: Reply) -> int:
    problem = finish_problem(reply.finish_reason)
    if problem is not None:
        raise problem
    return 0


def dry_run_text(settings: Settings, body: dict[str, Any], kind: str) -> str:
    """Return the request as JSON, or as a curl line with the key as $GLM_API_KEY (and no URL password)."""
    if kind == "json":
        return json.dumps(body, ensure_ascii=False, indent=2)
    import shlex

    from glm_cli.redact import redact_url

    url = redact_url(f"{settings.base_url}/chat/completions")
    return (
        f"curl -sS {'-N ' if body.get('stream') else ''}{shlex.quote(url)} "
        '-H "Authorization: Bearer $GLM_API_KEY" -H "Content-Type: application/json" '
        f"-d {shlex.quote(json.dumps(body, ensure_ascii=False))}"
    )


def command() -> Any:
    """The `glm ask` command."""
    return binding.command(
        AskOptions, run_ask, name="ask", retired=(o.NO_JSON_RENAMED,),
        help="Ask one question; the answer goes to stdout (or -o FILE). Piped stdin is appended after a blank line.")
