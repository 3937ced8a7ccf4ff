"""The installed `glm`: options that work bare and with `=VALUE` (typer has no flag_value)."""

from __future__ import annotations

import json
import subprocess

from glm_cli.cli import with_flag_defaults
from tests.conftest import SLOW, glm_executable


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*glm_executable(), *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=SLOW
    )


def test_bare_dry_run_prints_the_body_and_sends_nothing(env):
    done = run({**env, "GLM_BASE_URL": "http://127.0.0.1:9/api/paas/v4"}, "ask", "--dry-run", "hello")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["messages"] == [{"role": "user", "content": "hello"}] and body["model"] == "glm-4.7"
    assert "Deprecat" not in done.stderr


def test_dry_run_curl_after_the_prompt(env):
    done = run(env, "ask", "hello", "--dry-run=curl")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("curl ") and "$GLM_API_KEY" in done.stdout
    assert env["GLM_API_KEY"] not in done.stdout


def test_dry_run_with_a_bad_value_is_a_usage_error(env):
    done = run(env, "ask", "--dry-run=yaml", "hello")
    assert done.returncode == 2 and "--dry-run takes json or curl" in done.stderr


def test_bare_flag_rewriting_stops_at_double_dash_and_other_commands():
    assert with_flag_defaults(["ask", "--dry-run", "x"]) == ["ask", "--dry-run=json", "x"]
    assert with_flag_defaults(["ask", "x", "--", "--dry-run"]) == ["ask", "x", "--", "--dry-run"]
    assert with_flag_defaults(["batch", "run", "--dry-run"]) == ["batch", "run", "--dry-run"]
    assert with_flag_defaults([]) == []
