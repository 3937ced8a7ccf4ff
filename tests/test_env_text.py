"""An environment value that is not UTF-8 is a clear configuration error (exit 3), never a traceback."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import FAKE_KEY, glm_executable


@pytest.mark.parametrize("var", ["GLM_MODEL", "GLM_BASE_URL"])
def test_undecodable_env_value_is_a_config_error(tmp_path, var):
    env = {k.encode(): v.encode() for k, v in os.environ.items() if not k.startswith(("GLM_", "ZAI_", "ZHIPU"))}
    env.update(
        {b"HOME": os.fsencode(tmp_path), b"XDG_CONFIG_HOME": os.fsencode(tmp_path), b"GLM_API_KEY": FAKE_KEY.encode()}
    )
    env[b"GLM_BASE_URL"] = b"http://127.0.0.1:9"
    env[var.encode()] = b"bad-\xff-value"
    proc = subprocess.run(
        [*glm_executable(), "ask", "--no-log", "hi"], env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 3
    assert b"Traceback" not in proc.stderr
    assert f"env {var} is not valid UTF-8".encode() in proc.stderr
