"""`glm ask --resume ID|NAME`: continue any conversation from a pipeline, with TAB completion of ids and names."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
import respx

from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.completion.values import conversation_values
from glm_cli.errors import GlmError
from glm_cli.store import Store, default_path
from tests.completion.test_completion_shells import BASH, COMPLETIONS, need, parse
from tests.conftest import chunk, glm_executable, run_glm, sse_body

URL = "https://api.z.ai/api/paas/v4/chat/completions"


@pytest.fixture
def api():
    replies = iter(["first answer", "second answer", "third answer", "fourth answer"])

    def respond(request):
        return httpx.Response(200, content=sse_body(chunk(content=next(replies)), chunk(content="", finish="stop")))

    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(URL).mock(side_effect=respond)


def sent(route) -> dict:
    return json.loads(route.calls.last.request.content)


def two_conversations(make_app, env):
    run_ask(AskOptions(prompt=("about", "cats"), think=False), make_app())
    run_ask(AskOptions(prompt=("about", "dogs"), think=False), make_app())
    with Store.open(default_path(env)) as store:
        store.rename(1, "cats")


@pytest.mark.parametrize("ref", ["cats", "1"])
def test_resume_by_name_or_id_continues_that_conversation(make_app, env, api, ref):
    two_conversations(make_app, env)
    run_ask(AskOptions(prompt=("and", "kittens?"), resume=ref, think=False), make_app())
    assert sent(api)["messages"] == [
        {"role": "user", "content": "about cats"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "and kittens?"},
    ]
    with Store.open(default_path(env)) as store:
        assert [m.content for m in store.load(1).messages][-2:] == ["and kittens?", "third answer"]
        assert len(store.load(2).messages) == 2 and store.count() == 2


def test_resume_keeps_the_conversations_model(make_app, env, api):
    run_ask(AskOptions(prompt=("q",), model="glm-4.6"), make_app())
    run_ask(AskOptions(prompt=("more",), resume="1"), make_app())
    assert sent(api)["model"] == "glm-4.6"


@pytest.mark.parametrize(
    ("opts", "code", "match"),
    [
        (AskOptions(prompt=("q",), resume=" "), 2, "--resume needs a conversation id or name"),
        (AskOptions(prompt=("q",), resume="1", continue_=True), 2, "not both"),
        (AskOptions(prompt=("q",), resume="nope"), 1, "no conversation 'nope'"),
    ],
)
def test_refusals(make_app, env, api, opts, code, match):
    run_ask(AskOptions(prompt=("q",)), make_app())
    calls = api.call_count
    with pytest.raises(GlmError, match=match) as exc:
        run_ask(opts, make_app())
    assert exc.value.exit_code == code and api.call_count == calls


def test_completion_values_names_then_ids(make_app, env, api):
    assert conversation_values(env) == [] and not default_path(env).exists()  # TAB creates no store
    two_conversations(make_app, env)
    assert conversation_values(env) == [("cats", "about cats"), ("2", "about dogs"), ("1", "cats: about cats")]


@pytest.mark.slow
def test_bash_completes_resume(make_app, env, api):
    two_conversations(make_app, env)
    bash = need("bash")
    shell_env = {**env, "PATH": f"{glm_executable()[0].rsplit('/', 1)[0]}:/usr/bin:/bin", "TERM": "dumb"}
    lines = ["glm ask --resume ", "glm chat -r c", "glm ask -r "]
    out = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", BASH, "bash", str(COMPLETIONS / "glm.bash"), *lines],
        capture_output=True,
        text=True,
        env=shell_env,
        timeout=60,
    )
    found = parse(out.stdout)
    assert found["glm ask --resume "] == {"cats", "1", "2"}
    assert found["glm chat -r c"] == {"cats"}


def test_e2e_resume(srv, environ):
    assert run_glm(["ask", "first question"], environ).returncode == 0
    assert run_glm(["ask", "another conversation"], environ).returncode == 0
    out = run_glm(["ask", "--resume", "1", "follow-up"], environ)
    assert out.returncode == 0 and out.stdout == "Echo: follow-up\n"
    messages = srv.chat_requests()[-1]["messages"]
    assert [m["content"] for m in messages] == ["first question", "Echo: first question", "follow-up"]
