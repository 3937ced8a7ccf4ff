"""`glm batch fetch` can be repeated: one record per id, whatever came before; per-batch talk; --poll > 0."""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.batch.remote import LineSet, Part
from glm_cli.commands.batch.remote import FetchOptions, SubmitOptions, run_fetch, run_submit
from glm_cli.errors import GlmError, UsageError
from tests.conftest import glm_executable, read_jsonl, write_jsonl


@pytest.fixture
def app(batch_api_app):
    return batch_api_app


def write(tmp_path, rows, name="in.jsonl") -> str:
    return write_jsonl(tmp_path, rows, name)


def submit(app, src, **kw) -> list[str]:
    app.ios.stdout.seek(0)
    app.ios.stdout.truncate()
    run_submit(SubmitOptions(file=src, **kw), app)
    return app.ios.stdout.getvalue().split()


def stderr(app) -> str:
    text = app.ios.stderr.getvalue()
    app.ios.stderr.seek(0)
    app.ios.stderr.truncate()
    return text


def test_repeated_fetch_writes_each_id_once(app, srv, tmp_path):
    src = write(tmp_path, [{"id": f"q{n}", "prompt": f"p{n}"} for n in range(6)])
    srv.batch_fail_custom_ids = {"q1", "q4"}
    (batch_id,) = submit(app, src)
    out = tmp_path / "out.jsonl"
    for n in range(3):
        assert run_fetch(FetchOptions((batch_id,), output=str(out), wait=True, poll=1), app) == 1
        counts = Counter(r["id"] for r in read_jsonl(out))
        assert counts == Counter({f"q{k}": 1 for k in range(6)}), f"fetch #{n + 1}"
    err = stderr(app)
    assert "2 error record(s) already in" in err and "were not written again" in err
    assert {r["id"] for r in read_jsonl(out) if r["status"] == "error"} == {"q1", "q4"}


def test_fetch_after_an_interrupted_fetch_completes_without_duplicates(app, srv, tmp_path):
    src = write(tmp_path, [{"id": f"q{n}", "prompt": f"p{n}"} for n in range(5)])
    srv.batch_fail_custom_ids = {"q0"}
    (batch_id,) = submit(app, src)
    out = tmp_path / "out.jsonl"
    run_fetch(FetchOptions((batch_id,), output=str(out), wait=True, poll=1), app)
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:2]) + lines[2][:15])  # killed mid-write: two records and a torn third
    run_fetch(FetchOptions((batch_id,), output=str(out)), app)
    run_fetch(FetchOptions((batch_id,), output=str(out)), app)
    assert Counter(r["id"] for r in read_jsonl(out)) == Counter({f"q{k}": 1 for k in range(5)})


def test_an_ok_result_replaces_an_earlier_error_record(app, srv, tmp_path):
    src = write(tmp_path, [{"id": "a", "prompt": "one"}, {"id": "b", "prompt": "two"}])
    (batch_id,) = submit(app, src)
    out = tmp_path / "out.jsonl"
    earlier = {"id": "a", "line": 1, "status": "error", "content": None, "error": {"code": "1113", "message": "x"}}
    out.write_text(json.dumps(earlier) + "\n")
    assert run_fetch(FetchOptions((batch_id,), output=str(out), wait=True, poll=1), app) == 0
    got = read_jsonl(out)
    assert sorted((r["id"], r["status"]) for r in got) == [("a", "ok"), ("b", "ok")]
    assert "1 earlier error record(s) replaced by ok results" in stderr(app)


def test_fetching_one_batch_of_a_multi_model_submit_speaks_only_of_its_lines(app, srv, tmp_path):
    rows = [{"id": f"q{n}", "prompt": f"p{n}", "model": "glm-4.7" if n % 2 else "glm-4.7-flash"} for n in range(6)]
    first, second = submit(app, write(tmp_path, rows))
    stderr(app)
    out = tmp_path / "out.jsonl"
    assert run_fetch(FetchOptions((first,), output=str(out), wait=True, poll=1), app) == 0
    err = stderr(app)
    assert "have no result" not in err and "run them locally" not in err and "run the lines locally" not in err
    assert f"3 other line(s) of {tmp_path / 'in.jsonl'} are in batch {second}" in err
    assert f"glm batch fetch {second} -o {out}" in err
    assert sorted(r["id"] for r in read_jsonl(out)) == ["q0", "q2", "q4"]
    assert run_fetch(FetchOptions((second,), output=str(out), wait=True, poll=1), app) == 0
    err = stderr(app)
    assert "other line(s)" not in err and "have no result" not in err
    assert Counter(r["id"] for r in read_jsonl(out)) == Counter({f"q{k}": 1 for k in range(6)})


def test_a_line_missing_from_the_fetched_batch_is_named_with_its_batch(app, srv, tmp_path):
    rows = [{"id": f"q{n}", "prompt": f"p{n}", "model": "glm-4.7" if n % 2 else "glm-4.7-flash"} for n in range(4)]
    src = write(tmp_path, rows)
    first, second = submit(app, src)
    out = tmp_path / "out.jsonl"
    state = srv._batch_state[first]
    state["lines"] = [x for x in state["lines"] if x["custom_id"] != "q2"]  # the batch lost a line
    assert run_fetch(FetchOptions((first,), output=str(out), wait=True, poll=1), app) == 1
    err = stderr(app)
    assert f"1 line(s) of {src} in batch {first} have no result: q2" in err
    assert f"are in batch {second}" in err and "q1" not in err.split("have no result")[1].split("\n")[0]


def test_unsent_lines_get_their_error_record_once(app, srv, tmp_path):
    src = write(tmp_path, [{"id": "a", "prompt": "one"}, {"id": "b", "prompt": 5}])
    (batch_id,) = submit(app, src)
    assert "writes their error records" in stderr(app)
    out = tmp_path / "out.jsonl"
    for _ in range(2):
        assert run_fetch(FetchOptions((batch_id,), output=str(out), wait=True, poll=1), app) == 1
    got = {r["id"]: r for r in read_jsonl(out)}
    assert len(read_jsonl(out)) == 2 and got["a"]["status"] == "ok"
    assert got["b"]["error"]["code"] == "invalid_line" and got["b"]["line"] == 2
    assert "`prompt` must be a string" in got["b"]["error"]["message"]


@pytest.mark.parametrize("poll", [0, -1, float("inf"), float("nan")])
def test_poll_must_be_a_positive_interval(app, tmp_path, poll):
    with pytest.raises(UsageError, match="--poll must be a positive number of seconds"):
        run_fetch(FetchOptions(("batch_1",), wait=True, poll=poll), app)
    with pytest.raises(UsageError, match="--poll must be a positive number"):
        run_submit(SubmitOptions(file=write(tmp_path, ["x"]), wait=True, poll=poll), app)


def test_poll_zero_exits_2_from_the_command_line(environ, srv):
    for args in (["fetch", "batch_1", "--wait"], ["submit", "-", "--wait"]):
        res = subprocess.run(
            [*glm_executable(), "batch", *args, "--poll", "0"],
            env=environ,
            input="x\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode == 2, res.stderr
        assert "glm: --poll must be a positive number of seconds, got 0" in res.stderr
    assert not [r for r in srv.requests if "batches" in r.path or "files" in r.path]


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(min_value=1, max_value=300)), st.integers(min_value=0, max_value=310))
def test_a_parts_line_runs_hold_exactly_its_lines(numbers, probe):
    part = Part("m", fh=None)  # type: ignore[arg-type]
    for n in sorted(numbers):
        part.add_line(n)
    lines = LineSet(json.loads(json.dumps(part.ranges)))  # as the manifest keeps them
    assert all(n in lines for n in numbers) and (probe in lines) == (probe in numbers)
    assert sum(b - a + 1 for a, b in part.ranges) == len(numbers)


def test_a_manifest_without_line_runs_names_every_missing_line_of_the_input(app, srv, tmp_path, env):
    rows = [{"id": f"q{n}", "prompt": f"p{n}", "model": "glm-4.7" if n % 2 else "glm-4.7-flash"} for n in range(4)]
    src = write(tmp_path, rows)
    first, _ = submit(app, src)
    manifest = tmp_path / "data" / "glm" / "batches" / f"{first}.json"
    old = json.loads(manifest.read_text())
    del old["lines"], old["unsent"]  # written by an older glm
    manifest.write_text(json.dumps(old))
    stderr(app)
    assert run_fetch(FetchOptions((first,), output=str(tmp_path / "o.jsonl"), wait=True, poll=1), app) == 1
    assert f"2 line(s) of {src} have no result: q1, q3" in stderr(app)


def test_a_pending_batch_of_the_same_submit_is_named_with_wait(app, srv, tmp_path):
    rows = [{"id": f"q{n}", "prompt": f"p{n}", "model": "glm-4.7" if n % 2 else "glm-4.7-flash"} for n in range(4)]
    first, second = submit(app, write(tmp_path, rows))
    srv._get_batch(first, advance=True)  # the first batch finishes (steps 0: one status GET)
    srv.batch_steps_per_status = 5  # the second stays validating through the next status GETs
    stderr(app)
    out = tmp_path / "o.jsonl"
    assert run_fetch(FetchOptions((first,), output=str(out)), app) == 0
    err = stderr(app)
    assert f"2 other line(s) of {tmp_path / 'in.jsonl'} are in batch {second} (still validating)" in err
    assert f"glm batch fetch {second} -o {out} --wait" in err


def test_batches_created_before_a_failed_part_are_remembered(app, srv, tmp_path):
    rows = [{"id": "a", "prompt": "short", "model": "glm-4.7-flash"}, {"id": "b", "prompt": "x" * 2000}]
    src = write(tmp_path, rows)
    srv.max_file_bytes = 1000  # the second part (glm-4.7, 2 KB) is refused on upload
    with pytest.raises(GlmError):
        run_submit(SubmitOptions(file=src), app)
    (first,) = app.ios.stdout.getvalue().split()
    manifest = json.loads((tmp_path / "data" / "glm" / "batches" / f"{first}.json").read_text())
    assert manifest["batches"] == [first] and manifest["lines"] == [[1, 1]]
    stderr(app)
    out = tmp_path / "out.jsonl"
    assert run_fetch(FetchOptions((first,), output=str(out), wait=True, poll=1), app) == 0
    assert [r["id"] for r in read_jsonl(out)] == ["a"] and "have no result" not in stderr(app)
