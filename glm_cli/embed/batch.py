"""`glm embed --batch FILE`: the vector of every line, up to 64 inputs per request, concurrent and resumable.

The output is batch's state file (glm_cli/batch/output.py): one record per line, appended as packs finish,
locked against a second run; a rerun skips the ids already there. An input over the per-item token limit
gets its own error record (never cut); a pack the server refuses is retried one input at a time, so one bad
line costs one record. Auth and balance errors stop the run: what was not sent runs on the next try.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from glm_cli.embed import MAX_INPUTS, check_input, check_request, embed_texts
from glm_cli.errors import API_ERROR, AUTH, INTERRUPTED, RATE_LIMIT, APIError, GlmError, UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.batch.output import RecordWriter, ResumeState, Stats
    from glm_cli.client import GlmClient

TEXT_FIELDS = ("text", "input", "prompt")  # where an object line keeps its text


@dataclass(frozen=True)
class EmbedBatchOptions:
    file: str
    output: str | None = None
    model: str = "embedding-3"
    dimensions: int | None = None
    concurrency: int = 4
    text: bool = False  # one text per plain line instead of JSONL
    retry_failed: bool = False
    profile: str | None = None
    endpoint: str | None = None
    conflicts: tuple[str, ...] = ()  # single-text flags given with --batch (TEXT, -f, --format lines, --json)


@dataclass
class Line:
    line: int | None  # None: a Batch API result (its line is not in the result file)
    id: str
    text: str | None = None
    error: str | None = None


@dataclass
class Run:
    opts: EmbedBatchOptions
    client: GlmClient
    writer: RecordWriter
    stats: Stats
    stop: threading.Event = field(default_factory=threading.Event)
    fatal: GlmError | None = None


def parse(raw: str, number: int, text_mode: bool, model: str) -> Line:
    """One input line: its id and text, or why it cannot be embedded."""
    from glm_cli.batch.input import default_id, item_id, load_json

    if text_mode:
        obj: Any = raw
        why = None
    else:
        obj, why = load_json(raw)
    line = Line(number, item_id(obj, number) if not text_mode else default_id(number))
    if why is not None:
        line.error = f"line {number}: {why}"
        return line
    text = (
        obj
        if isinstance(obj, str)
        else next((obj[k] for k in TEXT_FIELDS if isinstance(obj, dict) and isinstance(obj.get(k), str)), None)
    )
    if text is None:
        line.error = f"line {number}: expected a JSON string or an object with `text` (or `input`, `prompt`)"
        return line
    try:
        line.text = check_input(model, text, f"line {number}")
    except UsageError as err:
        line.error = err.message
    return line


def error_code_of(why: str) -> str:
    """The record code of a line refused before sending: too long, or not something to embed."""
    return "input_too_long" if "tokens" in why else "invalid_request"


def record(
    line: Line,
    *,
    vector: list[float] | None = None,
    model: str | None = None,
    code: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """The output record of one line: its vector, or an error (the same keys as batch's records)."""
    return {
        "id": line.id,
        "line": line.line,
        "status": "ok" if vector is not None else "error",
        "embedding": vector,
        "dimensions": len(vector) if vector is not None else None,
        "model": model,
        "usage": None,
        "error": None if vector is not None else {"code": code, "message": message},
    }


def packs(lines: Iterator[Line], run: Run, state: ResumeState | None) -> Iterator[list[Line]]:
    """Group the lines still to do into requests of at most MAX_INPUTS; write refused lines' records at once."""
    pack: list[Line] = []
    for line in lines:
        if state is not None and (line.id in state.ok or (line.id in state.failed and not run.opts.retry_failed)):
            with run.stats.lock:
                run.stats.skipped_ok += line.id in state.ok
                run.stats.skipped_failed += line.id not in state.ok
            continue
        if line.error is not None:
            _write(run, record(line, code=error_code_of(line.error), message=line.error))
            continue
        pack.append(line)
        if len(pack) == MAX_INPUTS:
            yield pack
            pack = []
    if pack:
        yield pack


def _write(run: Run, rec: dict[str, Any]) -> None:
    if run.writer.write(rec):
        run.stats.add(rec)


def embed_pack(run: Run, pack: list[Line]) -> None:
    """Embed one pack and write its records; a refused pack is tried again one input at a time."""
    from glm_cli.batch.policy import error_code

    if run.stop.is_set():
        return
    try:
        vectors, usage = embed_texts(
            run.client, run.opts.model, [line.text or "" for line in pack], run.opts.dimensions
        )
    except GlmError as err:
        if err.exit_code in (AUTH, RATE_LIMIT):  # the account, not the line (after the client's retries): stop
            run.fatal = run.fatal or err
            run.stop.set()
            return
        if len(pack) > 1 and isinstance(err, APIError) and err.status == 400:
            for line in pack:
                embed_pack(run, [line])
            return
        for line in pack:
            _write(run, record(line, code=error_code(err), message=err.message))
        return
    if usage is not None:
        with run.stats.lock:
            from glm_cli.events import Usage

            run.stats.usage[run.opts.model] = run.stats.usage.get(run.opts.model, Usage()) + usage
            run.stats.requests[run.opts.model] = run.stats.requests.get(run.opts.model, 0) + 1
    for line, vector in zip(pack, vectors, strict=True):
        _write(run, record(line, vector=vector, model=run.opts.model))


def run_embed_batch(opts: EmbedBatchOptions, app: App) -> int:
    """Embed every line not yet in the output; return 0 (all ok), 1 (some failed), 4/5 (stopped), 130."""
    from glm_cli.batch.input import iter_raw_lines
    from glm_cli.batch.output import Stats

    check_options(opts)
    settings = app.settings({"endpoint": opts.endpoint} if opts.endpoint else {}, profile=opts.profile)
    client = app.make_client(settings)  # no key: said before the input is read
    stream, total = open_checked(opts, app)
    writer = None
    try:
        writer, state = _open_output(opts, app)
        run = Run(opts, client, writer, Stats(total=total, started=app.clock()))
        client.pool_size = opts.concurrency
        lines = (parse(raw, n, opts.text, opts.model) for n, raw in iter_raw_lines(stream))
        interrupted = _drive(run, packs(lines, run, state), lambda text: _say(app, text))
    finally:
        stream.close()
        client.close()
        if writer is not None:
            writer.close()
    return _finish(run, opts, app, interrupted)


def check_options(opts: EmbedBatchOptions) -> None:
    """Refuse what --batch cannot do, before anything is read or sent."""
    import os

    if opts.conflicts:
        raise UsageError(
            f"--batch embeds the lines of a file; {', '.join(opts.conflicts)} is for one text",
            "records are JSON lines: use -o FILE",
        )
    if (
        opts.output not in (None, "-")
        and opts.file != "-"
        and os.path.abspath(opts.output) == os.path.abspath(opts.file)
    ):
        raise UsageError("the output file is the input file", "choose another -o")
    if not 1 <= opts.concurrency <= 64:
        raise UsageError(f"-j/--concurrency must be between 1 and 64, got {opts.concurrency}")
    check_request(opts.model, opts.dimensions)


def open_checked(opts: EmbedBatchOptions, app: App) -> tuple[IO[bytes], int | None]:
    """Open the input (spooled when piped), count its lines and refuse duplicate ids before anything is sent."""
    from glm_cli.batch.input import open_input, scan_input

    stream: IO[bytes] = open_input(opts.file, app.ios.stdin, spool=True)
    try:
        scan = scan_input(stream, text_mode=opts.text)
        stream.seek(0)
        if scan.duplicates:
            raise UsageError(
                f"{len(scan.duplicates):,} id(s) used more than once in {opts.file}",
                "ids must be unique: they are how a rerun knows what is done",
            )
    except BaseException:
        stream.close()
        raise
    return stream, scan.total


def _finish(run: Run, opts: EmbedBatchOptions, app: App, interrupted: bool) -> int:
    from glm_cli.batch.progress import summary_lines

    writer = run.writer
    for text in summary_lines(run.stats, app.clock() - run.stats.started, None, label="glm embed"):
        app.ios.stderr.write(text + "\n")
    again = "run the same command again to continue (done lines are skipped)"
    if writer.error is not None:
        raise GlmError(f"cannot write {opts.output or 'stdout'}: {writer.error}; {again}")
    if run.fatal is not None:
        app.ios.stderr.write(f"glm: {run.fatal.message}\n" + (f"hint: {run.fatal.hint}\n" if run.fatal.hint else ""))
        app.ios.stderr.write(f"glm: stopped early: no further requests were sent; {again}\n")
        return run.fatal.exit_code
    if interrupted:
        app.ios.stderr.write(f"glm: interrupted; {again}\n")
        return INTERRUPTED
    return API_ERROR if run.stats.failed or run.stats.skipped_failed else 0


def _open_output(opts: EmbedBatchOptions, app: App) -> tuple[RecordWriter, ResumeState | None]:
    import os

    from glm_cli.batch.output import RecordWriter, foreign_line, load_state

    if opts.output in (None, "-"):
        return RecordWriter(None, app.ios.stdout), None
    if os.path.isfile(opts.output) and (first := foreign_line(opts.output)) is not None:
        raise UsageError(
            f"{opts.output} is not the output of an earlier run: its first line is not a record ({first!r})",
            "choose another -o",
        )
    writer = RecordWriter(opts.output)
    return writer, load_state(opts.output) if os.path.isfile(opts.output) else None


def _say(app: App, text: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # a hung-up terminal must not end the stop
        app.ios.stderr.write(text + "\n")
        app.ios.stderr.flush()


def _drive(run: Run, work: Iterator[list[Line]], say: Callable[[str], None]) -> bool:
    """Send the packs with at most `concurrency` in flight; return True when interrupted (Ctrl-C)."""
    pending: set[Future[None]] = set()
    with ThreadPoolExecutor(max_workers=run.opts.concurrency, thread_name_prefix="glm-embed") as pool:
        try:
            for pack in work:
                if run.stop.is_set():
                    break
                pending.add(pool.submit(embed_pack, run, pack))
                if len(pending) >= run.opts.concurrency:  # bounded: the input is read only as fast as it is sent
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()
            for future in pending:
                future.result()
        except KeyboardInterrupt:
            run.stop.set()  # packs in flight finish (and are written); the rest wait for the next run
            in_flight = sum(not future.done() for future in pending)
            if in_flight:  # said at once: the wait that follows is for answers already paid for
                say(
                    f"glm: stopping: waiting for {in_flight} request{'s' if in_flight != 1 else ''} in flight to "
                    "finish (their vectors are kept; at most the request deadline); the rest run on resume"
                )
            return True
    return False
