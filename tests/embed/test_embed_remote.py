"""`glm embed --batch FILE --submit` and `glm batch fetch`: embeddings through the Batch API, as local records."""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import pytest

from glm_cli.commands.batch.remote import FetchOptions, run_fetch
from glm_cli.embed.batch import EmbedBatchOptions, run_embed_batch
from glm_cli.embed.remote import run_embed_submit
from glm_cli.errors import UsageError
from tests.conftest import glm_executable, read_jsonl, write_jsonl
from tests.fake_server import embedding_of

LONG = "word " * 20_000  # far more than 3,072 tokens


@pytest.fixture
def app(batch_api_app):
    return batch_api_app


def write(tmp_path, rows, name="docs.jsonl") -> str:
    return write_jsonl(tmp_path, rows, name)


def uploaded(srv) -> list[dict]:
    with srv.lock:
        return [
            json.loads(x)
            for f in srv.files.values()
            if f["object"]["filename"].endswith(".jsonl") and "part" in f["object"]["filename"]
            for x in f["content"].splitlines()
        ]


def test_submit_writes_embeddings_lines_and_an_embeddings_batch(app, srv, tmp_path):
    src = write(tmp_path, [{"id": "a", "text": "first"}, "second", {"id": "c", "text": LONG}])
    srv.batch_steps_per_status = 1
    code = run_embed_submit(EmbedBatchOptions(file=src, dimensions=256), app)
    assert code == 1  # one line could not be sent
    (batch_id,) = app.ios.stdout.getvalue().split()
    lines = uploaded(srv)
    assert lines == [
        {
            "custom_id": "a",
            "method": "POST",
            "url": "/v4/embeddings",
            "body": {"model": "embedding-3", "input": "first", "dimensions": 256},
        },
        {
            "custom_id": "line-2",
            "method": "POST",
            "url": "/v4/embeddings",
            "body": {"model": "embedding-3", "input": "second", "dimensions": 256},
        },
    ]
    assert srv.batches[batch_id]["endpoint"] == "/v4/embeddings"
    err = app.ios.stderr.getvalue()
    assert "line 3 is 100,000 characters" in err and "(not submitted)" in err  # refused, never cut
    assert f"glm batch fetch {batch_id} -o vectors.jsonl" in err


def test_fetch_gives_the_records_a_local_run_writes(app, srv, tmp_path):
    rows = [{"id": "a", "text": "first"}, {"id": "b", "text": "second"}, {"id": "c", "text": LONG}]
    src = write(tmp_path, rows)
    run_embed_submit(EmbedBatchOptions(file=src, dimensions=256), app)
    (batch_id,) = app.ios.stdout.getvalue().split()
    out = tmp_path / "vectors.jsonl"
    for _ in range(2):  # a repeated fetch adds nothing
        code = run_fetch(FetchOptions((batch_id,), output=str(out), wait=True, poll=1), app)
        assert code == 1  # the over-long line's record is an error
    remote = {r["id"]: r for r in read_jsonl(out)}
    assert Counter(r["id"] for r in read_jsonl(out)) == Counter({"a": 1, "b": 1, "c": 1})
    assert remote["a"]["embedding"] == embedding_of("first", 256) and remote["a"]["dimensions"] == 256
    assert remote["a"]["status"] == "ok" and remote["a"]["model"] == "embedding-3"
    assert remote["a"]["usage"]["prompt_tokens"] > 0
    assert remote["c"]["status"] == "error" and remote["c"]["error"]["code"] == "input_too_long"
    assert remote["c"]["line"] == 3 and remote["c"]["embedding"] is None
    local_out = tmp_path / "local.jsonl"
    run_embed_batch(EmbedBatchOptions(file=src, output=str(local_out), dimensions=256), app)
    local = {r["id"]: r for r in read_jsonl(local_out)}
    assert all(set(local[k]) == set(remote[k]) for k in local)  # the same record shape
    assert [local[k]["embedding"] for k in "ab"] == [remote[k]["embedding"] for k in "ab"]
    assert local["c"]["error"] == remote["c"]["error"]


def test_a_failed_line_is_an_error_record_and_local_run_finishes_it(app, srv, tmp_path):
    src = write(tmp_path, [{"id": "a", "text": "first"}, {"id": "b", "text": "second"}])
    srv.batch_fail_custom_ids = {"b"}
    run_embed_submit(EmbedBatchOptions(file=src), app)
    (batch_id,) = app.ios.stdout.getvalue().split()
    out = tmp_path / "vectors.jsonl"
    assert run_fetch(FetchOptions((batch_id,), output=str(out), wait=True, poll=1), app) == 1
    got = {r["id"]: r for r in read_jsonl(out)}
    assert got["b"]["error"] == {"code": "500", "message": "Internal server error"}
    assert len(got["a"]["embedding"]) == 2048
    assert run_embed_batch(EmbedBatchOptions(file=src, output=str(out), retry_failed=True), app) == 0
    assert {r["id"] for r in read_jsonl(out) if r["status"] == "ok"} == {"a", "b"}


def test_embeddings_batches_hold_at_most_10000_lines(app, srv, tmp_path):
    src = tmp_path / "many.txt"
    src.write_text("".join(f"t{n}\n" for n in range(10_001)))
    assert run_embed_submit(EmbedBatchOptions(file=str(src), text=True), app) == 0
    first, second = app.ios.stdout.getvalue().split()
    assert [srv.batches[b]["endpoint"] for b in (first, second)] == ["/v4/embeddings"] * 2
    with srv.lock:
        sizes = sorted(len(f["content"].splitlines()) for f in srv.files.values())
    assert sizes == [1, 10_000]


def test_fetch_batch_api_format_and_schema_refusal(app, srv, tmp_path):
    src = write(tmp_path, ["first"])
    run_embed_submit(EmbedBatchOptions(file=src, dimensions=256), app)
    (batch_id,) = app.ios.stdout.getvalue().split()
    with pytest.raises(UsageError, match="embeddings batch: --schema checks chat answers"):
        run_fetch(FetchOptions((batch_id,), wait=True, poll=1, schema='{"type": "object"}'), app)
    out = tmp_path / "api.jsonl"
    assert run_fetch(FetchOptions((batch_id,), output=str(out), format="batch-api"), app) == 0
    (line,) = read_jsonl(out)
    assert line["custom_id"] == "line-1" and line["response"]["status_code"] == 200
    assert line["response"]["body"]["data"][0]["embedding"] == embedding_of("first", 256)


def test_submit_refusals_from_the_command_line(environ, tmp_path):
    src = tmp_path / "docs.jsonl"
    src.write_text('"x"\n')
    cases = [
        (["embed", "--submit", "hello"], "--submit sends the lines of a file: it needs --batch FILE"),
        (["embed", "--batch", str(src), "--submit", "-o", "v.jsonl"], "--submit prints batch ids"),
        (["embed", "--batch", str(src), "--submit", "--dimensions", "100"], "embedding-3 gives 256, 512"),
    ]
    for args, message in cases:
        res = subprocess.run([*glm_executable(), *args], env=environ, capture_output=True, text=True, timeout=60)
        assert res.returncode == 2 and message in res.stderr, res.stderr


def test_submit_and_fetch_end_to_end(environ, srv, tmp_path):
    srv.batch_steps_per_status = 0
    src = tmp_path / "docs.jsonl"
    src.write_text('{"id": "a", "text": "first"}\n{"id": "b", "text": "second"}\n')
    sub = subprocess.run(
        [*glm_executable(), "embed", "--batch", str(src), "--submit", "--dimensions", "512"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sub.returncode == 0, sub.stderr
    (batch_id,) = sub.stdout.split()
    out = tmp_path / "vectors.jsonl"
    fetch = subprocess.run(
        [*glm_executable(), "batch", "fetch", batch_id, "-o", str(out), "--wait", "--poll", "0.05"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert fetch.returncode == 0, fetch.stderr
    assert {r["id"]: r["embedding"] for r in read_jsonl(out)} == {
        "a": embedding_of("first", 512),
        "b": embedding_of("second", 512),
    }
    assert "2 ok, 0 failed" in fetch.stderr
