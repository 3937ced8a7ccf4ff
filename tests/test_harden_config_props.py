"""Property tests for the config loader: any file ends in settings (and a catalogue) or a ConfigError, never
an uncaught exception; what `glm config show` prints of it is JSON-serialisable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from glm_cli.catalogue import load_catalogue
from glm_cli.commands.config_cmd import effective_rows
from glm_cli.config import PRESET_FIELDS, PROFILE_FIELDS, TOP_LEVEL_ONLY, load_settings
from glm_cli.errors import CONFIG, ConfigError, GlmError

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SHAPED = settings(PROPS, max_examples=100)  # each example is bigger: keeps the file at a few seconds

KEYS = sorted({*PROFILE_FIELDS, *PRESET_FIELDS, *TOP_LEVEL_ONLY, "command", "args", "context", "x"})
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["zai", "glm-4.7", "air", "http://u:p@h/v4", "{input}", "1e999"]),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8), st.integers(0, 9), st.booleans(), st.none())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)
configs = st.dictionaries(keys, values, max_size=8)


def load(env: dict[str, str], path: Path, **kwargs) -> None:
    """Load the settings and the catalogue as `glm ask` does; render them as `glm config show --json` does."""
    try:
        s = load_settings(env, **kwargs)
        load_catalogue(s.catalogue_overrides or None, where=str(path))
        json.dumps({k: {"value": v, "source": src} for k, v, src in effective_rows(s)})
    except ConfigError as err:
        assert err.exit_code == CONFIG and err.message
    except GlmError as err:  # a bad preset/profile named by the caller, or an unknown endpoint
        assert err.message and err.exit_code in (2, 3)


@pytest.fixture
def config_file(env):
    path = Path(env["XDG_CONFIG_HOME"]) / "glm" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@PROPS
@given(data=st.binary(max_size=300))
@example(data=b"\xff\xfe")
@example(data=b"a: 2001-13-45\n")
@example(data=b"model: !!int x\n")
@example(data=b"x: " + b"1" * 5000 + b"\n")
@example(data=b"model: &a [*a]\n")
def test_any_bytes(env, config_file, data):
    config_file.write_bytes(data)
    load(env, config_file)


@PROPS
@given(text=st.text(alphabet=st.sampled_from(list("abcmodel_profiles:-[]{}&*!|>'\"#,? \n\t0123456789.")), max_size=200))
def test_any_yaml_ish_text(env, config_file, text):
    config_file.write_text(text, encoding="utf-8")
    load(env, config_file)


@SHAPED
@given(data=configs, profile=st.sampled_from([None, "x", "0"]), preset=st.sampled_from([None, "x"]))
def test_any_config_shaped_mapping(env, config_file, data, profile, preset):
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    load(env, config_file, profile=profile, preset=preset)


@SHAPED
@given(data=configs)
def test_any_mapping_inside_profiles_and_presets(env, config_file, data):
    wrapped = {"default_profile": "p", "profiles": {"p": data, "q": {"presets": {"x": data}}}, "presets": {"y": data}}
    config_file.write_text(yaml.safe_dump(wrapped, allow_unicode=True), encoding="utf-8")
    load(env, config_file, preset="y")
