"""`glm tokens`: the Typer registration only (the work is in glm_cli/tokens.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from glm_cli.commands import options as o
from glm_cli.commands.common import run_command


def register(app: Any) -> None:
    """Add `glm tokens` to the Typer app."""

    @app.command(context_settings={"help_option_names": ["-h", "--help"]})
    def tokens(
        prompt: Annotated[list[str] | None, typer.Argument(help="The prompt (joined with spaces).")] = None,
        file: Annotated[
            list[str] | None,
            typer.Option(
                "--file", "-f", metavar="FILE", help="A text file, fenced and named as ask adds it (repeatable)."
            ),
        ] = None,
        attach: Annotated[
            list[str] | None,
            typer.Option("--attach", "-a", metavar="PATH|URL", help="An image, video or document (repeatable)."),
        ] = None,
        model: o.Model = None,
        system: o.System = None,
        profile: o.Profile = None,
        endpoint: o.Endpoint = None,
        no_stdin: Annotated[bool, typer.Option("--no-stdin", help="Ignore stdin.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False,
    ) -> None:
        """Count the tokens of a request (as `glm ask` would send it) with Zhipu's tokenizer; show the share of
        the model's context window and the input cost. Piped stdin is appended after a blank line."""
        from glm_cli.tokens import TokensOptions, run_tokens

        opts = TokensOptions(
            prompt=tuple(prompt or ()),
            files=tuple(file or ()),
            attach=tuple(attach or ()),
            model=model,
            system=system,
            profile=profile,
            endpoint=endpoint,
            no_stdin=no_stdin,
            as_json=as_json,
        )
        run_command(run_tokens, opts)
