"""`glm chat` driven for real through a pseudo-terminal (pexpect) against tests/fake_server.py."""

from __future__ import annotations

import subprocess

import pytest

from glm_cli.store import Store, default_path
from tests.conftest import SLOW, glm_executable

pexpect = pytest.importorskip("pexpect")
PROMPT = "glm>"
pytestmark = pytest.mark.slow


@pytest.fixture
def environ(environ):
    """tests/conftest.py's environ, for prompt_toolkit on a pexpect terminal."""
    return {**environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}  # pexpect answers no cursor-position requests


class Chat:
    """A running `glm chat`; each step waits for what it printed, then for the next prompt."""

    def __init__(self, environ: dict[str, str], *args: str) -> None:
        exe, *pre = glm_executable()
        self.child = pexpect.spawn(
            exe, [*pre, "chat", *args], env=environ, encoding="utf-8", timeout=SLOW, dimensions=(40, 100)
        )
        self.child.delaybeforesend = None
        self.child.expect(PROMPT)

    def say(self, line: str, expect: str) -> str:
        """Type a line, wait for EXPECT (output of that line), then for the next prompt; return what came."""
        self.child.send(line + "\r")
        self.child.expect(expect)
        seen = self.child.before + self.child.after
        self.child.expect(PROMPT)
        return seen

    def leave(self) -> int:
        self.child.send("\x04")  # Ctrl-D
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus


def history(environ) -> list:
    with Store.open(default_path(environ)) as s:
        return [s.load(r.id) for r in sorted(s.list(limit=None), key=lambda r: r.id)]


def test_multi_turn_think_off_and_multi_line(srv, environ):
    chat = Chat(environ)
    chat.say("hello there", "Echo: hello there")
    chat.say("/think off", "thinking off from the next message")
    chat.say("second\x1b\rline", "Echo: second")  # Esc-Enter (what Alt-Enter sends) adds a line
    chat.say("\x1b[200~pasted one\npasted two\x1b[201~", "Echo: pasted one")  # bracketed paste is not sent
    assert chat.leave() == 0
    first, second, third = srv.chat_requests()
    assert "thinking" not in first and second["thinking"] == {"type": "disabled"}
    assert second["messages"] == [
        {"role": "user", "content": "hello there"},
        {"role": "assistant", "content": "Echo: hello there"},
        {"role": "user", "content": "second\nline"},
    ]
    assert third["messages"][-1] == {"role": "user", "content": "pasted one\npasted two"}
    (conv,) = history(environ)
    assert [m.content for m in conv.messages][:4] == [
        "hello there",
        "Echo: hello there",
        "second\nline",
        "Echo: second\nline",
    ]
    assert conv.messages[1].reasoning == "Thinking about it." and conv.messages[3].reasoning == ""


def test_ctrl_c_mid_stream_keeps_the_partial_answer_and_returns_to_the_prompt(srv, environ):
    srv.tokens, srv.delay = 100_000, 0.002  # far longer than the test: only Ctrl-C ends it
    chat = Chat(environ)
    chat.child.send("tell me a long story\r")
    chat.child.expect("tok tok tok")
    chat.child.send("\x03")  # Ctrl-C while the answer streams
    chat.child.expect(r"\[interrupted: the partial answer is kept\]")
    chat.child.expect(PROMPT)
    srv.tokens, srv.delay = None, 0.0
    chat.say("go on", "Echo: go on")
    chat.child.send("\x03")  # Ctrl-C at an empty prompt: a hint, not an exit
    chat.child.expect(r"\(Ctrl-D or /exit to leave\)")
    chat.child.expect(PROMPT)
    chat.child.send("/exit\r")
    chat.child.expect(pexpect.EOF)
    chat.child.close()
    assert chat.child.exitstatus == 0 and "Traceback" not in chat.child.before
    partial = srv.chat_requests()[1]["messages"][1]
    assert partial["role"] == "assistant" and partial["content"].startswith("tok tok")
    assert 0 < partial["content"].count("tok") < 3000
    (conv,) = history(environ)
    assert conv.messages[1].interrupted and conv.messages[1].content == partial["content"]
    assert not conv.messages[3].interrupted


def test_retry_undo_save_then_resume_by_name_and_continue(srv, environ):
    chat = Chat(environ)
    chat.say("one", "Echo: one")
    srv.reply(content="a better one", reasoning="again")
    chat.say("/retry", "a better one")
    chat.say("two", "Echo: two")
    chat.say("/undo", r"removed the last exchange \(two\)")
    chat.say("/save design-review", "saved as 'design-review'")
    assert chat.leave() == 0
    reqs = srv.chat_requests()
    assert reqs[0]["messages"] == reqs[1]["messages"] == [{"role": "user", "content": "one"}]

    chat = Chat(environ, "--resume", "design-review")
    assert "resumed conversation 1 (design-review): 1 turn" in chat.child.before
    chat.say("three", "Echo: three")
    assert chat.leave() == 0
    assert srv.chat_requests()[-1]["messages"] == [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "a better one"},
        {"role": "user", "content": "three"},
    ]

    chat = Chat(environ, "-c")
    chat.say("four", "Echo: four")
    assert chat.leave() == 0
    assert [m["content"] for m in srv.chat_requests()[-1]["messages"]] == [
        "one",
        "a better one",
        "three",
        "Echo: three",
        "four",
    ]
    (conv,) = history(environ)
    assert conv.name == "design-review" and len(conv.messages) == 6


def test_stdin_not_a_terminal_is_a_usage_error(environ):
    out = subprocess.run(
        [*glm_executable(), "chat"], input="hello\n", capture_output=True, text=True, env=environ, timeout=SLOW
    )
    assert out.returncode == 2 and out.stdout == ""
    assert "glm chat needs a terminal on stdin" in out.stderr and 'glm ask -c "…"' in out.stderr
