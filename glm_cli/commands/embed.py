"""`glm embed`: the command-line options only (the work is in glm_cli/embed/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.flags import Argument, Complete, Help, Option
from glm_cli.embed import MODELS

if TYPE_CHECKING:
    from glm_cli.app import App


@dataclass(frozen=True)
class EmbedCliOptions:
    text: Annotated[
        tuple[str, ...], Argument(metavar="TEXT...", help="The text (joined with spaces); or -f FILE, or stdin.")
    ] = ()
    file: Annotated[o.InputFile, Help("Embed this file's text.")] = None
    model: Annotated[
        str,
        Option("--model", "-m", metavar="MODEL", help="embedding-3 (default) or embedding-2.", rich_help_panel=o.MODEL),
        Complete.one_of(*MODELS),
    ] = "embedding-3"
    dimensions: Annotated[
        int | None,
        Option(
            "--dimensions",
            metavar="N",
            help="256, 512, 1024 or 2048 (embedding-3; default 2048).",
            rich_help_panel=o.MODEL,
        ),
        Complete.one_of(*sorted({d for dims, _ in MODELS.values() for d in dims})),
    ] = None
    format: Annotated[
        Literal["json", "lines"] | None, o.format_flag("json: one JSON array (default); lines: one number per line.")
    ] = None
    output: o.Output = None
    as_json: Annotated[o.AsJson, Help("One JSON object: model, dimensions, embedding, usage.")] = False
    profile: o.Profile = None
    endpoint: o.Endpoint = None
    no_stdin: o.NoStdin = False
    batch: Annotated[
        str | None,
        Option(
            "--batch",
            metavar="FILE",
            help="Embed every line of FILE (JSONL; - = stdin): one record each, to -o.",
            rich_help_panel=o.BATCH,
        ),
    ] = None
    concurrency: Annotated[o.Concurrency, Help("--batch: requests in flight.")] = 4
    text_lines: Annotated[bool, Option("--text", help="--batch: one text per plain line.", rich_help_panel=o.BATCH)] = (
        False
    )
    retry_failed: Annotated[o.RetryFailed, Help("--batch: run lines that failed before.")] = False
    submit: Annotated[
        bool,
        Option(
            "--submit",
            help="--batch: send the lines to Zhipu's Batch API instead (half price); print the batch ids "
            "for `glm batch fetch`.",
            rich_help_panel=o.BATCH,
        ),
    ] = False


def run(opts: EmbedCliOptions, app: App) -> int:
    dimensions = opts.dimensions
    if opts.submit and opts.batch is None:
        from glm_cli.errors import UsageError

        raise UsageError("--submit sends the lines of a file: it needs --batch FILE", "glm embed --batch FILE --submit")
    if opts.batch is not None:
        from glm_cli.embed.batch import EmbedBatchOptions, run_embed_batch

        given = (
            ("TEXT", opts.text),
            ("-f", opts.file),
            ("--format lines", opts.format == "lines"),
            ("--json", opts.as_json),
        )
        batch_opts = EmbedBatchOptions(
            file=opts.batch,
            output=opts.output,
            model=opts.model,
            dimensions=dimensions,
            concurrency=opts.concurrency,
            text=opts.text_lines,
            retry_failed=opts.retry_failed,
            profile=opts.profile,
            endpoint=opts.endpoint,
            conflicts=tuple(name for name, v in given if v),
        )
        if opts.submit:
            from glm_cli.embed.remote import run_embed_submit

            return run_embed_submit(batch_opts, app)
        return run_embed_batch(batch_opts, app)
    from glm_cli.embed import EmbedOptions, run_embed

    return run_embed(
        EmbedOptions(
            text=opts.text,
            file=opts.file,
            model=opts.model,
            dimensions=dimensions,
            fmt=opts.format or "json",
            output=opts.output,
            as_json=opts.as_json,
            profile=opts.profile,
            endpoint=opts.endpoint,
            no_stdin=opts.no_stdin,
        ),
        app,
    )


def command() -> Any:
    """The `glm embed` command."""
    return binding.command(
        EmbedCliOptions,
        run,
        name="embed",
        help="Print the embedding vector of a text (Zhipu's embedding-3); --batch FILE embeds every line.",
    )
