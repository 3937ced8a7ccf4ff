"""Two writers at once on each state file -- history.db and chat's input history -- and nothing is lost.

(The batch output file's own race, --retry-failed's clean-up against a second run, is in test_harden_state.py.)
Every writer is a real process; they start together from a barrier (a file the test creates once each has
said it is ready), so the writes overlap without any fixed sleep.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from glm_cli.store import Store, default_path
from tests.conftest import glm_executable
from tests.fake_server import FakeGLM

BOUND = 60.0  # seconds; matters only when something is broken

WRITER_PRELUDE = """
import os, sys, time
from pathlib import Path
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
end = time.monotonic() + 60
while not go.exists() and time.monotonic() < end:
    time.sleep(0.001)
"""


def run_together(tmp_path: Path, script: str, argvs: list[list[str]]) -> None:
    """Start one process per argv running SCRIPT, release them at once, wait for all; each must exit 0."""
    go = tmp_path / "go"
    code = WRITER_PRELUDE + textwrap.dedent(script)
    procs = []
    for n, argv in enumerate(argvs):
        ready = tmp_path / f"ready-{n}"
        procs.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", code, str(ready), str(go), *argv],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    end = time.monotonic() + BOUND
    while not all(ready.exists() for ready, _ in procs):
        assert time.monotonic() < end, "a writer never got ready"
        time.sleep(0.005)
    go.touch()
    for _, proc in procs:
        out, err = proc.communicate(timeout=BOUND)
        assert proc.returncode == 0, err


STORE_WRITER = """
from glm_cli.conversation import Conversation, Message
from glm_cli.store import Store
path, tag, shared = Path(sys.argv[3]), sys.argv[4], int(sys.argv[5])
with Store.open(path) as store:
    for i in range(40):
        own = Conversation(model="glm-4.7")
        own.add_user(f"{tag} own {i}")
        own.add(Message(role="assistant", content=f"answer {tag} own {i}"))
        store.save(own)
        conv = store.load(shared)  # both writers append to this one too, from what they read just before
        conv.add_user(f"{tag} turn {i}")
        conv.add(Message(role="assistant", content=f"answer {tag} turn {i}"))
        store.save(conv)
"""


def test_two_processes_writing_history_at_once_lose_nothing(tmp_path):
    path = tmp_path / "history.db"
    with Store.open(path) as store:
        from glm_cli.conversation import Conversation

        shared = Conversation(model="glm-4.7")
        shared.add_user("start")
        store.save(shared)
    run_together(tmp_path, STORE_WRITER, [[str(path), tag, str(shared.id)] for tag in ("A", "B")])
    with Store.open(path) as store:
        convs = [store.load(s.id) for s in store.list(limit=None)]
    own = sorted(c.messages[0].content for c in convs if c.id != shared.id)
    assert own == sorted(f"{tag} own {i}" for tag in "AB" for i in range(40))
    assert all(c.messages[1].content == "answer " + c.messages[0].content for c in convs if c.id != shared.id)
    (turns,) = [c.messages for c in convs if c.id == shared.id]
    pairs = [(turns[k].content, turns[k + 1].content) for k in range(1, len(turns), 2)]
    assert len(turns) == 1 + 2 * 80  # every turn once, each question right before its answer
    assert sorted(pairs) == sorted((f"{t} turn {i}", f"answer {t} turn {i}") for t in "AB" for i in range(40))
    for tag in "AB":  # each writer's own turns stay in its order
        assert [q for q, _ in pairs if q.startswith(tag)] == [f"{tag} turn {i}" for i in range(40)]


@pytest.mark.slow
def test_concurrent_ask_continue_appends_every_turn(tmp_path):
    with FakeGLM() as srv:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "GLM_API_KEY": srv.api_key,
            "GLM_BASE_URL": srv.base_url,
        }
        first = subprocess.run(
            [*glm_executable(), "ask", "first"], env=env, capture_output=True, text=True, timeout=BOUND
        )
        assert first.returncode == 0, first.stderr
        procs = [
            subprocess.Popen(
                [*glm_executable(), "ask", "-c", f"turn {i}"],
                env=env,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for i in range(4)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=BOUND)
            assert proc.returncode == 0 and err == "", err
    with Store.open(default_path(env)) as store:
        (summary,) = store.list(limit=None)
        messages = store.load(summary.id).messages
    pairs = [(messages[k].content, messages[k + 1].content) for k in range(0, len(messages), 2)]
    assert sorted(pairs) == sorted([("first", "Echo: first")] + [(f"turn {i}", f"Echo: turn {i}") for i in range(4)])


HISTORY_WRITER = """
from glm_cli.commands.chat import input_history
path, tag = sys.argv[3], sys.argv[4]
history = input_history(path)
for i in range(30):  # entries of ~200 KB: a pasted document; prompt_toolkit's FileHistory wrote them in 8 KiB pieces
    history.store_string("\\n".join(f"{tag}-{i}-{j}-" + "x" * 100 for j in range(2000)))
"""


def test_two_writers_of_chat_input_history_never_interleave(tmp_path):
    from glm_cli.commands.chat import input_history

    path = tmp_path / "chat-input-history"
    run_together(tmp_path, HISTORY_WRITER, [[str(path), tag] for tag in ("A", "B")])
    entries = list(input_history(str(path)).load_history_strings())
    expected = {
        f"{tag}-{i}": "\n".join(f"{tag}-{i}-{j}-" + "x" * 100 for j in range(2000)) for tag in "AB" for i in range(30)
    }
    assert len(entries) == 60
    got = {e.split("\n", 1)[0].rsplit("-", 2)[0]: e for e in entries}
    assert got.keys() == expected.keys()
    bad = [k for k in expected if got[k] != expected[k]]
    assert bad == [], f"{len(bad)} entries mixed with the other writer's"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # what was typed is private, like history.db


@pytest.mark.slow
def test_two_chats_at_once_both_keep_their_input_history(srv, environ, tmp_path):
    from tests.chat.test_chat_pty import Chat  # skips when pexpect is missing

    environ = {**environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    data = Path(environ["XDG_DATA_HOME"]) / "glm"
    data.mkdir(parents=True, mode=0o755)  # a folder others may read: the file itself must be private
    one, two = Chat(environ), Chat(environ)
    one.say("first from one", "Echo: first from one")
    two.say("first from two", "Echo: first from two")
    one.say("second from one", "Echo: second from one")
    assert one.leave() == 0 and two.leave() == 0
    history = data / "chat-input-history"
    lines = [x for x in history.read_text(encoding="utf-8").splitlines() if x.startswith("+")]
    assert lines == ["+first from one", "+first from two", "+second from one"]
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
