"""`glm batch submit|status|list|cancel|fetch`: the same input on Zhipu's Batch API (half price)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.batch.common import (
    RETIRED,
    Format,
    RequestOptions,
    Text,
    answer_check,
    items_of,
    open_checked,
    prepare,
)
from glm_cli.commands.binding import Help, Retired
from glm_cli.errors import API_ERROR, GlmError, UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.client import GlmClient

BATCH_PRICE = 0.5  # the Batch API costs half the standard price (zhipu-api.md §7.3)
SHOW_MISSING = 10


Ids = Annotated[tuple[str, ...], typer.Argument(metavar="ID...", help="Batch id(s).")]
Wait = Annotated[bool, typer.Option("--wait", help="Poll until the batches finish.", rich_help_panel=o.BATCH)]
Poll = Annotated[
    float, typer.Option("--poll", metavar="SECONDS", help="Seconds between polls with --wait.", rich_help_panel=o.BATCH)
]
ApiJson = Annotated[o.AsJson, Help("Print the API's JSON objects.")]
FETCH_INPUT_RENAMED = Retired(
    ("--input", "-i"),
    "-i/--input is now -f/--file: an input file is -f, --file in every glm command",
    "glm batch fetch ID… -f FILE",
    takes_value=True,
)


@dataclass(frozen=True)
class SubmitOptions:
    file: Annotated[str, typer.Argument(metavar="FILE", help="JSONL input (or text with --text); - reads stdin.")]
    request: RequestOptions = field(default_factory=RequestOptions)
    description: Annotated[
        str | None,
        typer.Option(
            "--description", "-d", metavar="TEXT", help="Stored in the batch metadata.", rich_help_panel=o.BATCH
        ),
    ] = None
    wait: Wait = False
    poll: Poll = 30.0
    output: Annotated[o.Output, Help("With --wait: then fetch the records into FILE.")] = None
    format: Format = "record"
    verbose: o.Verbose = False
    max_lines: Annotated[int, typer.Option("--max-lines", hidden=True)] = 50_000
    max_bytes: int = 100 * 1024 * 1024


@dataclass(frozen=True)
class StatusOptions:
    batch_ids: Ids
    as_json: ApiJson = False
    profile: o.Profile = None
    endpoint: o.Endpoint = None
    verbose: o.Verbose = False


@dataclass(frozen=True)
class ListOptions:
    limit: Annotated[o.Limit, Help("How many (1-100).")] = 20
    after: Annotated[
        str | None, typer.Option("--after", metavar="ID", help="Start after this batch id.", rich_help_panel=o.OUTPUT)
    ] = None
    as_json: ApiJson = False
    profile: o.Profile = None
    endpoint: o.Endpoint = None
    verbose: o.Verbose = False


@dataclass(frozen=True)
class CancelOptions:
    batch_ids: Ids
    profile: o.Profile = None
    endpoint: o.Endpoint = None
    verbose: o.Verbose = False


@dataclass(frozen=True)
class FetchOptions:
    batch_ids: Ids
    output: Annotated[
        o.Output, Help("Write the records to FILE (default stdout); appended, ids already ok are skipped.")
    ] = None
    format: Format = "record"
    wait: Wait = False
    poll: Poll = 30.0
    file: Annotated[o.InputFile, Help("The submitted input, to name the lines without a result.")] = None
    text: Text = False
    schema: Annotated[
        o.Schema, Help("A JSON Schema (a file, or inline JSON) to check each answer; a mismatch is an error record.")
    ] = None
    profile: o.Profile = None
    endpoint: o.Endpoint = None
    verbose: o.Verbose = False


def _client(opts: StatusOptions | ListOptions | CancelOptions | FetchOptions, app: App) -> GlmClient:
    settings = app.settings({"endpoint": opts.endpoint} if opts.endpoint else None, profile=opts.profile)
    return app.make_client(settings, verbose=opts.verbose)


def _when(value: Any) -> str:
    from glm_cli.batch.remote import parse_time

    stamp = parse_time(value)
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "-"


def status_line(batch: dict[str, Any]) -> str:
    """Return one human line about a batch: id, status, counts, creation time, description."""
    counts = batch.get("request_counts") or {}
    desc = (batch.get("metadata") or {}).get("description") or ""
    return (
        f"{batch.get('id')}  {batch.get('status') or '?':<11} {counts.get('completed') or 0:,}/"
        f"{counts.get('total') or 0:,} done, {counts.get('failed') or 0:,} failed  "
        f"created {_when(batch.get('created_at'))}" + (f"  {desc}" if desc else "")
    )


def wait_for(client: GlmClient, ids: tuple[str, ...], app: App, poll: float) -> list[dict[str, Any]]:
    """Poll until every batch is finished; print a line on stderr whenever one changes."""
    from glm_cli.batch.remote import TERMINAL, get_batch

    shown: dict[str, str] = {}
    while True:
        batches = [get_batch(client, i) for i in ids]
        for b in batches:
            line = status_line(b)
            if shown.get(b["id"]) != line:
                app.ios.stderr.write(f"glm batch: {line}\n")
                app.ios.stderr.flush()
                shown[b["id"]] = line
        if all(b.get("status") in TERMINAL for b in batches):
            return batches
        app.sleep(poll)


def run_submit(opts: SubmitOptions, app: App) -> int:
    """Convert, split, upload and create batches; print their ids on stdout."""
    from glm_cli.batch.remote import create_batch, request_lines, split_parts, upload

    if opts.output is not None and not opts.wait:  # was ignored: the records only exist once the batch is done
        raise UsageError(
            "submit -o FILE writes the records of the finished batches: it needs --wait",
            f"add --wait, or fetch them later: glm batch fetch ID… -o {opts.output}",
        )
    prep = prepare(opts.request, app)
    stream, _ = open_checked(opts.file, opts.request, app)
    bad: list[str] = []
    with stream:
        lines = request_lines(
            items_of(stream, opts.request, prep),
            prep.settings,
            prep.catalogue,
            json_mode=prep.json_mode,
            stop=opts.request.stop,
            schema=prep.schema,
        )
        parts = split_parts(_sendable(lines, bad), max_lines=opts.max_lines, max_bytes=opts.max_bytes)
    for text in bad[:SHOW_MISSING]:
        app.warn(f"{text} (not submitted)")
    if not parts:
        raise UsageError(f"nothing to submit: none of the lines of {opts.file} could be converted")
    client = app.make_client(prep.settings, verbose=opts.verbose)
    stem = Path(opts.file).stem if opts.file != "-" else "stdin"
    ids: list[str] = []
    try:
        for n, part in enumerate(parts, 1):
            meta = {"description": opts.description or f"glm batch {stem}", "glm_part": f"{n}/{len(parts)}"}
            file_obj = upload(client, part, f"{stem}.part{n}.jsonl")
            batch = create_batch(client, file_obj["id"], meta)
            ids.append(batch["id"])
            app.ios.stdout.write(batch["id"] + "\n")
            app.ios.stdout.flush()
            app.ios.stderr.write(
                f"glm batch: submitted {batch['id']}: {part.lines:,} requests ({part.model}, "
                f"{part.size / 1e6:.1f} MB) from line {part.first_line}\n"
            )
    finally:
        for part in parts:
            part.fh.close()
    _remember(app, opts, ids)
    if bad:
        app.warn(f"{len(bad):,} line(s) not submitted; `glm batch fetch` reports them as missing")
    if not opts.wait:
        app.ios.stderr.write(
            f"next: glm batch status {' '.join(ids)}   ·   glm batch fetch {' '.join(ids)} -o answers.jsonl\n"
        )
        return API_ERROR if bad else 0
    wait_for(client, tuple(ids), app, opts.poll)
    if opts.output is None:
        return API_ERROR if bad else 0
    ro = opts.request
    fetch = FetchOptions(
        tuple(ids),
        output=opts.output,
        format=opts.format,
        poll=opts.poll,
        file=opts.file if opts.file != "-" else None,
        text=ro.text,
        schema=ro.schema,
        profile=ro.profile,
        endpoint=ro.endpoint,
        verbose=opts.verbose,
    )
    return run_fetch(fetch, app, client=client)


def _sendable(lines: Any, bad: list[str]) -> Any:
    """Pass on the lines that converted; collect why the others did not."""
    for item, line in lines:
        if line is None:
            bad.append(str(item.error))
        else:
            yield item, line


def _remember(app: App, opts: SubmitOptions, ids: list[str]) -> None:
    from glm_cli.batch.remote import save_manifest

    source = os.path.abspath(opts.file) if opts.file != "-" else None
    for batch_id in ids:
        save_manifest(
            app.environ,
            batch_id,
            {"input": source, "text": opts.request.text, "batches": ids, "submitted_at": time.time()},
        )


def run_fetch(opts: FetchOptions, app: App, client: GlmClient | None = None) -> int:
    """Download finished batches' results into the local record format; name the lines still missing."""
    from glm_cli.batch.output import IdSet, Stats, open_output
    from glm_cli.batch.progress import summary_lines
    from glm_cli.batch.remote import TERMINAL, get_batch, iter_results
    from glm_cli.catalogue import cost_text

    validate = None
    if opts.schema:  # a bad schema is a usage error before anything is downloaded
        from glm_cli.tools.schema import load_schema

        validate = answer_check(load_schema(opts.schema))
    client = client or _client(opts, app)
    batches = (
        wait_for(client, opts.batch_ids, app, opts.poll)
        if opts.wait
        else [get_batch(client, i) for i in opts.batch_ids]
    )
    busy = [b for b in batches if b.get("status") not in TERMINAL]
    if busy:
        raise GlmError(
            f"batch {busy[0]['id']} is {busy[0].get('status')}; nothing fetched",
            "wait with `glm batch fetch --wait …`, or check with `glm batch status`",
        )
    writer, state = open_output(opts.output, opts.format, app)
    stats, seen = Stats(started=app.clock()), []
    try:
        for batch in batches:
            for record in iter_results(client, batch, validate):
                seen.append(record["id"])
                if state is not None and record["id"] in state.ok:
                    stats.skipped_ok += 1
                elif writer.write(record):
                    stats.add(record)
    finally:
        writer.close()
    settings = app.settings({"endpoint": opts.endpoint} if opts.endpoint else None, profile=opts.profile)
    usage = dict(stats.usage)
    cost = cost_text(app.catalogue(settings), settings, usage, dict(stats.requests), BATCH_PRICE) if usage else None
    for line in summary_lines(stats, app.clock() - stats.started, cost, label="glm batch fetch"):
        app.ios.stderr.write(line + "\n")
    if validate is not None and (stats.errors.get("schema_mismatch") or stats.errors.get("invalid_json")):
        app.ios.stderr.write(
            "hint: the Batch API cannot be asked to correct an answer; rerun those lines locally "
            "(one repair each): glm batch INPUT -o OUTPUT --retry-failed --schema SCHEMA\n"
        )
    missing = _missing(opts, app, batches, IdSet(seen), state)
    return API_ERROR if stats.failed or missing else 0


def _missing(opts: FetchOptions, app: App, batches: list[dict[str, Any]], seen: Any, state: Any) -> int:
    """Report input lines with no result; without the input, compare the counts the API reports."""
    from glm_cli.batch.remote import missing_ids, submitted_input

    source = (opts.file, opts.text) if opts.file else submitted_input(app.environ, [b["id"] for b in batches])
    if source is None:
        expected = sum((b.get("request_counts") or {}).get("total", 0) for b in batches)
        gap = max(0, expected - len(seen))
        if gap:
            app.warn(
                f"{gap:,} request(s) have no result (expected {expected:,}); "
                "pass -f FILE (the submitted input) to name them"
            )
        return gap

    def done(item_id: str) -> bool:
        return item_id in seen or (state is not None and (item_id in state.ok or item_id in state.failed))

    count, names = missing_ids(source[0], source[1], done, SHOW_MISSING)
    if count:
        more = f" and {count - len(names):,} more" if count > len(names) else ""
        app.warn(f"{count:,} line(s) of {source[0]} have no result: {', '.join(names)}{more}")
        app.ios.stderr.write(f"hint: run them locally: glm batch {source[0]} -o OUTPUT (done lines are skipped)\n")
    return count


def run_status(opts: StatusOptions, app: App) -> int:
    """Print one line (or the JSON object) per batch."""
    from glm_cli.batch.remote import get_batch

    client = _client(opts, app)
    for batch_id in opts.batch_ids:
        batch = get_batch(client, batch_id)
        app.ios.stdout.write((json.dumps(batch, ensure_ascii=False) if opts.as_json else status_line(batch)) + "\n")
    return 0


def run_list(opts: ListOptions, app: App) -> int:
    """List recent batches, newest first (as the API orders them)."""
    from glm_cli.batch.remote import list_batches

    page = list_batches(_client(opts, app), limit=20 if opts.limit is None else opts.limit, after=opts.after)
    for batch in page.get("data") or []:
        app.ios.stdout.write((json.dumps(batch, ensure_ascii=False) if opts.as_json else status_line(batch)) + "\n")
    if page.get("has_more") and not opts.as_json:
        app.ios.stderr.write(f"more: glm batch list --after {page.get('last_id')}\n")
    return 0


def run_cancel(opts: CancelOptions, app: App) -> int:
    """Ask the API to cancel batches; print their new status."""
    from glm_cli.batch.remote import cancel_batch

    client = _client(opts, app)
    for batch_id in opts.batch_ids:
        app.ios.stdout.write(status_line(cancel_batch(client, batch_id)) + "\n")
    return 0


def commands() -> list[Any]:
    """The Batch-API subcommands of `glm batch`."""
    return [
        binding.command(
            SubmitOptions,
            run_submit,
            name="submit",
            retired=RETIRED,
            help="Upload the input to Zhipu's Batch API (split at 50,000 lines / 100 MB); print batch ids.",
        ),
        binding.command(
            StatusOptions, run_status, name="status", help="Show batches: status, done/total, failed, created."
        ),
        binding.command(ListOptions, run_list, name="list", help="List recent batches."),
        binding.command(
            CancelOptions, run_cancel, name="cancel", help="Cancel batches (they go to `cancelling`, then `cancelled`)."
        ),
        binding.command(
            FetchOptions,
            run_fetch,
            name="fetch",
            retired=(FETCH_INPUT_RENAMED,),
            help="Download results as local records (appended to -o; ids already ok are skipped).",
        ),
    ]
