"""`--dry-run curl` (a value after a space) and the curl line's key: where glm would take it from, never the key."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from glm_cli.cli import with_flag_defaults
from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.keystore import save_key
from tests.conftest import SLOW, glm_executable, scratch_data_home, write_config

CANARY = "fake-canary-key-0000"


def glm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*glm_executable(), *args], capture_output=True, text=True, env=env, timeout=SLOW)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ask", "--dry-run", "curl", "hi"], ["ask", "--dry-run=curl", "hi"]),
        (["ask", "--dry-run", "json", "hi"], ["ask", "--dry-run=json", "hi"]),
        (["ask", "--dry-run", "hi"], ["ask", "--dry-run=json", "hi"]),
        (["ask", "hi", "--dry-run", "curl"], ["ask", "hi", "--dry-run=curl"]),
        (["ask", "--dry-run"], ["ask", "--dry-run=json"]),
        (["ask", "x", "--", "--dry-run", "curl"], ["ask", "x", "--", "--dry-run", "curl"]),
    ],
)
def test_a_value_after_a_space_is_the_flags_value(argv, expected):
    assert with_flag_defaults(argv) == expected


def test_dry_run_curl_with_a_space_prints_curl_and_curl_is_not_in_the_prompt(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": scratch_data_home(),
        "GLM_API_KEY": CANARY,
    }
    out = glm("ask", "--dry-run", "curl", "hi", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("curl -sS -N https://api.z.ai/api/paas/v4/chat/completions ")
    assert '"content": "hi"' in out.stdout and "curl hi" not in out.stdout and CANARY not in out.stdout


def curl_line(make_app, env: dict[str, str]) -> tuple[str, str]:
    app = make_app(environ=env)
    assert run_ask(AskOptions(prompt=("hi",), dry_run="curl", no_log=True), app) == 0
    return app.ios.stdout.getvalue(), app.ios.stderr.getvalue()


def no_key(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != "GLM_API_KEY"}


@pytest.mark.parametrize("var", ["GLM_API_KEY", "ZAI_API_KEY", "ZHIPUAI_API_KEY"])
def test_the_key_variable_that_is_set_is_the_one_the_curl_line_reads(make_app, env, var):
    out, err = curl_line(make_app, {**no_key(env), var: CANARY})
    assert f'-H "Authorization: Bearer ${var}" ' in out and CANARY not in out and err == ""


def test_api_key_env_is_read_from_its_variable(make_app, env):
    write_config(env, "api_key_env: MY_GLM_KEY\n")
    out, err = curl_line(make_app, {**no_key(env), "MY_GLM_KEY": CANARY})
    assert '-H "Authorization: Bearer $MY_GLM_KEY" ' in out and CANARY not in out and err == ""


def test_api_key_cmd_is_run_by_the_shell_not_by_glm(make_app, env, tmp_path):
    ran = tmp_path / "ran"
    write_config(env, f"api_key_cmd: [sh, -c, 'touch {ran}; echo {CANARY}']\n")
    out, err = curl_line(make_app, no_key(env))
    assert f"-H \"Authorization: Bearer $(sh -c 'touch {ran}; echo {CANARY}')\" " in out and err == ""
    assert not ran.exists()  # a dry run does not run the key command


def test_a_login_key_is_read_from_the_credentials_file_and_the_line_works(make_app, env):
    folder = Path(env["XDG_CONFIG_HOME"]) / "glm"
    save_key(folder, None, CANARY)
    out, err = curl_line(make_app, no_key(env))
    ref = f"$(jq -r --arg profile default '.keys[$profile]' {folder / 'credentials.json'})"
    assert f'-H "Authorization: Bearer {ref}" ' in out and CANARY not in out and err == ""


def test_a_key_written_in_the_config_has_no_shell_form_and_the_user_is_told(make_app, env):
    path = write_config(env, f"api_key: {CANARY}\n")
    path.chmod(0o600)
    out, err = curl_line(make_app, no_key(env))
    assert '-H "Authorization: Bearer $GLM_API_KEY" ' in out and CANARY not in out + err
    assert err == (
        f"glm: warning: the key is written in the config (config {path}): the curl line reads $GLM_API_KEY; "
        "export it before running it\n"
    )
