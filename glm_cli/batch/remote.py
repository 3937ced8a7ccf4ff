"""Zhipu's Batch API: convert input to request files, upload, create, poll, and read results back."""

from __future__ import annotations

import json
import os
import tempfile
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from glm_cli.batch.input import CHAT_URL, Item, build_body
from glm_cli.batch.output import error_record, ok_record
from glm_cli.errors import GlmError
from glm_cli.response import chunk_to_deltas, error_detail, parse_json
from glm_cli.shape import shape_error, want_count, want_list, want_object, want_text

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.catalogue import Catalogue
    from glm_cli.client import GlmClient
    from glm_cli.config import Settings
    from glm_cli.tools.schema import Schema

MAX_LINES = 50_000  # per uploaded file (zhipu-api.md §7.1)
MAX_BYTES = 100 * 1024 * 1024
TERMINAL = {"completed", "failed", "expired", "cancelled"}


@dataclass
class Part:
    """One request file to upload: one model, at most MAX_LINES lines and MAX_BYTES bytes."""

    model: str
    fh: IO[bytes]
    lines: int = 0
    size: int = 0
    first_line: int = 0
    ranges: list[list[int]] = field(default_factory=list)  # the input lines in it: [first, last] runs

    def add_line(self, number: int) -> None:
        """Note that input line `number` is in this part (lines come in input order)."""
        if self.ranges and self.ranges[-1][1] == number - 1:
            self.ranges[-1][1] = number
        else:
            self.ranges.append([number, number])


class LineSet:
    """Input line numbers held as sorted [first, last] runs (a submitted part's lines)."""

    def __init__(self, ranges: Iterable[Iterable[int]]) -> None:
        runs = sorted((int(a), int(b)) for a, b in ranges)
        self._starts = [a for a, _ in runs]
        self._ends = [b for _, b in runs]

    def __contains__(self, number: int) -> bool:
        i = bisect_right(self._starts, number) - 1
        return i >= 0 and number <= self._ends[i]


def request_lines(
    items: Iterable[Item],
    settings: Settings,
    catalogue: Catalogue | None,
    *,
    json_mode: bool = False,
    stop: tuple[str, ...] = (),
    schema: Schema | None = None,
) -> Iterator[tuple[Item, dict[str, Any] | None]]:
    """Yield (item, Batch-API request line), or (item, None) for a line that cannot be sent."""
    for item in items:
        try:
            body = build_body(item, settings, catalogue, stream=False, json_mode=json_mode, stop=stop, schema=schema)
        except GlmError as err:
            yield (
                item if item.error else Item(line=item.line, id=item.id, error=f"line {item.line}: {err.message}"),
                None,
            )
            continue
        body.pop("stream", None)
        yield item, {"custom_id": item.id, "method": "POST", "url": CHAT_URL, "body": body}


def split_parts(
    lines: Iterable[tuple[Any, dict[str, Any]]],
    *,
    max_lines: int = MAX_LINES,
    max_bytes: int = MAX_BYTES,
    tmpdir: str | None = None,
) -> list[Part]:
    """Write request lines into temporary files: one model per file, split at the size limits."""
    open_parts: dict[str, Part] = {}
    done: list[Part] = []
    for item, line in lines:
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        model = line["body"]["model"]
        part = open_parts.get(model)
        if part is not None and (part.lines >= max_lines or part.size + len(data) > max_bytes):
            done.append(part)
            part = None
        if part is None:
            part = open_parts[model] = Part(model, tempfile.TemporaryFile(dir=tmpdir), first_line=item.line)
        part.fh.write(data)
        part.add_line(item.line)
        part.lines += 1
        part.size += len(data)
    done.extend(open_parts.values())
    for part in done:
        part.fh.flush()
        part.fh.seek(0)
    return sorted(done, key=lambda p: p.first_line)


def upload(client: GlmClient, part: Part, filename: str) -> dict[str, Any]:
    """Upload a request file (`POST /files`, purpose batch); return the file object."""
    part.fh.seek(0)
    return _with_id(
        client.request_json(
            "POST", "/files", data={"purpose": "batch"}, files={"file": (filename, part.fh, "application/jsonl")}
        ),
        "file",
    )


def create_batch(client: GlmClient, file_id: str, metadata: dict[str, str], endpoint: str = CHAT_URL) -> dict[str, Any]:
    """Create a batch over an uploaded file (`POST /batches`); `endpoint` is the lines' url."""
    return batch_object(
        client.request_json(
            "POST",
            "/batches",
            json={
                "input_file_id": file_id,
                "endpoint": endpoint,
                "completion_window": "24h",
                "auto_delete_input_file": True,
                "metadata": metadata,
            },
        )
    )


def get_batch(client: GlmClient, batch_id: str) -> dict[str, Any]:
    """Return a batch object (`GET /batches/{id}`)."""
    return batch_object(client.request_json("GET", f"/batches/{batch_id}"))


def cancel_batch(client: GlmClient, batch_id: str) -> dict[str, Any]:
    """Ask for a batch to be cancelled; return it (status `cancelling`)."""
    return batch_object(client.request_json("POST", f"/batches/{batch_id}/cancel"))


def list_batches(client: GlmClient, limit: int = 20, after: str | None = None) -> dict[str, Any]:
    """Return a page of batches (`GET /batches`): `data` (checked batch objects), `has_more`, `last_id`."""
    params: dict[str, Any] = {"limit": limit}
    if after:
        params["after"] = after
    page = want_object(client.request_json("GET", "/batches", params=params), "the answer")
    for n, batch in enumerate(want_list(page.get("data"), "data")):
        batch_object(batch, f"data[{n}]")
    want_text(page.get("last_id"), "last_id")
    return page


def batch_object(value: Any, what: str = "batch") -> dict[str, Any]:
    """Return a batch object, checked for every field glm reads; raise ProtocolError naming the first bad one."""
    batch = _with_id(value, what)
    for key in ("status", "output_file_id", "error_file_id"):
        want_text(batch.get(key), f"{what}.{key}")
    counts = want_object(batch.get("request_counts") or {}, f"{what}.request_counts")
    for key in ("total", "completed", "failed"):
        want_count(counts.get(key), f"{what}.request_counts.{key}")
    meta = want_object(batch.get("metadata") or {}, f"{what}.metadata")
    want_text(meta.get("description"), f"{what}.metadata.description")
    return batch


def _with_id(value: Any, what: str) -> dict[str, Any]:
    obj = want_object(value, what)
    if not isinstance(obj.get("id"), str) or not obj["id"]:
        raise shape_error(f"{what}.id", obj.get("id"), "a non-empty string")
    return obj


def result_record(obj: Any, validate: Callable[[str], str] | None = None) -> dict[str, Any] | None:
    """Convert one line of a batch output or error file to a local output record (None: not a result line).

    With `validate` (fetch --schema), an answer that fails it becomes an error record (content kept): a
    finished batch cannot be asked to correct it. An answer that cannot be read is an error record too.
    """
    from glm_cli.batch.policy import error_code, finish_error
    from glm_cli.batch.runner import collect

    custom_id = obj.get("custom_id") if isinstance(obj, dict) else None
    if not isinstance(custom_id, (str, int)) or isinstance(custom_id, bool):
        return None
    response = obj.get("response") if isinstance(obj.get("response"), dict) else {}
    status = response.get("status_code") if type(response.get("status_code")) is int else None
    body = response.get("body")
    if status == 200:
        try:
            reply = collect(chunk_to_deltas(body, whole=True))
        except GlmError as exc:
            return error_record(str(custom_id), None, error_code(exc), exc.message, status=status, attempts=None)
        err = finish_error(reply, validate is not None, validate)
        error = {"code": error_code(err), "message": err.message} if err else None
        request_id = body.get("request_id") if isinstance(body, dict) else None
        request_id = request_id if isinstance(request_id, str) else None
        return ok_record(str(custom_id), None, reply, attempts=None, request_id=request_id, error=error)
    code, message = error_detail(body.get("error") if isinstance(body, dict) else None)
    if not message:
        code, message = error_detail(obj.get("error"))
    return error_record(
        str(custom_id),
        None,
        code or str(status or "error"),
        message or (f"HTTP {status}" if status else "no answer"),
        status=status,
        attempts=None,
    )


def iter_results(
    client: GlmClient,
    batch: dict[str, Any],
    validate: Callable[[str], str] | None = None,
    convert: Callable[[Any], dict[str, Any] | None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Download a batch's output and error files and yield local records (answers checked by `validate`).

    `convert` turns one result line into a record (default: a chat answer's, `result_record`).
    """
    to_record = convert or (lambda obj: result_record(obj, validate))
    for key in ("output_file_id", "error_file_id"):
        file_id = batch.get(key)
        if not file_id:
            continue
        data = client.request_bytes("GET", f"/files/{file_id}/content", headers={"Accept": "application/binary"})
        for raw in data.splitlines():
            try:
                record = to_record(parse_json(raw))
            except ValueError:
                record = None
            if record is not None:
                yield record


def parse_time(value: Any) -> float | None:
    """Return seconds since the epoch from seconds or milliseconds (the API uses both)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        return None
    return value / 1000.0 if value > 1e11 else float(value)


def manifest_dir(environ: dict[str, str]) -> Path:
    """Return where `submit` remembers which input each batch came from."""
    base = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME", "~")) / ".local" / "share")
    return Path(base).expanduser() / "glm" / "batches"


def submit_parts(
    app: App,
    client: GlmClient,
    parts: list[Part],
    ids: list[str],
    *,
    stem: str,
    description: str | None,
    endpoint: str = CHAT_URL,
) -> None:
    """Upload each part and create its batch; print each batch id on stdout, and add it to IDS, as soon as it exists.

    When a later part fails, IDS still holds the batches already created (the caller remembers them).
    """
    try:
        for n, part in enumerate(parts, 1):
            meta = {"description": description or f"glm batch {stem}", "glm_part": f"{n}/{len(parts)}"}
            file_obj = upload(client, part, f"{stem}.part{n}.jsonl")
            batch = create_batch(client, file_obj["id"], meta, endpoint)
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


def remember_submit(
    environ: dict[str, str],
    source: str | None,
    text: bool,
    ids: list[str],
    parts: list[Part],
    unsent: list[tuple[int, str, str, str]],
    endpoint: str = CHAT_URL,
) -> None:
    """Remember, per batch, its input file, which of its lines went into it, and the lines not submitted.

    `fetch` then speaks only of the lines of the batches it fetches: it names those without a result,
    says which batch of the same submit the others wait in, and writes the unsent lines' error records.
    """
    for batch_id, part in zip(ids, parts, strict=False):
        save_manifest(
            environ,
            batch_id,
            {
                "input": source,
                "text": text,
                "endpoint": endpoint,
                "batches": ids,
                "lines": part.ranges,
                "requests": part.lines,
                "unsent": [list(u) for u in unsent],
                "submitted_at": time.time(),
            },
        )


def save_manifest(environ: dict[str, str], batch_id: str, info: dict[str, Any]) -> None:
    """Remember a submitted batch's input file and part (for `fetch` to name missing ids)."""
    directory = manifest_dir(environ)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{batch_id}.tmp"
    tmp.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, directory / f"{_safe(batch_id)}.json")


def load_manifest(environ: dict[str, str], batch_id: str) -> dict[str, Any] | None:
    """Return what `submit` remembered about a batch, or None."""
    try:
        return json.loads((manifest_dir(environ) / f"{_safe(batch_id)}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _safe(batch_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in batch_id)


def submitted_input(environ: dict[str, str], batch_ids: list[str]) -> tuple[str, bool] | None:
    """Return (input path, text mode) the batches were submitted from, if known and still there."""
    manifests = [load_manifest(environ, b) for b in batch_ids]
    inputs = {m.get("input") for m in manifests if m}
    if len(inputs) != 1 or None in inputs or not all(manifests):
        return None
    path = str(next(iter(inputs)))
    return (path, bool(manifests[0].get("text"))) if os.path.exists(path) else None  # type: ignore[union-attr]


def missing_ids(
    path: str,
    text_mode: bool,
    done: Callable[[str], bool],
    show: int,
    group: Callable[[int], str | None] = lambda number: "",
) -> dict[str, tuple[int, list[str]]]:
    """Count the input's ids that are not `done`, by `group` of their line (None: not asked about).

    Return {group: (count, the first `show` ids)} for the groups that have any.
    """
    from glm_cli.batch.input import iter_items

    found: dict[str, tuple[int, list[str]]] = {}
    with open(path, "rb") as fh:
        for item in iter_items(fh, text_mode=text_mode):
            key = group(item.line)
            if key is None or done(item.id):
                continue
            count, names = found.get(key, (0, []))
            if len(names) < show:
                names.append(item.id)
            found[key] = (count + 1, names)
    return found
