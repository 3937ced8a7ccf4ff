"""`glm batch [run] FILE`: many prompts from JSONL, concurrent, rate-aware and resumable."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from glm_cli.commands import options as o
from glm_cli.commands.batch.common import (
    Format,
    JsonMode,
    Prepared,
    RequestOptions,
    SchemaOpt,
    Stop,
    Template,
    Text,
    answer_check,
    items_of,
    open_checked,
    prepare,
    request_options,
)
from glm_cli.commands.common import report_error, run_command
from glm_cli.errors import API_ERROR, INTERRUPTED, GlmError, UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.batch.output import RecordWriter, ResumeState
    from glm_cli.batch.runner import BatchRunner
    from glm_cli.client import GlmClient

SUBCOMMANDS_HELP = """Run many prompts: locally (concurrent, resumable) or on Zhipu's Batch API.

`glm batch FILE …` is short for `glm batch run FILE …` (a file literally named like a
subcommand needs the long form). Exit codes: 0 every line has an ok record · 1 some line's
record is an error · 2 usage (bad flags, duplicate ids) · 4/5 stopped early on auth or
balance/quota (the rest was not sent) · 130 interrupted. Rerun the same command to resume.
"""


class DefaultRunGroup(TyperGroup):
    """A group whose first argument, when not a subcommand, means `run` (glm batch FILE)."""

    default_subcommand = "run"  # read by the shell-completion generator (glm_cli/completion/gen.py)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@dataclass(frozen=True)
class BatchOptions:
    file: str
    request: RequestOptions = field(default_factory=RequestOptions)
    output: str | None = None
    concurrency: int = 8
    rpm: float | None = None
    tpm: float | None = None
    ordered: bool = False
    retry_failed: bool = False
    format: str = "record"
    max_retries: int | None = None
    keep_reasoning: bool = True
    stream: bool = False
    limit: int | None = None
    dry_run: bool = False
    progress: bool | None = None
    verbose: bool = False
    backoff: float = 0.5


def open_output(path: str | None, fmt: str, app: App) -> tuple[RecordWriter, ResumeState | None]:
    """Open the output (lock, repair a torn last line) and read what is already done."""
    from glm_cli.batch.output import FORMATS, RecordWriter, foreign_line, load_state

    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if path in (None, "-"):
        return RecordWriter(None, app.ios.stdout, fmt), None
    if os.path.isfile(path) and (first := foreign_line(path)) is not None:  # e.g. -o another input file
        raise UsageError(f"{path} is not the output of a glm batch run: its first line is not a record ({first!r})",
                         "choose another -o: a new file, or the output of an earlier run to resume it")
    writer = RecordWriter(path, fmt=fmt)
    if not os.path.isfile(path):  # /dev/stdout, a FIFO, /dev/null: written to, never read back (it would block)
        return writer, None
    if writer.repaired:
        app.warn(f"{path}: removed a torn last line ({writer.repaired:,} bytes cut mid-write); that line runs again")
    state = load_state(path)
    if state.unreadable:
        app.warn(f"{path}: {state.unreadable:,} line(s) are not records and were ignored")
    return writer, state


def _check(opts: BatchOptions) -> None:
    if not 1 <= opts.concurrency <= 512:
        raise UsageError(f"-j/--concurrency must be between 1 and 512, got {opts.concurrency}")
    for name, value in (("--rpm", opts.rpm), ("--tpm", opts.tpm), ("--limit", opts.limit)):
        if value is not None and value <= 0:
            raise UsageError(f"{name} must be positive, got {value}")
    to_file = opts.output not in (None, "-") and opts.file != "-"
    if to_file and os.path.abspath(str(opts.output)) == os.path.abspath(opts.file):
        raise UsageError("the output file is the input file", "choose another -o")


def run_batch(opts: BatchOptions, app: App) -> int:
    """Run every line not yet done; write one record per line; return the exit code."""
    _check(opts)
    prep = prepare(opts.request, app)
    if opts.dry_run:
        return dry_run(opts, prep, app)
    client = app.make_client(prep.settings, verbose=opts.verbose)  # no key: say so before reading the input
    with contextlib.ExitStack() as held:  # let go last to first: the output's lock after the --retry-failed clean-up
        held.callback(client.close)
        stream, total = open_checked(opts.file, opts.request, app)
        held.enter_context(stream)
        writer, state = open_output(opts.output, opts.format, app)
        held.callback(writer.close)
        runner = _runner(opts, prep, app, client, writer)
        runner.stats.total = total
        _run(runner, opts, prep, app, stream, state)
        return _finish(runner, opts, app, prep)


def _runner(opts: BatchOptions, prep: Prepared, app: App, client: GlmClient, writer: RecordWriter) -> BatchRunner:
    from glm_cli.batch.runner import BatchRunner, RunConfig

    # The runner retries (so rate-limit backoff is shared and adaptive), not the client.
    client.max_retries, client.pool_size = 0, opts.concurrency
    client.http  # noqa: B018 - build the connection pool now, before threads race to
    retries = opts.max_retries
    if retries is None:
        retries = prep.settings.max_retries if prep.settings.source("max_retries") != "default" else 8
    cfg = RunConfig(concurrency=opts.concurrency, rpm=opts.rpm, tpm=opts.tpm, max_retries=retries,
                    ordered=opts.ordered, retry_failed=opts.retry_failed, keep_reasoning=opts.keep_reasoning,
                    stream=opts.stream, json_mode=prep.json_mode, stop=opts.request.stop, schema=prep.schema,
                    limit=opts.limit, backoff_base=opts.backoff)
    return BatchRunner(cfg, client, prep.settings, prep.catalogue, writer, validate=answer_check(prep.schema),
                       clock=app.clock)


def _run(runner: BatchRunner, opts: BatchOptions, prep: Prepared, app: App, stream: IO[bytes],
         state: ResumeState | None) -> None:
    from functools import partial

    from glm_cli.batch.progress import make_progress
    from glm_cli.catalogue import cost_text

    cost = partial(cost_text, prep.catalogue, prep.settings.base_url)
    progress = make_progress(app.ios, runner.stats, lambda: runner.limiter.in_flight, cost, app.clock,
                             enabled=opts.progress)
    runner.listen(progress.advance)
    with progress:
        runner.run(items_of(stream, opts.request, prep), state)


def _finish(runner: BatchRunner, opts: BatchOptions, app: App, prep: Prepared) -> int:
    from glm_cli.batch.progress import summary_lines
    from glm_cli.catalogue import cost_text

    stats, err = runner.stats, app.ios.stderr
    if isinstance(runner.writer.error, BrokenPipeError):
        raise BrokenPipeError  # `glm batch … | head`: the reader left; exit quietly
    cost = cost_text(prep.catalogue, prep.settings.base_url, dict(stats.usage), dict(stats.requests)) \
        if stats.usage else None
    for line in summary_lines(stats, app.clock() - stats.started, cost):
        err.write(line + "\n")
    stopped = runner.fatal is not None or runner.interrupted
    if opts.retry_failed and not stopped:
        _compact(runner.writer, app)
    again = "run the same command again to continue (done lines are skipped)"
    if opts.file == "-" or not os.path.isfile(opts.file):  # stdin, a pipe, <(cmd): it cannot be read again
        again = "run the same command again, with the same input, to continue (done lines are skipped)"
    if runner.writer.error is not None:
        raise GlmError(f"cannot write {opts.output or 'stdout'}: {runner.writer.error}; {again}")
    if runner.fatal is not None:
        code = report_error(app, runner.fatal)
        err.write(f"glm: stopped early: no further requests were sent; {again}\n")
        return code
    if runner.interrupted:
        err.write(f"glm: interrupted; {again}\n")
        return INTERRUPTED
    err.flush()
    return API_ERROR if stats.failed or stats.skipped_failed else 0


def _compact(writer: RecordWriter, app: App) -> None:
    """--retry-failed: drop the error records that a later record supersedes (under the run's lock)."""
    try:
        dropped = writer.compact()
    except OSError as exc:
        app.warn(f"{writer.path}: could not remove superseded error records ({exc.strerror or exc});"
                 " the file is unchanged")
        return
    if dropped:
        app.ios.stderr.write(f"glm batch: removed {dropped:,} error record(s) of lines that then succeeded"
                             " or failed again\n")


def dry_run(opts: BatchOptions, prep: Prepared, app: App) -> int:
    """Print each line's request in the Batch-API shape (what `submit` uploads); send nothing."""
    from glm_cli.batch.remote import request_lines

    stream, _ = open_checked(opts.file, opts.request, app)
    bad = 0
    with stream:
        for item, line in request_lines(items_of(stream, opts.request, prep), prep.settings, prep.catalogue,
                                        json_mode=prep.json_mode, stop=opts.request.stop, schema=prep.schema):
            if line is None:
                bad += 1
                app.ios.stderr.write(f"glm: {item.error}\n")
            else:
                if app.ios.stdout_tty:  # attached files' data: URLs cut on a screen; piped, the line is whole
                    from glm_cli.attachments import shortened_body

                    line = {**line, "body": shortened_body(line["body"])}
                app.ios.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    return API_ERROR if bad else 0



File = Annotated[str, typer.Argument(help="JSONL input (or text with --text); - reads stdin.")]
Output = Annotated[str | None, typer.Option(
    "--output", "-o", help="Output JSONL; it is the run's state: rerun to resume. Default stdout.")]
Concurrency = Annotated[int, typer.Option("--concurrency", "-j", help="Requests in flight at most.")]
Rpm = Annotated[float | None, typer.Option("--rpm", help="Requests per minute, shared by all workers.")]
Tpm = Annotated[float | None, typer.Option("--tpm", help="Tokens per minute, shared by all workers.")]
RetryFailed = Annotated[bool, typer.Option("--retry-failed", help="Run lines whose record is an error again.")]
Ordered = Annotated[bool, typer.Option("--ordered", help="Write records in input order.")]
MaxRetries = Annotated[int | None, typer.Option("--max-retries", help="Tries after the first (default 8).")]
KeepReasoning = Annotated[bool, typer.Option(
    "--keep-reasoning/--drop-reasoning", help="Keep the reasoning in each record.")]
Stream = Annotated[bool, typer.Option("--stream", help="Stream each answer (default: whole answers).")]
Limit = Annotated[int | None, typer.Option("--limit", help="Only the first N lines (try a prompt out).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print each line's request (Batch-API shape); send nothing.")]
Progress = Annotated[bool | None, typer.Option(
    "--progress/--no-progress", help="Progress bar on stderr (default: when stderr is a terminal).")]
Backoff = Annotated[float, typer.Option("--backoff", hidden=True, help="First retry delay, seconds.")]


def register(app: Any) -> None:
    """Add `glm batch` (run, submit, status, list, cancel, fetch) to the Typer app."""
    from glm_cli.commands.batch import remote as batch_api

    group = typer.Typer(cls=DefaultRunGroup, help=SUBCOMMANDS_HELP, no_args_is_help=True, rich_markup_mode=None,
                        context_settings={"help_option_names": ["-h", "--help"]})

    @group.command("run")
    def run(
        file: File, output: Output = None, concurrency: Concurrency = 8, rpm: Rpm = None, tpm: Tpm = None,
        retry_failed: RetryFailed = False, ordered: Ordered = False, fmt: Format = "record",
        text: Text = False, template: Template = None, model: o.Model = None, system: o.System = None,
        preset: o.Preset = None, profile: o.Profile = None, endpoint: o.Endpoint = None, think: o.Think = None,
        temperature: o.Temperature = None, top_p: o.TopP = None, max_tokens: o.MaxTokens = None,
        stop: Stop = None, json_mode: JsonMode = None, schema: SchemaOpt = None, max_retries: MaxRetries = None,
        keep_reasoning: KeepReasoning = True, stream: Stream = False, limit: Limit = None, dry_run: DryRun = False,
        progress: Progress = None, verbose: o.Verbose = False, backoff: Backoff = 0.5,
    ) -> None:
        """Run a JSONL file of prompts concurrently; one JSON record per line to -o (resumable)."""
        req = request_options(text=text, template=template, model=model, system=system, preset=preset, profile=profile,
                              endpoint=endpoint, think=think, temperature=temperature, top_p=top_p,
                              max_tokens=max_tokens, stop=stop, json_mode=json_mode, schema=schema)
        run_command(run_batch, BatchOptions(
            file=file, request=req, output=output, concurrency=concurrency, rpm=rpm, tpm=tpm, ordered=ordered,
            retry_failed=retry_failed, format=fmt, max_retries=max_retries, keep_reasoning=keep_reasoning,
            stream=stream, limit=limit, dry_run=dry_run, progress=progress, verbose=verbose, backoff=backoff))

    batch_api.register(group)
    app.add_typer(group, name="batch")
