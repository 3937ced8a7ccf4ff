"""Config: precedence (a table), sources, presets, key resolution and clear errors."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from glm_cli.config import ENDPOINTS, load_settings, resolve_api_key
from glm_cli.errors import AuthError, ConfigError
from glm_cli.presets import BUILTIN_PRESETS
from tests.conftest import write_config

CONFIG = """
model: glm-4.5-air
temperature: 0.3
default_profile: work
profiles:
  work:
    model: glm-4.6
    endpoint: bigmodel
    presets:
      short: {max_tokens: 100}
  other:
    base_url: http://localhost:9/v4
presets:
  fast:
    model: glm-4.7-flash
    thinking: false
    template: "Translate: {input}"
"""


@pytest.mark.parametrize(
    ("flags", "environ", "profile", "preset", "expected", "source"),
    [
        ({}, {}, None, None, "glm-4.6", "profile work"),
        ({}, {"GLM_PROFILE": "other"}, None, None, "glm-4.5-air", "config"),
        ({}, {"GLM_MODEL": "glm-4.5"}, None, None, "glm-4.5", "env GLM_MODEL"),
        ({}, {"GLM_MODEL": "glm-4.5"}, None, "fast", "glm-4.7-flash", "preset fast"),
        ({"model": "glm-4.7"}, {"GLM_MODEL": "glm-4.5"}, None, "fast", "glm-4.7", "flag --model"),
        ({}, {}, "other", None, "glm-4.5-air", "config"),
    ],
)
def test_model_precedence(env, flags, environ, profile, preset, expected, source):
    write_config(env, CONFIG)
    s = load_settings({**env, **environ}, flags, profile=profile, preset=preset)
    assert s.model == expected
    assert s.source("model").startswith(source)


def test_defaults_without_config(env):
    s = load_settings(env)
    assert s.model == "glm-4.7" and s.source("model") == "default"
    assert s.base_url == ENDPOINTS["zai"]
    assert s.timeout == 300.0 and s.max_retries == 3


def test_endpoint_and_base_url(env):
    write_config(env, CONFIG)
    assert load_settings(env).base_url == ENDPOINTS["bigmodel"]
    assert load_settings(env, profile="other").base_url == "http://localhost:9/v4"
    assert load_settings({**env, "GLM_BASE_URL": "http://x/v4/"}).base_url == "http://x/v4"
    # a flag endpoint beats a configured base_url
    assert load_settings(env, {"endpoint": "zai-coding"}, profile="other").base_url == ENDPOINTS["zai-coding"]
    assert load_settings(env, {"endpoint": "zai-coding"}).coding_endpoint


def test_presets_merge_top_and_profile(env):
    write_config(env, CONFIG)
    s = load_settings(env, preset="short")
    assert s.max_tokens == 100 and set(s.presets) - set(BUILTIN_PRESETS) == {"fast", "short"}
    assert s.presets["fast"].template == "Translate: {input}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model: [1, 2]\n", "`model` must be a string"),
        ("temperature: hot\n", "`temperature` must be a number"),
        ("temperature: true\n", "`temperature` must be a number"),
        ("modle: glm-4.7\n", "unknown key `modle`"),
        ("profiles:\n  a:\n    tmeperature: 1\n", "unknown key `profiles.a.tmeperature`"),
        ("endpoint: mars\n", "expected one of"),
        ("model: [unclosed\n", "invalid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("presets:\n  p:\n    sytem: x\n", "unknown key `presets.p.sytem`"),
        ("presets:\n  p:\n    output: xml\n", "output` must be text or json"),
    ],
)
def test_bad_config_names_file_and_key(env, text, message):
    path = write_config(env, text)
    with pytest.raises(ConfigError) as exc:
        load_settings(env)
    assert message in exc.value.message + (exc.value.hint or "")
    assert str(path) in exc.value.message
    assert exc.value.exit_code == 3


def test_unknown_key_suggests_the_close_one(env):
    write_config(env, "modle: x\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(env)
    assert exc.value.hint == "did you mean `model`?"


def test_unknown_profile_and_preset(env):
    write_config(env, CONFIG)
    with pytest.raises(ConfigError, match="unknown profile 'nope'"):
        load_settings(env, profile="nope")
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        load_settings(env, preset="nope")


def test_explicit_missing_config_is_an_error(env, tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({**env, "GLM_CONFIG": str(tmp_path / "nope.yaml")})


def test_glm_config_env_points_elsewhere(env, tmp_path):
    p = tmp_path / "elsewhere.yaml"
    p.write_text("model: glm-4.5\n")
    assert load_settings({**env, "GLM_CONFIG": str(p)}).model == "glm-4.5"


@pytest.mark.parametrize(
    ("environ", "expected_key", "source"),
    [
        ({"GLM_API_KEY": "a.b", "ZAI_API_KEY": "c.d"}, "a.b", "env GLM_API_KEY"),
        ({"ZAI_API_KEY": "c.d", "ZHIPUAI_API_KEY": "e.f"}, "c.d", "env ZAI_API_KEY"),
        ({"ZHIPUAI_API_KEY": "e.f"}, "e.f", "env ZHIPUAI_API_KEY"),
    ],
)
def test_key_env_order(env, environ, expected_key, source):
    base = {k: v for k, v in env.items() if k != "GLM_API_KEY"}
    assert resolve_api_key(load_settings({**base, **environ})) == (expected_key, source)


def test_key_from_env_var_named_in_config_and_cmd(env, tmp_path):
    base = {k: v for k, v in env.items() if k != "GLM_API_KEY"}
    write_config(env, "api_key_env: MY_KEY\n")
    assert resolve_api_key(load_settings({**base, "MY_KEY": "m.k"}))[0] == "m.k"
    with pytest.raises(AuthError, match=r"\$MY_KEY"):
        resolve_api_key(load_settings(base))
    script = tmp_path / "keycmd.py"
    script.write_text("print('cmd.key')\n")
    write_config(env, f"api_key_cmd: ['{sys.executable}', '{script}']\n")
    assert resolve_api_key(load_settings(base))[0] == "cmd.key"
    write_config(env, "api_key_cmd: false-command-that-does-not-exist\n")
    with pytest.raises(AuthError, match="api_key_cmd"):
        resolve_api_key(load_settings(base))


def test_missing_key_lists_every_way(env):
    base = {k: v for k, v in env.items() if k != "GLM_API_KEY"}
    with pytest.raises(AuthError) as exc:
        resolve_api_key(load_settings(base))
    hint = exc.value.hint
    for way in ("GLM_API_KEY", "ZAI_API_KEY", "ZHIPUAI_API_KEY", "api_key_env", "api_key_cmd", "api_key:"):
        assert way in hint
    assert exc.value.exit_code == 4


def test_config_init_show_path(make_app, env):
    from glm_cli.commands.config_cmd import InitOptions, PathOptions, ShowOptions, run_init, run_path, run_show

    app = make_app()
    assert run_init(InitOptions(), app) == 0
    path = os.path.join(env["XDG_CONFIG_HOME"], "glm", "config.yaml")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # the starter file is valid and loads
    s = load_settings(env, preset="commit")
    assert s.thinking is False
    with pytest.raises(ConfigError, match="already exists"):
        run_init(InitOptions(), make_app())
    app = make_app()
    run_path(PathOptions(), app)
    assert app.ios.stdout.getvalue() == path + "\n"
    app = make_app()
    run_show(ShowOptions(), app)
    out = app.ios.stdout.getvalue()
    assert "model" in out and "glm-4.7" in out and f"config {path}" in out
    assert "set (env GLM_API_KEY)" in out
    assert env["GLM_API_KEY"] not in out
