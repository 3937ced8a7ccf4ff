"""`glm batch --dry-run --limit N` prints the first N lines' requests only, as a run would send."""

from __future__ import annotations

import json

from tests.conftest import run_glm


def test_dry_run_honours_limit(tmp_path, env):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"q{n}", "prompt": f"p{n}"}) + "\n" for n in range(50)))
    res = run_glm(["batch", "--dry-run", "--limit", "2", str(src)], env)
    assert res.returncode == 0, res.stderr
    assert [json.loads(x)["custom_id"] for x in res.stdout.splitlines()] == ["q0", "q1"]


def test_dry_run_limit_counts_bad_lines_as_lines(tmp_path, env):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "prompt": "one"}\nnot json\n{"id": "c", "prompt": "three"}\n')
    res = run_glm(["batch", "--dry-run", "-n", "2", str(src)], env)
    assert res.returncode == 1 and "line 2" in res.stderr  # the bad line is one of the two
    assert [json.loads(x)["custom_id"] for x in res.stdout.splitlines()] == ["a"]
