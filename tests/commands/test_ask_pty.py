"""On a pseudo-terminal, `glm ask` renders markdown; reasoning goes to stderr, never stdout."""

from __future__ import annotations

import os
import pty
import re
import subprocess

import pytest

from tests.conftest import SLOW, glm_executable, scratch_data_home
from tests.fake_server import FakeGLM
from tests.ptyio import read_pty

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def run_on_pty(args: list[str], env: dict[str, str], timeout: float = SLOW) -> tuple[str, str, int]:
    """Run with stdout on a pty and stderr on a pipe; return (pty text, stderr, exit code)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    seen = read_pty(master, proc, timeout)
    err = proc.stderr.read().decode()
    return seen.decode("utf-8", "replace"), err, proc.wait(timeout=5)


@pytest.mark.slow
def test_markdown_rendered_on_a_tty():
    md = (
        "# Big Title\n\nSome **bold** words here.\n\n- first item\n- second item\n\n"
        "```python\nprint('hi')\n```\n\nThe end."
    )
    with FakeGLM() as srv:
        srv.reply(content=md, reasoning="secret reasoning")
        env = {
            "PATH": os.environ["PATH"],
            "HOME": "/nonexistent",
            "XDG_DATA_HOME": scratch_data_home(),
            "GLM_API_KEY": srv.api_key,
            "GLM_BASE_URL": srv.base_url,
            "TERM": "xterm-256color",
            "COLUMNS": "80",
        }
        raw, err, code = run_on_pty([*glm_executable(), "ask", "--show-thinking", "x"], env)
    assert code == 0, err
    text = ANSI.sub("", raw)
    assert "\x1b[" in raw  # styled
    assert "Big Title" in text and "**bold**" not in text and "bold words" in text
    assert "print('hi')" in text and "The end." in text
    assert "secret reasoning" not in text and "secret reasoning" in err
