"""`glm embed --batch FILE --submit`: the same input as `/v4/embeddings` lines on Zhipu's Batch API.

What is documented (zhipu-api.md §7.1, §7.2): a request line's `url` may be `/v4/embeddings`, and an
embeddings batch file holds at most 10,000 lines. What is not: the exact shape of its result lines (glm
reads the body of `POST /embeddings`, §8.4) and whether one line may carry several inputs, so each line
carries one input and becomes one record. `glm batch fetch` turns the results into the records
`glm embed --batch` writes locally.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glm_cli.embed.batch import EmbedBatchOptions, Line, check_options, error_code_of, open_checked, parse, record
from glm_cli.errors import API_ERROR, GlmError, UsageError

if TYPE_CHECKING:
    from glm_cli.app import App

EMBEDDINGS_URL = "/v4/embeddings"
MAX_LINES = 10_000  # per embeddings batch file (zhipu-api.md §7.1)
SHOW = 10


def request_lines(
    lines: Iterable[Line], model: str, dimensions: int | None
) -> Iterator[tuple[Line, dict[str, Any] | None]]:
    """Yield (line, Batch-API request line), or (line, None) for a line that cannot be sent (it says why)."""
    for line in lines:
        if line.error is not None or line.text is None:
            yield line, None
            continue
        body: dict[str, Any] = {"model": model, "input": line.text}
        if dimensions is not None:
            body["dimensions"] = dimensions
        yield line, {"custom_id": line.id, "method": "POST", "url": EMBEDDINGS_URL, "body": body}


def result_record(obj: Any) -> dict[str, Any] | None:
    """One line of an embeddings batch's output or error file as `glm embed --batch`'s record (None: not one)."""
    from glm_cli.batch.policy import error_code
    from glm_cli.embed import read_vectors
    from glm_cli.events import Usage
    from glm_cli.redact import scrub
    from glm_cli.response import error_detail

    custom_id = obj.get("custom_id") if isinstance(obj, dict) else None
    if not isinstance(custom_id, (str, int)) or isinstance(custom_id, bool):
        return None
    line = Line(None, str(custom_id))
    response = obj.get("response") if isinstance(obj.get("response"), dict) else {}
    status = response.get("status_code") if type(response.get("status_code")) is int else None
    body = response.get("body")
    if status == 200 and isinstance(body, dict):
        try:
            (vector,), usage = read_vectors(body, 1, None)
        except GlmError as exc:
            return record(line, code=error_code(exc), message=exc.message)
        model = body.get("model") if isinstance(body.get("model"), str) else None
        rec = record(line, vector=vector, model=model)
        rec["usage"] = usage.to_api() if isinstance(usage, Usage) else None
        return rec
    code, message = error_detail(body.get("error") if isinstance(body, dict) else None)
    if not message:
        code, message = error_detail(obj.get("error"))
    return record(
        line,
        code=code or str(status or "error"),
        message=scrub(message or (f"HTTP {status}" if status else "no answer")),
    )


def unsent_record(line: int, item_id: str, code: str, message: str) -> dict[str, Any]:
    """The record of a line `--submit` refused (too long, not text): what a local run writes for it."""
    return record(Line(line, item_id), code=code, message=message)


def run_embed_submit(opts: EmbedBatchOptions, app: App, description: str | None = None) -> int:
    """Convert every line to a `/v4/embeddings` request line, upload, create the batches; print their ids."""
    import os

    from glm_cli.batch.input import iter_raw_lines
    from glm_cli.batch.remote import MAX_BYTES, remember_submit, split_parts, submit_parts

    if opts.output is not None:
        raise UsageError(
            "--submit prints batch ids; the vectors come with `glm batch fetch`",
            f"glm batch fetch ID… -o {opts.output}",
        )
    check_options(replace(opts, output=None))
    settings = app.settings({"endpoint": opts.endpoint} if opts.endpoint else {}, profile=opts.profile)
    client = app.make_client(settings)  # no key: said before the input is read
    bad: list[Line] = []
    stream, _ = open_checked(opts, app)
    with stream:
        lines = (parse(raw, n, opts.text, opts.model) for n, raw in iter_raw_lines(stream))
        parts = split_parts(
            _sendable(request_lines(lines, opts.model, opts.dimensions), bad), max_lines=MAX_LINES, max_bytes=MAX_BYTES
        )
    for line in bad[:SHOW]:
        app.warn(f"{line.error} (not submitted)")
    if not parts:
        client.close()
        raise UsageError(f"nothing to submit: none of the lines of {opts.file} can be embedded")
    stem = Path(opts.file).stem if opts.file != "-" else "stdin"
    ids: list[str] = []
    try:
        submit_parts(
            app, client, parts, ids, stem=stem, description=description or f"glm embed {stem}", endpoint=EMBEDDINGS_URL
        )
    finally:
        client.close()
        source = os.path.abspath(opts.file) if opts.file != "-" else None
        unsent = [(ln.line or 0, ln.id, error_code_of(ln.error or ""), ln.error or "") for ln in bad]
        remember_submit(app.environ, source, opts.text, ids, parts, unsent, endpoint=EMBEDDINGS_URL)
    if bad:
        app.warn(f"{len(bad):,} line(s) not submitted; `glm batch fetch` writes their error records")
    app.ios.stderr.write(
        f"next: glm batch status {' '.join(ids)}   ·   glm batch fetch {' '.join(ids)} -o vectors.jsonl\n"
    )
    return API_ERROR if bad else 0


def _sendable(lines: Iterable[tuple[Line, dict[str, Any] | None]], bad: list[Line]) -> Iterator[tuple[Line, Any]]:
    for line, request in lines:
        if request is None:
            bad.append(line)
        else:
            yield line, request
