"""`glm batch submit|status|list|cancel|fetch`: the same input on Zhipu's Batch API (half price)."""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from glm_cli.commands.flags import Argument, Help, Option, Retired
from glm_cli.errors import API_ERROR, GlmError, UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.batch.input import Item
    from glm_cli.client import GlmClient

BATCH_PRICE = 0.5  # the Batch API costs half the standard price (zhipu-api.md §7.3)
SHOW_MISSING = 10


Ids = Annotated[tuple[str, ...], Argument(metavar="ID...", help="Batch id(s).")]
Wait = Annotated[bool, Option("--wait", help="Poll until the batches finish.", rich_help_panel=o.BATCH)]
Poll = Annotated[
    float, Option("--poll", metavar="SECONDS", help="Seconds between polls with --wait.", rich_help_panel=o.BATCH)
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
    file: Annotated[str, Argument(metavar="FILE", help="JSONL input (or text with --text); - reads stdin.")]
    request: RequestOptions = field(default_factory=RequestOptions)
    description: Annotated[
        str | None,
        Option("--description", "-d", metavar="TEXT", help="Stored in the batch metadata.", rich_help_panel=o.BATCH),
    ] = None
    wait: Wait = False
    poll: Poll = 30.0
    output: Annotated[o.Output, Help("With --wait: then fetch the records into FILE.")] = None
    format: Format = "record"
    verbose: o.Verbose = False
    max_lines: Annotated[int, Option("--max-lines", hidden=True)] = 50_000
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
        str | None, Option("--after", metavar="ID", help="Start after this batch id.", rich_help_panel=o.OUTPUT)
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
    from glm_cli.batch.remote import remember_submit, request_lines, split_parts, submit_parts

    check_poll(opts.poll)
    if opts.output is not None and not opts.wait:  # was ignored: the records only exist once the batch is done
        raise UsageError(
            "submit -o FILE writes the records of the finished batches: it needs --wait",
            f"add --wait, or fetch them later: glm batch fetch ID… -o {opts.output}",
        )
    prep = prepare(opts.request, app)
    stream, _ = open_checked(opts.file, opts.request, app)
    bad: list[Item] = []
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
    for item in bad[:SHOW_MISSING]:
        app.warn(f"{item.error} (not submitted)")
    if not parts:
        raise UsageError(f"nothing to submit: none of the lines of {opts.file} could be converted")
    client = app.make_client(prep.settings, verbose=opts.verbose)
    stem = Path(opts.file).stem if opts.file != "-" else "stdin"
    ids: list[str] = []
    try:
        submit_parts(app, client, parts, ids, stem=stem, description=opts.description)
    finally:  # what was created is remembered even when a later part fails
        source = os.path.abspath(opts.file) if opts.file != "-" else None
        unsent = [(item.line, item.id, "invalid_line", str(item.error)) for item in bad]
        remember_submit(app.environ, source, opts.request.text, ids, parts, unsent)
    if bad:
        app.warn(f"{len(bad):,} line(s) not submitted; `glm batch fetch` writes their error records")
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


def _sendable(lines: Any, bad: list[Any]) -> Any:
    """Pass on the lines that converted; collect the others (they carry why not)."""
    for item, line in lines:
        if line is None:
            bad.append(item)
        else:
            yield item, line


def check_poll(poll: float) -> None:
    """--poll is an interval: a positive, finite number of seconds."""
    if not (0 < poll < float("inf")):
        raise UsageError(f"--poll must be a positive number of seconds, got {poll:g}", "--poll 30 (the default)")


def run_fetch(opts: FetchOptions, app: App, client: GlmClient | None = None) -> int:
    """Download finished batches' results into the local record format; name the lines still missing.

    Idempotent: an id that already has a record in -o is not written again (an ok result replaces an
    earlier error record of the same id, which is then removed), so any number of fetches, finished or
    interrupted, leaves one record per id.
    """
    from glm_cli.batch.output import Stats, open_output
    from glm_cli.batch.progress import summary_lines
    from glm_cli.batch.remote import TERMINAL, get_batch, iter_results, load_manifest
    from glm_cli.catalogue import cost_text

    check_poll(opts.poll)
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
    converters = [_converter(b, validate) for b in batches]
    manifests = {b["id"]: load_manifest(app.environ, b["id"]) for b in batches}
    writer, state = open_output(opts.output, opts.format, app)
    stats, seen = Stats(started=app.clock()), set[str]()
    kept_errors = replaced = 0
    try:
        results = (
            r
            for b, convert in zip(batches, converters, strict=True)
            for r in iter_results(client, b, validate, convert)
        )
        for record in itertools.chain(results, _unsent_records(manifests)):
            rid = record["id"]
            if rid in seen:  # the same id twice in what was downloaded: the first one counts
                continue
            seen.add(rid)
            if state is not None and rid in state.ok:
                stats.skipped_ok += 1
            elif state is not None and rid in state.failed and record["status"] != "ok":
                kept_errors += 1  # already recorded as an error: not written twice
            elif writer.write(record):
                stats.add(record)
                replaced += state is not None and rid in state.failed
        if replaced:
            writer.compact()  # drop the error records the ok results just replaced (under the output's lock)
    finally:
        writer.close()
    settings = app.settings({"endpoint": opts.endpoint} if opts.endpoint else None, profile=opts.profile)
    usage = dict(stats.usage)
    cost = cost_text(app.catalogue(settings), settings, usage, dict(stats.requests), BATCH_PRICE) if usage else None
    for line in summary_lines(stats, app.clock() - stats.started, cost, label="glm batch fetch"):
        app.ios.stderr.write(line + "\n")
    if kept_errors:
        app.ios.stderr.write(
            f"glm batch fetch: {kept_errors:,} error record(s) already in {opts.output} were not written again\n"
        )
    if replaced:
        app.ios.stderr.write(f"glm batch fetch: {replaced:,} earlier error record(s) replaced by ok results\n")
    if validate is not None and (stats.errors.get("schema_mismatch") or stats.errors.get("invalid_json")):
        app.ios.stderr.write(
            "hint: the Batch API cannot be asked to correct an answer; rerun those lines locally "
            "(one repair each): glm batch INPUT -o OUTPUT --retry-failed --schema SCHEMA\n"
        )
    missing = _missing(opts, app, client, batches, manifests, seen, state)
    return API_ERROR if stats.failed or kept_errors or missing else 0


def _converter(batch: dict[str, Any], validate: Any) -> Any:
    """How a batch's result lines become records: chat answers, or vectors for an embeddings batch."""
    from glm_cli.embed.remote import EMBEDDINGS_URL, result_record

    if batch.get("endpoint") != EMBEDDINGS_URL:
        return None  # iter_results' default: chat answers, checked by `validate`
    if validate is not None:
        raise UsageError(f"batch {batch['id']} is an embeddings batch: --schema checks chat answers")
    return result_record


def _unsent_records(manifests: dict[str, Any]) -> Any:
    """The error records of the lines `submit` could not send (remembered with the batches), once each."""
    from glm_cli.batch.output import error_record
    from glm_cli.embed.remote import EMBEDDINGS_URL, unsent_record

    for manifest in manifests.values():
        for entry in (manifest or {}).get("unsent") or ():
            line, item_id, code, message = entry
            if manifest.get("endpoint") == EMBEDDINGS_URL:
                yield unsent_record(line, item_id, code, message)
            else:
                yield error_record(item_id, line, code, message)


def _missing(
    opts: FetchOptions,
    app: App,
    client: GlmClient,
    batches: list[dict[str, Any]],
    manifests: dict[str, Any],
    seen: set[str],
    state: Any,
) -> int:
    """Report the fetched batches' lines with no result; say where the submit's other lines wait.

    Without the input, compare the counts the API reports. Return how many lines of the fetched
    batches have no result.
    """
    from glm_cli.batch.remote import LineSet, load_manifest, missing_ids
    from glm_cli.embed.remote import EMBEDDINGS_URL

    def done(item_id: str) -> bool:
        return item_id in seen or (state is not None and (item_id in state.ok or item_id in state.failed))

    known = [m for m in manifests.values() if m]
    inputs = {m.get("input") for m in known}
    remembered = next(iter(inputs)) if len(known) == len(batches) and len(inputs) == 1 else None
    path = opts.file or (str(remembered) if remembered else None)
    if path is None or not os.path.exists(path):
        expected = sum((b.get("request_counts") or {}).get("total", 0) for b in batches)
        gap = max(0, expected - len(seen))
        if gap:
            app.warn(
                f"{gap:,} request(s) have no result (expected {expected:,}); "
                "pass -f FILE (the submitted input) to name them"
            )
        return gap
    text = opts.text if opts.file else bool(known[0].get("text"))
    embeddings = any(m.get("endpoint") == EMBEDDINGS_URL for m in known)
    again = f"glm embed --batch {path}" if embeddings else f"glm batch {path}"
    if len(known) < len(batches) or not all("lines" in m for m in known):  # no line map: all the input's lines
        count, names = missing_ids(path, text, done, SHOW_MISSING).get("", (0, []))
        if count:
            app.warn(f"{count:,} line(s) of {path} have no result: {_names(count, names)}")
            app.ios.stderr.write(f"hint: run them locally: {again} -o OUTPUT (done lines are skipped)\n")
        return count
    owners = {bid: LineSet(m["lines"]) for bid, m in manifests.items() if m}
    fetched = set(owners)
    for other in dict.fromkeys(b for m in known for b in m.get("batches") or () if b not in fetched):
        theirs = load_manifest(app.environ, other)
        if theirs and "lines" in theirs:
            owners[other] = LineSet(theirs["lines"])

    def group(number: int) -> str | None:
        return next((bid for bid, lines in owners.items() if number in lines), None)

    found = missing_ids(path, text, done, SHOW_MISSING, group)
    missing = 0
    for bid, (count, names) in found.items():
        if bid in fetched:
            missing += count
            app.warn(f"{count:,} line(s) of {path} in batch {bid} have no result: {_names(count, names)}")
    if missing:
        app.ios.stderr.write(
            f"hint: those batches are finished; run the lines locally: {again} -o OUTPUT (done lines are skipped)\n"
        )
    for bid, (count, _) in found.items():
        if bid not in fetched:
            _pending_note(app, client, bid, count, path, opts.output)
    return missing


def _names(count: int, names: list[str]) -> str:
    more = f" and {count - len(names):,} more" if count > len(names) else ""
    return ", ".join(names) + more


def _pending_note(app: App, client: GlmClient, batch_id: str, count: int, path: str, output: str | None) -> None:
    """Say that COUNT lines of the input are in another batch of the same submit (its status, how to fetch it)."""
    from glm_cli.batch.remote import TERMINAL, get_batch

    try:
        status: str | None = str(get_batch(client, batch_id).get("status") or "?")
    except GlmError:
        status = None
    wait = "" if status in TERMINAL else " --wait"
    state = "finished, not fetched yet" if status in TERMINAL else f"still {status}" if status else "status unknown"
    app.ios.stderr.write(
        f"glm batch fetch: {count:,} other line(s) of {path} are in batch {batch_id} ({state}): "
        f"glm batch fetch {batch_id} -o {output or 'OUTPUT'}{wait}\n"
    )


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
