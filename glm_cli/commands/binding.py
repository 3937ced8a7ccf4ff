"""From an Options dataclass to a click command: each flag is declared once, on the field it fills.

A field typed `Annotated[T, typer.Option(...)]` (or `typer.Argument`) is a command-line parameter, a field
whose type is another Options dataclass is a group of them (flattened into the same command), and any other
field keeps its default. `command()` builds the Typer command from that, so a command is its Options type,
its run function and one call. How its help looks is clicks.py's job.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator
from copy import copy
from dataclasses import dataclass
from types import GenericAlias
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, TypeVar, get_args, get_origin, get_type_hints

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup
from typer.models import ParameterInfo

from glm_cli.commands.clicks import CONTEXT, GlmCommand, GlmGroup, LazyGroup
from glm_cli.commands.common import run_command
from glm_cli.errors import UsageError

if TYPE_CHECKING:
    from glm_cli.app import App

T = TypeVar("T")


@dataclass(frozen=True)
class Help:
    """This command's help text for a flag declared elsewhere: `Annotated[o.Output, Help("...")]`."""

    text: str


@dataclass(frozen=True)
class Check:
    """A check of a value given on the command line: fn(value, options_type) raises UsageError."""

    fn: Callable[[Any, type], None]


@dataclass(frozen=True)
class Complete:
    """What TAB offers for a parameter's value (glm_cli/completion/gen.py, KINDS): files, none (free text),
    models, presets, profiles, conversations, or `choice:a,b,c`; a leading "=" means the value is given only
    as --opt=VALUE (a bare --opt takes none). Undeclared, the kind is inferred (gen.param_kind)."""

    kind: str

    @classmethod
    def one_of(cls, *values: object) -> Complete:
        """A fixed set of values, from the same tuple the command checks them against."""
        return cls("choice:" + ",".join(str(v) for v in values))


@dataclass(frozen=True)
class Retired:
    """A spelling whose meaning changed: giving it is a usage error that names the new one (never reinterpreted)."""

    names: tuple[str, ...]
    message: str
    hint: str
    takes_value: bool = False


class Refusals(NamedTuple):
    """What a command refuses before it runs: retired spellings, and values its checks reject."""

    options: type
    retired: tuple[Retired, ...]
    checks: tuple[tuple[str, Check], ...]  # (parameter name, check)

    def check(self, values: dict[str, Any]) -> None:
        """Raise the UsageError for the first retired spelling given or value refused (VALUES: by parameter)."""
        for i, old in enumerate(self.retired):
            if values.get(f"retired_{i}"):
                raise UsageError(old.message, old.hint)
        for name, check in self.checks:
            check.fn(values.get(name), self.options)


class _Param(NamedTuple):
    """A command-line parameter of an Options type (a named tuple: dataclasses are slow to create)."""

    name: str  # the Typer parameter and the Options field
    annotation: Any  # what Typer sees: Annotated[click-facing type, OptionInfo | ArgumentInfo]
    default: Any
    convert: Callable[[Any], Any]
    checks: tuple[Check, ...]
    complete: Complete | None


def _split(hint: Any) -> tuple[Any, ParameterInfo | None, list[Any]]:
    """Return (type, its Typer declaration or None, the other Annotated metadata)."""
    if get_origin(hint) is not Annotated:
        return hint, None, []
    base, *meta = get_args(hint)
    infos = [m for m in meta if isinstance(m, ParameterInfo)]
    return base, (infos[-1] if infos else None), [m for m in meta if not isinstance(m, ParameterInfo)]


def _repeated(base: Any) -> Any:
    """X for `tuple[X, ...]` (a repeatable option or a variadic argument), else None."""
    args = get_args(base)
    return args[0] if get_origin(base) is tuple and len(args) == 2 and args[1] is Ellipsis else None


def _to_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value or ())


def _same(value: Any) -> Any:
    return value


@functools.cache
def _hints(options: type) -> dict[str, Any]:
    """The field types of OPTIONS, Annotated metadata included (evaluated once: ~1 ms for ask's)."""
    return get_type_hints(options, include_extras=True)


def params_of(options: type) -> Iterator[_Param]:
    """Yield the command-line parameters of an Options dataclass, nested groups flattened."""
    hints = _hints(options)
    for f in dataclasses.fields(options):
        base, info, meta = _split(hints[f.name])
        if info is None:
            if dataclasses.is_dataclass(base):
                yield from params_of(base)  # type: ignore[arg-type]
            continue
        for m in meta:
            if isinstance(m, Help):  # Typer copies the declaration anyway; this copy only changes its help
                info = copy(info)
                info.help = m.text
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else inspect.Parameter.empty)
        )
        item = _repeated(base)
        checks = tuple(m for m in meta if isinstance(m, Check))
        complete = next((m for m in reversed(meta) if isinstance(m, Complete)), None)
        if item is not None:  # Typer takes lists; the Options hold tuples
            typer_type: Any = GenericAlias(list, item)
            typer_type = typer_type if default is inspect.Parameter.empty else typer_type | None
            default = inspect.Parameter.empty if default is inspect.Parameter.empty else None
            yield _Param(f.name, Annotated[typer_type, info], default, _to_tuple, checks, complete)
        else:
            yield _Param(f.name, Annotated[base, info], default, _same, checks, complete)


def build_options(options: type[T], values: dict[str, Any]) -> T:
    """Return OPTIONS filled from parameter values by field name (nested groups too)."""
    hints = _hints(options)  # type: ignore[arg-type]
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(options):  # type: ignore[arg-type]
        base, info, _ = _split(hints[f.name])
        if info is not None:
            kw[f.name] = values[f.name]
        elif dataclasses.is_dataclass(base):
            kw[f.name] = build_options(base, values)  # type: ignore[arg-type]
        elif f.name in values:  # a field the command's context fills
            kw[f.name] = values[f.name]
    return options(**kw)


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
    convert = {p.name: p.convert for p in params}

    refusals = Refusals(options, retired, tuple((p.name, c) for p in params for c in p.checks))

    def entry(ctx: typer.Context, **values: Any) -> None:
        if group_callback and ctx.invoked_subcommand is not None:
            return

        def go(_: None, app: App) -> int | None:
            refusals.check(values)
            flags = {k: convert[k](v) for k, v in values.items() if k in convert}
            return run(build_options(options, {**flags, **(context(ctx) if context else {})}), app)

        run_command(go, None)

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
    click_command.refusals = refusals  # type: ignore[attr-defined]
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
