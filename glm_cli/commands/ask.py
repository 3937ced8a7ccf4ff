"""`glm ask`: one prompt, one answer, made for shell pipelines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from glm_cli.commands import options as o
from glm_cli.commands import tooling as t
from glm_cli.commands.common import run_command
from glm_cli.commands.tooling import ToolOptions
from glm_cli.errors import InvalidOutputError, UsageError, finish_problem
from glm_cli.prompt_input import compose_prompt, input_bound, read_stdin
from glm_cli.tools.schema import check_json

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.config import Settings
    from glm_cli.events import Reply


@dataclass(frozen=True)
class AskOptions:
    prompt: tuple[str, ...] = ()
    model: str | None = None
    system: str | None = None
    preset: str | None = None
    profile: str | None = None
    endpoint: str | None = None
    think: bool | None = None
    show_thinking: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    json_mode: bool | None = None
    no_stream: bool = False
    output: str | None = None
    usage: bool = False
    dry_run: str | None = None
    files: tuple[str, ...] = ()
    request_id: str | None = None
    verbose: bool = False
    no_stdin: bool = False
    raw: bool = False
    continue_: bool = False
    no_log: bool = False
    tools: ToolOptions = field(default_factory=ToolOptions)
    extra: dict[str, Any] = field(default_factory=dict)
    extract: bool = False  # -x: print only the first fenced code block
    extract_all: bool = False  # --extract-all: every block
    extract_lang: str | None = None  # --extract-lang LANG: only blocks fenced as LANG (implies -x)
    attach: tuple[str, ...] = ()  # -a PATH|URL: images, video, documents for a vision model
    resume: str | None = None  # --resume ID|NAME: continue that conversation (as chat --resume does)

    def extraction(self) -> dict[str, Any] | None:
        """The code-block extractor's arguments when -x / --extract-all / --extract-lang was given, else None."""
        if not (self.extract or self.extract_all or self.extract_lang is not None):
            return None
        return {"all_blocks": self.extract_all, "language": self.extract_lang}


def run_ask(opts: AskOptions, app: App) -> int:
    """Send one prompt and print the answer; return the exit code."""
    from glm_cli.commands.conversing import conversation_settings
    from glm_cli.store import load_conversation

    if opts.resume is not None and not opts.resume.strip():
        raise UsageError("--resume needs a conversation id or name", "see `glm history list`")
    if opts.resume is not None and opts.continue_:
        raise UsageError("use -c (the last conversation) or --resume ID|NAME, not both")
    prior = load_conversation(app.environ, opts.resume) if opts.resume or opts.continue_ else None
    settings = conversation_settings(app, opts, prior, preset=opts.preset)  # -c: preserved thinking as chat left it
    preset = settings.presets[opts.preset].values if opts.preset else {}
    json_mode = opts.json_mode if opts.json_mode is not None else bool(preset.get("json"))
    output = opts.output or preset.get("output") or "text"
    if output not in ("text", "json"):
        raise UsageError(f"--output must be text or json, got {output!r}")
    if opts.dry_run not in (None, "json", "curl"):
        raise UsageError(f"--dry-run takes json or curl, got {opts.dry_run!r}")
    if opts.extraction() is not None and (json_mode or opts.tools.schema is not None):
        raise UsageError("-x extracts fenced code blocks; a JSON-object answer has none",
                         "use one of them: -x for code, --json (or --schema) for a JSON object")
    if opts.extract_lang is not None and not opts.extract_lang.strip():
        raise UsageError("--extract-lang needs a language, e.g. --extract-lang bash")

    bound = input_bound(app, settings)
    text = compose_prompt(opts, read_stdin(opts, app, bound), preset.get("template"), bound,
                          allow_empty=bool(opts.attach))
    attachments = load_attachments(opts.attach)
    with t.tool_session(opts.tools, settings, app, verbose=opts.verbose) as tools:
        return _ask(opts, app, settings, prior, text, json_mode, output, tools, attachments)


def load_attachments(refs: tuple[str, ...]) -> list[Any]:
    """Check and read every -a PATH|URL before anything is sent."""
    if not refs:
        return []
    from glm_cli.attachments import load_attachment

    return [load_attachment(ref) for ref in refs]


def _ask(opts: AskOptions, app: App, settings: Settings, prior: Any, text: str, json_mode: bool, output: str,
         tools: t.ToolSession, attachments: list[Any]) -> int:
    from glm_cli.commands.conversing import continue_or_start, show_reasoning
    from glm_cli.request import Knobs
    from glm_cli.turn import build_turn_request

    catalogue = app.catalogue(settings)
    conv = continue_or_start(prior, settings, opts.system, source="ask")
    conv.system = tools.system(conv.system)
    conv.add_user(text, attachments)
    json_mode = json_mode or tools.schema is not None
    knobs = tools.knobs(Knobs(stream=not opts.no_stream, json_mode=json_mode, stop=opts.stop,
                              request_id=opts.request_id, extra=opts.extra),
                        catalogue.resolve(settings.values["model"]), catalogue)
    body = build_turn_request(conv, settings, knobs, catalogue)
    conv.model = body["model"]
    _warn_thinking_flags(opts, app, catalogue, body["model"])

    if opts.dry_run:
        app.ios.stdout.write(dry_run_text(settings, body, opts.dry_run, shorten=app.ios.stdout_tty) + "\n")
        return 0

    client = app.make_client(settings, verbose=opts.verbose)
    first = [body]
    extraction = opts.extraction()
    sink = None  # -x: the answer goes through the extractor; only the code blocks reach stdout, as each completes
    if extraction is not None and output != "json":
        from glm_cli.extract import ExtractingOutput

        sink = ExtractingOutput(app.ios.stdout, extraction)

    def step() -> Reply:  # the first request was built above (for --dry-run); run_turn builds the later ones
        return _send(app, settings, client, conv, first.pop() if first else None, knobs, catalogue,
                     quiet_stdout=json_mode or output == "json", show=show_reasoning(settings, app.ios), raw=opts.raw,
                     sink=sink)

    try:
        result = tools.converse(step, *t.conversation_hooks(conv), check_last=False)  # checked below
    finally:
        client.close()
    reply = result.final_reply()
    if not opts.no_log and settings.values.get("log", True):
        _log(app, conv)
    if reply.interrupted:
        raise KeyboardInterrupt

    content = reply.content
    if json_mode:
        try:
            content = check_json(content)
            if (problem := tools.problem(reply)) is not None:  # --schema, after its one repair
                raise problem
        except InvalidOutputError as err:
            if output == "json":  # what the hint promises: the raw answer, in the record (still exit 9)
                app.ios.stdout.write(json.dumps(reply_record(reply), ensure_ascii=False) + "\n")
            raise finish_problem(reply.finish_reason) or err from None  # cut at max_tokens: why it is not JSON
    extracted = None if extraction is None else _extracted(app, conv, reply, extraction, sink, output)
    if output == "json":
        record = reply_record(reply, content)
        if result.runs:
            record["tool_runs"] = [run.to_json() for run in result.runs]
        if extracted is not None:
            record["extracted"] = [block.to_json() for block in extracted]
        app.ios.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif json_mode:
        app.ios.stdout.write(content + "\n")
    app.ios.stdout.flush()
    tools.show_sources(reply)
    if opts.usage:
        app.ios.stderr.write(usage_text(app, settings, reply) + "\n")
    return _finish_check(reply)


def _send(app: App, settings: Settings, client: Any, conv: Any, body: dict[str, Any] | None, knobs: Any,
          catalogue: Any, *, quiet_stdout: bool, show: bool, raw: bool, sink: Any = None) -> Reply:
    import io

    from glm_cli.turn import run_turn

    ios = app.ios
    if quiet_stdout or sink is not None:
        ios = replace(ios, stdout=io.StringIO() if quiet_stdout else sink, stdout_tty=False)
    return run_turn(conv, settings, app, client, knobs=knobs, catalogue=catalogue, body=body, ios=ios,
                    show_reasoning=show, markdown=False if raw else None)


def _extracted(app: App, conv: Any, reply: Reply, extraction: dict[str, Any], sink: Any, output: str) -> list[Any]:
    """Return the code blocks -x found (the sink printed them as they completed); none is exit 9.

    A block still open at the end is taken only when the answer finished normally: cut short, it may be half a command.
    """
    from glm_cli.extract import extract_blocks

    complete = finish_problem(reply.finish_reason) is None
    if sink is not None:
        sink.extractor.finish(complete)
        blocks = sink.extractor.blocks
    else:
        blocks = extract_blocks(reply.content, complete=complete, **extraction)
    if blocks:
        return blocks
    lang = extraction.get("language")
    where = f"glm history show {conv.id}" if conv.id is not None else "ask again without -x"
    err = InvalidOutputError(f"the answer has no {'```' + lang + ' ' if lang else ''}fenced code block",
                             f"to see the whole answer: {where}")
    if output == "json":  # the record still shows the answer (as with --json), then exit 9
        record = reply_record(reply)
        record["extracted"] = []
        app.ios.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    raise finish_problem(reply.finish_reason) or err


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
    """Return the `--output json` object for a reply."""
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
    model = reply.model or settings.values["model"]
    return format_usage_line(usage, cost_text(app.catalogue(settings), settings.base_url, {model: usage}))


def _finish_check(reply: Reply) -> int:
    problem = finish_problem(reply.finish_reason)
    if problem is not None:
        raise problem
    return 0


def dry_run_text(settings: Settings, body: dict[str, Any], kind: str, *, shorten: bool = False) -> str:
    """Return the request as JSON, or as a curl line with the key as $GLM_API_KEY (and no URL password).

    SHORTEN (stdout is a terminal): attached files' data: URLs are cut, never megabytes of base64 on a screen;
    piped, the request is whole, ready to send.
    """
    if shorten:
        from glm_cli.attachments import shortened_body

        body = shortened_body(body)
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


def register(app: Any) -> None:
    """Add `glm ask` to the Typer app."""
    @app.command(context_settings={"help_option_names": ["-h", "--help"]})
    def ask(
        prompt: Annotated[list[str] | None, typer.Argument(help="The prompt (joined with spaces).")] = None,
        model: o.Model = None,
        system: o.System = None,
        preset: o.Preset = None,
        profile: o.Profile = None,
        endpoint: o.Endpoint = None,
        think: o.Think = None,
        show_thinking: o.ShowThinking = None,
        temperature: o.Temperature = None,
        top_p: o.TopP = None,
        max_tokens: o.MaxTokens = None,
        stop: Annotated[list[str] | None, typer.Option("--stop", help="Stop sequence (repeatable).")] = None,
        json_mode: Annotated[bool | None, typer.Option(
            "--json/--no-json", help="Ask for a JSON object; the answer is checked to parse.")] = None,
        no_stream: Annotated[bool, typer.Option("--no-stream", help="Wait for the whole answer.")] = False,
        output: Annotated[str | None, typer.Option(
            "--output", "-o", help="text (default) or json: one object with content, reasoning, usage…")] = None,
        usage: Annotated[bool, typer.Option("--usage", "-u", help="Print tokens and cost on stderr.")] = False,
        dry_run: Annotated[str | None, typer.Option(
            "--dry-run", metavar="[=json|=curl]",
            help="Print the request (json) or a curl line (--dry-run=curl); send nothing.")] = None,
        file: Annotated[list[str] | None, typer.Option(
            "--file", "-f", help="Attach a text file, fenced and named (repeatable).")] = None,
        request_id: Annotated[str | None, typer.Option("--request-id", help="Send this request_id.")] = None,
        verbose: o.Verbose = False,
        no_stdin: Annotated[bool, typer.Option("--no-stdin", help="Ignore stdin.")] = False,
        raw: Annotated[bool, typer.Option("--raw", help="No markdown rendering, even on a terminal.")] = False,
        continue_: Annotated[bool, typer.Option(
            "--continue", "-c", help="Continue the last conversation (of ask or chat) with this prompt.")] = False,
        no_log: Annotated[bool, typer.Option("--no-log", help="Do not log this exchange to the history.")] = False,
        tool: t.Tool = None, mcp: t.Mcp = None, mcp_server: t.McpServer = None, yes: t.Yes = False,
        allow: t.Allow = None, max_steps: t.MaxSteps = None, web_search: t.WebSearch = False,
        search_engine: t.SearchEngine = None, search_count: t.SearchCount = None,
        search_recency: t.SearchRecency = None, search_domain: t.SearchDomain = None, schema: t.SchemaOpt = None,
        extract: Annotated[bool, typer.Option(
            "--extract", "-x", help="Print only the answer's first fenced code block, raw (none: exit 9).")] = False,
        extract_all: Annotated[bool, typer.Option("--extract-all", help="Print every fenced code block.")] = False,
        extract_lang: Annotated[str | None, typer.Option(
            "--extract-lang", metavar="LANG", help="Only code blocks fenced as LANG, e.g. bash (implies -x).")] = None,
        attach: Annotated[list[str] | None, typer.Option(
            "--attach", "-a", metavar="PATH|URL",
            help="Attach an image, video or document for a vision model (repeatable).")] = None,
        resume: Annotated[str | None, typer.Option(
            "--resume", "-r", metavar="ID|NAME",
            help="Continue that conversation (see `glm history list`) with this prompt.")] = None,
    ) -> None:
        """Ask one question; the answer goes to stdout. Piped stdin is appended after a blank line."""
        opts = AskOptions(
            prompt=tuple(prompt or ()), model=model, system=system, preset=preset, profile=profile,
            endpoint=endpoint, think=think, show_thinking=show_thinking, temperature=temperature,
            top_p=top_p, max_tokens=max_tokens, stop=tuple(stop or ()), json_mode=json_mode,
            no_stream=no_stream, output=output, usage=usage, dry_run=dry_run, files=tuple(file or ()),
            request_id=request_id, verbose=verbose, no_stdin=no_stdin, raw=raw, continue_=continue_,
            no_log=no_log,
            tools=t.tool_options(tools=tool, mcp=mcp, mcp_servers=mcp_server, yes=yes, allow=allow,
                                 max_steps=max_steps, web_search=web_search, search_engine=search_engine,
                                 search_count=search_count, search_recency=search_recency,
                                 search_domain=search_domain, schema=schema),
            extract=extract, extract_all=extract_all, extract_lang=extract_lang, attach=tuple(attach or ()),
            resume=resume,
        )
        run_command(run_ask, opts)
