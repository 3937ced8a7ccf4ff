"""`glm models` at 80 columns (issue 13 item 16): one line a model; the notes are cut with an ellipsis, or left
out (the caption says so) when too little room is left; `glm models show ID` has them whole."""

from __future__ import annotations

import pytest

from glm_cli.catalogue import load_catalogue
from glm_cli.commands.models import ModelsOptions, ShowOptions
from tests.commands.test_models import ANSI, run


def table(make_app, width: int, **kw) -> list[str]:
    _, out, _ = run(make_app, ModelsOptions(include_retired=True, **kw), width=width, stdout_tty=True)
    return ANSI.sub("", out).splitlines()


@pytest.mark.parametrize("width", [80, 90, 100, 120])
@pytest.mark.parametrize("endpoint", [None, "bigmodel"])
def test_one_line_a_model_at_any_usual_width(make_app, width, endpoint):
    lines = table(make_app, width, endpoint=endpoint)
    ids = load_catalogue().ids(include_retired=True)
    rows = lines[1 : 1 + len(ids)]
    assert [row.split()[0] for row in rows] == ids  # each model is one line, its id whole, nothing wrapped between
    assert all(len(line) <= width for line in lines)
    assert all(len(row.split()) >= 7 for row in rows)  # ctx, out, think, tools, vision and price kept


def test_at_80_columns_the_notes_are_left_out_and_the_caption_says_so(make_app):
    lines = table(make_app, 80)
    assert lines[0].split() == ["model", "ctx", "out", "think", "tools", "vision", "price"]
    assert "a wider terminal shows the notes" in " ".join(lines)


def test_with_some_room_the_notes_are_cut_with_an_ellipsis(make_app):
    lines = table(make_app, 100)
    retired = next(line for line in lines if line.startswith("glm-z1-airx "))
    assert retired.rstrip().endswith("…") and len(retired.rstrip()) == 100
    assert next(line for line in lines if line.startswith("glm-4.7-flashx ")).split()[-2:] == ["alias", "fast"]
    _, out, _ = run(make_app, ShowOptions("glm-z1-airx"))
    assert "glm-4.5-airx" in out  # the whole story, with its replacement


def test_a_wide_terminal_shows_every_note_whole(make_app):
    assert any("retired 2025-11-15, use glm-4.5-airx; BigModel only" in line for line in table(make_app, 160))
