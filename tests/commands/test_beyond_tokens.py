"""`glm tokens`: a request's tokens from the tokenizer endpoint, its share of the context window, its input cost."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
import respx

from glm_cli.errors import GlmError
from glm_cli.tokens import TokensOptions, run_tokens
from tests.commands.test_beyond_attach import data_url, png
from tests.conftest import glm_executable, write_config

URL = "https://api.z.ai/api/paas/v4/tokenizer"


def usage(prompt: int, image: int = 0, video: int = 0) -> dict:
    return {
        "id": "t1",
        "request_id": "t1",
        "created": 1,
        "usage": {
            "prompt_tokens": prompt,
            "image_tokens": image,
            "video_tokens": video,
            "total_tokens": prompt + image + video,
        },
    }


def bodies(route) -> list[dict]:
    return [json.loads(c.request.content) for c in route.calls]


def test_counts_the_request_ask_would_send(make_app, tmp_path):
    f = tmp_path / "notes.md"
    f.write_text("some notes\n")
    with respx.mock:
        route = respx.post(URL).mock(return_value=httpx.Response(200, json=usage(2048)))
        app = make_app("piped text\n", stdin_tty=False)
        assert (
            run_tokens(TokensOptions(prompt=("summarise",), files=(str(f),), model="glm-4.6", system="Be brief."), app)
            == 0
        )
    assert bodies(route) == [
        {
            "model": "glm-4.6",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": f"summarise\n\npiped text\n\nFile: {f}\n```\nsome notes\n```"},
            ],
        }
    ]
    assert app.ios.stdout.getvalue() == (
        "2,048 tokens · 1.0% of glm-4.6's 200K context window · input $0.0012 at $0.6 per 1M\n"
    )


def test_a_model_the_tokenizer_refuses_is_counted_with_glm_4_6(make_app):
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[
                httpx.Response(400, json={"error": {"code": "1211", "message": "Unknown Model"}}),
                httpx.Response(200, json=usage(42)),
            ]
        )
        app = make_app()
        run_tokens(TokensOptions(prompt=("hello",), as_json=True), app)  # the default model, glm-4.7
    assert [b["model"] for b in bodies(route)] == ["glm-4.7", "glm-4.6"]
    assert "does not take glm-4.7; counted with glm-4.6's tokenizer" in app.ios.stderr.getvalue()
    assert json.loads(app.ios.stdout.getvalue()) == {
        "model": "glm-4.7",
        "counted_with": "glm-4.6",
        "tokens": 42,
        "prompt_tokens": 42,
        "image_tokens": 0,
        "video_tokens": 0,
        "context_window": 204800,
        "context_fraction": round(42 / 204800, 6),
        "input_cost": {"amount": round(42 * 0.6 / 1e6, 8), "currency": "USD", "text": "<$0.0001", "per_million": 0.6},
    }


def test_images_are_counted_and_shown(make_app, tmp_path):
    path = tmp_path / "p.png"
    path.write_bytes(png())
    with respx.mock:
        route = respx.post(URL).mock(return_value=httpx.Response(200, json=usage(10, image=1500)))
        app = make_app()
        run_tokens(TokensOptions(prompt=("what",), attach=(str(path),), model="glm-4.6v-flash"), app)
    assert bodies(route)[0]["messages"][0]["content"][0] == {
        "type": "image_url",
        "image_url": {"url": data_url(path, "image/png")},
    }
    assert app.ios.stdout.getvalue().startswith("1,510 tokens (images 1,500) · 1.2% of glm-4.6v-flash's 128K")
    assert app.ios.stdout.getvalue().rstrip().endswith("input free")


def test_coding_plan_and_unknown_prices(make_app, env):
    with respx.mock:
        respx.post("https://api.z.ai/api/coding/paas/v4/tokenizer").mock(
            return_value=httpx.Response(200, json=usage(5))
        )
        app = make_app()
        run_tokens(TokensOptions(prompt=("q",), model="glm-4.6", endpoint="zai-coding"), app)
    assert app.ios.stdout.getvalue().endswith("· input Coding Plan\n")
    write_config(env, "models:\n  my-model: {context: 1000}\n")
    with respx.mock:
        respx.post(URL).mock(return_value=httpx.Response(200, json=usage(2000)))
        app = make_app()
        run_tokens(TokensOptions(prompt=("q",), model="my-model"), app)
    assert app.ios.stdout.getvalue() == (
        "2,000 tokens · 200.0% of my-model's 1,000 context window — more than fits · input price of my-model unknown\n"
    )


def test_auth_failure_is_not_retried_with_another_model(make_app):
    with respx.mock:
        route = respx.post(URL).mock(
            return_value=httpx.Response(401, json={"error": {"code": "1000", "message": "bad"}})
        )
        with pytest.raises(GlmError) as exc:
            run_tokens(TokensOptions(prompt=("q",)), make_app())
    assert exc.value.exit_code == 4 and route.call_count == 1


def test_an_answer_without_usage_is_a_protocol_error(make_app):
    with respx.mock:
        respx.post(URL).mock(return_value=httpx.Response(200, json={"id": "x"}))
        with pytest.raises(GlmError, match="no usage"):
            run_tokens(TokensOptions(prompt=("q",), model="glm-4.6"), make_app())


def test_no_input_is_a_usage_error(make_app):
    with pytest.raises(GlmError) as exc:
        run_tokens(TokensOptions(), make_app("", stdin_tty=False))
    assert exc.value.exit_code == 2


def run_glm(args, environ, **kw):
    return subprocess.run([*glm_executable(), *args], capture_output=True, text=True, env=environ, timeout=60, **kw)


def test_e2e_tokens(srv, environ):
    out = run_glm(["tokens", "--json", "count these words please"], environ, input="and these\n")
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    assert rec["model"] == "glm-4.7" and rec["counted_with"] == "glm-4.6"
    sent = [r.json for r in srv.requests if r.path.endswith("/tokenizer")]
    assert [b["model"] for b in sent] == ["glm-4.7", "glm-4.6"]
    assert sent[-1]["messages"] == [{"role": "user", "content": "count these words please\n\nand these"}]
    assert rec["tokens"] == len("count these words please\n\nand these") // 4 + 1
    assert "counted with glm-4.6's tokenizer" in out.stderr
    assert srv.chat_requests() == []  # counting never asks the model


def test_e2e_tokens_with_an_image(srv, environ, tmp_path):
    path = tmp_path / "p.png"
    path.write_bytes(png())
    out = run_glm(["tokens", "-m", "glm-4.6v", "-a", str(path), "what is it"], environ, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"{256 + len('what is it') // 4 + 1} tokens (images 256) · ")
