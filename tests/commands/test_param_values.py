"""`--param` and `params:` values that JSON cannot carry are refused before sending, never a traceback:
numbers past a float (1e999), NaN/Infinity from YAML, YAML dates and binary, nesting past 100 levels."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.config import param_value_problem, parse_params
from glm_cli.errors import UsageError
from tests.conftest import run_glm, write_config


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("a=1e999", "glm: --param a: inf is not a JSON number"),
        ("a=[1e999]", "glm: --param a: inf is not a JSON number"),
        ("a=" + "[" * 5000 + "]" * 5000, "glm: --param a: it is nested deeper than 100 levels"),
        ("a=" + "[" * 101 + "]" * 101, "glm: --param a: it is nested deeper than 100 levels"),
    ],
    ids=["huge", "huge-inside", "very-deep", "deep"],
)
def test_a_value_json_cannot_send_is_exit_2(environ, flag, message):
    out = run_glm(["ask", "--dry-run", "--param", flag, "hi"], environ)
    assert out.returncode == 2 and out.stderr.splitlines()[0] == message
    assert "Traceback" not in out.stderr


def test_nan_and_infinity_are_not_json_so_they_are_text(environ):
    out = run_glm(["ask", "--dry-run", "--param", "a=NaN", "--param", "b=-Infinity", "hi"], environ)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)  # strict JSON: no NaN in what would be sent
    assert (body["a"], body["b"]) == ("NaN", "-Infinity")


@pytest.mark.parametrize(
    ("yaml", "where", "what"),
    [
        ("params:\n  start: 2024-01-01\n", "`params.start`", "a date is not a JSON value"),
        ("params:\n  t: .inf\n", "`params.t`", "inf is not a JSON number"),
        ("params:\n  b: !!binary aGVsbG8=\n", "`params.b`", "a bytes is not a JSON value"),
        ("profiles:\n  p:\n    params:\n      n: .nan\n", "`profiles.p.params.n`", "nan is not a JSON number"),
        ("presets:\n  x:\n    params:\n      d: {1: 2}\n", "`presets.x.params.d`", "an object key is not text"),
    ],
)
def test_a_config_value_json_cannot_send_is_exit_3(environ, yaml, where, what):
    write_config(environ, yaml)
    out = run_glm(["ask", "--dry-run", "hi"], environ)
    assert out.returncode == 3 and where in out.stderr and what in out.stderr and "Traceback" not in out.stderr


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_any_value_text_is_sent_or_refused_clearly(text):
    try:
        fields = parse_params((f"k={text}",))
    except UsageError:
        return
    assert param_value_problem(fields["k"]) is None
    json.dumps(fields, allow_nan=False)  # what the request builder will send
