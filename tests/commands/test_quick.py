"""quick.py parses a plain `glm ask` without Typer: for any command line it either declines (the Typer way
runs it) or builds exactly the options, exit code and messages the Typer way builds."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.commands import binding, quick
from glm_cli.commands.ask import RETIRED, AskOptions
from glm_cli.commands.flags import Argument, Option


def run_both(args: list[str], options: type = AskOptions, retired: tuple = RETIRED) -> tuple[Any, Any]:
    """((code, options seen, stderr) the Typer way, the same quick.py's way or None when it declines)."""

    def outcome(call: Any) -> Any:
        seen: list[Any] = []

        def run(opts: Any, app: Any) -> int:
            seen.append(opts)
            return 0

        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = call(run)
        return None if code is None else (code, seen, err.getvalue())

    def typer_way(run: Any) -> int:
        cmd = binding.command(options, run, name="ask", help="", retired=retired)
        try:
            cmd.main(list(args), prog_name="glm ask")
        except SystemExit as exc:
            return int(exc.code or 0)
        raise AssertionError("click returned without exiting")

    return outcome(typer_way), outcome(lambda run: quick.run(options, run, retired, list(args)))


def same_or_declined(args: list[str]) -> Any:
    slow, fast = run_both(args)
    if fast is not None:
        code, seen, err = fast
        # repr: a float option may be nan, which equals nothing
        assert (code, repr(seen), err) == (slow[0], repr(slow[1]), slow[2]), args
    return fast


# Every flag of ask, given a valid value: quick.py takes them all (it must not decline the common cases).
EVERY_FLAG = [
    ["what", "is", "an", "inode"],
    ["-m", "glm-4.5", "hi"],
    ["--model=glm-4.5", "hi"],
    ["-mglm-4.5", "hi"],
    ["-s", "be brief", "--system", "no, be long", "x"],
    ["-p", "code", "--preset=shell"],
    ["-P", "work", "--profile", "home", "-e", "zai", "--endpoint=bigmodel"],
    ["--think", "--no-think", "--show-thinking", "--hide-thinking"],
    ["-t", "0.5", "--temperature", " 1e-1 ", "--top-p", "0.9", "--max-tokens", "1_000"],
    ["--max-tokens", "١٢", "q"],  # int() takes other digits: so does click
    ["-t", "nan", "-t", "inf"],
    ["--stop", "a", "--stop=b", "--stop", "", "--param", "a=1", "--param", "b.c!=x"],
    ["--json-object", "--no-json-object", "--json-object"],
    ["--no-stream", "-o", "out.md", "--output=-", "--format", "json", "--format=text", "--json"],
    ["-u", "--usage", "--dry-run=json", "--dry-run=curl", "--dry-run="],
    ["-f", "a.txt", "--file", "b.txt", "--request-id", "r1", "-v", "--verbose", "--no-stdin", "--raw"],
    ["-c", "--continue", "--no-log", "-r", "chat-1", "--resume=x"],
    ["--tool", "t.yaml", "--mcp", "cmd a", "--mcp-server", "fs", "-y", "--yes", "--allow", "ls", "--max-steps", "3"],
    ["--web-search", "--search-engine", "e", "--search-count", "5", "--search-recency", "oneDay"],
    ["--search-domain", "x.org", "--schema", "s.json", "-x", "--extract", "--extract-all", "--extract-lang", "sh"],
    ["-a", "p.png", "--attach", "https://x/y.png", "ünïcödé", "问题"],
    ["-vuxyc", "q"],  # a cluster of short flags
    ["-vum", "glm-4.5", "q"],  # …ending in one that takes the next word
    ["-vmglm-4.5", "q"],  # …or the rest of the word
    ["-m", "--verbose", "q"],  # a value that looks like a flag is the value, as click takes it
    ["-m=x", "q"],  # -m's value is "=x", as click takes it
    ["a", "-v", "b", "--", "-c", "--help", "--", "-"],  # after --, words; a lone - is a word
    ["-"],
    [],
]


@pytest.mark.parametrize("args", EVERY_FLAG)
def test_quick_takes_every_ask_flag_and_builds_the_same_options(args):
    assert same_or_declined(args) is not None


# Declined: the Typer way says what is wrong (or shows help), word for word as before.
DECLINED = [
    ["--help"],
    ["-h"],
    ["-vh"],
    ["hi", "--help"],
    ["--nope", "hi"],
    ["-Z"],
    ["-1"],
    ["---m", "x"],
    ["--no-json"],  # retired
    ["-m"],
    ["hi", "--stop"],
    ["-vm"],
    ["--verbose=yes"],
    ["--think=1"],
    ["--max-tokens", "many"],
    ["--max-tokens", ""],
    ["-t", "warm"],
    ["--format", "yaml"],
    ["--format", "JSON"],
    ["--search-count", "1.5"],
]


@pytest.mark.parametrize("args", DECLINED)
def test_quick_declines_what_it_does_not_model_or_is_wrong(args):
    slow, fast = run_both(args)
    assert fast is None
    assert slow[0] in (0, 2)  # help, or a usage error


def test_a_refused_value_is_refused_the_same_way_after_parsing():
    # -o json and an empty -m parse fine; ask's checks refuse them, with the same message and exit code
    for args in (["-o", "json", "hi"], ["-m", "", "hi"], ["--schema", " "]):
        code, seen, err = same_or_declined(args)
        assert code == 2 and seen == [] and err.startswith("glm: ")


# Tokens a command line of ask is made of: its spellings (with values joined by = or stuck to a short one),
# values (good and bad for each type), words that look like flags, help, retired and unknown spellings.
SPELLINGS = sorted(quick.spec(AskOptions).flags) + ["-h", "--help", "--no-json", "--nope", "-Z"]  # type: ignore[union-attr]
VALUES = ["", "5", "-3", "1.5", " 2 ", "1_0", "nan", "1e999", "١٢", "text", "json", "abc", "-", "--", "-v", "é 问"]
SHORT = [s for s in SPELLINGS if len(s) == 2]
token = st.one_of(
    st.sampled_from(SPELLINGS),
    st.sampled_from(VALUES),
    st.tuples(st.sampled_from(SPELLINGS), st.sampled_from(VALUES)).map("=".join),
    st.tuples(st.sampled_from(SHORT), st.sampled_from(VALUES)).map("".join),
    st.lists(st.sampled_from(SHORT), min_size=2, max_size=4).map(lambda s: "-" + "".join(x[1] for x in s)),
    st.text(max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(token, max_size=8))
def test_any_command_line_is_declined_or_parsed_as_typer_parses_it(args):
    same_or_declined(args)


# A declaration quick.py does not model makes it decline the whole command: Typer's way stays the only way.


@dataclass(frozen=True)
class Counted:
    words: Annotated[tuple[str, ...], Argument(metavar="W")] = ()
    level: Annotated[int, Option("--level", "-l", count=True)] = 0


@dataclass(frozen=True)
class Required:
    words: Annotated[tuple[str, ...], Argument(metavar="W")]
    shape: Annotated[Literal["a", "b"] | None, Option("--shape")] = None


def test_an_unmodelled_declaration_declines_every_command_line():
    assert quick.spec(Counted) is None
    assert run_both(["-ll"], Counted, ())[1] is None


def test_a_required_argument_left_out_is_declined():
    slow, fast = run_both(["--shape", "a"], Required, ())
    assert fast is None and slow[0] == 2
    assert same_or_declined_with(["x", "--shape", "b"], Required) is not None


def same_or_declined_with(args: list[str], options: type) -> Any:
    slow, fast = run_both(args, options, ())
    assert fast is not None and (fast[0], repr(fast[1])) == (slow[0], repr(slow[1]))
    return fast


def test_click_completion_requests_go_the_typer_way(monkeypatch):
    monkeypatch.setenv("_GLM_COMPLETE", "bash_complete")
    assert quick.run(AskOptions, lambda opts, app: 0, RETIRED, ["hi"]) is None
