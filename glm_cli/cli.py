"""The Typer app: global wiring and command registration; stays small and light to import."""

from __future__ import annotations

import sys

from glm_cli import __version__
from glm_cli.errors import EXIT_CODES_HELP

HELP = f"""glm — the command line for Zhipu GLM-4.7 (BigModel / Z.ai).

Answers go to stdout, everything else to stderr. {EXIT_CODES_HELP}.
"""


def build_app():  # noqa: ANN201 - typer is imported lazily on purpose
    """Build the Typer app with every command registered."""
    import typer

    from glm_cli.commands import ask, batch, chat, completion, config_cmd, history, mcp, models

    app = typer.Typer(
        name="glm",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    def version_callback(value: bool) -> None:
        if value:
            print(f"glm {__version__}")
            raise typer.Exit()

    @app.callback()
    def root(
        version: bool = typer.Option(
            False, "--version", "-V", callback=version_callback, is_eager=True,
            help="Print the version and exit."),
    ) -> None:
        """glm — the command line for Zhipu GLM-4.7."""

    ask.register(app)
    config_cmd.register(app)
    batch.register(app)
    chat.register(app)
    history.register(app)
    mcp.register(app)
    models.register(app)
    completion.register(app)
    return app


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    # `glm --version` answers before Typer is even imported: aliases call it in prompts.
    if args in (["--version"], ["-V"]):
        print(f"glm {__version__}")
        return
    if args[:1] == ["__complete"]:  # TAB: values from local files, without Typer (completion_data.py)
        from glm_cli.completion_data import main as complete

        complete(args[1:])
        return
    build_app()(args=args, prog_name="glm")
