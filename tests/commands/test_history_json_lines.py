"""`history list --json` and `history search --json`: one JSON array, one compact object a line."""

from __future__ import annotations

import json

from tests.conftest import run_glm


def test_list_and_search_print_one_object_a_line(srv, environ):
    for n in range(3):
        assert run_glm(["ask", f"question {n}"], environ).returncode == 0
    for argv in (["history", "list", "--json"], ["history", "search", "question", "--json"]):
        out = run_glm(argv, environ)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0] == "[" and lines[-1] == "]"
        assert [json.loads(line.rstrip(",")) for line in lines[1:-1]] == json.loads(out.stdout)
        assert len(json.loads(out.stdout)) >= 3


def test_nothing_is_an_empty_array(srv, environ):
    out = run_glm(["history", "list", "--json"], environ)
    assert out.returncode == 0 and out.stdout == "[]\n"
