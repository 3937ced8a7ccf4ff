"""From an Options dataclass to a click command: each flag is declared once, on the field it fills.

The declarations are flags.py's (`Annotated[T, Option(...)]`, typer-free); `command()` builds the Typer
command from them, so a command is its Options type, its run function and one call. How its help looks is
clicks.py's job; a plain `glm ask` is parsed from the same declarations without Typer (quick.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from types import GenericAlias
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, TypeVar

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup
from typer.models import ParameterInfo

from glm_cli.commands.clicks import CONTEXT, GlmCommand, GlmGroup, LazyGroup
from glm_cli.commands.common import run_command
from glm_cli.commands.flags import Argument, Complete, Option, Retired, declared, refusals, repeated, runner

if TYPE_CHECKING:
    from glm_cli.app import App

T = TypeVar("T")


class _Param(NamedTuple):
    """A command-line parameter as Typer sees it (a named tuple: dataclasses are slow to create)."""

    name: str  # the Typer parameter and the Options field
    annotation: Any  # Annotated[click-facing type, OptionInfo | ArgumentInfo]
    default: Any
    complete: Complete | None


def typer_info(decl: Option) -> ParameterInfo:
    """The Typer declaration of an Option or Argument record."""
    if isinstance(decl, Argument):
        return typer.Argument(**decl.kw)  # type: ignore[no-any-return]
    return typer.Option(*decl.decls, **decl.kw)  # type: ignore[no-any-return]


def params_of(options: type) -> Iterator[_Param]:
    """Yield the command-line parameters of an Options dataclass as Typer parameters, nested groups flattened."""
    for p in declared(options):
        info, default, item = typer_info(p.decl), p.default, repeated(p.base)
        if item is not None:  # Typer takes lists; the Options hold tuples (build_options)
            typer_type: Any = GenericAlias(list, item)
            typer_type = typer_type if default is inspect.Parameter.empty else typer_type | None
            default = inspect.Parameter.empty if default is inspect.Parameter.empty else None
            yield _Param(p.name, Annotated[typer_type, info], default, p.complete)
        else:
            yield _Param(p.name, Annotated[p.base, info], default, p.complete)


def command(
    options: type[T],
    run: Callable[[T, App], int | None],
    *,
    name: str,
    help: str,
    retired: tuple[Retired, ...] = (),
    context: Callable[[Any], dict[str, Any]] | None = None,
    cls: type[TyperCommand] | None = None,
    group_callback: bool = False,
) -> Any:
    """Build the click command NAME whose parameters are the flags of OPTIONS and which runs RUN(OPTIONS(...)).

    RETIRED spellings are hidden parameters that fail with their hint; CONTEXT(ctx) fills fields that are
    not flags; GROUP_CALLBACK: this is a group's own callback, run only when no subcommand is given.
    """
    params = list(params_of(options))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise TypeError(f"{options.__name__}: a parameter name is used twice in {names}")
    refused = refusals(options, retired)

    def entry(ctx: typer.Context, **values: Any) -> None:
        if group_callback and ctx.invoked_subcommand is not None:
            return
        run_command(runner(options, run, refused, values, (lambda: context(ctx)) if context else dict), None)

    hidden = [
        inspect.Parameter(
            f"retired_{i}",
            inspect.Parameter.KEYWORD_ONLY,
            default=None if r.takes_value else False,
            annotation=Annotated[str | None if r.takes_value else bool, typer.Option(*r.names, hidden=True)],
        )
        for i, r in enumerate(retired)
    ]
    signature = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)]
    signature += [
        inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default, annotation=p.annotation)
        for p in params
    ]
    signature += hidden
    entry.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    entry.__annotations__ = {p.name: p.annotation for p in signature}
    entry.__name__ = entry.__qualname__ = name.replace("-", "_")
    app = typer.Typer(rich_markup_mode=None, add_completion=False)
    app.command(name, cls=cls or GlmCommand, help=help, context_settings=CONTEXT)(entry)
    click_command = typer.main.get_command(app)
    # What it refuses before it runs: tests check the README's command lines with it.
    click_command.refusals = refused  # type: ignore[attr-defined]
    # What TAB offers for each value, where the flag declares it (read by glm_cli/completion/gen.py).
    kinds = {p.name: p.complete.kind for p in params if p.complete is not None}
    for param in click_command.params:
        if param.name in kinds:
            param.completion = kinds[param.name]  # type: ignore[attr-defined]
    return click_command


def group(
    name: str, help: str, commands: list[Any], *, cls: type[TyperGroup] | None = None, options: Any = None
) -> Any:
    """Build the group NAME of COMMANDS; OPTIONS (a command() with group_callback) runs when none is given."""
    own: dict[str, Any] = (
        {"no_args_is_help": True}
        if options is None
        else {"params": options.params, "callback": options.callback, "invoke_without_command": True}
    )
    return (cls or GlmGroup)(
        name=name, help=help, commands=commands, rich_markup_mode=None, context_settings=CONTEXT, **own
    )


def root(help: str, lazy: dict[str, str], short: dict[str, str], version: str) -> Any:
    """Build the root group: LAZY names each command's module, SHORT its one-line help; -V prints VERSION."""

    def show_version(value: bool) -> None:
        if value:
            print(version)
            raise typer.Exit()

    def glm(version: bool = False) -> None:  # noqa: ARG001 - handled by its callback
        """The root callback: nothing to do."""

    glm.__annotations__ = {
        "version": Annotated[
            bool,
            typer.Option("--version", "-V", callback=show_version, is_eager=True, help="Print the version and exit."),
        ],
        "return": None,
    }
    app = typer.Typer(
        name="glm",
        cls=LazyGroup,
        help=help,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        context_settings=CONTEXT,
    )
    app.callback()(glm)
    group = typer.main.get_command(app)
    group.lazy = lazy  # type: ignore[attr-defined]
    group.short = short  # type: ignore[attr-defined]
    return group
