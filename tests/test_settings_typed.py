"""Typed settings: a frozen dataclass read by attribute; each value knows its source; `config show` unchanged."""

from __future__ import annotations

import dataclasses
import json

import pytest

from glm_cli.commands.config_cmd import ShowOptions, run_show
from glm_cli.config import PROFILE_FIELDS, Preset, Settings, load_settings
from glm_cli.errors import ConfigError
from tests.conftest import write_config


def test_settings_are_frozen_and_typed(env):
    s = load_settings(env)
    assert not hasattr(s, "values")  # no dict of values, no __getattr__: each setting is a field
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.model = "glm-4.5"  # type: ignore[misc]
    assert (s.model, s.timeout, s.max_retries, s.log, s.thinking) == ("glm-4.7", 300.0, 3, True, None)
    assert s.base_url == "https://api.z.ai/api/paas/v4" and s.source("base_url") == "default"
    # Every config key of a profile is a field of Settings (presets aside: they are Settings.presets).
    assert set(PROFILE_FIELDS) - {"presets"} <= {f.name for f in dataclasses.fields(Settings)}


def test_values_keep_their_type_and_lists_are_frozen(env):
    write_config(
        env,
        "timeout: 30\ntools: [a.yaml]\napi_key_cmd: [pass, show, glm]\n"
        "presets:\n  j: {json: true, output: json, template: 'x {input}', tools: [b.yaml]}\n",
    )
    s = load_settings(env, preset="j")
    assert s.timeout == 30 and isinstance(s.timeout, int)  # shown as 30, as written
    assert s.api_key_cmd == ("pass", "show", "glm")
    assert s.tools == ("b.yaml",) and s.source("tools") == "preset j"
    assert s.preset == Preset("j", json=True, output="json", template="x {input}", tools=("b.yaml",))
    assert load_settings(env).preset == Preset("")  # none chosen: every field unset


@pytest.mark.parametrize(
    ("config", "key", "expected"),
    [
        ("timeout: soon\n", "`timeout`", "a number"),
        ("log: 1\n", "`log`", "true or false"),
        ("max_retries: 2.5\n", "`max_retries`", "an integer"),
        ("temperature: true\n", "`temperature`", "a number"),
        ("profiles:\n  p:\n    model: [a]\n", "`profiles.p.model`", "a string"),
        ("presets:\n  x:\n    json: 'yes'\n", "`presets.x.json`", "true or false"),
        ("tools: a.yaml\n", "`tools`", "a list"),
    ],
)
def test_a_wrong_type_is_a_config_error_naming_the_file_and_the_key(env, config, key, expected):
    path = write_config(env, config)
    with pytest.raises(ConfigError) as err:
        load_settings(env)
    assert err.value.message.startswith(f"{path}: {key} must be {expected}")
    assert err.value.exit_code == 3


def test_with_values_changes_a_copy_and_names_the_source(env):
    s = load_settings(env)
    t = s.with_values("chat", model="glm-4.5", thinking=False)
    assert (t.model, t.thinking, t.source("model"), t.source("thinking")) == ("glm-4.5", False, "chat", "chat")
    assert (s.model, s.source("model")) == ("glm-4.7", "default")  # the original is unchanged
    for bad in ({"endpoint": "bigmodel"}, {"base_url": "http://x/v4"}, {"modle": "x"}):
        with pytest.raises(TypeError):
            s.with_values("chat", **bad)


def test_the_catalogue_is_never_another_configs(make_app, env):
    # Keyed by id(settings), a catalogue could be served for a later settings object that reused the address.
    app = make_app()
    for n in range(60):
        target = ("glm-4.5", "glm-4.6")[n % 2]
        write_config(env, f"aliases:\n  quick: {target}\n")
        assert app.catalogue(app.settings()).resolve("quick") == target
    settings = app.settings()
    assert app.catalogue(settings) is app.catalogue(settings.with_values("chat", model="glm-4.5"))  # loaded once


GOLDEN_CONFIG = """\
model: glm-4.5
base_url: http://u:p@example.com/v4/
timeout: 300
max_response_mb: 0.5
tools: [a.yaml]
api_key_env: MY_KEY
proxy: http://user:pw@proxy:8080
mcp_servers:
  fs: {command: [npx, srv], timeout: 5}
profiles:
  p:
    endpoint: bigmodel
    temperature: 0.5
presets:
  z: {model: glm-4.6, json: true}
"""
# What `glm config show` printed before settings were typed (captured from that code), CFG the file's path;
# since then: env_withhold and mcp_start_timeout (MCP, issue 13), so the names column is wider; params (issue 13);
# built-in presets.
GOLDEN_SHOW = """\
config             CFG  (GLM_CONFIG)
profile            -  (none)
base_url           http://***@example.com/v4  (config CFG)
endpoint           zai  (default)
model              glm-4.7-flash  (env GLM_MODEL)
temperature        -  (default)
top_p              -  (default)
max_tokens         -  (default)
thinking           -  (default)
clear_thinking     -  (default)
show_thinking      -  (default)
system             -  (default)
timeout            300  (config CFG)
connect_timeout    10.0  (default)
deadline           600.0  (default)
max_response_mb    0.5  (config CFG)
max_retries        3  (default)
proxy              http://***@proxy:8080  (config CFG)
log                true  (default)
tools              ["a.yaml"]  (config CFG)
mcp_servers        {"fs": {"command": ["npx", "srv"], "timeout": 5}}  (config CFG)
env_withhold       -  (default)
mcp_start_timeout  -  (default)
params             -  (default)
api_key            env MY_KEY (NOT set)  (never shown)
presets            ["commit", "explain", "review", "shell", "translate", "z"]  (built-in, config CFG)
"""


def show(make_app, env, tmp_path, *args: str, **kw) -> str:
    path = tmp_path / "golden.yaml"
    path.write_text(GOLDEN_CONFIG, encoding="utf-8")
    environ = {k: v for k, v in env.items() if k != "GLM_API_KEY"}  # the key from api_key_env: MY_KEY (unset)
    app = make_app(environ={**environ, "GLM_CONFIG": str(path), "GLM_MODEL": "glm-4.7-flash"})
    assert run_show(ShowOptions(**kw), app) == 0
    return app.ios.stdout.getvalue().replace(str(path), "CFG")


def test_config_show_prints_what_it_printed_before(make_app, env, tmp_path):
    assert show(make_app, env, tmp_path) == GOLDEN_SHOW


def test_config_show_json_and_a_profile_endpoint_over_base_url(make_app, env, tmp_path):
    rows = json.loads(show(make_app, env, tmp_path, profile="p", as_json=True))
    assert list(rows)[:5] == ["config", "profile", "base_url", "endpoint", "model"]
    assert rows["base_url"] == {"value": "https://open.bigmodel.cn/api/paas/v4", "source": "profile p (CFG)"}
    assert rows["temperature"] == {"value": 0.5, "source": "profile p (CFG)"}
    assert rows["timeout"] == {"value": 300, "source": "config CFG"}
    assert rows["tools"] == {"value": ["a.yaml"], "source": "config CFG"}
    assert rows["api_key"] == {"value": "env MY_KEY (NOT set)", "source": "never shown"}
    assert list(rows)[-4:] == ["mcp_start_timeout", "params", "api_key", "presets"] and "api_key_env" not in rows
