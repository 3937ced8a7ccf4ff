"""The Typer app: global wiring and command registration; stays small and light to import."""

from __future__ import annotations

import sys

from glm_cli import __version__
from glm_cli.errors import EXIT_CODES_HELP

HELP = f"""glm — the command line for Zhipu GLM-4.7 (BigModel / Z.ai).

Answers go to stdout, everything else to stderr. {EXIT_CODES_HELP}.
"""


# Every command: the module that registers it, and the first sentence of its help (`glm --help` lists
# these without importing a single command module; tests/test_perf_startup.py checks them against the commands).
COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("ask", "Ask one question; the answer goes to stdout."),
    "chat": ("chat", "Chat interactively; every turn is saved to the history unless --no-log."),
    "completion": ("completion", 'Print the shell completion script (install: see README, "Shell completion").'),
    "config": ("config_cmd", "Show, locate or create the YAML config."),
    "batch": ("batch.run", "Run many prompts: locally (concurrent, resumable) or on Zhipu's Batch API."),
    "history": (
        "history",
        "The saved conversations: every `glm chat` turn and every `glm ask` (unless --no-log "
        "or `log: false`), in $XDG_DATA_HOME/glm/history.db (else ~/.local/share/glm/history.db).",
    ),
    "mcp": ("mcp", "Inspect MCP servers (tools for `glm ask --mcp/--mcp-server`)."),
    "models": ("models", "List the models glm knows: a table on a terminal, one id per line when piped."),
}


def build_app():  # noqa: ANN201 - typer is imported lazily on purpose
    """Build the Typer app; each command's module is imported only when that command is looked up."""
    import typer

    app = typer.Typer(
        name="glm",
        help=HELP,
        cls=_lazy_group(),
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
            False, "--version", "-V", callback=version_callback, is_eager=True, help="Print the version and exit."
        ),
    ) -> None:
        """glm — the command line for Zhipu GLM-4.7."""

    return app


def load_command(name: str):  # noqa: ANN201 - a click command; typer is imported lazily
    """Import the module of command NAME, let it register on a Typer app of its own, return its click command."""
    import importlib

    import typer.main

    module = importlib.import_module(f"glm_cli.commands.{COMMANDS[name][0]}")
    holder = typer.Typer(add_completion=False, rich_markup_mode=None)
    module.register(holder)
    return typer.main.get_group(holder).commands[name]


def _lazy_group():  # noqa: ANN202 - a TyperGroup subclass, built when typer is imported
    from collections.abc import MutableMapping
    from typing import Any

    from typer.core import TyperCommand, TyperGroup

    class Commands(MutableMapping):
        """The root's commands: every name known up front, each command loaded on first access."""

        def __init__(self) -> None:
            self.loaded: dict[str, Any] = {}

        def __getitem__(self, name: str) -> Any:
            if name not in self.loaded:
                if name not in COMMANDS:
                    raise KeyError(name)
                self.loaded[name] = load_command(name)
            return self.loaded[name]

        def __setitem__(self, name: str, command: Any) -> None:
            self.loaded[name] = command

        def __delitem__(self, name: str) -> None:
            del self.loaded[name]

        def __iter__(self):  # noqa: ANN204
            return iter({**dict.fromkeys(COMMANDS), **dict.fromkeys(self.loaded)})

        def __len__(self) -> int:
            return len({*COMMANDS, *self.loaded})

    class LazyGroup(TyperGroup):
        """The root group: `glm ask` imports only ask's module; `glm --help` imports none."""

        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)  # type: ignore[arg-type]
            self.commands = Commands()

        def list_commands(self, ctx: Any) -> list[str]:
            return list(COMMANDS)

        def format_commands(self, ctx: Any, formatter: Any) -> None:
            limit = formatter.width - 6 - max(map(len, COMMANDS))  # as click computes it
            with formatter.section("Commands"):  # shortened as click shortens each command's own help
                formatter.write_dl(
                    [
                        (name, TyperCommand(name, help=text).get_short_help_str(limit))
                        for name, (_, text) in COMMANDS.items()
                    ]
                )

    return LazyGroup


def build_command():  # noqa: ANN201 - the click command behind the Typer app
    """Return the click command tree of the whole app (for the completion generator)."""
    import typer.main

    return typer.main.get_command(build_app())


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        _main(sys.argv[1:] if argv is None else argv)
    except OSError as exc:  # `glm --version | true`, `glm --help > /dev/full`
        from glm_cli.commands.common import os_error_exit

        sys.exit(os_error_exit(exc, sys.stderr))


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
    build_app()(args=with_flag_defaults(args), prog_name="glm")


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
