"""Shared fixtures: a test App with fake streams and an isolated config/data home."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import respx.mocks

ROOT = Path(__file__).resolve().parent.parent
# A bound for waiting on a child process: only reached when a test is failing (or the machine is very busy).
SLOW = 120.0

# A shell starts background jobs with SIGINT ignored, and `nohup` ignores SIGHUP; children inherit both, and
# glm rightly keeps a signal it was started ignoring ignored. The signal tests need the normal dispositions:
# a Python handler is reset to the default in every child at exec, SIG_DFL is inherited as it is.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)

# Every glm a test starts inherits pytest's stdin unless the test gives one: whatever the suite is started from
# (a terminal, an open pipe that never ends, a CI runner), that stdin is empty here, never something to wait on.
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)

# respx intercepts at the transport a client picks (its "httpx" mocker), not inside httpcore (its default): glm's
# direct connections use glm_cli/transport.py, which httpcore's patch would not see. respx reads this default at
# every `respx.mock` start; `respx.mock(using=...)` still chooses per test.
respx.mocks.DEFAULT_MOCKER = respx.mocks.HTTPXMocker.name
RECORDINGS = Path(__file__).resolve().parent / "recordings" / "zai-glm-4.7-flash"  # Apache-2.0, see its README
FAKE_KEY = "fake-key-id.fake-secret-0000"


def scratch_data_home() -> str:
    """A throw-away $XDG_DATA_HOME for subprocess tests that build their own environment (ask logs there)."""
    global _SCRATCH
    if _SCRATCH is None:
        import atexit
        import shutil
        import tempfile

        _SCRATCH = tempfile.mkdtemp(prefix="glm-test-data-")
        atexit.register(shutil.rmtree, _SCRATCH, True)
    return _SCRATCH


_SCRATCH: str | None = None


def wait_until(condition: Callable[[], object], what: str = "the condition", timeout: float = 30.0) -> None:
    """Wait for an observable state; the bound only matters when the test is failing anyway."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.002)


def glm_executable() -> list[str]:
    """Return the argv prefix that runs the installed `glm`."""
    exe = Path(sys.executable).parent / "glm"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "glm_cli"]


def run_glm(args: list[str], environ: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run the installed `glm` with ARGS in ENVIRON, output captured as text, stdin empty unless given; bounded."""
    if "input" not in kw:
        kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("timeout", SLOW)
    return subprocess.run([*glm_executable(), *args], capture_output=True, text=True, env=environ, **kw)


@pytest.fixture
def srv():
    """A running tests/fake_server.py (FakeGLM on 127.0.0.1), for tests of the installed `glm`."""
    from tests.fake_server import FakeGLM

    with FakeGLM() as s:
        yield s


def glm_env(srv: Any, home: Path | None = None, **more: str) -> dict[str, str]:
    """The environment for the installed `glm` against SRV (its key and URL): HOME, config and data under HOME,
    or, with no HOME, a home and config that do not exist and a throw-away data folder; MORE on top."""
    where = (
        {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "cfg"), "XDG_DATA_HOME": str(home / "data")}
        if home is not None
        else {"HOME": "/nonexistent-home", "XDG_CONFIG_HOME": "/nonexistent-cfg", "XDG_DATA_HOME": scratch_data_home()}
    )
    return {"PATH": os.environ["PATH"], **where, "GLM_API_KEY": srv.api_key, "GLM_BASE_URL": srv.base_url, **more}


@pytest.fixture
def batch_api_app(make_app, env, srv):
    """An App talking to ``srv``'s Batch API, where the first status request finishes a batch."""
    srv.batch_steps_per_status = 0
    env["GLM_BASE_URL"] = srv.base_url
    return make_app()


def write_jsonl(folder: Path, rows: list[Any], name: str) -> str:
    """Write ROWS as JSON lines to FOLDER/NAME; return its path."""
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def read_jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def environ(srv, tmp_path: Path) -> dict[str, str]:
    """The environment for the installed `glm` against ``srv``: its key and URL, isolated HOME/config/data."""
    return glm_env(srv, tmp_path)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty HOME with XDG dirs inside tmp_path."""
    (tmp_path / "config").mkdir()
    (tmp_path / "data").mkdir()
    return tmp_path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """A minimal environment: isolated config and data dirs, a fake key, no proxies."""
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "GLM_API_KEY": FAKE_KEY,
        "PATH": "/usr/bin:/bin",
    }


@pytest.fixture
def make_app(env):
    """Build an App with test streams: make_app(stdin="...", stdout_tty=True, env={...}, transport=...)."""
    from glm_cli.app import App
    from glm_cli.iostreams import IOStreams

    def build(
        stdin: str = "",
        *,
        stdin_tty: bool = True,
        stdout_tty: bool = False,
        stderr_tty: bool = False,
        environ: dict[str, str] | None = None,
        transport=None,
    ) -> App:
        ios = IOStreams.for_test(stdin, stdin_tty=stdin_tty, stdout_tty=stdout_tty, stderr_tty=stderr_tty)
        return App(
            ios=ios, environ=dict(env if environ is None else environ), transport=transport, sleep=lambda s: None
        )

    return build


def write_config(env: dict[str, str], text: str) -> Path:
    """Write the YAML config where the env points."""
    path = Path(env["XDG_CONFIG_HOME"]) / "glm" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sse_body(*chunks: dict, done: bool = True) -> bytes:
    """Build an SSE body from chunk dicts, GLM style."""
    out = "".join(f"data: {json.dumps(c, ensure_ascii=False)}\n\n" for c in chunks)
    if done:
        out += "data: [DONE]\n\n"
    return out.encode()


def chunk(
    content: str | None = None, reasoning: str | None = None, finish: str | None = None, usage: dict | None = None
) -> dict:
    delta: dict = {"role": "assistant"}
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    choice: dict = {"index": 0, "delta": delta}
    if finish:
        choice["finish_reason"] = finish
    out = {
        "id": "20260101000000abcdef0123456789",
        "created": 1,
        "object": "chat.completion.chunk",
        "model": "glm-4.7",
        "choices": [choice],
    }
    if usage:
        out["usage"] = usage
    return out


USAGE = {
    "prompt_tokens": 100,
    "completion_tokens": 50,
    "total_tokens": 150,
    "prompt_tokens_details": {"cached_tokens": 40},
    "completion_tokens_details": {"reasoning_tokens": 20},
}
