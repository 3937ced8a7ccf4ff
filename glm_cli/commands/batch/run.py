"""`glm batch [run] FILE`: many prompts from JSONL, concurrent, rate-aware and resumable."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Annotated, Any

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.batch.common import (
    RETIRED,
    Format,
    Prepared,
    RequestOptions,
    answer_check,
    items_of,
    open_checked,
    prepare,
)
from glm_cli.commands.common import report_error
from glm_cli.commands.flags import Argument, Help, Option
from glm_cli.errors import API_ERROR, INTERRUPTED, GlmError, UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.batch.output import RecordWriter, ResumeState
    from glm_cli.batch.runner import BatchRunner
    from glm_cli.client import GlmClient


CHARS_PER_TOKEN = 3  # the estimate without the tokenizer (as the --tpm bucket's)
SHOW_OVER = 10


@dataclass(frozen=True)
class BatchOptions:
    file: Annotated[str, Argument(metavar="FILE", help="JSONL input (or text with --text); - reads stdin.")]
    request: RequestOptions = field(default_factory=RequestOptions)
    output: Annotated[
        o.Output, Help("Write the records to FILE (default stdout); the file is the run's state: rerun to resume.")
    ] = None
    concurrency: o.Concurrency = 8
    rpm: Annotated[
        float | None,
        Option("--rpm", metavar="N", help="Requests per minute, shared by all workers.", rich_help_panel=o.BATCH),
    ] = None
    tpm: Annotated[
        float | None,
        Option("--tpm", metavar="N", help="Tokens per minute, shared by all workers.", rich_help_panel=o.BATCH),
    ] = None
    ordered: Annotated[bool, Option("--ordered", help="Write records in input order.", rich_help_panel=o.OUTPUT)] = (
        False
    )
    retry_failed: o.RetryFailed = False
    format: Format = "record"
    max_retries: Annotated[
        int | None,
        Option("--max-retries", metavar="N", help="Tries after the first (default 8).", rich_help_panel=o.BATCH),
    ] = None
    keep_reasoning: Annotated[
        bool,
        Option(
            "--keep-reasoning/--drop-reasoning", help="Keep the reasoning in each record.", rich_help_panel=o.OUTPUT
        ),
    ] = True
    stream: Annotated[
        bool, Option("--stream", help="Stream each answer (default: whole answers).", rich_help_panel=o.BATCH)
    ] = False
    limit: Annotated[o.Limit, Help("Only the first N lines (try a prompt out).")] = None
    dry_run: Annotated[
        bool,
        Option(
            "--dry-run", help="Print each line's request (Batch-API shape); send nothing.", rich_help_panel=o.OUTPUT
        ),
    ] = False
    count_tokens: Annotated[
        bool,
        Option(
            "--count-tokens",
            help="With --dry-run: count the input tokens with Zhipu's tokenizer (one free request per line, "
            "-j at a time) instead of estimating them.",
            rich_help_panel=o.OUTPUT,
        ),
    ] = False
    progress: Annotated[
        bool | None,
        Option(
            "--progress/--no-progress",
            help="Progress bar on stderr (default: when stderr is a terminal).",
            rich_help_panel=o.OUTPUT,
        ),
    ] = None
    verbose: o.Verbose = False
    backoff: Annotated[float, Option("--backoff", hidden=True, help="First retry delay, seconds.")] = 0.5


def _check(opts: BatchOptions) -> None:
    if not 1 <= opts.concurrency <= 512:
        raise UsageError(f"-j/--concurrency must be between 1 and 512, got {opts.concurrency}")
    for name, value in (("--rpm", opts.rpm), ("--tpm", opts.tpm), ("--limit", opts.limit)):
        if value is not None and value <= 0:
            raise UsageError(f"{name} must be positive, got {value}")
    if opts.count_tokens and not opts.dry_run:
        raise UsageError("--count-tokens counts what --dry-run shows", "glm batch FILE --dry-run --count-tokens")
    to_file = opts.output not in (None, "-") and opts.file != "-"
    if to_file and os.path.abspath(str(opts.output)) == os.path.abspath(opts.file):
        raise UsageError("the output file is the input file", "choose another -o")


def run_batch(opts: BatchOptions, app: App) -> int:
    """Run every line not yet done; write one record per line; return the exit code."""
    _check(opts)
    prep = prepare(opts.request, app)
    if opts.dry_run:
        return dry_run(opts, prep, app)
    from glm_cli.batch.output import open_output
    from glm_cli.batch.policy import retry_policy

    retry = retry_policy(prep.settings, opts.max_retries, opts.backoff)
    # no key: say so before reading the input
    client = app.make_client(prep.settings, verbose=opts.verbose, retry=retry, pool_size=opts.concurrency)
    with contextlib.ExitStack() as held:  # let go last to first: the output's lock after the --retry-failed clean-up
        held.callback(client.close)
        stream, total = open_checked(opts.file, opts.request, app)
        held.enter_context(stream)
        writer, state = open_output(opts.output, opts.format, app)
        held.callback(writer.close)
        runner = _runner(opts, prep, app, client, writer)
        runner.stats.total = total if opts.limit is None else min(opts.limit, total or opts.limit)
        _run(runner, opts, prep, app, stream, state)
        return _finish(runner, opts, app, prep)


def _runner(opts: BatchOptions, prep: Prepared, app: App, client: GlmClient, writer: RecordWriter) -> BatchRunner:
    from glm_cli.batch.runner import BatchRunner, RunConfig

    client.http  # noqa: B018 - build the connection pool now, before threads race to
    cfg = RunConfig(
        concurrency=opts.concurrency,
        rpm=opts.rpm,
        tpm=opts.tpm,
        ordered=opts.ordered,
        retry_failed=opts.retry_failed,
        keep_reasoning=opts.keep_reasoning,
        stream=opts.stream,
        json_mode=prep.json_mode,
        stop=opts.request.stop,
        schema=prep.schema,
        limit=opts.limit,
    )
    return BatchRunner(
        cfg, client, prep.settings, prep.catalogue, writer, validate=answer_check(prep.schema), clock=app.clock
    )


def _run(
    runner: BatchRunner, opts: BatchOptions, prep: Prepared, app: App, stream: IO[bytes], state: ResumeState | None
) -> None:
    from functools import partial

    from glm_cli.batch.progress import make_progress
    from glm_cli.catalogue import cost_text

    cost = partial(cost_text, prep.catalogue, prep.settings)
    progress = make_progress(
        app.ios, runner.stats, lambda: runner.limiter.in_flight, cost, app.clock, enabled=opts.progress
    )
    runner.listen(progress.advance, progress.note)
    with progress:
        runner.run(items_of(stream, opts.request, prep), state)


def _finish(runner: BatchRunner, opts: BatchOptions, app: App, prep: Prepared) -> int:
    from glm_cli.batch.progress import summary_lines
    from glm_cli.catalogue import cost_text

    stats, err = runner.stats, app.ios.stderr
    if isinstance(runner.writer.error, BrokenPipeError):
        raise BrokenPipeError  # `glm batch … | head`: the reader left; exit quietly
    cost = cost_text(prep.catalogue, prep.settings, dict(stats.usage), dict(stats.requests)) if stats.usage else None
    for line in summary_lines(stats, app.clock() - stats.started, cost):
        _say(err, line + "\n", best_effort=runner.interrupted)
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
        n = runner.abandoned
        lost = f"{n:,} request{' was' if n == 1 else 's were'} in flight and abandoned (they run again); " if n else ""
        _say(err, f"glm: interrupted; {lost}{again}\n", best_effort=True)
        # 130 for Ctrl-C; 143 for SIGTERM and 129 for SIGHUP, as everywhere in glm (errors.Terminated)
        return INTERRUPTED if runner.signum is None else 128 + runner.signum
    err.flush()
    return API_ERROR if stats.failed or stats.skipped_failed else 0


def _say(err: IO[str], text: str, *, best_effort: bool) -> None:
    """Write to stderr; with BEST_EFFORT (after a stop signal) as far as it goes: a terminal that hung up (SIGHUP)
    must not turn the exit code into an I/O error, now or when what stays buffered is flushed at exit."""
    try:
        err.write(text)
        err.flush()
    except OSError:
        if not best_effort:
            raise
        with contextlib.suppress(OSError, ValueError, AttributeError):  # no descriptor (a test's stream): nothing
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, err.fileno())
            os.close(devnull)


def _compact(writer: RecordWriter, app: App) -> None:
    """--retry-failed: drop the error records that a later record supersedes (under the run's lock)."""
    try:
        dropped = writer.compact()
    except OSError as exc:
        app.warn(
            f"{writer.path}: could not remove superseded error records ({exc.strerror or exc}); the file is unchanged"
        )
        return
    if dropped:
        app.ios.stderr.write(
            f"glm batch: removed {dropped:,} error record(s) of lines that then succeeded or failed again\n"
        )


def dry_run(opts: BatchOptions, prep: Prepared, app: App) -> int:
    """Print each line's request in the Batch-API shape (what `submit` uploads); send nothing.

    stderr ends with the input tokens: estimated from the characters, or, with --count-tokens, counted by
    the tokenizer endpoint (free; -j requests at a time); when it cannot count, the estimate, and why.
    """
    from glm_cli.batch.remote import request_lines
    from glm_cli.catalogue import text_chars

    counter = _counter(opts, prep, app) if opts.count_tokens else None
    stream, _ = open_checked(opts.file, opts.request, app)
    bad = requests = chars = 0
    try:
        with stream:
            for item, line in request_lines(
                itertools.islice(items_of(stream, opts.request, prep), opts.limit),  # -n N: the first N lines
                prep.settings,
                prep.catalogue,
                json_mode=prep.json_mode,
                stop=opts.request.stop,
                schema=prep.schema,
            ):
                if line is None:
                    bad += 1
                    app.ios.stderr.write(f"glm: {item.error}\n")
                    continue
                body = line["body"]
                requests += 1
                chars += sum(text_chars(m.get("content")) for m in body.get("messages") or ())
                if counter is not None:
                    info = prep.catalogue.get(body["model"])
                    counter.submit(item, body["model"], body["messages"], vision=bool(info and info.vision))
                if app.ios.stdout_tty:  # attached files' data: URLs cut on a screen; piped, the line is whole
                    from glm_cli.attachments import shortened_body

                    line = {**line, "body": shortened_body(body)}
                app.ios.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        counts = counter.finish() if counter is not None else None
        if counter is not None:
            counter.client.close()
    app.ios.stderr.write(_token_summary(requests, chars, counts, opts, prep, app) + "\n")
    return API_ERROR if bad else 0


def _counter(opts: BatchOptions, prep: Prepared, app: App) -> Any:
    """The tokenizer's request counter (bounded by -j); a client that cannot be made is the first error."""
    from glm_cli.tokens import RequestCounter

    def context(model: str) -> int | None:
        info = prep.catalogue.get(model)
        return info.context if info is not None else None

    try:
        client = app.make_client(prep.settings, verbose=opts.verbose, pool_size=opts.concurrency)
    except GlmError as err:  # no key: the estimate, and why
        app.warn(f"cannot count tokens with the tokenizer: {err.message}; estimating instead")
        return None
    return RequestCounter(client, opts.concurrency, context)


def _token_summary(requests: int, chars: int, counts: Any, opts: BatchOptions, prep: Prepared, app: App) -> str:
    """`glm batch --dry-run: N requests · T input tokens (counted …) · input est. $X`, or the estimate."""
    from glm_cli.catalogue import cost_text, format_tokens
    from glm_cli.events import Usage

    head = f"glm batch --dry-run: {requests:,} request(s)"
    estimate = f"{head} · about {round(chars / CHARS_PER_TOKEN):,} input tokens (estimated from the characters"
    if counts is None:
        return estimate + ("; --count-tokens counts them with Zhipu's tokenizer)" if not opts.count_tokens else ")")
    if counts.error is not None:
        app.warn(f"the tokenizer could not count: {counts.error.message}; the figure below is an estimate")
        return estimate + ")"
    for model, used in sorted(counts.fallbacks.items()):
        app.warn(f"the tokenizer does not take {model}; counted with {used}'s tokenizer (unconfirmed: the same family)")
    for item, model, tokens, context in sorted(counts.over, key=lambda o: o[0].line)[:SHOW_OVER]:
        app.warn(
            f"line {item.line} ({item.id}): {tokens:,} input tokens, more than {model}'s "
            f"{format_tokens(context)} context window"
        )
    total = sum(counts.tokens.values())
    usage = {model: Usage(prompt_tokens=n, total_tokens=n) for model, n in counts.tokens.items()}
    cost = cost_text(prep.catalogue, prep.settings.base_url, usage, dict(counts.requests))
    return f"{head} · {total:,} input tokens (counted by Zhipu's tokenizer)" + (f" · input est. {cost}" if cost else "")


def command() -> Any:
    """The `glm batch run` command (also `glm batch FILE`)."""
    return binding.command(
        BatchOptions,
        run_batch,
        name="run",
        retired=RETIRED,
        help="Run a JSONL file of prompts concurrently; one JSON record per line to -o (resumable).",
    )
