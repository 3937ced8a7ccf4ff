"""`glm embed --batch FILE`: every line's vector, 64 inputs a request, concurrent, resumable, refusals per line."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from glm_cli.embed.batch import EmbedBatchOptions, run_embed_batch
from glm_cli.errors import GlmError
from tests.conftest import run_glm
from tests.fake_server import embedding_of

URL = "https://api.z.ai/api/paas/v4/embeddings"


def vector(text: str) -> list[float]:
    return embedding_of(text, 4)


def respond(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
    data = [{"index": i, "object": "embedding", "embedding": vector(t)} for i, t in reversed(list(enumerate(texts)))]
    return httpx.Response(
        200,
        json={
            "model": body["model"],
            "object": "list",
            "data": data,
            "usage": {"prompt_tokens": len(texts), "completion_tokens": 0, "total_tokens": len(texts)},
        },
    )


def write_lines(path, n: int, extra=()):
    lines = [json.dumps({"id": f"t{i}", "text": f"text number {i}"}) for i in range(n)] + list(extra)
    path.write_text("\n".join(lines) + "\n")
    return path


def records(path) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, path.read_text().splitlines())}


def inputs(route) -> list[list[str]]:
    out = []
    for call in route.calls:
        body = json.loads(call.request.content)
        out.append([body["input"]] if isinstance(body["input"], str) else body["input"])
    return out


def test_packs_of_64_in_order_with_each_lines_vector(make_app, tmp_path):
    src, out = write_lines(tmp_path / "in.jsonl", 130), tmp_path / "out.jsonl"
    with respx.mock:
        route = respx.post(URL).mock(side_effect=respond)
        app = make_app()
        assert run_embed_batch(EmbedBatchOptions(file=str(src), output=str(out), concurrency=2), app) == 0
    assert sorted(len(pack) for pack in inputs(route)) == [2, 64, 64]
    got = records(out)
    assert len(got) == 130 and all(r["status"] == "ok" for r in got.values())
    assert got["t77"]["embedding"] == vector("text number 77") and got["t77"]["line"] == 78
    assert "glm embed: 130 ok, 0 failed" in app.ios.stderr.getvalue()


def test_a_rerun_sends_only_what_is_missing(make_app, tmp_path):
    src, out = write_lines(tmp_path / "in.jsonl", 10), tmp_path / "out.jsonl"
    with respx.mock:
        respx.post(URL).mock(side_effect=respond)
        run_embed_batch(EmbedBatchOptions(file=str(src), output=str(out)), make_app())
    kept = [line for line in out.read_text().splitlines() if json.loads(line)["id"] not in ("t3", "t8")]
    out.write_text("\n".join(kept) + "\n")
    with respx.mock:
        route = respx.post(URL).mock(side_effect=respond)
        app = make_app()
        assert run_embed_batch(EmbedBatchOptions(file=str(src), output=str(out)), app) == 0
    assert inputs(route) == [["text number 3", "text number 8"]]
    assert len(records(out)) == 10 and "skipped 8 already ok" in app.ios.stderr.getvalue()


def test_refusals_are_records_of_their_own_line(make_app, tmp_path):
    extra = [json.dumps({"id": "long", "text": "word " * 4000}), "not json", json.dumps({"id": "n", "x": 1})]
    src, out = write_lines(tmp_path / "in.jsonl", 3, extra), tmp_path / "out.jsonl"
    with respx.mock:
        route = respx.post(URL).mock(side_effect=respond)
        assert run_embed_batch(EmbedBatchOptions(file=str(src), output=str(out)), make_app()) == 1
    assert inputs(route) == [["text number 0", "text number 1", "text number 2"]]  # never sent, never cut
    got = records(out)
    assert got["long"]["error"]["code"] == "input_too_long" and "3,072 tokens" in got["long"]["error"]["message"]
    assert got["line-5"]["error"]["code"] == "invalid_request" and got["n"]["status"] == "error"


def test_a_refused_pack_is_tried_one_input_at_a_time(make_app, tmp_path):
    src, out = write_lines(tmp_path / "in.jsonl", 3), tmp_path / "out.jsonl"

    def picky(request):
        body = json.loads(request.content)
        if "text number 1" in body["input"]:
            return httpx.Response(400, json={"error": {"code": "1210", "message": "input exceeds 3072 tokens"}})
        return respond(request)

    with respx.mock:
        route = respx.post(URL).mock(side_effect=picky)
        assert run_embed_batch(EmbedBatchOptions(file=str(src), output=str(out)), make_app()) == 1
    assert len(route.calls) == 4
    got = records(out)
    assert got["t0"]["status"] == got["t2"]["status"] == "ok"
    assert got["t1"]["error"]["code"] == "1210"


@pytest.mark.parametrize(("status", "code", "exit_code"), [(401, "1000", 4), (429, "1113", 5)])
def test_auth_and_balance_stop_the_run_leaving_the_rest(make_app, tmp_path, status, code, exit_code):
    src, out = write_lines(tmp_path / "in.jsonl", 3), tmp_path / "out.jsonl"
    with respx.mock:
        respx.post(URL).mock(return_value=httpx.Response(status, json={"error": {"code": code, "message": "no"}}))
        app = make_app()
        assert run_embed_batch(EmbedBatchOptions(file=str(src), output=str(out)), app) == exit_code
    assert out.read_text() == ""  # nothing recorded: a rerun sends all three
    assert "stopped early" in app.ios.stderr.getvalue()


def test_usage_errors_before_sending(make_app, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n')
    with respx.mock:
        route = respx.post(URL).mock(side_effect=respond)
        for opts, match in (
            (EmbedBatchOptions(file=str(src)), "used more than once"),
            (EmbedBatchOptions(file=str(src), conflicts=("TEXT",)), "TEXT is for one text"),
            (EmbedBatchOptions(file=str(src), dimensions=3), "not 3"),
            (EmbedBatchOptions(file=str(src), output=str(src)), "the output file is the input"),
        ):
            with pytest.raises(GlmError, match=match) as exc:
                run_embed_batch(opts, make_app())
            assert exc.value.exit_code == 2
    assert not route.called


def test_e2e_embed_batch(srv, environ, tmp_path):
    src, out = tmp_path / "in.txt", tmp_path / "out.jsonl"
    src.write_text("".join(f"sentence {i}\n" for i in range(70)))
    done = run_glm(["embed", "--batch", str(src), "--text", "--dimensions", "256", "-o", str(out)], environ)
    assert done.returncode == 0, done.stderr
    got = records(out)
    assert len(got) == 70 and got["line-70"]["embedding"] == embedding_of("sentence 69", 256)
    sent = [r.json for r in srv.requests if r.path.endswith("/embeddings")]
    assert sorted(len(b["input"]) for b in sent) == [6, 64] and all(b["dimensions"] == 256 for b in sent)
    again = run_glm(["embed", "--batch", str(src), "--text", "--dimensions", "256", "-o", str(out)], environ)
    assert again.returncode == 0 and len([r for r in srv.requests if r.path.endswith("/embeddings")]) == 2
    assert "skipped 70 already ok" in again.stderr
    refused = run_glm(["embed", "--batch", str(src), "hello"], environ)
    assert refused.returncode == 2 and "TEXT is for one text" in refused.stderr


def test_ctrl_c_keeps_what_finished_and_the_rerun_sends_the_rest(make_app, tmp_path):
    src, out = write_lines(tmp_path / "in.jsonl", 100), tmp_path / "out.jsonl"
    calls = []

    def interrupted_second(request):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return respond(request)

    with respx.mock:
        respx.post(URL).mock(side_effect=interrupted_second)
        app = make_app()
        assert run_embed_batch(EmbedBatchOptions(file=str(src), output=str(out), concurrency=1), app) == 130
    assert len(records(out)) == 64 and "interrupted; run the same command again" in app.ios.stderr.getvalue()
    with respx.mock:
        route = respx.post(URL).mock(side_effect=respond)
        assert run_embed_batch(EmbedBatchOptions(file=str(src), output=str(out)), make_app()) == 0
    assert [len(pack) for pack in inputs(route)] == [36] and len(records(out)) == 100
