"""`glm auth login|status|logout`: the key stored privately per profile, in the precedence, never shown."""

from __future__ import annotations

import json
import os
import re
import subprocess

import httpx
import pytest
import respx

from glm_cli.auth import AuthOptions, mask, run_auth
from glm_cli.commands.config_cmd import ShowOptions, run_show
from glm_cli.config import key_folder, load_settings, resolve_api_key
from glm_cli.errors import GlmError
from glm_cli.keystore import store_path
from tests.conftest import SLOW, glm_executable, run_glm, write_config

KEY = "login-key-id.login-secret-1234"  # obviously fake
URL = "https://api.z.ai/api/paas/v4/chat/completions"
OK = {
    "id": "1",
    "created": 1,
    "model": "glm-4.7",
    "object": "chat.completion",
    "choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "H"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


@pytest.fixture
def bare(env):
    """The test environment without any key variable."""
    return {k: v for k, v in env.items() if k != "GLM_API_KEY"}


def login(make_app, environ, key=KEY, profile=None, tty=False):
    app = make_app("" if tty else key + "\n", stdin_tty=tty, environ=environ)
    prompts = []

    def secret(prompt):
        prompts.append(prompt)
        return key

    code = run_auth(AuthOptions("login", profile=profile), app, read_secret=secret)
    return app, code, prompts


def shown(app) -> str:
    return app.ios.stdout.getvalue() + app.ios.stderr.getvalue()


def test_login_from_stdin_stores_privately_and_never_shows_the_key(make_app, bare):
    app, code, _ = login(make_app, bare)
    path = store_path(key_folder(bare))
    assert code == 0 and json.loads(path.read_text()) == {"keys": {"default": KEY}}
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o077 == 0
    assert KEY not in shown(app) and "****1234" in app.ios.stderr.getvalue() and app.ios.stdout.getvalue() == ""


def test_login_on_a_terminal_asks_without_echo(make_app, bare):
    app, code, prompts = login(make_app, bare, tty=True)
    assert code == 0 and prompts == ["Paste your GLM API key (input is hidden): "]
    assert resolve_api_key(load_settings(bare))[0] == KEY


@pytest.mark.parametrize(("key", "exit_code", "match"), [("", 2, "no key given"), ("two words", 4, "contains a space")])
def test_a_bad_key_is_not_stored(make_app, bare, key, exit_code, match):
    with pytest.raises(GlmError, match=match) as exc:
        login(make_app, bare, key=key)
    assert exc.value.exit_code == exit_code and not store_path(key_folder(bare)).exists()


def test_precedence_env_then_login_then_config(make_app, bare, env):
    write_config(bare, "api_key: config-key-id.config-secret-0000\nprofiles:\n  work: {}\n  home: {}\n")
    assert resolve_api_key(load_settings(bare))[1].startswith("api_key (config")
    login(make_app, bare)
    key, where = resolve_api_key(load_settings(bare))
    assert key == KEY and where == f"glm auth login ({store_path(key_folder(bare))}, default)"
    assert resolve_api_key(load_settings({**bare, "ZAI_API_KEY": "env-key-id.env-secret-0000"}))[1] == "env ZAI_API_KEY"
    login(make_app, bare, key="work-key-id.work-secret-5678", profile="work")
    assert resolve_api_key(load_settings(bare, profile="work"))[0] == "work-key-id.work-secret-5678"
    assert resolve_api_key(load_settings(bare, profile="home"))[0] == "config-key-id.config-secret-0000"


def test_a_profile_without_a_key_uses_the_default_login(make_app, bare):
    write_config(bare, "profiles:\n  work: {model: glm-4.6}\n")
    login(make_app, bare)
    assert resolve_api_key(load_settings(bare, profile="work"))[0] == KEY


def test_default_profile_logins_go_to_that_profile(make_app, bare):
    write_config(bare, "default_profile: work\nprofiles:\n  work: {}\n")
    app, _, _ = login(make_app, bare)
    assert json.loads(store_path(key_folder(bare)).read_text()) == {"keys": {"work": KEY}}
    assert "profile work (default_profile in" in app.ios.stderr.getvalue()


def test_config_show_names_the_source(make_app, bare):
    login(make_app, bare)
    app = make_app(environ=bare)
    run_show(ShowOptions(), app)
    assert re.search(
        r"^api_key +stored by glm auth login \(default\)  \(never shown\)$", app.ios.stdout.getvalue(), re.M
    )


def test_unknown_profile_is_refused(make_app, bare):
    with pytest.raises(GlmError, match="unknown profile 'nope'") as exc:
        login(make_app, bare, profile="nope")
    assert exc.value.exit_code == 3


def test_login_warns_when_the_environment_wins(make_app, env):
    app, _, _ = login(make_app, env)
    assert "$GLM_API_KEY is set and takes precedence" in app.ios.stderr.getvalue()


def test_logout(make_app, bare):
    login(make_app, bare)
    app = make_app(environ=bare)
    assert run_auth(AuthOptions("logout"), app) == 0
    assert "removed the stored key for profile default" in app.ios.stderr.getvalue()
    assert not store_path(key_folder(bare)).exists()
    app = make_app(environ=bare)
    assert run_auth(AuthOptions("logout"), app) == 0
    assert "no key was stored for profile default" in app.ios.stderr.getvalue()
    with pytest.raises(GlmError, match="no API key found") as exc:
        resolve_api_key(load_settings(bare))
    assert "glm auth login" in exc.value.hint


def status(make_app, environ, **kw):
    app = make_app(environ=environ)
    code = run_auth(AuthOptions("status", **kw), app)
    return app, code


def test_status_works(make_app, bare):
    login(make_app, bare)
    with respx.mock:
        route = respx.post(URL).mock(return_value=httpx.Response(200, json=OK))
        app, code = status(make_app, bare)
    assert code == 0 and route.call_count == 1
    assert json.loads(route.calls.last.request.content) == {
        "model": "glm-4.7",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 1,
        "stream": False,
    }
    out = app.ios.stdout.getvalue()
    assert f"key:      ****1234 from glm auth login ({store_path(key_folder(bare))}, default)" in out
    assert "endpoint: https://api.z.ai/api/paas/v4 (default)" in out
    assert "check:    works: glm-4.7 answered one request (max_tokens 1)" in out
    assert KEY not in shown(app)


@pytest.mark.parametrize(
    ("response", "exit_code", "verdict"),
    [
        (
            httpx.Response(401, json={"error": {"code": "1000", "message": "Authentication Failed"}}),
            4,
            "refused: HTTP 401",
        ),
        (
            httpx.Response(429, json={"error": {"code": "1113", "message": "Insufficient balance"}}),
            5,
            "the key is accepted, but the account cannot pay for glm-4.7",
        ),
        (httpx.ConnectError("boom"), 6, "cannot tell: cannot reach"),
        (
            httpx.Response(400, json={"error": {"code": "1211", "message": "Unknown Model"}}),
            0,
            "works (the key was accepted",
        ),
        (httpx.Response(500, json={"error": {"code": "500", "message": "x"}}), 1, "cannot tell: HTTP 500"),
    ],
)
def test_status_verdicts(make_app, env, response, exit_code, verdict):
    with respx.mock:
        route = respx.post(URL).mock(side_effect=[response])
        app, code = status(make_app, env)
    assert code == exit_code and route.call_count == 1  # one request: never retried
    assert f"check:    {verdict}" in app.ios.stdout.getvalue()
    assert "fake-secret" not in shown(app)


def test_status_offline_and_json(make_app, env):
    with respx.mock:
        route = respx.post(URL)
        app, code = status(make_app, env, offline=True, as_json=True)
    assert code == 0 and not route.called
    info = json.loads(app.ios.stdout.getvalue())
    assert info["key"] == {"masked": "****0000", "source": "env GLM_API_KEY"} and "check" not in info
    assert info["endpoint"]["base_url"] == "https://api.z.ai/api/paas/v4"


def test_status_without_any_key(make_app, bare):
    app, code = status(make_app, bare)
    assert code == 4 and "key:      none" in app.ios.stdout.getvalue()
    assert "check:    no usable key: no API key found" in app.ios.stdout.getvalue()


def test_status_warns_about_a_readable_credentials_file(make_app, bare):
    login(make_app, bare)
    os.chmod(store_path(key_folder(bare)), 0o644)
    app, _ = status(make_app, bare, offline=True)
    assert "can be read by other users (mode 0644)" in app.ios.stderr.getvalue()


def test_mask():
    assert mask(KEY) == "****1234" and mask("short") == "****"


# ---- the installed glm


def test_e2e_login_status_use_logout(srv, environ):
    bare = {k: v for k, v in environ.items() if k != "GLM_API_KEY"}
    out = run_glm(["auth", "login"], bare, input=srv.api_key + "\n")
    assert out.returncode == 0 and srv.api_key not in out.stdout + out.stderr
    out = run_glm(["auth", "status"], bare)
    assert out.returncode == 0, out.stderr
    assert "check:    works" in out.stdout and srv.api_key not in out.stdout + out.stderr
    out = run_glm(["ask", "hi"], bare, stdin=subprocess.DEVNULL)
    assert out.returncode == 0 and out.stdout == "Echo: hi\n"
    assert srv.requests[-1].headers["authorization"] == f"Bearer {srv.api_key}"
    out = run_glm(["auth", "login"], bare, input="wrong-key-id.wrong-secret-9999\n")
    out = run_glm(["auth", "status"], bare)
    assert out.returncode == 4 and "refused: HTTP 401" in out.stdout and "wrong-secret" not in out.stdout + out.stderr
    assert run_glm(["auth", "logout"], bare).returncode == 0
    out = run_glm(["ask", "hi"], bare, stdin=subprocess.DEVNULL)
    assert out.returncode == 4 and "glm auth login" in out.stderr


@pytest.mark.slow
def test_e2e_login_on_a_terminal_does_not_echo(tmp_path):
    import pexpect

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    child = pexpect.spawn(glm_executable()[0], [*glm_executable()[1:], "auth", "login"], env=env, timeout=SLOW)
    child.expect("input is hidden\\): ")
    child.sendline(KEY)
    child.expect(pexpect.EOF)
    child.close()
    seen = (child.before or b"").decode()
    assert child.exitstatus == 0 and KEY not in seen and "****1234" in seen
    assert json.loads((tmp_path / "cfg" / "glm" / "credentials.json").read_text()) == {"keys": {"default": KEY}}
