"""run_ask with respx: the exact JSON body sent, and what was printed where."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.errors import GlmError
from tests.conftest import FAKE_KEY, USAGE, chunk, sse_body, write_config

URL = "https://api.z.ai/api/paas/v4/chat/completions"
STREAM = sse_body(
    chunk(reasoning="hmm"),
    chunk(content="Hello"),
    chunk(content=" world"),
    chunk(content="", finish="stop", usage=USAGE),
)


def sent(route) -> dict:
    return json.loads(route.calls.last.request.content)


@pytest.fixture
def glm():
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(200, content=STREAM))
        yield route


def test_piped_prompt_and_stdin_joined_by_the_rule(make_app, glm):
    app = make_app("the diff\n", stdin_tty=False)
    assert run_ask(AskOptions(prompt=("write", "a", "message"), think=False), app) == 0
    body = sent(glm)
    assert body["messages"] == [{"role": "user", "content": "write a message\n\nthe diff"}]
    assert body["thinking"] == {"type": "disabled"} and body["stream"] is True
    assert app.ios.stdout.getvalue() == "Hello world\n"
    assert "hmm" not in app.ios.stdout.getvalue()
    assert app.ios.stderr.getvalue() == ""  # reasoning hidden when stderr is not a TTY


def test_reasoning_shown_on_stderr_only(make_app, glm):
    app = make_app(stderr_tty=False)
    run_ask(AskOptions(prompt=("q",), show_thinking=True), app)
    assert "hmm" in app.ios.stderr.getvalue() and "hmm" not in app.ios.stdout.getvalue()


def test_stdin_tty_is_never_read(make_app, glm):
    app = make_app("should not be read", stdin_tty=True)
    run_ask(AskOptions(prompt=("q",)), app)
    assert sent(glm)["messages"][-1]["content"] == "q"


def test_no_stdin_flag(make_app, glm):
    app = make_app("ignored", stdin_tty=False)
    run_ask(AskOptions(prompt=("q",), no_stdin=True), app)
    assert sent(glm)["messages"][-1]["content"] == "q"


def test_no_prompt_no_stdin_is_usage_error(make_app, glm):
    with pytest.raises(GlmError) as exc:
        run_ask(AskOptions(), make_app("", stdin_tty=False))
    assert exc.value.exit_code == 2 and not glm.called


def test_preset_template_and_settings(make_app, env, glm):
    write_config(
        env,
        "presets:\n  tr:\n    model: glm-4.7-flash\n    thinking: false\n"
        "    system: Translate.\n    template: 'Into Chinese: {input}'\n",
    )
    app = make_app("text body", stdin_tty=False)
    run_ask(AskOptions(preset="tr"), app)
    body = sent(glm)
    assert body["model"] == "glm-4.7-flash"
    assert body["messages"] == [
        {"role": "system", "content": "Translate."},
        {"role": "user", "content": "Into Chinese: text body"},
    ]


def test_files_are_fenced_and_named(make_app, glm, tmp_path):
    f = tmp_path / "a.py"
    f.write_text("x = '```'\n")
    run_ask(AskOptions(prompt=("review",), files=(str(f),)), make_app())
    content = sent(glm)["messages"][-1]["content"]
    assert content == f"review\n\nFile: {f}\n````\nx = '```'\n````"


def test_missing_file_is_usage_error(make_app, glm):
    with pytest.raises(GlmError, match="cannot read --file"):
        run_ask(AskOptions(prompt=("q",), files=("/nonexistent/x",)), make_app())


def test_output_json_record(make_app, glm):
    app = make_app()
    run_ask(AskOptions(prompt=("q",), format="json"), app)
    rec = json.loads(app.ios.stdout.getvalue())
    assert rec["content"] == "Hello world" and rec["reasoning"] == "hmm"
    assert rec["finish_reason"] == "stop" and rec["usage"]["prompt_tokens_details"]["cached_tokens"] == 40
    assert rec["model"] == "glm-4.7" and rec["id"]


def test_usage_line(make_app, glm):
    app = make_app()
    run_ask(AskOptions(prompt=("q",), usage=True), app)
    err = app.ios.stderr.getvalue()
    assert "100" in err and "40" in err and "50" in err and "20" in err and "$" in err


def test_json_mode_checks_and_strips_fences(make_app):
    with respx.mock:
        route = respx.post(URL).mock(
            return_value=httpx.Response(
                200, content=sse_body(chunk(content='```json\n{"a": 1}\n```'), chunk(content="", finish="stop"))
            )
        )
        app = make_app()
        assert run_ask(AskOptions(prompt=("q",), json_object=True), app) == 0
    assert sent(route)["response_format"] == {"type": "json_object"}
    assert app.ios.stdout.getvalue() == '{"a": 1}\n'


def test_json_mode_invalid_answer_exit_9(make_app):
    with respx.mock:
        respx.post(URL).mock(
            return_value=httpx.Response(
                200, content=sse_body(chunk(content="not json"), chunk(content="", finish="stop"))
            )
        )
        with pytest.raises(GlmError) as exc:
            run_ask(AskOptions(prompt=("q",), json_object=True), make_app())
    assert exc.value.exit_code == 9 and "not valid JSON" in exc.value.message


@pytest.mark.parametrize(
    ("reason", "code"), [("length", 8), ("model_context_window_exceeded", 8), ("sensitive", 7), ("network_error", 6)]
)
def test_bad_finish_reason_keeps_output_and_exits_nonzero(make_app, reason, code):
    with respx.mock:
        respx.post(URL).mock(
            return_value=httpx.Response(
                200, content=sse_body(chunk(content="partial"), chunk(content="", finish=reason))
            )
        )
        app = make_app()
        with pytest.raises(GlmError) as exc:
            run_ask(AskOptions(prompt=("q",)), app)
    assert exc.value.exit_code == code and reason in exc.value.message
    assert app.ios.stdout.getvalue() == "partial\n"


def test_no_stream(make_app):
    with respx.mock:
        route = respx.post(URL).mock(
            return_value=httpx.Response(
                200,
                json={
                    "id": "i",
                    "model": "glm-4.7",
                    "choices": [
                        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "whole"}}
                    ],
                    "usage": USAGE,
                },
            )
        )
        app = make_app()
        run_ask(AskOptions(prompt=("q",), no_stream=True), app)
    assert sent(route)["stream"] is False and app.ios.stdout.getvalue() == "whole\n"


def test_dry_run_sends_nothing_and_needs_no_key(make_app, env):
    environ = {k: v for k, v in env.items() if k != "GLM_API_KEY"}
    app = make_app(environ=environ)
    with respx.mock:
        assert run_ask(AskOptions(prompt=("hi",), dry_run="json", max_tokens=10), app) == 0
    body = json.loads(app.ios.stdout.getvalue())
    assert body == {
        "model": "glm-4.7",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 10,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_dry_run_curl_uses_env_var_not_key(make_app):
    app = make_app()
    run_ask(AskOptions(prompt=("it's",), dry_run="curl"), app)
    out = app.ios.stdout.getvalue()
    assert out.startswith("curl -sS -N https://api.z.ai/api/paas/v4/chat/completions")
    assert '"Authorization: Bearer $GLM_API_KEY"' in out and FAKE_KEY not in out


def test_missing_key_exit_4(make_app, env):
    environ = {k: v for k, v in env.items() if k != "GLM_API_KEY"}
    with pytest.raises(GlmError) as exc:
        run_ask(AskOptions(prompt=("q",)), make_app(environ=environ))
    assert exc.value.exit_code == 4 and "GLM_API_KEY" in exc.value.hint


def test_max_tokens_above_model_maximum_is_refused_before_sending(make_app, glm):
    with pytest.raises(GlmError) as exc:
        run_ask(AskOptions(prompt=("q",), max_tokens=200_000), make_app())
    assert exc.value.exit_code == 2 and "131072" in exc.value.message and not glm.called


def test_endpoint_flag_changes_url(make_app):
    with respx.mock:
        route = respx.post("https://open.bigmodel.cn/api/paas/v4/chat/completions").mock(
            return_value=httpx.Response(200, content=STREAM)
        )
        run_ask(AskOptions(prompt=("q",), endpoint="bigmodel"), make_app())
    assert route.called and "accept-language" not in route.calls.last.request.headers


def test_verbose_never_shows_key(make_app, glm):
    app = make_app()
    run_ask(AskOptions(prompt=("q",), verbose=True, request_id="req-000001"), app)
    err = app.ios.stderr.getvalue()
    assert "POST https://api.z.ai/api/paas/v4/chat/completions" in err and "HTTP 200" in err
    assert FAKE_KEY not in err and "fake-secret" not in err
    assert sent(glm)["request_id"] == "req-000001"
