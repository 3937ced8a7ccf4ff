"""Shell completion scripts generated from the Typer app (bash, zsh, fish).

`python -m glm_cli.completion` rewrites completions/glm.{bash,zsh,fish} from the commands registered in
glm_cli/cli.py; `--check` only says whether they are out of date. A script is the command tree as data
(subcommands, options, what each option's value and each argument is) followed by a fixed engine per shell
(glm_cli/data/completion-engine.*). What a value is comes from the flag's declaration (flags.Complete in
its Annotated type), else from its type and metavar (param_kind); free text never completes file names.
Model ids, presets, profiles and conversations are looked up at TAB time through `glm __complete KIND`
(glm_cli/completion/values.py), from local files only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHELLS = ("bash", "zsh", "fish")
REGENERATE = "python -m glm_cli.completion"
OUT_DIR = Path(__file__).resolve().parents[2] / "completions"
# What TAB offers for a value: files, nothing (free text and numbers), values from `glm __complete KIND`, or
# `choice:a,b,c`. A leading "=" (`=choice:json,curl`): the value is given only as --opt=VALUE.
KINDS = ("files", "none", "models", "presets", "profiles", "conversations", "mcp-servers")
# Undeclared parameters of these names (a plain Typer app's): their values come from `glm __complete KIND`.
DYNAMIC = {"model": "models", "preset": "presets", "profile": "profiles", "resume": "conversations"}
FLAG = "flag"  # the kind of an option that takes no value
PATH_WORDS = ("FILE", "PATH", "DIR")  # a metavar naming one of these takes a path


@dataclass(frozen=True)
class Opt:
    names: tuple[str, ...]
    help: str
    kind: str  # models, presets, profiles, conversations, files, none, choice:a,b,c — or FLAG


@dataclass(frozen=True)
class Cmd:
    path: str  # "" for glm itself, "batch run" for `glm batch run`
    subs: tuple[tuple[str, str], ...]  # (name, help)
    opts: tuple[Opt, ...]
    args: tuple[str, ...]  # the kind of each positional argument; a trailing "*" repeats the last
    default: str | None = None  # the subcommand a non-subcommand word means (glm batch FILE = batch run FILE)


HELP = Opt(("-h", "--help"), "Show help and exit.", FLAG)


def _help(text: str | None) -> str:
    line = " ".join((text or "").strip().split("\n\n")[0].split())
    return line if len(line) <= 80 else line[:79] + "…"


def param_kind(param: Any) -> str:
    """What a parameter's value is, for completion: its declaration (flags.Complete), else inferred from its
    type and metavar. Text is free text unless the metavar names a path: nothing completes files by default."""
    import re

    declared = getattr(param, "completion", None)
    if declared:
        return str(declared)
    if param.name in DYNAMIC:
        return DYNAMIC[param.name]
    type_name = getattr(param.type, "name", "")
    if type_name == "choice":
        return "choice:" + ",".join(str(c) for c in param.type.choices)
    if type_name == "boolean":
        return "choice:true,false"
    if type_name == "path" or set(re.findall(r"[A-Z]+", param.metavar or "")) & set(PATH_WORDS):
        return "files"
    return "none"


def _opt(param: Any) -> Opt:
    kind = FLAG if param.is_flag or param.count else param_kind(param)
    return Opt(tuple(param.opts) + tuple(param.secondary_opts), _help(param.help), kind)


def command_specs(root: Any) -> list[Cmd]:
    """Return every visible command under the root (a click command), depth first, with options and arguments."""
    specs: list[Cmd] = []
    _walk(root, "", None, specs)
    by_path = {c.path: c for c in specs}
    # A group with a default subcommand also takes that subcommand's options (glm batch -j 4 FILE).
    return [
        c
        if not c.default
        else Cmd(c.path, c.subs, _union(c.opts, by_path[f"{c.path} {c.default}"].opts), c.args, c.default)
        for c in specs
    ]


def _union(first: tuple[Opt, ...], second: tuple[Opt, ...]) -> tuple[Opt, ...]:
    seen = {n for o in first for n in o.names}
    return first + tuple(o for o in second if not seen & set(o.names))


def _walk(cmd: Any, path: str, parent: Any, out: list[Cmd]) -> None:
    ctx = cmd.context_class(cmd, parent=parent, info_name=path.rsplit(" ", 1)[-1] or "glm")
    subs: list[tuple[str, Any]] = []
    for name in cmd.list_commands(ctx) if hasattr(cmd, "list_commands") else []:
        sub = cmd.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            subs.append((name, sub))
    params = [p for p in cmd.params if not getattr(p, "hidden", False)]
    opts = (HELP, *(_opt(p) for p in params if p.param_type_name == "option"))
    args = tuple(param_kind(p) + ("*" if p.nargs == -1 else "") for p in params if p.param_type_name == "argument")
    default = getattr(cmd, "default_subcommand", None)
    out.append(
        Cmd(
            path,
            tuple((n, _help(s.get_short_help_str(80))) for n, s in subs),
            opts,
            args,
            default if default in dict(subs) else None,
        )
    )
    for name, sub in subs:
        _walk(sub, f"{path} {name}".strip(), ctx, out)


# ---- rendering: the data functions of each shell, then its engine


def _q_sh(text: str) -> str:
    """Single-quote for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def _q_fish(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _kinds(cmd: Cmd) -> list[tuple[tuple[str, ...], str]]:
    return [(o.names, o.kind) for o in cmd.opts if o.kind != FLAG]


def _bash(specs: list[Cmd]) -> str:
    def case(fn: str, arms: list[tuple[list[str], str]], otherwise: str, subject: str = '"$1"') -> str:
        lines = [f"{fn}() {{", f"    case {subject} in"]
        lines += [f"        {'|'.join(_q_sh(p) for p in pats)}) _glm_r={_q_sh(val)} ;;" for pats, val in arms]
        lines += [f"        *) _glm_r={otherwise} ;;", "    esac", "}"]
        return "\n".join(lines)

    return "\n\n".join(
        [
            case("_glm_subs", [([c.path], " ".join(n for n, _ in c.subs)) for c in specs if c.subs], "''"),
            case("_glm_opts", [([c.path], " ".join(n for o in c.opts for n in o.names)) for c in specs], "''"),
            case(
                "_glm_kind",
                [([f"{c.path}|{n}" for n in names], kind) for c in specs for names, kind in _kinds(c)],
                FLAG,
                '"$1|$2"',
            ),
            case("_glm_args", [([c.path], " ".join(c.args)) for c in specs if c.args], "''"),
            case("_glm_default", [([c.path], c.default) for c in specs if c.default], "''"),
        ]
    )


def _zsh(specs: list[Cmd]) -> str:
    def case(fn: str, var: str, arms: list[tuple[list[str], str]], otherwise: str, subject: str = '"$1"') -> str:
        lines = [f"{fn}() {{", f"  case {subject} in"]
        lines += [f"    ({'|'.join(_q_sh(p) for p in pats)}) {var}={val} ;;" for pats, val in arms]
        lines += [f"    (*) {var}={otherwise} ;;", "  esac", "}"]
        return "\n".join(lines)

    def items(pairs: list[tuple[str, str]]) -> str:
        return "(" + " ".join(_q_sh(f"{n}:{h}" if h else n) for n, h in pairs) + ")"

    return "\n\n".join(
        [
            case("_glm_subs", "reply", [([c.path], items(list(c.subs))) for c in specs if c.subs], "()"),
            case(
                "_glm_opts",
                "reply",
                [([c.path], items([(n, o.help) for o in c.opts for n in o.names])) for c in specs],
                "()",
            ),
            case(
                "_glm_kind",
                "REPLY",
                [([f"{c.path}|{n}" for n in names], _q_sh(kind)) for c in specs for names, kind in _kinds(c)],
                FLAG,
                '"$1|$2"',
            ),
            case("_glm_args", "REPLY", [([c.path], _q_sh(" ".join(c.args))) for c in specs if c.args], "''"),
            case("_glm_default", "REPLY", [([c.path], _q_sh(c.default)) for c in specs if c.default], "''"),
        ]
    )


def _fish(specs: list[Cmd]) -> str:
    def switch(
        fn: str, arms: list[tuple[list[str], list[str]]], subject: str = "$argv[1]", otherwise: str | None = None
    ) -> str:
        lines = [f"function {fn}", f"    switch {subject}"]
        for pats, body in arms:
            lines += [f"        case {' '.join(_q_fish(p) for p in pats)}", *(f"            {b}" for b in body)]
        if otherwise:
            lines += ["        case '*'", f"            {otherwise}"]
        lines += ["    end", "end"]
        return "\n".join(lines)

    def printf(pairs: list[tuple[str, str]]) -> list[str]:
        return [f"printf '%s\\t%s\\n' {_q_fish(n)} {_q_fish(h)}" for n, h in pairs]

    return "\n\n".join(
        [
            switch("__glm_subs", [([c.path], printf(list(c.subs))) for c in specs if c.subs]),
            switch("__glm_opts", [([c.path], printf([(n, o.help) for o in c.opts for n in o.names])) for c in specs]),
            switch(
                "__glm_kind",
                [
                    ([f"{c.path}|{n}" for n in names], [f"echo {_q_fish(kind)}"])
                    for c in specs
                    for names, kind in _kinds(c)
                ],
                '"$argv[1]|$argv[2]"',
                f"echo {FLAG}",
            ),
            switch("__glm_args", [([c.path], [f"echo {_q_fish(' '.join(c.args))}"]) for c in specs if c.args]),
            switch("__glm_default", [([c.path], [f"echo {_q_fish(c.default)}"]) for c in specs if c.default]),
        ]
    )


HEADERS = {
    "bash": "# bash completion for glm. Install: source it from ~/.bashrc, or save it as\n"
    "# ~/.local/share/bash-completion/completions/glm",
    "zsh": "#compdef glm\n# zsh completion for glm. Install: save it as _glm in a directory on $fpath\n"
    "# (before compinit runs), or `source` it after compinit",
    "fish": "# fish completion for glm. Install: save it as ~/.config/fish/completions/glm.fish",
}
RENDER = {"bash": _bash, "zsh": _zsh, "fish": _fish}


def generate(shell: str, root: Any = None, specs: list[Cmd] | None = None) -> str:
    """Return the completion script for SHELL (bash, zsh or fish) for the commands under root (or specs)."""
    from importlib.resources import files

    if shell not in SHELLS:
        raise ValueError(f"unknown shell {shell!r}; expected one of {', '.join(SHELLS)}")
    specs = specs if specs is not None else command_specs(root)
    engine = files("glm_cli").joinpath(f"data/completion-engine.{shell}").read_text(encoding="utf-8")
    return (
        f"{HEADERS[shell]}\n# Generated from the glm commands by `{REGENERATE}`: do not edit.\n"
        f"# `glm completion {shell}` prints the same for the installed version.\n\n"
        f"# The command tree: subcommands, options, what each value is.\n{RENDER[shell](specs)}\n\n{engine}"
    )
