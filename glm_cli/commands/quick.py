"""A plain command line parsed without Typer: `glm ask "question" -m glm-4.5 -o out.md` imports neither Typer nor click.

From the same declarations binding.py gives Typer (flags.py), it parses what click would parse the same way:
long options (`--opt VALUE`, `--opt=VALUE`), short ones (`-m VALUE`, `-mVALUE`, clusters `-vu`), on/off pairs,
repeated options, the positional words and `--`, with click's conversions of str, int, float and a Literal's
values. Anything else it declines (None): help, an unknown or retired option, a missing or bad value, a
declaration outside that subset. Declined, the command line goes the Typer way, which runs it or says exactly
what is wrong (tests/commands/test_quick.py checks both ways build the same options).
"""

from __future__ import annotations

import functools
import inspect
import os
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar, Union, get_args, get_origin

from glm_cli.commands.flags import Argument, declared, refusals, repeated, runner

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.commands.flags import Retired

T = TypeVar("T")

_EMPTY = inspect.Parameter.empty
PLAIN = {"metavar", "help", "rich_help_panel", "hidden"}  # declaration keywords that change no parsing


class _Flag(NamedTuple):
    """What one spelling (`--model`, `-m`, `--no-think`) does."""

    name: str  # the parameter it fills
    takes_value: bool
    const: Any  # a flag's value when given (True, or False for --no-x)
    many: bool  # repeatable: each value is kept


class _Spec(NamedTuple):
    flags: dict[str, _Flag]  # by spelling
    convert: dict[str, Callable[[str], Any]]  # by parameter name: str -> the value click would give
    defaults: dict[str, Any]
    words: str  # the variadic argument's name
    words_required: bool


def _same(value: str) -> str:
    return value


def _converter(hint: Any) -> Callable[[str], Any] | None:
    """What click turns a str into for type HINT (Optional allowed): str, int, float or a Literal's str values."""
    if get_origin(hint) in (Union, types.UnionType):
        rest = [a for a in get_args(hint) if a is not type(None)]
        if len(rest) != 1:
            return None
        hint = rest[0]
    if hint is str:
        return _same
    if hint is int or hint is float:
        return hint  # type: ignore[no-any-return]
    if get_origin(hint) is Literal and all(isinstance(v, str) for v in get_args(hint)):
        return functools.partial(_choice, get_args(hint))
    return None


def _choice(values: tuple[str, ...], value: str) -> str:
    if value not in values:
        raise ValueError(value)
    return value


def _long(name: str) -> bool:
    return name.startswith("--") and len(name) > 2 and name[2] != "-" and "=" not in name and "/" not in name


def _short(name: str) -> bool:
    return len(name) == 2 and name[0] == "-" and name[1] != "-"


@functools.cache
def spec(options: type) -> _Spec | None:
    """How to parse OPTIONS' flags; None when one is declared in a way this parser does not model."""
    flags: dict[str, _Flag] = {}
    convert: dict[str, Callable[[str], Any]] = {}
    defaults: dict[str, Any] = {}
    words: list[tuple[str, bool]] = []
    for p in declared(options):
        if set(p.decl.kw) - PLAIN:
            return None
        defaults[p.name] = p.default
        item = repeated(p.base)
        if isinstance(p.decl, Argument):
            if item is not str or words:
                return None
            words.append((p.name, p.default is _EMPTY))
            continue
        spellings: list[tuple[str, Any]] = []
        if p.base in (bool, bool | None):  # a flag: --x (default False), or an on/off pair --x/--no-x
            if len(p.decl.decls) == 1 and "/" in p.decl.decls[0]:
                on, _, off = p.decl.decls[0].partition("/")
                spellings = [(on, True), (off, False)]
            elif p.default is False and all("/" not in d for d in p.decl.decls):
                spellings = [(d, True) for d in p.decl.decls]
            else:
                return None
            kind = _Flag(p.name, False, None, False)
        else:
            conv = _converter(item if item is not None else p.base)
            if conv is None or p.default is _EMPTY:
                return None
            convert[p.name] = conv
            spellings = [(d, None) for d in p.decl.decls]
            kind = _Flag(p.name, True, None, item is not None)
        for spelling, const in spellings:
            if not (_long(spelling) or _short(spelling)) or spelling in flags:
                return None
            flags[spelling] = kind._replace(const=const)
    if len(words) != 1:
        return None
    return _Spec(flags, convert, defaults, words[0][0], words[0][1])


def parse(options: type, args: list[str]) -> dict[str, Any] | None:
    """Return the parameter values of ARGS for OPTIONS' command, as click would give them; None: not plain."""
    s = spec(options)
    if s is None:
        return None
    given: dict[str, Any] = {}
    many: dict[str, list[str]] = {}
    words: list[str] = []

    def take(flag: _Flag, value: Any) -> None:
        if flag.many:
            many.setdefault(flag.name, []).append(value)
        else:
            given[flag.name] = value

    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            words += args[i:]
            break
        if arg[:1] != "-" or len(arg) == 1:
            words.append(arg)
        elif arg[:2] == "--":
            spelling, eq, value = arg.partition("=")
            flag = s.flags.get(spelling)
            if flag is None or (eq and not flag.takes_value):  # unknown (or --help), or --flag=VALUE
                return None
            if not flag.takes_value:
                take(flag, flag.const)
            elif eq:
                take(flag, value)
            elif i < len(args):
                take(flag, args[i])  # whatever it looks like, as click does: `-m --x` is model "--x"
                i += 1
            else:
                return None
        else:  # -m VALUE, -mVALUE, -vu: short options, clustered
            for j in range(1, len(arg)):
                flag = s.flags.get("-" + arg[j])
                if flag is None:
                    return None
                if not flag.takes_value:
                    take(flag, flag.const)
                    continue
                if j + 1 < len(arg):
                    take(flag, arg[j + 1 :])
                elif i < len(args):
                    take(flag, args[i])
                    i += 1
                else:
                    return None
                break
    if s.words_required and not words:
        return None
    values = {**s.defaults, s.words: tuple(words)}
    try:
        for name, value in given.items():
            values[name] = s.convert[name](value) if name in s.convert else value
        for name, items in many.items():
            values[name] = tuple(s.convert[name](v) for v in items)
    except (ValueError, OverflowError):
        return None
    return values


def run(
    options: type[T], command: Callable[[T, App], int | None], retired: tuple[Retired, ...], args: list[str]
) -> int | None:
    """Run COMMAND with ARGS parsed without Typer; return its exit code, or None when ARGS are not plain.

    It runs as binding.command()'s entry would: refusals, then the options, then common.exit_code.
    """
    if "_GLM_COMPLETE" in os.environ:  # click's own completion protocol: Typer's
        return None
    values = parse(options, args)
    if values is None:
        return None
    from glm_cli.commands.common import exit_code

    try:
        return exit_code(runner(options, command, refusals(options, retired), values), None)
    except KeyboardInterrupt:  # before the command's own handling (App set-up): as Typer's main ends it
        return 130
