"""Other OpenAI-compatible servers: their error codes are not GLM codes, and the SDKs' base URL variables."""

from __future__ import annotations

import httpx
import pytest
import typer

from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.commands.common import run_command


def ask(make_app, status: int, body: bytes, seen: list) -> tuple[int, str]:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    app = make_app(transport=httpx.MockTransport(answer))
    with pytest.raises(typer.Exit) as exc:
        run_command(run_ask, AskOptions(prompt=("hi",), no_log=True), app)
    return exc.value.exit_code, app.ios.stderr.getvalue()


def test_an_openai_style_401_is_an_auth_error_not_a_glm_code(make_app):
    seen: list = []
    body = (
        b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",'
        b' "code": "invalid_api_key"}}'
    )
    code, err = ask(make_app, 401, body, seen)
    assert code == 4 and len(seen) == 1  # exit 4 (auth), not retried
    assert "GLM invalid_api_key" not in err and "HTTP 401" in err and "invalid_api_key: Incorrect API key" in err


def test_an_openai_style_429_is_retried_and_is_a_rate_limit(make_app):
    seen: list = []
    body = b'{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}'
    code, err = ask(make_app, 429, body, seen)
    assert code == 5 and len(seen) == 4  # retried (max_retries 3), then exit 5 (rate limit)
    assert "GLM rate_limit_exceeded" not in err and "rate_limit_exceeded" in err


def test_a_numeric_glm_code_is_still_a_glm_code(make_app):
    seen: list = []
    code, err = ask(make_app, 429, b'{"error": {"code": "1113", "message": "Insufficient balance"}}', seen)
    assert code == 5 and len(seen) == 1 and "GLM 1113" in err  # no balance: never retried


@pytest.mark.parametrize(
    ("extra", "url", "source"),
    [
        ({"ZAI_BASE_URL": "https://gateway.example/v4"}, "https://gateway.example/v4", "env ZAI_BASE_URL"),
        ({"ZHIPUAI_BASE_URL": "https://cn.example/v4"}, "https://cn.example/v4", "env ZHIPUAI_BASE_URL"),
        (
            {"ZAI_BASE_URL": "https://gateway.example/v4", "GLM_BASE_URL": "https://glm.example/v4"},
            "https://glm.example/v4",
            "env GLM_BASE_URL",
        ),
    ],
)
def test_the_sdks_base_url_variables_are_honoured(make_app, env, extra, url, source):
    settings = make_app(environ={**env, **extra}).settings()
    assert settings.base_url == url and settings.source("base_url") == source
