"""binding.command(): an Options dataclass is the whole declaration of a command's flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import pytest

from glm_cli.commands import binding
from glm_cli.commands import options as o
from glm_cli.commands.flags import Argument, Help, Option, Retired
from glm_cli.commands.tooling import ToolOptions


@dataclass(frozen=True)
class Inner:
    tags: Annotated[tuple[str, ...], Option("--tag", metavar="TAG", help="Repeatable.")] = ()
    level: Annotated[int, Option("--level", metavar="N", help="A number.")] = 3


@dataclass(frozen=True)
class DemoOptions:
    words: Annotated[tuple[str, ...], Argument(metavar="WORD...", help="Words.")] = ()
    model: o.Model = None
    output: Annotated[o.Output, Help("Write the demo to FILE.")] = None
    inner: Inner = field(default_factory=Inner)
    tools: ToolOptions = field(default_factory=ToolOptions)
    not_a_flag: dict[str, Any] = field(default_factory=dict)


def run_demo(argv: list[str], **kw: Any) -> tuple[int, list[Any]]:
    seen: list[Any] = []

    def run(opts: DemoOptions, app: Any) -> int:
        seen.append(opts)
        return 0

    cmd = binding.command(DemoOptions, run, name="demo", help="A demo.", **kw)
    with pytest.raises(SystemExit) as exc:
        cmd.main(argv, prog_name="demo")
    return exc.value.code or 0, seen


def test_flags_fill_their_fields_groups_included():
    code, (opts,) = run_demo(["a", "b", "-m", "air", "--tag", "x", "--tag", "y", "--level", "5", "--tool", "t.yaml"])
    assert code == 0
    assert opts == DemoOptions(
        words=("a", "b"), model="air", inner=Inner(tags=("x", "y"), level=5), tools=ToolOptions(tools=("t.yaml",))
    )


def test_nothing_given_is_the_dataclass_defaults():
    code, (opts,) = run_demo([])
    assert code == 0 and opts == DemoOptions()


def test_a_value_check_and_a_retired_spelling_stop_the_command_before_it_runs(capsys):
    code, seen = run_demo(["-o", "json"])
    assert code == 2 and seen == [] and "glm: -o is the output file, not a format" in capsys.readouterr().err
    old = Retired(("--old",), "--old is gone", "use --new", takes_value=True)
    code, seen = run_demo(["--old", "x"], retired=(old,))
    assert code == 2 and seen == [] and capsys.readouterr().err == "glm: --old is gone\nhint: use --new\n"


def test_help_text_per_command_and_hidden_retired_names(capsys):
    old = Retired(("--old",), "--old is gone", "use --new")
    with pytest.raises(SystemExit):
        binding.command(DemoOptions, lambda o, a: 0, name="demo", help="A demo.", retired=(old,)).main(
            ["--help"], prog_name="demo"
        )
    text = capsys.readouterr().out
    assert "Write the demo to FILE." in text and "--tag TAG" in text and "--old" not in text
    assert "not_a_flag" not in text and "not-a-flag" not in text


def test_a_parameter_name_used_twice_is_refused_when_the_command_is_built():
    @dataclass(frozen=True)
    class Clash:
        level: Annotated[int, Option("--other-level", metavar="N")] = 1
        inner: Inner = field(default_factory=Inner)

    with pytest.raises(TypeError, match="used twice"):
        binding.command(Clash, lambda o, a: 0, name="clash", help="")
