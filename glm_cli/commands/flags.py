"""How a flag is declared, without Typer: `Annotated[T, Option("--model", "-m", help=...)]` on an Options field.

An Options dataclass field typed `Annotated[T, Option(...)]` (or `Argument(...)`) is a command-line
parameter, a field whose type is another Options dataclass is a group of them, and any other field keeps its
default. binding.py turns the declarations into a click command (through Typer: help, completion, every
command); quick.py parses a plain `glm ask` from the same declarations without importing Typer at all.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, TypeVar, get_args, get_origin, get_type_hints

from glm_cli.errors import UsageError

if TYPE_CHECKING:
    from glm_cli.app import App

T = TypeVar("T")

# The help headings a flag is listed under (rich_help_panel), in the order help shows them (clicks.py).
PANELS = ("Input", "Model", "Thinking", "Tools", "Web search", "Output", "History", "Batch", "Connection")


class Option:
    """A flag: the arguments typer.Option takes (`Option("--model", "-m", metavar="MODEL", help=...)`)."""

    __slots__ = ("decls", "kw")

    def __init__(self, *decls: str, **kw: Any) -> None:
        self.decls = decls
        self.kw = kw


class Argument(Option):
    """A positional parameter: the keyword arguments typer.Argument takes."""

    __slots__ = ()

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)


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


class Declared(NamedTuple):
    """A command-line parameter of an Options type, as declared (a named tuple: dataclasses are slow to create)."""

    name: str  # the parameter and the Options field
    base: Any  # the field's type (tuple[X, ...]: a repeatable option or a variadic argument)
    decl: Option  # its Option or Argument, with this command's Help applied
    default: Any  # inspect.Parameter.empty when it has none
    checks: tuple[Check, ...]
    complete: Complete | None


def split(hint: Any) -> tuple[Any, Option | None, list[Any]]:
    """Return (type, its Option/Argument declaration or None, the other Annotated metadata)."""
    if get_origin(hint) is not Annotated:
        return hint, None, []
    base, *meta = get_args(hint)
    decls = [m for m in meta if isinstance(m, Option)]
    return base, (decls[-1] if decls else None), [m for m in meta if not isinstance(m, Option)]


def repeated(base: Any) -> Any:
    """X for `tuple[X, ...]` (a repeatable option or a variadic argument), else None."""
    args = get_args(base)
    return args[0] if get_origin(base) is tuple and len(args) == 2 and args[1] is Ellipsis else None


@functools.cache
def hints(options: type) -> dict[str, Any]:
    """The field types of OPTIONS, Annotated metadata included (evaluated once: ~1 ms for ask's)."""
    return get_type_hints(options, include_extras=True)


def declared(options: type) -> Iterator[Declared]:
    """Yield the command-line parameters of an Options dataclass, nested groups flattened."""
    for f in dataclasses.fields(options):
        base, decl, meta = split(hints(options)[f.name])
        if decl is None:
            if dataclasses.is_dataclass(base):
                yield from declared(base)  # type: ignore[arg-type]
            continue
        for m in meta:
            if isinstance(m, Help):  # this command's help for a shared flag
                decl = type(decl)(*decl.decls, **{**decl.kw, "help": m.text})
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else inspect.Parameter.empty)
        )
        checks = tuple(m for m in meta if isinstance(m, Check))
        complete = next((m for m in reversed(meta) if isinstance(m, Complete)), None)
        yield Declared(f.name, base, decl, default, checks, complete)


def refusals(options: type, retired: tuple[Retired, ...]) -> Refusals:
    """What OPTIONS' command refuses: the RETIRED spellings and every Check its flags declare."""
    return Refusals(options, retired, tuple((p.name, c) for p in declared(options) for c in p.checks))


def build_options(options: type[T], values: dict[str, Any]) -> T:
    """Return OPTIONS filled from parameter values by field name (nested groups too)."""
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(options):  # type: ignore[arg-type]
        base, decl, _ = split(hints(options)[f.name])  # type: ignore[arg-type]
        if decl is not None:
            kw[f.name] = tuple(values[f.name] or ()) if repeated(base) is not None else values[f.name]
        elif dataclasses.is_dataclass(base):
            kw[f.name] = build_options(base, values)  # type: ignore[arg-type]
        elif f.name in values:  # a field the command's context fills
            kw[f.name] = values[f.name]
    return options(**kw)


def runner(
    options: type[T],
    run: Callable[[T, App], int | None],
    refused: Refusals,
    values: dict[str, Any],
    more: Callable[[], dict[str, Any]] = dict,
) -> Callable[[None, App], int | None]:
    """The command run by common.run_command: refusals checked, OPTIONS built from VALUES (+ MORE()), RUN."""

    def go(_: None, app: App) -> int | None:
        refused.check(values)
        return run(build_options(options, {**values, **more()}), app)

    return go
