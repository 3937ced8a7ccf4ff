"""The key and URL credentials are never shown or stored: a bad key is refused before anything is sent,
credentials in base_url/proxy are redacted wherever a URL is shown, and a readable key file is warned about."""

from __future__ import annotations

import json
import subprocess

import pytest

from glm_cli.config import load_settings, resolve_api_key
from glm_cli.errors import AUTH, AuthError
from tests.conftest import FAKE_KEY, glm_executable, write_config
from tests.fake_server import Fault

CANARY = "fake-canary-key-0000"
URL_SECRET = "fake-url-secret-0000"


def run(args: list[str], environ: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*glm_executable(), *args], env=environ, input=stdin, capture_output=True, text=True, timeout=60
    )


def assert_clean(done: subprocess.CompletedProcess[str], *secrets: str) -> None:
    text = done.stdout + done.stderr
    assert "Traceback" not in text
    for secret in secrets:
        assert secret not in text


# ---- 3. a key that is not a valid header value

BAD_KEYS = [
    (f"{CANARY}\nsecond-line", "a line break"),
    (f"{CANARY}-ключ", "a non-ASCII character"),
    (f"{CANARY} {CANARY}", "a space"),
    (f"{CANARY}\x01", "a control character"),
]


@pytest.mark.parametrize(("key", "what"), BAD_KEYS)
def test_a_bad_key_in_the_environment_is_refused_before_anything_is_sent(srv, environ, key, what):
    done = run(["ask", "--no-log", "hi"], {**environ, "GLM_API_KEY": key})
    assert done.returncode == AUTH, done.stderr
    assert done.stderr.splitlines()[0] == f"glm: the API key from env GLM_API_KEY is not usable: it contains {what}"
    assert_clean(done, CANARY, "second-line", "ключ")
    assert srv.requests == []  # no retries, nothing sent at all
    assert done.stdout == ""


def test_batch_with_a_bad_key_stores_nothing_of_it(srv, environ, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"custom_id": "a", "body": {"messages": [{"role": "user", "content": "hi"}]}}\n')
    done = run(["batch", str(src), "-o", str(out)], {**environ, "ZAI_API_KEY": f"{CANARY}\nx", "GLM_API_KEY": ""})
    assert done.returncode == AUTH and "from env ZAI_API_KEY" in done.stderr
    assert_clean(done, CANARY)
    assert not out.exists() or CANARY not in out.read_text()
    assert srv.requests == []


@pytest.mark.parametrize(
    ("config", "environ", "where"),
    [
        (f'api_key: "{CANARY}\\n2"\n', {}, "api_key (config {path})"),
        (f'default_profile: w\nprofiles:\n  w:\n    api_key: "{CANARY}\\t2"\n', {}, "api_key (profile w ({path}))"),
        ("api_key_env: MY_KEY\n", {"MY_KEY": f"{CANARY}\u00e9"}, "env MY_KEY (api_key_env)"),
        ("api_key_cmd: [printf, '" + CANARY + " x']\n", {}, "api_key_cmd (config {path})"),
    ],
)
def test_a_bad_key_error_names_where_it_came_from(env, config, environ, where):
    path = write_config(env, config)
    path.chmod(0o600)
    settings = load_settings({**{k: v for k, v in env.items() if k != "GLM_API_KEY"}, **environ})
    with pytest.raises(AuthError) as exc:
        resolve_api_key(settings)
    assert f"the API key from {where.format(path=path)} is not usable" in exc.value.message
    assert CANARY not in exc.value.message + (exc.value.hint or "")
    assert exc.value.exit_code == AUTH


def test_a_good_key_with_surrounding_whitespace_still_works(env):
    key, where = resolve_api_key(load_settings({**env, "GLM_API_KEY": f"  {FAKE_KEY}\n"}))
    assert (key, where) == (FAKE_KEY, "env GLM_API_KEY")


def test_a_server_that_echoes_the_key_does_not_get_it_printed_or_stored(srv, environ, tmp_path):
    echo = Fault(status=400, code="1214", message=f"bad request from key {srv.api_key}")
    srv.faults_always(echo)
    done = run(["ask", "--no-log", "hi"], environ)
    assert done.returncode == 1 and "GLM 1214" in done.stderr
    assert_clean(done, srv.api_key)
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"custom_id": "a", "body": {"messages": [{"role": "user", "content": "hi"}]}}\n')
    done = run(["batch", str(src), "-o", str(out)], environ)
    record = json.loads(out.read_text())
    assert record["error"]["code"] == "1214" and "bad request from key ***" in record["error"]["message"]
    assert srv.api_key not in out.read_text()
    assert_clean(done, srv.api_key)


# ---- 4. credentials in base_url and proxy; a config file that others can read


def test_credentials_in_base_url_are_refused_not_sent_in_place_of_the_key(srv, environ):
    # httpx would turn user:password@ into Basic auth and drop the Bearer key: refused before any request.
    url = srv.base_url.replace("http://", f"http://fake-user:{URL_SECRET}@")
    for argv in (["ask", "-v", "--no-log", "hi"], ["ask", "--no-log", "hi"]):
        done = run(argv, {**environ, "GLM_BASE_URL": url})
        assert done.returncode == 3, done.stderr
        assert "base_url http://***@127.0.0.1:" in done.stderr and "would replace the API key" in done.stderr
        assert_clean(done, URL_SECRET, "fake-user")
    assert srv.requests == []


def test_config_show_and_dry_run_redact_url_credentials(env):
    write_config(
        env, f"base_url: https://me:{URL_SECRET}@example.invalid/v4\nproxy: http://p:{URL_SECRET}@127.0.0.1:3128\n"
    ).chmod(0o600)
    show = run(["config", "show"], env)
    assert show.returncode == 0
    assert "https://***@example.invalid/v4" in show.stdout and "http://***@127.0.0.1:3128" in show.stdout
    as_json = run(["config", "show", "--json"], env)
    assert json.loads(as_json.stdout)["base_url"]["value"] == "https://***@example.invalid/v4"
    curl = run(["ask", "--dry-run=curl", "hi"], env)
    assert curl.returncode == 0 and "https://***@example.invalid/v4/chat/completions" in curl.stdout
    for done in (show, as_json, curl):
        assert_clean(done, URL_SECRET)


def test_a_key_file_others_can_read_is_warned_about_once(env):
    path = write_config(env, f"api_key: {CANARY}\n")
    path.chmod(0o644)
    environ = {k: v for k, v in env.items() if k != "GLM_API_KEY"}
    for args in (["config", "show"], ["ask", "--dry-run", "hi"]):
        done = run(args, environ)
        assert done.returncode == 0
        assert done.stderr.splitlines() == [
            f"glm: warning: {path} holds an API key and other users can access it (mode 0644); run: chmod 600 {path}"
        ]
        assert_clean(done, CANARY)
    path.chmod(0o640)
    assert "chmod 600" in run(["config", "show"], environ).stderr
    path.chmod(0o600)
    assert run(["config", "show"], environ).stderr == ""


def test_a_readable_config_without_a_key_is_not_warned_about(env):
    path = write_config(env, "model: glm-4.7\nprofiles:\n  p:\n    api_key_env: OTHER\n")
    path.chmod(0o644)
    assert run(["config", "show"], env).stderr == ""
    path.write_text(f"profiles:\n  p:\n    api_key: {CANARY}\n")
    assert "holds an API key" in run(["config", "show"], env).stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@host:8443/v4", "https://***@host:8443/v4"),
        ("https://token@host/v4", "https://***@host/v4"),
        ("https://us:p@ss@host/v4", "https://***@host/v4"),  # an unescaped @ in the password: the last one ends it
        ("https://host/v4/a@b", "https://host/v4/a@b"),  # an @ in the path is not a password
        ("https://host/v4?to=a@b", "https://host/v4?to=a@b"),
        (
            "cannot reach socks5://u:p@127.0.0.1:1080 and http://x:y@h",
            "cannot reach socks5://***@127.0.0.1:1080 and http://***@h",
        ),
    ],
)
def test_redact_url(url, shown):
    from glm_cli.redact import redact_url

    assert redact_url(url) == shown


def test_a_resolved_key_is_masked_in_every_error_message(env):
    from glm_cli.errors import APIError

    key, _ = resolve_api_key(load_settings({**env, "GLM_API_KEY": "fake-canary-key-0001"}))
    err = APIError(f"HTTP 400: the server says {key} is odd", f"not {key}")
    assert (err.message, err.hint, str(err)) == (
        "HTTP 400: the server says *** is odd",
        "not ***",
        "HTTP 400: the server says *** is odd",
    )
