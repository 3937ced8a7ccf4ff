"""The Typer app: global wiring and command registration; stays small and light to import."""

from __future__ import annotations

import gc
import os
import sys

from glm_cli import __version__
from glm_cli.errors import EXIT_CODES_HELP, GlmError

HELP = f"""glm — the command line for Zhipu GLM-4.7 (BigModel / Z.ai).

Answers go to stdout, everything else to stderr. {EXIT_CODES_HELP}.
"""


# Each command: its module (with a command() function) and its one-line help, in the order `glm --help`
# lists them. A module is imported only when its command runs: `glm --help` imports none, `glm ask` only
# ask's (tests/test_perf_startup.py checks each line against the command's own help).
COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("glm_cli.commands.ask", "Ask one question; the answer goes to stdout (or -o FILE)."),
    "chat": ("glm_cli.commands.chat", "Chat interactively; every turn is saved to the history unless --no-log."),
    "batch": ("glm_cli.commands.batch", "Run many prompts: locally (concurrent, resumable) or on Zhipu's Batch API."),
    "models": (
        "glm_cli.commands.models",
        "List the models glm knows: a table on a terminal, one id per line when piped.",
    ),
    "history": ("glm_cli.commands.history", "The saved conversations: every `glm chat` turn and every `glm ask`."),
    "config": ("glm_cli.commands.config_cmd", "Show, locate or create the YAML config."),
    "mcp": ("glm_cli.commands.mcp", "Inspect MCP servers (tools for `glm ask --mcp/--mcp-server`)."),
    "tokens": (
        "glm_cli.commands.tokens",
        "Count the tokens of a request (as `glm ask` would send it) with Zhipu's tokenizer.",
    ),
    "embed": (
        "glm_cli.commands.embed",
        "Print the embedding vector of a text (Zhipu's embedding-3); --batch FILE embeds every line.",
    ),
    "auth": ("glm_cli.commands.auth", "Store, check and remove the API key (like `gh auth`)."),
    "completion": ("glm_cli.commands.completion", "Print the shell completion script."),
}


def build_command():  # noqa: ANN201 - typer is imported lazily on purpose
    """Return the root click command (its subcommands load when used)."""
    from glm_cli.commands.binding import root

    return root(HELP, {n: m for n, (m, _) in COMMANDS.items()}, command_help(), f"glm {__version__}")


def command_help() -> dict[str, str]:
    """Each command's one-line help, by name (the root's help lists them)."""
    return {n: h for n, (_, h) in COMMANDS.items()}


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (ARGV: the arguments, for tests calling it in their own process)."""
    if argv is None:
        # glm is the process: start-up (imports, building the command) makes tens of thousands of objects that
        # live as long as it does, and the cyclic collector would scan them again and again for no garbage
        # (~60 runs, 5-10 ms of `glm ask`). It resumes, with them frozen, when the command runs (run_command).
        gc.disable()
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
    return [os.fsencode(a).decode("utf-8", "replace") for a in args]


def _main(args: list[str]) -> None:
    fix_closed_streams()
    # `glm --version` answers before Typer is even imported: aliases call it in prompts.
    if args in (["--version"], ["-V"]):
        print(f"glm {__version__}", flush=True)
        return
    if args[:1] == ["__complete"]:  # TAB: values from local files, without Typer (completion_data.py)
        from glm_cli.completion.values import main as complete

        complete(args[1:])
        return
    args = with_flag_defaults(default_to_ask(args))
    if args in (["--help"], ["-h"]):  # the root's help, laid out as click would, without Typer (root_help.py)
        from glm_cli.root_help import render, width

        sys.stdout.write(render(HELP, command_help(), width()))
        sys.stdout.flush()
        return
    from glm_cli.children import stop_on_signals

    stop_on_signals()  # SIGTERM/SIGHUP end glm like an error would: MCP servers and tools are stopped
    if args[:1] == ["ask"]:  # a plain `glm ask …` runs without Typer (15-30 ms sooner); the rest goes its way
        from glm_cli.commands.ask import quick

        code = quick(args[1:])
        if code is not None:
            sys.exit(code)
    build_command().main(args=args, prog_name="glm")


class _ClosedOutput:
    """Stands for a standard output stream that was closed (`glm … >&-`): every write is an EBADF OSError."""

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, text: str) -> int:
        import errno

        raise OSError(errno.EBADF, f"{self.name} is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def fix_closed_streams() -> None:
    """Make a closed stdin read as empty and a closed stdout/stderr fail as an OSError (not None)."""
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        if getattr(sys, name) is not None:
            continue
        try:
            os.fstat(fd)
        except OSError:  # keep the fd taken by /dev/null, so no later file or socket lands on it (or in a child)
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        # `glm ask "…" <&-` (cron, daemons) reads like </dev/null; a closed stdout/stderr fails on write
        setattr(sys, name, open(fd, encoding="utf-8", closefd=False) if fd == 0 else _ClosedOutput(name))


# Every command name: known before Typer is imported, for `glm "question"`.
COMMAND_NAMES = tuple(COMMANDS)


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

            raise UsageError(
                f"unknown command `{first}`; did you mean `{close}`?",
                f"to ask it as a question: glm ask {shlex.join(args)}",
            )
    return ["ask", *args]


def close_command(word: str) -> str | None:
    """The command name WORD probably misspells (glm_cli/commands/suggest.py: the root group says the same)."""
    from glm_cli.commands.suggest import close_name

    return close_name(word, COMMAND_NAMES)


# Options that work as a bare flag and also take a value: the values each takes by command, the first being
# what the bare flag means. Typer dropped click's `flag_value`, so a bare `--dry-run` is rewritten to
# `--dry-run=json` here, and `--dry-run curl` (one of its values after a space) to `--dry-run=curl`: a value
# it takes is never swallowed into the prompt.
OPTIONAL_VALUE_FLAGS = {"ask": {"--dry-run": ("json", "curl")}}


def with_flag_defaults(args: list[str]) -> list[str]:
    """Give bare optional-value flags their value: the next word when it is one they take, else the default.

    Only before a `--`.
    """
    flags = OPTIONAL_VALUE_FLAGS.get(args[0], {}) if args else {}
    if not flags:
        return args
    out: list[str] = []
    i = 0
    while i < len(args) and args[i] != "--":
        arg, i = args[i], i + 1
        if arg in flags:
            values = flags[arg]
            taken = i < len(args) and args[i] in values
            arg, i = f"{arg}={args[i] if taken else values[0]}", i + taken
        out.append(arg)
    return out + args[i:]
