"""`glm batch submit|status|list|cancel|fetch`: the same input on Zhipu's Batch API (half price)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from glm_cli.commands import options as o
from glm_cli.commands.batch.common import (
    Format,
    JsonMode,
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
from glm_cli.commands.common import run_command
from glm_cli.errors import API_ERROR, GlmError, UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.client import GlmClient

BATCH_PRICE = 0.5  # the Batch API costs half the standard price (zhipu-api.md §7.3)
SHOW_MISSING = 10


@dataclass(frozen=True)
class RemoteOptions:
    """Options of the subcommands that only talk to the API (status, list, cancel, fetch)."""

    batch_ids: tuple[str, ...] = ()
    profile: str | None = None
    endpoint: str | None = None
    as_json: bool = False
    limit: int = 20
    after: str | None = None
    output: str | None = None
    input: str | None = None
    text: bool = False
    format: str = "record"
    wait: bool = False
    poll: float = 30.0
    verbose: bool = False
    schema: str | None = None  # fetch: answers that do not match are error records


@dataclass(frozen=True)
class SubmitOptions:
    file: str
    request: RequestOptions = field(default_factory=RequestOptions)
    description: str | None = None
    remote: RemoteOptions = field(default_factory=RemoteOptions)
    max_lines: int = 50_000
    max_bytes: int = 100 * 1024 * 1024


def _client(opts: RemoteOptions, app: App) -> GlmClient:
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
    return (f"{batch.get('id')}  {batch.get('status') or '?':<11} {counts.get('completed') or 0:,}/"
            f"{counts.get('total') or 0:,} done, {counts.get('failed') or 0:,} failed  "
            f"created {_when(batch.get('created_at'))}" + (f"  {desc}" if desc else ""))


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

    prep = prepare(opts.request, app)
    stream, _ = open_checked(opts.file, opts.request, app)
    bad: list[str] = []
    with stream:
        lines = request_lines(items_of(stream, opts.request, prep), prep.settings, prep.catalogue,
                              json_mode=prep.json_mode, stop=opts.request.stop, schema=prep.schema)
        parts = split_parts(_sendable(lines, bad), max_lines=opts.max_lines, max_bytes=opts.max_bytes)
    for text in bad[:SHOW_MISSING]:
        app.warn(f"{text} (not submitted)")
    if not parts:
        raise UsageError(f"nothing to submit: none of the lines of {opts.file} could be converted")
    client = app.make_client(prep.settings, verbose=opts.remote.verbose)
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
            app.ios.stderr.write(f"glm batch: submitted {batch['id']}: {part.lines:,} requests ({part.model}, "
                                 f"{part.size / 1e6:.1f} MB) from line {part.first_line}\n")
    finally:
        for part in parts:
            part.fh.close()
    _remember(app, opts, ids)
    if bad:
        app.warn(f"{len(bad):,} line(s) not submitted; `glm batch fetch` reports them as missing")
    if not opts.remote.wait:
        app.ios.stderr.write(f"next: glm batch status {' '.join(ids)}   ·   "
                             f"glm batch fetch {' '.join(ids)} -o answers.jsonl\n")
        return API_ERROR if bad else 0
    wait_for(client, tuple(ids), app, opts.remote.poll)
    if opts.remote.output is None:
        return API_ERROR if bad else 0
    fetch = RemoteOptions(**{**opts.remote.__dict__, "wait": False, "batch_ids": tuple(ids), "input": opts.file
                             if opts.file != "-" else None, "text": opts.request.text, "schema": opts.request.schema})
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
        save_manifest(app.environ, batch_id, {"input": source, "text": opts.request.text, "batches": ids,
                                              "submitted_at": time.time()})


def run_fetch(opts: RemoteOptions, app: App, client: GlmClient | None = None) -> int:
    """Download finished batches' results into the local record format; name the lines still missing."""
    from glm_cli.batch.output import IdSet, Stats
    from glm_cli.batch.progress import summary_lines
    from glm_cli.batch.remote import TERMINAL, get_batch, iter_results
    from glm_cli.catalogue import cost_text
    from glm_cli.commands.batch.run import open_output

    validate = None
    if opts.schema:  # a bad schema is a usage error before anything is downloaded
        from glm_cli.tools.schema import load_schema

        validate = answer_check(load_schema(opts.schema))
    client = client or _client(opts, app)
    batches = wait_for(client, opts.batch_ids, app, opts.poll) if opts.wait else \
        [get_batch(client, i) for i in opts.batch_ids]
    busy = [b for b in batches if b.get("status") not in TERMINAL]
    if busy:
        raise GlmError(f"batch {busy[0]['id']} is {busy[0].get('status')}; nothing fetched",
                       "wait with `glm batch fetch --wait …`, or check with `glm batch status`")
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
    cost = cost_text(app.catalogue(settings), settings.base_url, usage, dict(stats.requests), BATCH_PRICE) \
        if usage else None
    for line in summary_lines(stats, app.clock() - stats.started, cost, label="glm batch fetch"):
        app.ios.stderr.write(line + "\n")
    if validate is not None and (stats.errors.get("schema_mismatch") or stats.errors.get("invalid_json")):
        app.ios.stderr.write("hint: the Batch API cannot be asked to correct an answer; rerun those lines locally "
                             "(one repair each): glm batch INPUT -o OUTPUT --retry-failed --schema SCHEMA\n")
    missing = _missing(opts, app, batches, IdSet(seen), state)
    return API_ERROR if stats.failed or missing else 0


def _missing(opts: RemoteOptions, app: App, batches: list[dict[str, Any]], seen: Any, state: Any) -> int:
    """Report input lines with no result; without the input, compare the counts the API reports."""
    from glm_cli.batch.remote import missing_ids, submitted_input

    source = (opts.input, opts.text) if opts.input else submitted_input(app.environ, [b["id"] for b in batches])
    if source is None:
        expected = sum((b.get("request_counts") or {}).get("total", 0) for b in batches)
        gap = max(0, expected - len(seen))
        if gap:
            app.warn(f"{gap:,} request(s) have no result (expected {expected:,}); pass --input FILE to name them")
        return gap

    def done(item_id: str) -> bool:
        return item_id in seen or (state is not None and (item_id in state.ok or item_id in state.failed))

    count, names = missing_ids(source[0], source[1], done, SHOW_MISSING)
    if count:
        more = f" and {count - len(names):,} more" if count > len(names) else ""
        app.warn(f"{count:,} line(s) of {source[0]} have no result: {', '.join(names)}{more}")
        app.ios.stderr.write(f"hint: run them locally: glm batch {source[0]} -o OUTPUT (done lines are skipped)\n")
    return count


def run_status(opts: RemoteOptions, app: App) -> int:
    """Print one line (or the JSON object) per batch."""
    from glm_cli.batch.remote import get_batch

    client = _client(opts, app)
    for batch_id in opts.batch_ids:
        batch = get_batch(client, batch_id)
        app.ios.stdout.write((json.dumps(batch, ensure_ascii=False) if opts.as_json else status_line(batch)) + "\n")
    return 0


def run_list(opts: RemoteOptions, app: App) -> int:
    """List recent batches, newest first (as the API orders them)."""
    from glm_cli.batch.remote import list_batches

    page = list_batches(_client(opts, app), limit=opts.limit, after=opts.after)
    for batch in page.get("data") or []:
        app.ios.stdout.write((json.dumps(batch, ensure_ascii=False) if opts.as_json else status_line(batch)) + "\n")
    if page.get("has_more") and not opts.as_json:
        app.ios.stderr.write(f"more: glm batch list --after {page.get('last_id')}\n")
    return 0


def run_cancel(opts: RemoteOptions, app: App) -> int:
    """Ask the API to cancel batches; print their new status."""
    from glm_cli.batch.remote import cancel_batch

    client = _client(opts, app)
    for batch_id in opts.batch_ids:
        app.ios.stdout.write(status_line(cancel_batch(client, batch_id)) + "\n")
    return 0


Ids = Annotated[list[str], typer.Argument(help="Batch id(s).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the API's JSON objects.")]
Wait = Annotated[bool, typer.Option("--wait", help="Poll until the batches finish.")]
Poll = Annotated[float, typer.Option("--poll", help="Seconds between polls with --wait.")]
Output = Annotated[str | None, typer.Option("--output", "-o", help="Output JSONL (same records as a local run).")]
FetchSchema = Annotated[str | None, typer.Option(
    "--schema", help="JSON Schema (file or inline JSON) to check each answer; a mismatch is an error record.")]
Description = Annotated[str | None, typer.Option("--description", "-d", help="Stored in the batch metadata.")]


def _register_submit(group: Any) -> None:
    """Add `glm batch submit`."""

    @group.command("submit")
    def submit(
        file: Annotated[str, typer.Argument(help="JSONL input (or text with --text); - reads stdin.")],
        description: Description = None,
        wait: Wait = False, poll: Poll = 30.0, output: Output = None, fmt: Format = "record",
        text: Text = False, template: Template = None, model: o.Model = None, system: o.System = None,
        preset: o.Preset = None, profile: o.Profile = None, endpoint: o.Endpoint = None, think: o.Think = None,
        temperature: o.Temperature = None, top_p: o.TopP = None, max_tokens: o.MaxTokens = None,
        stop: Stop = None, json_mode: JsonMode = None, schema: SchemaOpt = None, verbose: o.Verbose = False,
        max_lines: Annotated[int, typer.Option("--max-lines", hidden=True)] = 50_000,
    ) -> None:
        """Upload the input to Zhipu's Batch API (split at 50,000 lines / 100 MB); print batch ids."""
        req = request_options(text=text, template=template, model=model, system=system, preset=preset, profile=profile,
                              endpoint=endpoint, think=think, temperature=temperature, top_p=top_p,
                              max_tokens=max_tokens, stop=stop, json_mode=json_mode, schema=schema)
        remote = RemoteOptions(profile=profile, endpoint=endpoint, output=output, format=fmt, wait=wait, poll=poll,
                               verbose=verbose)
        run_command(run_submit, SubmitOptions(file=file, request=req, description=description, remote=remote,
                                              max_lines=max_lines))


def register(group: Any) -> None:
    """Add the Batch-API subcommands to the `glm batch` group."""
    _register_submit(group)

    @group.command("status")
    def status(ids: Ids, as_json: AsJson = False, profile: o.Profile = None, endpoint: o.Endpoint = None,
               verbose: o.Verbose = False) -> None:
        """Show batches: status, done/total, failed, created."""
        run_command(run_status, RemoteOptions(tuple(ids), profile, endpoint, as_json, verbose=verbose))

    @group.command("list")
    def list_(limit: Annotated[int, typer.Option("--limit", help="How many (1-100).")] = 20,
              after: Annotated[str | None, typer.Option("--after", help="Start after this batch id.")] = None,
              as_json: AsJson = False, profile: o.Profile = None, endpoint: o.Endpoint = None,
              verbose: o.Verbose = False) -> None:
        """List recent batches."""
        run_command(run_list, RemoteOptions((), profile, endpoint, as_json, limit, after, verbose=verbose))

    @group.command("cancel")
    def cancel(ids: Ids, profile: o.Profile = None, endpoint: o.Endpoint = None, verbose: o.Verbose = False) -> None:
        """Cancel batches (they go to `cancelling`, then `cancelled`)."""
        run_command(run_cancel, RemoteOptions(tuple(ids), profile, endpoint, verbose=verbose))

    @group.command("fetch")
    def fetch(ids: Ids, output: Output = None, fmt: Format = "record", wait: Wait = False, poll: Poll = 30.0,
              input_file: Annotated[str | None, typer.Option(
                  "--input", "-i", help="The submitted input, to name lines without a result.")] = None,
              text: Text = False, schema: FetchSchema = None, profile: o.Profile = None, endpoint: o.Endpoint = None,
              verbose: o.Verbose = False) -> None:
        """Download results as local records (appended to -o; ids already ok are skipped)."""
        run_command(run_fetch, RemoteOptions(tuple(ids), profile, endpoint, output=output, input=input_file,
                                             text=text, format=fmt, wait=wait, poll=poll, verbose=verbose,
                                             schema=schema))
