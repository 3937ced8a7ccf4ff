"""The Typer app: global wiring and command registration; stays small and light to import."""

from __future__ import annotations

import sys

from glm_cli import __version__
from glm_cli.errors import EXIT_CODES_HELP, GlmError

HELP = f"""glm — the command line for Zhipu GLM-4.7 (BigModel / Z.ai).

Answers go to stdout, everything else to stderr. {EXIT_CODES_HELP}.
"""


def build_app():  # noqa: ANN201 - typer is imported lazily on purpose
    """Build the Typer app with every command registered."""
    import typer

    from glm_cli.commands import ask, auth, chat, completion, config_cmd, embed, history, mcp, models, tokens
    from glm_cli.commands.batch import run as batch

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
    tokens.register(app)
    embed.register(app)
    auth.register(app)
    completion.register(app)
    return app


def build_command():  # noqa: ANN201 - the click command behind the Typer app
    """Return the click command tree of the whole app (for the completion generator)."""
    import typer.main

    return typer.main.get_command(build_app())


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        _main(decoded_args(sys.argv[1:]) if argv is None else argv)
    except GlmError as err:  # refused before any command ran (`glm modles`)
        sys.stderr.write(f"glm: {err.message}\n" + (f"hint: {err.hint}\n" if err.hint else ""))
        sys.exit(err.exit_code)
    except OSError as exc:  # `glm --version | true`, `glm --help > /dev/full`
        from glm_cli.commands.common import os_error_exit

        sys.exit(os_error_exit(exc, sys.stderr))


def decoded_args(args: list[str]) -> list[str]:
    """Return ARGS with undecodable bytes as U+FFFD (Python leaves them as lone surrogates, which no stream,
    JSON body or SQLite row accepts): once, here, so every argument of every command is text."""
    import os

    return [os.fsencode(a).decode("utf-8", "replace") for a in args]


def _main(args: list[str]) -> None:
    from glm_cli.iostreams import fix_closed_streams

    fix_closed_streams()
    # `glm --version` answers before Typer is even imported: aliases call it in prompts.
    if args in (["--version"], ["-V"]):
        print(f"glm {__version__}", flush=True)
        return
    if args[:1] == ["__complete"]:  # TAB: values from local files, without Typer (completion_data.py)
        from glm_cli.completion.values import main as complete

        complete(args[1:])
        return
    from glm_cli.children import stop_on_signals

    stop_on_signals()  # SIGTERM/SIGHUP end glm like an error would: MCP servers and tools are stopped
    build_app()(args=with_flag_defaults(default_to_ask(args)), prog_name="glm")


# Every command name (a test checks it against the app): known before Typer is imported, for `glm "question"`.
COMMAND_NAMES = ("ask", "auth", "batch", "chat", "completion", "config", "embed", "history", "mcp", "models", "tokens")


def default_to_ask(args: list[str]) -> list[str]:
    """`glm "question"` is `glm ask "question"` (llm's habit). A single word close to a command name
    (`glm modles`, `glm modles --all`) is refused with a suggestion: a typo must never become a paid request.
    More words (`glm what is an inode`) are a prompt, whatever the first one looks like."""
    if not args or args[0].startswith("-") or args[0] in COMMAND_NAMES:
        return args
    first = args[0]
    if first == "help":
        return ["--help"]
    words = [a for a in args if not a.startswith("-")]
    if len(words) == 1 and len(first.split()) == 1:
        close = close_command(first)
        if close is not None:
            import shlex

            from glm_cli.errors import UsageError

            raise UsageError(f"unknown command `{first}`; did you mean `{close}`?",
                             f"to ask it as a question: glm ask {shlex.join(args)}")
    return ["ask", *args]


def close_command(word: str) -> str | None:
    """The command name WORD probably misspells: close by difflib, a prefix of at least 3 letters, or another case."""
    import difflib

    word = word.lower()
    if word in COMMAND_NAMES:
        return word
    found = difflib.get_close_matches(word, COMMAND_NAMES, n=1, cutoff=0.7)
    if found:
        return found[0]
    prefixed = [name for name in COMMAND_NAMES if len(word) >= 3 and name.startswith(word)]
    return prefixed[0] if len(prefixed) == 1 else None


# Options that work as a bare flag and also take `=VALUE`: the value a bare flag means, by command.
# Typer dropped click's `flag_value`, so a bare `--dry-run` is rewritten to `--dry-run=json` here.
OPTIONAL_VALUE_FLAGS = {"ask": {"--dry-run": "json"}}


def with_flag_defaults(args: list[str]) -> list[str]:
    """Give bare optional-value flags their default value (only before a `--`)."""
    flags = OPTIONAL_VALUE_FLAGS.get(args[0], {}) if args else {}
    if not flags:
        return args
    out = list(args)
    for i, arg in enumerate(out):
        if arg == "--":
            break
        if arg in flags:
            out[i] = f"{arg}={flags[arg]}"
    return out
