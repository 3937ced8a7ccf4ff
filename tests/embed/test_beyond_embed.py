"""`glm embed`: one text's vector from embedding-3, as a JSON array or one number per line."""

from __future__ import annotations

import json
import os
import subprocess

import httpx
import pytest
import respx

from glm_cli.embed import EmbedOptions, run_embed
from glm_cli.errors import GlmError
from tests.conftest import run_glm
from tests.fake_server import embedding_of

URL = "https://api.z.ai/api/paas/v4/embeddings"


def answer(*vectors, tokens=5) -> dict:
    return {
        "model": "embedding-3",
        "object": "list",
        "data": [{"index": i, "object": "embedding", "embedding": v} for i, v in enumerate(vectors)],
        "usage": {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens},
    }


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(URL).mock(return_value=httpx.Response(200, json=answer([0.0123, -0.0456, 1])))


def sent(route) -> dict:
    return json.loads(route.calls.last.request.content)


def test_text_argument_and_the_json_array(make_app, api):
    app = make_app()
    assert run_embed(EmbedOptions(text=("hello", "world")), app) == 0
    assert sent(api) == {"model": "embedding-3", "input": "hello world"}
    assert app.ios.stdout.getvalue() == "[0.0123, -0.0456, 1.0]\n"


def test_lines_format_and_dimensions(make_app):
    with respx.mock:
        route = respx.post(URL).mock(return_value=httpx.Response(200, json=answer([0.5] * 256)))
        app = make_app()
        run_embed(EmbedOptions(text=("x",), dimensions=256, fmt="lines"), app)
    assert sent(route) == {"model": "embedding-3", "input": "x", "dimensions": 256}
    assert app.ios.stdout.getvalue() == "0.5\n" * 256


def test_stdin_file_and_output_file(make_app, api, tmp_path):
    app = make_app("piped text\n", stdin_tty=False)
    run_embed(EmbedOptions(), app)
    assert sent(api)["input"] == "piped text\n"
    src, dest = tmp_path / "doc.txt", tmp_path / "vec.json"
    src.write_text("file text")
    app = make_app()
    run_embed(EmbedOptions(file=str(src), output=str(dest)), app)
    assert sent(api)["input"] == "file text"
    assert json.loads(dest.read_text()) == [0.0123, -0.0456, 1.0] and app.ios.stdout.getvalue() == ""
    assert oct(dest.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_json_record(make_app, api):
    app = make_app()
    run_embed(EmbedOptions(text=("x",), as_json=True), app)
    rec = json.loads(app.ios.stdout.getvalue())
    assert rec["model"] == "embedding-3" and rec["dimensions"] == 3 and rec["embedding"] == [0.0123, -0.0456, 1.0]
    assert rec["usage"]["prompt_tokens"] == 5


@pytest.mark.parametrize(
    ("opts", "match"),
    [
        (EmbedOptions(text=("x",), dimensions=300), "embedding-3 gives 256, 512, 1024, 2048 dimensions, not 300"),
        (EmbedOptions(text=("x",), model="embedding-2", dimensions=512), "embedding-2 gives 1024 dimensions"),
        (EmbedOptions(text=("x",), fmt="csv"), "--format must be json or lines"),
        (EmbedOptions(text=("x",), file="f"), "give the text one way"),
        (EmbedOptions(text=("   ",)), "nothing to embed: the text is empty"),
        (EmbedOptions(text=("word " * 4000,)), "more than the 3,072 tokens embedding-3 embeds at once"),
    ],
)
def test_refused_before_sending(make_app, api, opts, match):
    with pytest.raises(GlmError, match=match) as exc:
        run_embed(opts, make_app())
    assert exc.value.exit_code == 2 and not api.called


def test_nothing_piped_on_a_terminal(make_app, api):
    with pytest.raises(GlmError, match="give TEXT, -f FILE or pipe it in"):
        run_embed(EmbedOptions(), make_app(stdin_tty=True))


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        {"data": [{"index": 0, "embedding": ["a"]}]},
        {"data": [{"index": 3, "embedding": [1.0]}]},
        {"data": "x"},
    ],
)
def test_odd_answers_are_protocol_errors(make_app, body):
    with respx.mock:
        respx.post(URL).mock(return_value=httpx.Response(200, json=body))
        with pytest.raises(GlmError, match="embeddings answer"):
            run_embed(EmbedOptions(text=("x",)), make_app())


def test_wrong_size_vector_is_a_protocol_error(make_app):
    with respx.mock:
        respx.post(URL).mock(return_value=httpx.Response(200, json=answer([1.0] * 10)))
        with pytest.raises(GlmError, match="gave 10 dimensions, not the 512 asked for"):
            run_embed(EmbedOptions(text=("x",), dimensions=512), make_app())


def test_e2e_embed(srv, environ, tmp_path):
    out = run_glm(["embed", "--dimensions", "256", "hello"], environ, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == embedding_of("hello", 256)
    body = [r.json for r in srv.requests if r.path.endswith("/embeddings")][-1]
    assert body == {"model": "embedding-3", "input": "hello", "dimensions": 256}
    out = run_glm(["embed", "--format", "lines", "-o", str(tmp_path / "v.txt")], environ, input="from stdin")
    assert out.returncode == 0 and out.stdout == ""
    assert [float(x) for x in (tmp_path / "v.txt").read_text().split()] == embedding_of("from stdin", 2048)


def test_e2e_embed_refusals(srv, environ):
    out = run_glm(["embed", "--dimensions", "100", "x"], environ, stdin=subprocess.DEVNULL)
    assert out.returncode == 2 and "glm: embedding-3 gives 256, 512, 1024, 2048 dimensions, not 100" in out.stderr
    out = run_glm(["embed", "-m", "embedding-9", "x"], environ, stdin=subprocess.DEVNULL)
    assert out.returncode == 1 and "GLM 1211" in out.stderr
