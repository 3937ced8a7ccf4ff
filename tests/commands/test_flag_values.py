"""Flag values that used to pass silently: `-m ''` and `--schema ''` (exit 2), and a model the catalogue does not
know (`-m glm-4.7-flsh`): warned about with the likely id, then sent as given (new models come first)."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import glm_env, run_glm


def glm(srv, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_glm(list(args), glm_env(srv), **({} if stdin is None else {"input": stdin}))


MODEL_EMPTY = (
    "glm: -m/--model needs a value, got an empty one\n"
    "hint: name a model (see `glm models`), or leave the flag out for the default\n"
)
SCHEMA_EMPTY = (
    "glm: --schema needs a value, got an empty one\nhint: give a schema file or inline JSON, or leave the flag out\n"
)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "-m", "", "hi"], MODEL_EMPTY),
        (["ask", "--model", " ", "hi"], MODEL_EMPTY),
        (["ask", "--schema", "", "hi"], SCHEMA_EMPTY),
        (["batch", "-m", "", "-"], MODEL_EMPTY),
        (["batch", "--schema", "", "-"], SCHEMA_EMPTY),
        (["chat", "-m", ""], MODEL_EMPTY),
    ],
)
def test_an_empty_model_or_schema_is_a_usage_error_and_nothing_is_sent(srv, args, message):
    out = glm(srv, *args, stdin="q\n")
    assert (out.returncode, out.stdout, out.stderr) == (2, "", message)
    assert srv.chat_requests() == []


def test_a_model_the_catalogue_does_not_know_is_warned_about_and_sent_as_given(srv):
    out = glm(srv, "ask", "-m", "glm-4.7-flsh", "hi")
    warning = (
        "glm: warning: glm-4.7-flsh is not in the model catalogue; did you mean glm-4.7-flash? (sending it as given)\n"
    )
    assert out.stderr.startswith(warning)  # before the request: the fake server, like GLM, then refuses it (1211)
    assert out.returncode == 1 and "GLM 1211" in out.stderr
    assert [b["model"] for b in srv.chat_requests()] == ["glm-4.7-flsh"]


def test_a_known_model_or_alias_gets_no_warning(srv):
    srv.reply(content="ok")
    out = glm(srv, "ask", "-m", "flash", "hi")
    assert out.returncode == 0 and out.stderr == ""


def test_batch_warns_once_for_its_model(srv, tmp_path):
    out = glm(srv, "batch", "-m", "glm-4.7-flsh", "--dry-run", "-", stdin='{"prompt": "a"}\n{"prompt": "b"}\n')
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("glm-4.7-flsh is not in the model catalogue; did you mean glm-4.7-flash?") == 1


def test_chat_warns_at_start_for_a_model_the_catalogue_does_not_know(make_app):
    from glm_cli.commands.chat import ChatOptions, run_chat

    def leave() -> str:
        raise EOFError

    app = make_app()
    assert run_chat(ChatOptions(model="glm-4.7-flsh", no_log=True), app, leave) == 0
    assert (
        "glm: warning: glm-4.7-flsh is not in the model catalogue; did you mean glm-4.7-flash? (sending it as given)\n"
        in app.ios.stderr.getvalue()
    )
