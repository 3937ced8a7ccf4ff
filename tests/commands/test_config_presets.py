"""Built-in presets (issue 13 item 10): `-p translate` works with no config, a config preset replaces one by name,
and `glm config presets [NAME]` lists them and prints a definition to paste into the config."""

from __future__ import annotations

import json

import pytest
import yaml

from glm_cli.commands.config_cmd import PresetsOptions, ShowOptions, run_presets, run_show
from glm_cli.config import Preset, load_settings
from glm_cli.errors import ConfigError
from glm_cli.presets import BUILTIN_PRESETS
from tests.conftest import write_config

NAMES = ["commit", "explain", "review", "shell", "translate"]


def test_every_builtin_preset_works_without_a_config(env):
    for name, body in BUILTIN_PRESETS.items():
        s = load_settings(env, preset=name)
        assert s.preset == Preset(name, **body) and s.preset.origin == "built-in"
        assert s.system == body["system"] and s.source("system") == f"preset {name}"
    assert sorted(load_settings(env).presets) == NAMES


def test_a_config_preset_replaces_the_builtin_one_of_that_name_whole(env):
    path = write_config(env, "presets:\n  translate:\n    system: Into French.\n  mine: {model: glm-4.5}\n")
    s = load_settings(env, preset="translate")
    assert s.system == "Into French." and s.thinking is None  # the built-in's thinking: false does not leak in
    assert s.presets["translate"].origin == f"config {path}" and s.presets["commit"].origin == "built-in"
    assert sorted(s.presets) == sorted([*NAMES, "mine"])


def test_an_unknown_preset_names_the_builtin_ones_too(env):
    with pytest.raises(ConfigError) as err:
        load_settings(env, preset="nope")
    assert "commit, explain, review, shell, translate" in (err.value.hint or "")


def test_config_presets_lists_each_with_its_origin(make_app, env):
    write_config(env, "presets:\n  mine: {description: my own}\n  commit: {system: terse}\n")
    app = make_app()
    assert run_presets(PresetsOptions(), app) == 0
    lines = app.ios.stdout.getvalue().splitlines()
    assert lines == [
        "commit     config    terse",
        "explain    built-in  what code, a command or an error message means",
        "mine       config    my own",
        "review     built-in  a code review of a diff or a file",
        "shell      built-in  one shell command for a task (with -x: only the command)",
        "translate  built-in  into Simplified Chinese (Chinese into English)",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_config_presets_name_prints_yaml_that_reads_back_as_the_definition(make_app, name):
    app = make_app()
    assert run_presets(PresetsOptions(name=name), app) == 0
    text = app.ios.stdout.getvalue()
    assert text.startswith("# built-in; a preset named")
    assert yaml.safe_load(text) == {name: BUILTIN_PRESETS[name]}


def test_config_presets_json_and_an_unknown_name(make_app):
    app = make_app()
    assert run_presets(PresetsOptions(as_json=True), app) == 0
    data = json.loads(app.ios.stdout.getvalue())
    assert sorted(data) == NAMES and data["commit"] == {"origin": "built-in", **BUILTIN_PRESETS["commit"]}
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        run_presets(PresetsOptions(name="nope"), make_app())


def test_config_show_says_where_presets_come_from(make_app, env):
    app = make_app()
    assert run_show(ShowOptions(as_json=True), app) == 0
    assert json.loads(app.ios.stdout.getvalue())["presets"] == {"value": NAMES, "source": "built-in"}
