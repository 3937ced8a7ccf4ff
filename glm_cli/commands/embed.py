"""`glm embed`: the Typer registration only (the work is in glm_cli/embed.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from glm_cli.commands import options as o
from glm_cli.commands.common import run_command


def register(app: Any) -> None:
    """Add `glm embed` to the Typer app."""

    @app.command(context_settings={"help_option_names": ["-h", "--help"]})
    def embed(
        text: Annotated[
            list[str] | None, typer.Argument(help="The text (joined with spaces); or -f FILE, or stdin.")
        ] = None,
        file: Annotated[
            str | None, typer.Option("--file", "-f", metavar="FILE", help="Embed this file's text.")
        ] = None,
        model: Annotated[
            str, typer.Option("--model", "-m", metavar="MODEL", help="embedding-3 (default) or embedding-2.")
        ] = "embedding-3",
        dimensions: Annotated[
            int | None,
            typer.Option("--dimensions", metavar="N", help="256, 512, 1024 or 2048 (embedding-3; default 2048)."),
        ] = None,
        fmt: Annotated[
            str,
            typer.Option(
                "--format", metavar="FORMAT", help="json: one JSON array (default); lines: one number per line."
            ),
        ] = "json",
        output: Annotated[
            str | None, typer.Option("--output", "-o", metavar="FILE", help="Write to FILE (- = stdout).")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="One JSON object: model, dimensions, embedding, usage.")
        ] = False,
        profile: o.Profile = None,
        endpoint: o.Endpoint = None,
        no_stdin: Annotated[bool, typer.Option("--no-stdin", help="Ignore stdin.")] = False,
        batch: Annotated[
            str | None,
            typer.Option(
                "--batch", metavar="FILE", help="Embed every line of FILE (JSONL; - = stdin): one record each, to -o."
            ),
        ] = None,
        concurrency: Annotated[
            int, typer.Option("--concurrency", "-j", metavar="N", help="--batch: requests in flight.")
        ] = 4,
        text_lines: Annotated[bool, typer.Option("--text", help="--batch: one text per plain line.")] = False,
        retry_failed: Annotated[
            bool, typer.Option("--retry-failed", help="--batch: run lines that failed before.")
        ] = False,
    ) -> None:
        """Print the embedding vector of a text (Zhipu's embedding-3); --batch FILE embeds every line."""
        from glm_cli.embed import EmbedOptions, run_embed

        if batch is not None:
            from glm_cli.embed.batch import EmbedBatchOptions, run_embed_batch

            run_command(
                run_embed_batch,
                EmbedBatchOptions(
                    file=batch,
                    output=output,
                    model=model,
                    dimensions=dimensions,
                    concurrency=concurrency,
                    text=text_lines,
                    retry_failed=retry_failed,
                    profile=profile,
                    endpoint=endpoint,
                    conflicts=tuple(
                        name
                        for name, given in (
                            ("TEXT", text),
                            ("-f", file),
                            ("--format lines", fmt != "json"),
                            ("--json", as_json),
                        )
                        if given
                    ),
                ),
            )
            return

        opts = EmbedOptions(
            text=tuple(text or ()),
            file=file,
            model=model,
            dimensions=dimensions,
            fmt=fmt,
            output=output,
            as_json=as_json,
            profile=profile,
            endpoint=endpoint,
            no_stdin=no_stdin,
        )
        run_command(run_embed, opts)
