"""The click classes of glm's commands: help a person can read, the lazy root, the default subcommand.

Help is click's plain formatter (no rich at --help time): arguments named by their metavar, options
grouped under the heading each flag declares (`rich_help_panel`, gh's headings), as wide as the terminal.
"""

from __future__ import annotations

import importlib
from typing import Any

from typer.core import TyperCommand, TyperGroup

from glm_cli.commands.flags import PANELS

HELP_MAX_WIDTH = 160  # help follows the terminal (COLUMNS, else its size) up to this width
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": HELP_MAX_WIDTH}
# Headings in the order help shows them; options without a panel come last, under "Options".
OTHER = "Options"
TERM_MAX = 34  # wider option names (or wider than a third of the screen) get a line of their own


def _usage_piece(param: Any) -> str:
    metavar = param.metavar or param.name.upper()
    return metavar if param.required else f"[{metavar}]"


def _record(param: Any, ctx: Any) -> tuple[str, str] | None:
    record = param.get_help_record(ctx)
    if record is None:
        return None
    term, text = record
    if param.param_type_name == "argument":
        text = text.replace("  [required]", "")  # the usage line says it: [PROMPT...] is optional, ID... is not
    return term.replace(" [=", "[="), text  # --dry-run[=curl]: an optional value sticks to its option


def panels(params: list[Any], ctx: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """Return (heading, rows) for the arguments, then each panel of options in PANELS order."""
    found: dict[str, list[tuple[str, str]]] = {}
    for param in params:
        record = _record(param, ctx)
        if record is None:
            continue
        heading = "Arguments" if param.param_type_name == "argument" else getattr(param, "rich_help_panel", None)
        found.setdefault(heading or OTHER, []).append(record)
    order = ["Arguments", *PANELS, *(h for h in found if h not in PANELS and h not in ("Arguments", OTHER)), OTHER]
    return [(h, found[h]) for h in order if h in found]


def write_panels(formatter: Any, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
    """Write each section as a definition list, the help column aligned across all of them."""
    terms = [term for _, rows in sections for term, _ in rows]
    width = min(max((len(t) for t in terms), default=0), TERM_MAX, formatter.width // 3)
    for heading, rows in sections:
        with formatter.section(heading):
            # write_dl sizes the first column per call: pad one term so every section uses the same width
            first, text = rows[0]
            formatter.write_dl([(first.ljust(width), text), *rows[1:]], col_max=width)


class GlmCommand(TyperCommand):
    """A command whose help groups options under headings and names arguments by their metavar."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        args = [p for p in self.get_params(ctx) if p.param_type_name == "argument"]
        return [self.options_metavar or "", *(_usage_piece(p) for p in args)]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        write_panels(formatter, panels(self.get_params(ctx), ctx))


class GlmGroup(TyperGroup):
    """A group with the same help: its own options under headings, then its commands."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        write_panels(formatter, panels(self.get_params(ctx), ctx))
        self.format_commands(ctx, formatter)


class LazyGroup(GlmGroup):
    """The root: a command's module is imported when that command runs (all of them only for `glm --help`)."""

    lazy: dict[str, str] = {}  # command name -> module with command() (set by cli.build_command)
    short: dict[str, str] = {}  # command name -> its one-line help: `glm --help` imports no command

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.lazy)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """List every command with its one-line help, shortened as click shortens a command's own."""
        if not self.short:
            return super().format_commands(ctx, formatter)
        limit = formatter.width - 6 - max(map(len, self.short))
        with formatter.section("Commands"):
            formatter.write_dl(
                [(name, TyperCommand(name, help=text).get_short_help_str(limit)) for name, text in self.short.items()]
            )
        return None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """A mistyped command gets a suggestion (click's own only knows the commands already loaded)."""
        name = args[0] if args else ""
        if name in self.lazy or name.startswith("-"):
            return super().resolve_command(ctx, args)
        import click  # only here: ~14 ms that no known command needs

        from glm_cli.commands.suggest import close_name  # the one rule, also used before the root for `glm WORD`

        close = close_name(name, list(self.lazy))
        ctx.fail(f"unknown command `{name}`" + (f"; did you mean `{close}`?" if close else ""))
        raise click.UsageError(name)  # not reached: ctx.fail raises

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.commands[cmd_name] = importlib.import_module(self.lazy[cmd_name]).command()
        return self.commands.get(cmd_name)


class DefaultGroup(GlmGroup):
    """A group whose first argument, when not a subcommand, means its default subcommand (glm batch FILE)."""

    default_subcommand = "run"  # read by the shell-completion generator (glm_cli/completion/gen.py)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_subcommand, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        sub = self.commands[self.default_subcommand]
        pieces = sub.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join([f"[{self.default_subcommand}]", *pieces]))
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix="   or: ")

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """The commands, then the default subcommand's arguments and options: `glm batch FILE` takes them."""
        self.format_commands(ctx, formatter)
        sub = self.commands[self.default_subcommand]
        sub_ctx = sub.context_class(sub, parent=ctx, info_name=self.default_subcommand)
        write_panels(formatter, panels([*sub.params, *self.get_params(ctx)], sub_ctx))
