"""Defects found by driving the installed `glm` like a shell user would (QA of ask/chat/history/models/config/completion)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import glm_executable


def glm(environ: dict[str, str], *args: str, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
        input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*glm_executable(), *args], env=environ, stdout=stdout, stderr=subprocess.PIPE,
                          stdin=None if input is not None else stdin, input=input, text=True, timeout=30)


@pytest.fixture
def offline(tmp_path) -> dict[str, str]:
    """An isolated environment with a fake key and no server (for commands that send nothing)."""
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "XDG_DATA_HOME": str(tmp_path / "data"), "GLM_API_KEY": "fake-key-id.fake-secret-0000"}


# --- output that cannot be written: a message and exit 1, never a traceback -------------------------------

@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["--version"], ["--help"], ["config", "show"], ["models"],
                                  ["completion", "bash"], ["ask", "--dry-run", "hi"]])
def test_a_full_disk_on_stdout_is_an_io_error_not_a_traceback(offline, args):
    with open("/dev/full", "w") as full:
        p = glm(offline, *args, stdout=full)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    assert "glm: I/O error: No space left on device" in p.stderr


def test_the_answer_to_a_full_disk_is_an_io_error(srv, environ):
    with open("/dev/full", "w") as full:
        p = glm(environ, "ask", "--no-log", "hi", stdout=full)
    assert (p.returncode, p.stderr) == (1, "glm: I/O error: No space left on device\n")


def test_version_into_a_closed_pipe_is_quiet_success(offline):
    read, write = os.pipe()
    os.close(read)  # the reader (`glm --version | true`) has already gone
    try:
        p = subprocess.run([*glm_executable(), "--version"], env=offline, stdout=write, stderr=subprocess.PIPE,
                           text=True, timeout=30)
    finally:
        os.close(write)
    assert (p.returncode, p.stderr) == (0, "")
