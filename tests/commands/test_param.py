"""`--param KEY=VALUE` and `params:` (issue 13 item 5): request fields glm has no flag for, sent as given.

The bytes sent (fake server, respx), the --dry-run output, the refusal of a field glm sets itself (exit 2) unless
the key ends in `!`, the layers (flag > preset > profile > config top level), and bad syntax.
"""

from __future__ import annotations

import json

import httpx
import pytest
import respx
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.commands.batch.common import RequestOptions
from glm_cli.commands.batch.run import BatchOptions, run_batch
from glm_cli.commands.chat import ChatOptions, run_chat
from glm_cli.commands.common import run_command
from glm_cli.config import parse_params
from glm_cli.errors import UsageError
from tests.conftest import (
    USAGE,
    chunk,
    glm_env,
    run_glm,
    sse_body,
    write_config,
)

URL = "https://api.z.ai/api/paas/v4/chat/completions"


def glm(srv, *args: str, env: dict | None = None):
    return run_glm(list(args), glm_env(srv, **(env or {})))


def dry_run(make_app, **opts) -> tuple[int, dict, str]:
    """Run `glm ask --dry-run` in-process: (exit code, the request printed, stderr)."""
    app = make_app()
    with pytest.raises(typer.Exit) as exc:
        run_command(run_ask, AskOptions(prompt=("hi",), dry_run="json", no_log=True, **opts), app)
    out = app.ios.stdout.getvalue()
    return exc.value.exit_code, (json.loads(out) if out else {}), app.ios.stderr.getvalue()


def test_params_are_sent_as_given_typed_as_json(srv):
    srv.reply(content="ok")
    out = glm(
        srv,
        "ask",
        "--param",
        "do_sample=false",
        "--param",
        "seed=7",
        "--param",
        "user_id=u-1",
        "--param",
        'request_tag="007"',
        "--param",
        "extra.trace.id=t-1",
        "--param",
        'meta={"a": [1, null]}',
        "hi",
    )
    assert out.returncode == 0, out.stderr
    (body,) = srv.chat_requests()
    assert body == {
        "model": "glm-4.7",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "do_sample": False,
        "seed": 7,
        "user_id": "u-1",  # not JSON: the string as written
        "request_tag": "007",  # JSON string: quoted, stays a string
        "extra": {"trace": {"id": "t-1"}},  # a.b.c: a nested field
        "meta": {"a": [1, None]},
    }


def test_a_field_glm_sets_itself_is_refused_with_exit_2_and_nothing_is_sent(srv):
    out = glm(srv, "ask", "--param", "model=glm-x", "hi")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (
        "glm: param `model` (from flag --param) is a field glm sets itself\n"
        "hint: use -m/--model; to replace it anyway, end the key with ! "
        "(--param 'model!=VALUE', or `model!:` in the config)\n"
    )
    assert srv.chat_requests() == []


@pytest.mark.parametrize(
    ("param", "field"),
    [
        ("messages=[]", "messages"),
        ("stream=false", "stream"),
        ("max_tokens=5", "max_tokens"),
        ("stream_options.include_usage=false", "stream_options"),
        ("temperature=0.1", "temperature"),
        ("thinking.type=enabled", "thinking"),  # a field inside one glm sets
        ("tools=[]", "tools"),
        ('response_format={"type": "text"}', "response_format"),
    ],
)
def test_every_field_glm_sets_is_refused(make_app, param, field):
    code, _, err = dry_run(make_app, param=(param,))
    what = "a field" if param.split("=")[0] == field else f"inside `{field}`, a field"
    assert code == 2 and f"is {what} glm sets itself" in err


def test_a_bang_replaces_a_field_glm_sets(make_app):
    code, body, err = dry_run(
        make_app,
        temperature=0.5,
        think=True,
        param=("temperature!=0.2", "model!=glm-next", "thinking.clear_thinking!=false"),
    )
    assert code == 0, err
    assert body["temperature"] == 0.2 and body["model"] == "glm-next"
    assert body["thinking"] == {"type": "enabled", "clear_thinking": False}  # merged into glm's own object


def test_dry_run_shows_params_as_json_and_in_the_curl_line(srv):
    out = glm(srv, "ask", "--dry-run", "--param", "seed=7", "hi")
    assert out.returncode == 0 and json.loads(out.stdout)["seed"] == 7
    out = glm(srv, "ask", "--dry-run=curl", "--param", "do_sample=false", "hi")
    assert (
        out.returncode == 0
        and '"stream": true, "stream_options": {"include_usage": true}, "do_sample": false}' in out.stdout
    )
    assert srv.chat_requests() == []


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("foo", "glm: --param needs KEY=VALUE, got 'foo'\nhint: e.g. --param do_sample=false\n"),
        (
            "=1",
            "glm: --param '=1': '' is not a field name (letters, digits, _ and -; a.b for a nested field; "
            "a final ! to override)\n",
        ),
        ("a..b=1", None),
        ("a b=1", None),
        ("!=1", None),
    ],
)
def test_bad_syntax_is_exit_2_with_a_message(srv, flag, message):
    out = glm(srv, "ask", "--param", flag, "hi")
    assert out.returncode == 2 and srv.chat_requests() == []
    assert out.stderr == message if message else out.stderr.startswith(f"glm: --param {flag!r}: ")


def test_a_nested_field_under_a_value_that_is_not_an_object_is_refused(make_app):
    code, _, err = dry_run(make_app, param=("a=1", "a.b=2"))
    assert code == 2 and err == "glm: param `a.b`: `a` is a number, not an object\n"


def test_layers_merge_field_by_field_flag_over_preset_over_profile_over_config(make_app, env):
    write_config(
        env,
        """
params: {user_id: top, seed: 1, do_sample: false}
default_profile: work
profiles:
  work:
    params: {seed: 2, top_k: 5}
presets:
  exact:
    params: {seed: 3}
""",
    )
    code, body, err = dry_run(make_app, preset="exact", param=("user_id=cli",))
    assert code == 0, err
    assert {k: body[k] for k in ("user_id", "seed", "do_sample", "top_k")} == {
        "user_id": "cli",  # the flag
        "seed": 3,  # the preset over the profile over the top level
        "do_sample": False,  # the top level, untouched by the others
        "top_k": 5,  # the profile
    }
    code, body, _ = dry_run(make_app)
    assert code == 0 and body["seed"] == 2 and body["user_id"] == "top"


def test_a_preset_param_glm_sets_names_the_preset(make_app, env):
    write_config(env, "presets:\n  hot:\n    params: {temperature: 0.9}\n")
    code, _, err = dry_run(make_app, preset="hot")
    assert code == 2 and "glm: param `temperature` (from preset hot) is a field glm sets itself" in err
    write_config(env, "presets:\n  hot:\n    params: {'temperature!': 0.9}\n")
    code, body, _ = dry_run(make_app, preset="hot")
    assert code == 0 and body["temperature"] == 0.9


def test_a_forced_flag_replaces_a_plain_config_param_of_the_same_field(make_app, env):
    write_config(env, "params: {seed: 1}\n")
    code, body, _ = dry_run(make_app, param=("seed!=2",))
    assert code == 0 and body["seed"] == 2


def test_a_bad_key_in_the_config_is_a_config_error(make_app, env):
    path = write_config(env, "profiles:\n  p:\n    params: {'a b': 1}\n")
    code, _, err = dry_run(make_app)
    assert code == 3
    assert err.startswith(f"glm: {path}: `profiles.p.params`: 'a b' is not a field name")
    write_config(env, "params: [seed]\n")
    code, _, err = dry_run(make_app)
    assert code == 3 and "`params` must be a mapping" in err


def test_chat_sends_params_and_refuses_a_field_glm_sets_before_the_first_message(make_app):
    lines = ["hello"]

    def read() -> str:
        if not lines:
            raise EOFError
        return lines.pop()

    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL)
        route.side_effect = lambda request: httpx.Response(
            200, content=sse_body(chunk(content="A"), chunk(content="", finish="stop", usage=USAGE))
        )
        assert run_chat(ChatOptions(param=("user_id=u-9",), no_log=True), make_app(), read) == 0
        assert json.loads(route.calls[0].request.content)["user_id"] == "u-9"
        with pytest.raises(UsageError) as err:
            run_chat(ChatOptions(param=("stream=false",), no_log=True), make_app(), read)
        assert "param `stream` (from flag --param) is a field glm sets itself" in err.value.message
        assert len(route.calls) == 1


def test_batch_sends_params_on_every_line_and_shows_them_in_its_dry_run(make_app, tmp_path):
    src = tmp_path / "in.jsonl"
    two = {"custom_id": "b", "body": {"messages": [{"role": "user", "content": "two"}], "seed": 9}}
    src.write_text(json.dumps({"id": "a", "prompt": "one"}) + "\n" + json.dumps(two) + "\n")
    app = make_app()
    request = RequestOptions(param=("seed=1", "do_sample=false"))
    assert run_batch(BatchOptions(file=str(src), request=request, dry_run=True), app) == 0
    sent = [json.loads(line)["body"] for line in app.ios.stdout.getvalue().splitlines()]
    assert [(b["seed"], b["do_sample"]) for b in sent] == [(1, False), (9, False)]  # a line's own field wins
    with pytest.raises(UsageError) as err:  # refused once, before any line
        run_batch(BatchOptions(file=str(src), request=RequestOptions(param=("max_tokens=1",))), make_app())
    assert err.value.message == "param `max_tokens` (from flag --param) is a field glm sets itself"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=4))
def test_any_param_text_is_fields_or_a_usage_error(texts):
    try:
        out = parse_params(tuple(texts))
    except UsageError as err:
        assert err.message.startswith("--param ")
    else:
        assert all(isinstance(k, str) and "=" not in k for k in out)
