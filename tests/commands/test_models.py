"""`glm models`: table on a terminal, ids when piped, JSON, `show` with sources, and --remote."""

from __future__ import annotations

import json
import re
import subprocess

import httpx
import pytest

from glm_cli.catalogue import load_catalogue
from glm_cli.commands.models import ModelsOptions, ShowOptions, run_models, run_show
from glm_cli.errors import GlmError
from tests.conftest import FAKE_KEY, glm_executable, write_config
from tests.fake_server import FakeGLM

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"glm models touched the network without --remote: {request.url}")


def run(make_app, opts: ModelsOptions | ShowOptions, width: int = 160, **app_kw):
    app = make_app(transport=httpx.MockTransport(no_network), **app_kw)
    app.ios.width = width
    code = run_show(opts, app) if isinstance(opts, ShowOptions) else run_models(opts, app)
    return code, app.ios.stdout.getvalue(), app.ios.stderr.getvalue()


def test_piped_is_one_id_per_line_and_nothing_else(make_app):
    code, out, err = run(make_app, ModelsOptions())
    assert code == 0 and err == ""
    assert out.splitlines() == load_catalogue().ids()
    assert "glm-4.7" in out.splitlines() and "glm-z1-air" not in out


def test_all_includes_retired(make_app):
    _, out, _ = run(make_app, ModelsOptions(include_retired=True))
    assert out.splitlines() == load_catalogue().ids(include_retired=True)


def test_table_on_a_terminal(make_app):
    _, out, err = run(make_app, ModelsOptions(include_retired=True), stdout_tty=True)
    text = ANSI.sub("", out)
    lines = text.splitlines()
    assert lines[0].split() == ["model", "ctx", "out", "think", "tools", "vision", "price", "notes"]
    row = next(line.split() for line in lines if line.startswith("glm-4.7 "))
    assert row == ["glm-4.7", "200K", "128K", "always", "yes", "no", "$0.6/0.11/2.2"]
    assert next(line for line in lines if line.startswith("glm-4.7-flashx ")).split()[-2:] == ["alias", "fast"]
    assert "retired 2025-11-15, use glm-4.5-air" in text
    assert "on Z.ai" in text and err == ""


def test_narrow_terminal_never_cuts_ids_or_prices(make_app):
    _, out, _ = run(make_app, ModelsOptions(endpoint="bigmodel"), width=80, stdout_tty=True)
    lines = ANSI.sub("", out).splitlines()
    assert max(len(line) for line in lines) <= 80
    firsts = {line.split()[0] for line in lines if line.startswith("glm-")}
    assert firsts == set(load_catalogue().ids())
    assert any("¥2–4/0.4–0.8/8–16" in line for line in lines)


def test_table_prices_follow_the_endpoint(make_app):
    _, out, _ = run(make_app, ModelsOptions(endpoint="bigmodel"), stdout_tty=True)
    text = ANSI.sub("", out)
    assert "¥2–4/0.4–0.8/8–16" in text and "BigModel;" in text


def test_json_is_the_whole_catalogue(make_app):
    _, out, _ = run(make_app, ModelsOptions(as_json=True))
    data = json.loads(out)
    assert len(data["models"]) == len(load_catalogue().models)  # retired ones too
    assert data["aliases"]["fast"] == "glm-4.7-flashx" and data["as_of"]
    glm47 = next(m for m in data["models"] if m["id"] == "glm-4.7")
    assert glm47["max_output"] == 131072 and glm47["prices"]["zai"]["cached"] == 0.11


def test_config_models_and_aliases_are_listed(make_app, env):
    write_config(env, "models:\n  my-model:\n    context: 8192\naliases:\n  mine: my-model\n")
    _, out, _ = run(make_app, ModelsOptions())
    assert "my-model" in out.splitlines()
    _, out, _ = run(make_app, ModelsOptions(), stdout_tty=True)
    row = next(line for line in ANSI.sub("", out).splitlines() if line.startswith("my-model "))
    assert row.split()[:4] == ["my-model", "8K", "?", "?"] and "alias mine; from config" in row


def test_bad_config_override_is_exit_3(make_app, env):
    write_config(env, "models:\n  glm-4.7:\n    context: big\n")
    with pytest.raises(GlmError) as exc:
        run(make_app, ModelsOptions())
    assert exc.value.exit_code == 3 and "models.glm-4.7.context" in exc.value.message


def test_show_gives_every_fact_with_its_source(make_app):
    _, out, _ = run(make_app, ShowOptions("glm-4.7"))
    facts, notes = out.split("\n\n")
    rows = {line.split("  ")[0]: line for line in facts.splitlines()}
    assert set(rows) >= {
        "id",
        "status",
        "context",
        "max_output",
        "default_max_tokens",
        "thinking",
        "tools",
        "vision",
        "price zai",
        "price bigmodel",
    }
    assert "204,800" in rows["context"] and rows["context"].endswith("[1]")
    assert rows["price bigmodel"].endswith("[2]") and "input < 32K, output < 200: 2/0.4/8" in rows["price bigmodel"]
    assert notes.splitlines()[0].startswith("[1] zai-docs") and "as of 2026-01-31" in notes
    assert notes.splitlines()[1].startswith("[2] third-party copy")


def test_show_an_alias_and_config_override_sources(make_app, env):
    path = write_config(env, "models:\n  glm-4.7-flashx:\n    max_output: 1000\n")
    _, out, _ = run(make_app, ShowOptions("fast"))
    facts, notes = out.split("\n\n")
    assert facts.startswith("id ") and "glm-4.7-flashx" in facts.splitlines()[0]
    max_out = next(line for line in facts.splitlines() if line.startswith("max_output"))
    assert "1,000" in max_out
    assert f"[{max_out[-2]}] {path}" in notes  # the override points at the config file


def test_show_json_has_sources(make_app):
    _, out, _ = run(make_app, ShowOptions("glm-z1-air", as_json=True))
    data = json.loads(out)
    assert data["status"] == "retired" and data["replacement"] == "glm-4.5-air"
    assert data["sources"]["replacement"].startswith("bigmodel-docs") and "fact_sources" not in data


def test_show_unknown_model_is_a_usage_error(make_app):
    with pytest.raises(GlmError) as exc:
        run(make_app, ShowOptions("glm-4.77"))
    assert exc.value.exit_code == 2 and "glm-4.7" in exc.value.hint


# ---- --remote against the fake server


@pytest.fixture
def server():
    with FakeGLM() as srv:
        yield srv


def remote_app(make_app, env, srv, **kw):
    app = make_app(environ={**env, "GLM_BASE_URL": srv.base_url}, **kw)
    app.ios.width = 160
    return app


def test_remote_merges_the_listing(make_app, env, server):
    server.models = {"glm-4.7", "glm-4.6", "glm-5-preview"}
    app = remote_app(make_app, env, server)
    assert run_models(ModelsOptions(remote=True), app) == 0
    ids = app.ios.stdout.getvalue().splitlines()
    assert "glm-5-preview" in ids and "glm-4.5" in ids
    assert "lists 3 models: 1 not in the catalogue" in app.ios.stderr.getvalue()
    [req] = server.requests
    assert (req.method, req.path) == ("GET", "/api/paas/v4/models")
    assert req.headers["authorization"] == f"Bearer {FAKE_KEY}"

    app = remote_app(make_app, env, server, stdout_tty=True)
    run_models(ModelsOptions(remote=True), app)
    text = ANSI.sub("", app.ios.stdout.getvalue())
    assert re.search(r"glm-5-preview .*listed by the endpoint; not in the catalogue", text)
    assert re.search(r"glm-4\.5 .*not listed by the endpoint", text)
    assert not re.search(r"glm-4\.7 .*not listed", text)

    app = remote_app(make_app, env, server)
    run_models(ModelsOptions(remote=True, as_json=True), app)
    models = {m["id"]: m for m in json.loads(app.ios.stdout.getvalue())["models"]}
    assert models["glm-4.7"]["listed"] is True and models["glm-4.5"]["listed"] is False
    assert models["glm-5-preview"]["origin"] == "remote" and "thinking" not in models["glm-5-preview"]


def test_remote_show_says_whether_listed(make_app, env, server):
    server.models = {"glm-5-preview"}
    app = remote_app(make_app, env, server)
    run_show(ShowOptions("glm-5-preview", remote=True), app)
    out = app.ios.stdout.getvalue()
    assert re.search(r"^listed +yes", out, re.M) and f"GET {server.base_url}/models, as of" in out


@pytest.mark.parametrize(
    "setup, message, timeout",
    [
        (lambda srv: setattr(srv, "models_endpoint", False), "HTTP 404", 30),
        (lambda srv: setattr(srv, "models_delay", 60.0), "timed out", 0.3),  # the server sleeps until it is stopped
        (lambda srv: srv.keys.clear(), "401", 30),
    ],
)
def test_remote_failure_is_a_warning_not_an_error(make_app, env, server, setup, message, timeout):
    setup(server)
    app = remote_app(make_app, env, server)
    assert run_models(ModelsOptions(remote=True, timeout=timeout), app) == 0
    err = app.ios.stderr.getvalue()
    assert err.startswith("glm: warning: could not list models from") and "showing the shipped catalogue only" in err
    assert message.lower() in err.lower(), err
    assert app.ios.stdout.getvalue().splitlines() == load_catalogue().ids()


def test_remote_without_a_key_or_with_garbage_is_a_warning(make_app, env, server):
    environ = {k: v for k, v in env.items() if k != "GLM_API_KEY"}
    app = make_app(environ={**environ, "GLM_BASE_URL": server.base_url})
    assert run_models(ModelsOptions(remote=True), app) == 0
    assert "no API key found" in app.ios.stderr.getvalue() and not server.requests

    def garbage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "list"})

    app = make_app(transport=httpx.MockTransport(garbage))
    assert run_models(ModelsOptions(remote=True), app) == 0
    assert "answered without a model list" in app.ios.stderr.getvalue()


def test_bad_timeout(make_app):
    with pytest.raises(GlmError) as exc:
        run(make_app, ModelsOptions(remote=True, timeout=0))
    assert exc.value.exit_code == 2


@pytest.mark.slow
def test_executable_models_pipe_show_and_remote(env, server):
    env = {**env, "GLM_BASE_URL": server.base_url}
    out = subprocess.run([*glm_executable(), "models"], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.splitlines() == load_catalogue().ids() and out.stderr == ""
    assert not server.requests  # no network without --remote
    out = subprocess.run([*glm_executable(), "models", "show", "nope"], env=env, capture_output=True, text=True)
    assert out.returncode == 2 and "unknown model 'nope'" in out.stderr
    server.models_endpoint = False
    out = subprocess.run([*glm_executable(), "models", "--remote", "--json"], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout)["models"] and "warning" in out.stderr
