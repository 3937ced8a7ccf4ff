"""`glm ask`: one prompt, one answer, made for shell pipelines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any, Literal

from glm_cli.commands import options as o
from glm_cli.commands.common import writing_to
from glm_cli.commands.flags import Complete, Help, Option
from glm_cli.commands.tooling import ToolOptions
from glm_cli.errors import GlmError, InvalidOutputError, UsageError, finish_problem
from glm_cli.prompt_input import compose_prompt, input_bound, read_stdin

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.config import Settings
    from glm_cli.events import Reply
    from glm_cli.tools.session import ToolSession


RETIRED = (o.NO_JSON_RENAMED,)
DRY_RUN = ("json", "curl")  # --dry-run=KIND; a bare --dry-run is json (cli.OPTIONAL_VALUE_FLAGS)


@dataclass(frozen=True)
class AskOptions:
    prompt: o.Prompt = ()
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
    param: o.Param = ()
    json_object: o.JsonObject = None
    no_stream: Annotated[
        bool,
        Option("--no-stream", help="Wait for the whole answer (one non-streamed request).", rich_help_panel=o.MODEL),
    ] = False
    output: Annotated[o.Output, Help("Write the answer to FILE instead of stdout (-).")] = None
    format: Annotated[
        Literal["text", "json"] | None,
        o.format_flag("text (default): the answer; json: one object with content, reasoning, usage…"),
    ] = None
    as_json: Annotated[o.AsJson, Help("Print glm's JSON record (same as --format json).")] = False
    usage: Annotated[
        bool, Option("--usage", "-u", help="Print tokens and cost on stderr.", rich_help_panel=o.OUTPUT)
    ] = False
    dry_run: Annotated[
        str | None,
        Option(
            "--dry-run",
            metavar="[=curl]",
            rich_help_panel=o.OUTPUT,
            help="Print the request (JSON), or a curl line with --dry-run=curl; send nothing.",
        ),
        Complete("=choice:" + ",".join(DRY_RUN)),
    ] = None
    files: o.Files = ()
    request_id: Annotated[
        str | None,
        Option("--request-id", metavar="ID", help="Send this request_id.", rich_help_panel=o.CONNECTION),
    ] = None
    verbose: o.Verbose = False
    no_stdin: o.NoStdin = False
    raw: Annotated[
        bool, Option("--raw", help="No markdown rendering, even on a terminal.", rich_help_panel=o.OUTPUT)
    ] = False
    continue_: o.Continue = False
    no_log: o.NoLog = False
    tools: ToolOptions = field(default_factory=ToolOptions)
    extra: dict[str, Any] = field(default_factory=dict)
    extract: Annotated[
        bool,
        Option(
            "--extract",
            "-x",
            help="Print only the answer's first fenced code block, raw (none: exit 9).",
            rich_help_panel=o.OUTPUT,
        ),
    ] = False
    extract_all: Annotated[
        bool,
        Option("--extract-all", help="Print every fenced code block (implies -x).", rich_help_panel=o.OUTPUT),
    ] = False
    extract_lang: Annotated[
        str | None,
        Option(
            "--extract-lang",
            metavar="LANG",
            help="Only code blocks fenced as LANG, e.g. bash (implies -x).",
            rich_help_panel=o.OUTPUT,
        ),
    ] = None
    attach: Annotated[o.Attach, Help("Attach an image, video or document for a vision model (repeatable).")] = ()
    resume: Annotated[o.Resume, Help("Continue that conversation (see `glm history list`) with this prompt.")] = None

    def extraction(self) -> dict[str, Any] | None:
        """The code-block extractor's arguments when -x / --extract-all / --extract-lang was given, else None."""
        if not (self.extract or self.extract_all or self.extract_lang is not None):
            return None
        return {"all_blocks": self.extract_all, "language": self.extract_lang}


def run_ask(opts: AskOptions, app: App) -> int:
    """Send one prompt and print the answer; return the exit code."""
    from glm_cli.commands.conversing import conversation_settings

    if opts.resume is not None and not opts.resume.strip():
        raise UsageError("--resume needs a conversation id or name", "see `glm history list`")
    if opts.resume is not None and opts.continue_:
        raise UsageError("use -c (the last conversation) or --resume ID|NAME, not both")
    prior = None
    if opts.continue_ or opts.resume:  # the store (sqlite3) is imported only when it is used: -c/-r, or logging
        from glm_cli.store import load_conversation

        prior = load_conversation(app.environ, opts.resume)
    settings = conversation_settings(app, opts, prior, preset=opts.preset)  # -c: preserved thinking as chat left it
    preset = settings.preset
    json_mode = opts.json_object if opts.json_object is not None else bool(preset.json)
    fmt = o.output_format(opts.format, opts.as_json, preset.output or "text")
    if fmt not in ("text", "json"):
        raise UsageError(f"--format must be text or json, got {fmt!r}")
    if opts.dry_run not in (None, *DRY_RUN):
        raise UsageError(f"--dry-run takes json or curl, got {opts.dry_run!r}")
    if opts.extraction() is not None and (json_mode or opts.tools.schema is not None):
        raise UsageError(
            "-x extracts fenced code blocks; a JSON-object answer has none",
            "use one of them: -x for code, --json-object (or --schema) for a JSON object",
        )
    if opts.extract_lang is not None and not opts.extract_lang.strip():
        raise UsageError("--extract-lang needs a language, e.g. --extract-lang bash")

    bound = input_bound(app, settings)
    text = compose_prompt(opts, read_stdin(opts, app, bound), preset.template, bound, allow_empty=bool(opts.attach))
    attachments = load_attachments(opts.attach)
    with writing_to(app, opts.output) as app:  # the same app, its stdout the -o file
        if not opts.tools.wanted(settings):  # the plain path: no tool session, no tool loop
            return _ask(opts, app, settings, prior, text, json_mode, fmt, None, attachments)
        from glm_cli.tools.session import tool_session

        with tool_session(opts.tools, settings, app, verbose=opts.verbose) as tools:  # tools wrap the same turn
            return _ask(opts, app, settings, prior, text, json_mode, fmt, tools, attachments)


def load_attachments(refs: tuple[str, ...]) -> list[Any]:
    """Check and read every -a PATH|URL before anything is sent."""
    if not refs:
        return []
    from glm_cli.attachments import load_attachment

    return [load_attachment(ref) for ref in refs]


def _ask(
    opts: AskOptions,
    app: App,
    settings: Settings,
    prior: Any,
    text: str,
    json_mode: bool,
    fmt: str,
    tools: ToolSession | None,
    attachments: list[Any],
) -> int:
    from glm_cli.commands.conversing import continue_or_start, show_reasoning
    from glm_cli.request import Knobs
    from glm_cli.turn import build_turn_request

    catalogue = app.catalogue(settings)
    conv = continue_or_start(prior, settings, opts.system, source="ask")
    if tools is not None:
        conv.system = tools.system(conv.system)
    conv.add_user(text, attachments)
    knobs = Knobs(
        stream=not opts.no_stream, json_mode=json_mode, stop=opts.stop, request_id=opts.request_id, extra=opts.extra
    )
    if tools is not None:
        knobs = tools.knobs(knobs, catalogue.resolve(settings.model), catalogue)  # --schema: json_mode too
    json_mode = knobs.json_mode
    body = build_turn_request(conv, settings, knobs, catalogue)
    conv.model = body["model"]
    _warn_thinking_flags(opts, app, catalogue, body["model"])

    if opts.dry_run:
        app.ios.stdout.write(dry_run_text(app, settings, body, opts.dry_run, shorten=app.ios.stdout_tty) + "\n")
        return 0

    client = app.make_client(settings, verbose=opts.verbose)
    extraction = opts.extraction()
    sink = None  # -x: the answer goes through the extractor; only the code blocks reach stdout, as each completes
    if extraction is not None and fmt != "json":
        from glm_cli.extract import ExtractingOutput

        sink = ExtractingOutput(app.ios.stdout, extraction)

    def send(first: dict[str, Any] | None) -> Reply:  # FIRST: the request built above (for --dry-run)
        return _send(
            app,
            settings,
            client,
            conv,
            first,
            knobs,
            catalogue,
            quiet_stdout=json_mode or fmt == "json",
            show=show_reasoning(settings, app.ios),
            raw=opts.raw,
            sink=sink,
        )

    runs: list[Any] = []
    try:
        if tools is None:
            reply = send(body)
        else:  # the tool loop sends the conversation again after each round of tool calls
            from glm_cli.tools.session import conversation_hooks

            bodies = [body]
            result = tools.converse(
                lambda: send(bodies.pop() if bodies else None), *conversation_hooks(conv), check_last=False
            )  # checked below
            reply, runs = result.final_reply(), result.runs
    except GlmError as err:
        if fmt == "json":  # a stream cut mid-way (error frame, dropped, deadline): the record keeps what came
            _partial_record(app, err, conv.model)
        from glm_cli.client import broke_off

        partial: Reply | None = getattr(err, "partial_reply", None) if broke_off(err) else None
        if partial is not None and (partial.content or partial.reasoning) and not opts.no_log and settings.log:
            from glm_cli.conversation import Message

            conv.add(Message.from_reply(partial, model=conv.model))  # shown, maybe billed: kept, marked interrupted
            _log(app, conv)
        raise
    finally:
        client.close()
    if not opts.no_log and settings.log:
        _log(app, conv)
    if reply.interrupted:
        raise KeyboardInterrupt

    content = reply.content
    if json_mode:
        from glm_cli.tools.schema import check_json

        try:
            content = check_json(content)
            if tools is not None and (problem := tools.problem(reply)) is not None:  # --schema, after its repair
                raise problem
        except InvalidOutputError as err:
            failed = finish_problem(reply.finish_reason) or err  # cut at max_tokens: why it is not JSON
            if fmt == "json":  # what the hint promises: the raw answer, in the record (still exit 9)
                record = reply_record(reply)
                record["error"] = record_error(reply, failed)
                app.ios.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            raise failed from None
    extracted = None if extraction is None else _extracted(app, conv, reply, extraction, sink, fmt)
    if fmt == "json":
        record = reply_record(reply, content)
        if runs:
            record["tool_runs"] = [run.to_json() for run in runs]
        if extracted is not None:
            record["extracted"] = [block.to_json() for block in extracted]
        if (problem := finish_problem(reply.finish_reason)) is not None:  # cut or filtered: as batch records say
            record["error"] = record_error(reply, problem)
        app.ios.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif json_mode:
        app.ios.stdout.write(content + "\n")
    app.ios.stdout.flush()
    if tools is not None:
        tools.show_sources(reply)
    if opts.usage:
        app.ios.stderr.write(usage_text(app, settings, reply) + "\n")
    return _finish_check(reply)


def _send(
    app: App,
    settings: Settings,
    client: Any,
    conv: Any,
    body: dict[str, Any] | None,
    knobs: Any,
    catalogue: Any,
    *,
    quiet_stdout: bool,
    show: bool,
    raw: bool,
    sink: Any = None,
) -> Reply:
    import io

    from glm_cli.turn import run_turn

    ios = app.ios
    if quiet_stdout or sink is not None:
        ios = replace(ios, stdout=io.StringIO() if quiet_stdout else sink, stdout_tty=False)
    return run_turn(
        conv,
        settings,
        app,
        client,
        knobs=knobs,
        catalogue=catalogue,
        body=body,
        ios=ios,
        show_reasoning=show,
        markdown=False if raw else None,
    )


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
    err = InvalidOutputError(
        f"the answer has no {'```' + lang + ' ' if lang else ''}fenced code block", f"to see the whole answer: {where}"
    )
    failed = finish_problem(reply.finish_reason) or err
    if output == "json":  # the record still shows the answer (as with --json), then exit 9
        record = reply_record(reply)
        record["extracted"] = []
        record["error"] = record_error(reply, failed, "no_code_block")
        app.ios.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    raise failed


def _partial_record(app: App, err: GlmError, model: str | None) -> None:
    """Print the record of an answer that broke off, with what had come and the error (as batch records say it)."""
    from glm_cli.batch.policy import error_code

    partial: Reply | None = getattr(err, "partial_reply", None)
    if partial is None or not (partial.content or partial.reasoning or partial.tool_calls):
        return  # nothing of an answer came: the error alone says it
    record = reply_record(partial)
    record["model"] = partial.model or model  # the model is named on the last chunk, which never came
    record["error"] = {"code": error_code(err), "message": err.message}
    app.ios.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    app.ios.stdout.flush()


def _log(app: App, conv: Any) -> None:
    """Log the turn to the history store; a store problem is a warning, never a lost answer."""
    from glm_cli.store import StoreError, save_conversation

    try:
        save_conversation(app.environ, conv)
    except StoreError as err:
        app.warn(f"this conversation was not logged: {err.message}")


def _warn_thinking_flags(opts: AskOptions, app: App, catalogue: Any, model: str) -> None:
    from glm_cli.commands.conversing import warn_unknown_model

    warn_unknown_model(app, catalogue, model)
    info = catalogue.get(model)
    if opts.think is not None and info is not None and info.thinking == "none":
        app.warn(f"{model} has no thinking mode; --think/--no-think has no effect")


def record_error(reply: Reply, err: GlmError, default: str = "invalid_json") -> dict[str, str]:
    """The `error` of a --json record whose answer came but is not a success, coded as batch records code it:
    the finish reason (`length`, `sensitive`…), else the error's code (`schema_mismatch`), else DEFAULT."""
    code = reply.finish_reason if finish_problem(reply.finish_reason) is not None else None
    return {"code": code or getattr(err, "code", None) or default, "message": err.message}


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
    from glm_cli.render import format_usage_line

    usage = reply.usage
    if usage is None:
        return format_usage_line(None, None)
    model = reply.model or settings.model
    return format_usage_line(usage, cost_text(app.catalogue(settings), settings, {model: usage}))


def _finish_check(reply: Reply) -> int:
    problem = finish_problem(reply.finish_reason)
    if problem is not None:
        raise problem
    return 0


def dry_run_text(app: App, settings: Settings, body: dict[str, Any], kind: str, *, shorten: bool = False) -> str:
    """Return the request as JSON, or as a curl line (and no URL password) that takes the key from where glm
    would: $GLM_API_KEY (or the variable it is in), $(api_key_cmd), the `glm auth login` file; never the key.

    SHORTEN (stdout is a terminal): attached files' data: URLs are cut, never megabytes of base64 on a screen;
    piped, the request is whole, ready to send.
    """
    if shorten:
        from glm_cli.attachments import shortened_body

        body = shortened_body(body)
    if kind == "json":
        return json.dumps(body, ensure_ascii=False, indent=2)
    import shlex

    from glm_cli.config import key_reference
    from glm_cli.redact import redact_url

    key, note = key_reference(settings)
    if note is not None:
        app.warn(note)
    url = redact_url(f"{settings.base_url}/chat/completions")
    return (
        f"curl -sS {'-N ' if body.get('stream') else ''}{shlex.quote(url)} "
        f'-H "Authorization: Bearer {key}" -H "Content-Type: application/json" '
        f"-d {shlex.quote(json.dumps(body, ensure_ascii=False))}"
    )


def quick(args: list[str]) -> int | None:
    """Run `glm ask ARGS` without building the Typer command; None when ARGS are not plain (quick.py)."""
    from glm_cli.commands import quick

    return quick.run(AskOptions, run_ask, RETIRED, args)


def command() -> Any:
    """The `glm ask` command (a plain `glm ask` is parsed without it: quick.py)."""
    from glm_cli.commands import binding

    return binding.command(
        AskOptions,
        run_ask,
        name="ask",
        retired=RETIRED,
        help="Ask one question; the answer goes to stdout (or -o FILE). Piped stdin is appended after a blank line.",
    )
