"""`glm --help` is printed without Typer (glm_cli/root_help.py), and is what click prints for the root group."""

from __future__ import annotations

import pytest

from glm_cli.cli import HELP, build_command, command_help
from glm_cli.root_help import render, short_help
from tests.test_perf_startup import modules_after


def click_help(monkeypatch: pytest.MonkeyPatch, cols: int) -> str:
    """The root group's help as click renders it at COLS columns (what `glm --help` printed before)."""
    monkeypatch.setenv("COLUMNS", str(cols))
    group = build_command()
    ctx = group.make_context("glm", ["x"], resilient_parsing=True)
    return group.get_help(ctx) + "\n"


@pytest.mark.parametrize("cols", [*range(1, 60), *range(60, 240, 7), 1000])
def test_the_root_help_is_clicks_at_every_width(monkeypatch: pytest.MonkeyPatch, cols: int) -> None:
    import shutil

    mine = render(HELP, command_help(), max(min(cols, 160) - 2, 50))
    monkeypatch.setenv("COLUMNS", str(cols))
    assert shutil.get_terminal_size().columns == cols
    assert mine == click_help(monkeypatch, cols)


@pytest.mark.parametrize(
    "text",
    [
        "Short.",
        "One two three four five six seven eight nine ten eleven twelve.",
        "No sentence end at all but many words to cut somewhere along the way",
        "Exactlyfortyfivecharacterslongwordthatisverylong and more",
        "First paragraph ends here\n\nsecond one is ignored.",
        "a " * 40,
    ],
)
@pytest.mark.parametrize("limit", [5, 20, 45, 70])
def test_short_help_cuts_as_click_does(text: str, limit: int) -> None:
    from typer.core import TyperCommand

    assert short_help(text, limit) == TyperCommand("x", help=text).get_short_help_str(limit)


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["help"], ["help", "ask"]])
def test_glm_help_imports_no_typer(args: list[str]) -> None:
    text, mods = modules_after(args, {"COLUMNS": "80"})
    assert not any(m.startswith("typer") for m in mods)
    assert text.startswith("Usage: glm [OPTIONS] COMMAND [ARGS]...\n\n  glm — the command line")
    assert text.endswith("  completion  Print the shell completion script.\n")
